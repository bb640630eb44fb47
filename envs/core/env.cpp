#include "envs/core/env.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace dsegym {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok: return "ok";
    case Status::Infeasible: return "infeasible";
    case Status::SimError: return "sim_error";
    case Status::Timeout: return "timeout";
  }
  return "?";
}

Status status_from_name(const std::string& name) {
  for (Status s : {Status::Ok, Status::Infeasible, Status::SimError, Status::Timeout})
    if (name == status_name(s)) return s;
  throw InvalidArgument("status '" + name + "' is not valid; choices: ok, infeasible, sim_error, timeout");
}

const char* goal_name(Goal g) {
  switch (g) {
    case Goal::Minimize: return "min";
    case Goal::Maximize: return "max";
    case Goal::None: return "none";
  }
  return "?";
}

void Metrics::set(const std::string& name, double value) {
  for (auto& kv : items_)
    if (kv.first == name) {
      kv.second = value;
      return;
    }
  items_.emplace_back(name, value);
}

const double* Metrics::find(const std::string& name) const {
  for (const auto& kv : items_)
    if (kv.first == name) return &kv.second;
  return nullptr;
}

double Metrics::at(const std::string& name) const {
  if (const double* v = find(name)) return *v;
  std::string present;
  for (const auto& kv : items_) present += (present.empty() ? "" : ", ") + kv.first;
  throw InvalidArgument("no metric '" + name + "'; present: " + (present.empty() ? "none" : present));
}

Value EnvSpec::metric_observation(const Metrics& m) const {
  std::vector<double> obs;
  obs.reserve(metrics.size());
  for (const auto& spec : metrics) {
    const double* v = m.find(spec.name);
    obs.push_back(v && std::isfinite(*v) ? *v : 0.0);
  }
  return Value(std::move(obs));
}

const MetricSpec* EnvSpec::find_metric(const std::string& name) const {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}

std::vector<std::string> EnvSpec::default_objectives() const {
  if (!objectives.empty()) return objectives;
  std::vector<std::string> out;
  for (const auto& m : metrics)
    if (m.goal != Goal::None) out.push_back(m.name);
  if (out.size() < 2 || out.size() > 3) out.clear();
  return out;
}

json EnvSpec::to_json() const {
  json ms = json::array();
  for (const auto& m : metrics) {
    ms.push_back({{"name", m.name}, {"unit", m.unit}, {"goal", goal_name(m.goal)}, {"description", m.description}});
    if (!m.product_of.empty()) ms.back()["product_of"] = {{"metrics", m.product_of}, {"scale", m.product_scale}};
    if (std::isfinite(m.upper_limit)) ms.back()["upper_limit"] = m.upper_limit;
  }
  json os = json::array();
  for (const auto& o : options) os.push_back(o.to_json());
  return {{"id", id},
          {"description", description},
          {"action_space", action_space->to_json()},
          {"observation_space", observation_space->to_json()},
          {"metrics", ms},
          {"options", os},
          {"max_episode_steps", max_episode_steps},
          {"default_reward", default_reward},
          {"objectives", objectives},
          {"resolved_options", resolved_options}};
}

std::pair<Value, Value> Env::reset(std::optional<std::uint64_t> seed, const Value& options) {
  in_episode_ = false;
  auto out = do_reset(seed, options);
  in_episode_ = true;
  return out;
}

StepResult Env::evaluate(std::uint64_t seed, const Value& action) {
  in_episode_ = false;
  action_space().check(action, "action");
  StepResult r = do_evaluate(seed, action);
  in_episode_ = !(r.terminated || r.truncated);
  return r;
}

std::vector<StepResult> Env::evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions) {
  if (seeds.size() != actions.size())
    throw InvalidArgument("evaluate_batch: " + std::to_string(seeds.size()) + " seeds for " + std::to_string(actions.size()) + " actions");
  in_episode_ = false;
  for (std::size_t i = 0; i < actions.size(); ++i) action_space().check(actions[i], "actions[" + std::to_string(i) + "]");
  std::vector<StepResult> out = do_evaluate_batch(seeds, actions);
  if (out.size() != actions.size())
    throw Error("env '" + spec_->id + "': " + std::to_string(out.size()) + " results for " + std::to_string(actions.size()) + " actions");
  in_episode_ = !out.empty() && !(out.back().terminated || out.back().truncated);
  return out;
}

StepResult Env::step(const Value& action) {
  if (!in_episode_)
    throw Error("env '" + spec_->id + "': step() called outside an episode; call reset() first");
  action_space().check(action, "action");
  StepResult r = do_step(action);
  if (r.terminated || r.truncated) in_episode_ = false;
  return r;
}

}  // namespace dsegym
