#pragma once
// Standard wrappers. Each is an Env around an Env.
#include <cstdint>
#include <vector>

#include "envs/core/env.hpp"
#include "envs/core/reward.hpp"

namespace dsegym {

// Ends an episode (truncated = true) after max_steps steps.
class TimeLimit final : public Wrapper {
public:
  TimeLimit(EnvPtr inner, std::int64_t max_steps);

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value& options) override;
  StepResult do_step(const Value& action) override;

private:
  std::int64_t max_steps_;
  std::int64_t steps_ = 0;
};

// Sets StepResult::reward from the metrics with a Reward.
class RewardWrapper final : public Wrapper {
public:
  RewardWrapper(EnvPtr inner, const json& reward_spec);
  const Reward& reward() const { return reward_; }
  bool evaluates_batches() const override { return inner_->evaluates_batches(); }

protected:
  StepResult do_step(const Value& action) override;
  StepResult do_evaluate(std::uint64_t seed, const Value& action) override;
  std::vector<StepResult> do_evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions) override;

private:
  Reward reward_;
};

// Normalises a Box observation by a running mean and variance (Welford),
// then clips to [-clip, clip]; the observation space becomes that box.
class NormalizeObservation final : public Wrapper {
public:
  explicit NormalizeObservation(EnvPtr inner, double clip = 10.0, double epsilon = 1e-8);
  const std::vector<double>& mean() const { return mean_; }
  std::vector<double> variance() const;

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value& options) override;
  StepResult do_step(const Value& action) override;

private:
  Value normalize(const Value& obs);
  bool scalar_;
  double clip_, eps_;
  std::int64_t count_ = 0;
  std::vector<double> mean_, m2_;
};

}  // namespace dsegym
