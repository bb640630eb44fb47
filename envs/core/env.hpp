#pragma once
// The Env interface: reset / step over typed spaces, with raw named metrics
// and an evaluation status. Reward is computed by a Reward wrapper from the
// metrics, never inside an env.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "envs/core/params.hpp"
#include "envs/core/space.hpp"
#include "envs/core/value.hpp"

namespace dsegym {

enum class Status { Ok, Infeasible, SimError, Timeout };
const char* status_name(Status s);
Status status_from_name(const std::string& name);

// The outcome of one evaluation. An infeasible design or a crashed simulator
// is a status with a reason, not an exception and not a magic number.
struct EvalStatus {
  Status code = Status::Ok;
  std::string reason;
  bool ok() const { return code == Status::Ok; }
  static EvalStatus infeasible(std::string why) { return {Status::Infeasible, std::move(why)}; }
  static EvalStatus sim_error(std::string why) { return {Status::SimError, std::move(why)}; }
  static EvalStatus timeout(std::string why) { return {Status::Timeout, std::move(why)}; }
};

enum class Goal { Minimize, Maximize, None };
const char* goal_name(Goal g);

struct MetricSpec {
  std::string name;  // carries its unit as a suffix where it has one: latency_ns
  std::string unit;  // "ns", "nJ", "mW", "1" for dimensionless
  Goal goal = Goal::Minimize;
  std::string description;
  // A metric that is the product of others times a constant (an
  // energy-delay product): whoever predicts the factors can compute it.
  std::vector<std::string> product_of = {};
  double product_scale = 1;
  // A constraint: a design whose value exceeds this is infeasible (a power
  // budget). The env reports the metric on such designs too, so that agents
  // can model the constraint (bo does); infinity: no constraint.
  double upper_limit = std::numeric_limits<double>::infinity();
};

// Named metric values in the env's declared order.
class Metrics {
public:
  void set(const std::string& name, double value);
  // nullptr when absent.
  const double* find(const std::string& name) const;
  // Throws naming the metric and the ones present.
  double at(const std::string& name) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  void clear() { items_.clear(); }

private:
  std::vector<std::pair<std::string, double>> items_;
};

struct StepResult {
  Value obs;
  Metrics metrics;
  double reward = std::numeric_limits<double>::quiet_NaN();  // NaN: no reward computed
  bool terminated = false;
  bool truncated = false;
  EvalStatus status;
  Value info;  // a dict, or null
};

struct EnvSpec {
  std::string id;  // "toy-v0"
  std::string description;
  SpacePtr action_space;
  SpacePtr observation_space;
  std::vector<MetricSpec> metrics;
  std::vector<ParamSpec> options;
  std::int64_t max_episode_steps = 1;  // 1 for one-shot DSE; 0 = unlimited
  json default_reward;                 // reward spec used when none is given
  // The env's main trade-off, as metric names with a goal (e.g. latency and
  // energy): a run's Pareto objectives and a multi-objective agent's when
  // none are given. Empty: none declared.
  std::vector<std::string> objectives;
  json resolved_options = json::object();  // of this instance

  const MetricSpec* find_metric(const std::string& name) const;
  // The objectives of a run that names none: the declared ones, else the
  // metrics with a goal when they are two or three, else none.
  std::vector<std::string> default_objectives() const;
  json to_json() const;
  // An observation of one-shot envs: the metrics in this spec's order, 0
  // for a metric that is missing or not finite (a failed evaluation).
  Value metric_observation(const Metrics& m) const;
};

class Env {
public:
  explicit Env(std::shared_ptr<const EnvSpec> spec) : spec_(std::move(spec)) {}
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  const EnvSpec& spec() const { return *spec_; }
  std::shared_ptr<const EnvSpec> spec_ptr() const { return spec_; }
  const Space& action_space() const { return *spec_->action_space; }
  const Space& observation_space() const { return *spec_->observation_space; }

  // Starts an episode. A seed makes the episode reproducible; without one the
  // env continues its current random stream. Returns (obs, info).
  std::pair<Value, Value> reset(std::optional<std::uint64_t> seed = std::nullopt, const Value& options = Value());

  // Validates the action (InvalidArgument naming the knob and the valid
  // values), then evaluates it. Calling step() outside an episode throws.
  StepResult step(const Value& action);
  // One-shot evaluation: reset with `seed`, then step `action`. An env may
  // do both at once (a remote env: one RPC), and a batch at once
  // (evaluates_batches(): a remote env sends one BatchStep).
  StepResult evaluate(std::uint64_t seed, const Value& action);
  std::vector<StepResult> evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions);
  virtual bool evaluates_batches() const { return false; }

  bool in_episode() const { return in_episode_; }

protected:
  virtual std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value& options) = 0;
  virtual StepResult do_step(const Value& action) = 0;
  virtual StepResult do_evaluate(std::uint64_t seed, const Value& action) {
    do_reset(seed, Value());
    return do_step(action);
  }
  virtual std::vector<StepResult> do_evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions) {
    std::vector<StepResult> out;
    for (std::size_t i = 0; i < actions.size(); ++i) out.push_back(do_evaluate(seeds[i], actions[i]));
    return out;
  }
  void set_spec(std::shared_ptr<const EnvSpec> spec) { spec_ = std::move(spec); }

private:
  std::shared_ptr<const EnvSpec> spec_;
  bool in_episode_ = false;
};

using EnvPtr = std::unique_ptr<Env>;

// Base for wrappers: forwards everything to the inner env.
class Wrapper : public Env {
public:
  explicit Wrapper(EnvPtr inner) : Env(inner->spec_ptr()), inner_(std::move(inner)) {}
  Env& inner() { return *inner_; }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value& options) override {
    return inner_->reset(seed, options);
  }
  StepResult do_step(const Value& action) override { return inner_->step(action); }
  EnvPtr inner_;
};

}  // namespace dsegym
