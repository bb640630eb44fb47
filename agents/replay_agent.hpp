#pragma once
// Base for agents whose state follows from their seed and the calls made on
// them: save() records the ask/tell calls, load() replays them into a freshly
// made agent (same space, seed and hyperparameters), which therefore ends in
// exactly the state of the saved one.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"

namespace dsegym {

// What maximising search agents rank by: the reward of a successful
// evaluation, -inf for a failed, infeasible or NaN one.
inline constexpr double kWorstFitness = -std::numeric_limits<double>::infinity();
inline double fitness_of(const Trial& t) { return t.status.ok() && std::isfinite(t.reward) ? t.reward : kWorstFitness; }

json trial_to_json(const Trial& t);
Trial trial_from_json(const json& j);

class ReplayAgent : public Agent {
public:
  std::vector<Suggestion> ask(std::size_t n) final;
  void tell(const std::vector<Trial>& trials) final;
  json save() const final;
  void load(const json& state) final;
  void set_checkpointing(bool on) final;

protected:
  virtual std::vector<Suggestion> do_ask(std::size_t n) = 0;
  virtual void do_tell(const std::vector<Trial>& trials) = 0;
  // Next suggestion id.
  std::int64_t next_id() { return next_id_++; }

private:
  // The call log, one compact JSON text per call (a parsed JSON tree would
  // take several times the memory).
  std::vector<std::string> calls_;
  bool recording_ = true, used_ = false;
  std::int64_t next_id_ = 0;
};

}  // namespace dsegym
