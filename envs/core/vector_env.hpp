#pragma once
// A batch of identical envs stepped in parallel on a thread pool. An
// exception in any env becomes that env's SimError status with the message;
// it never escapes and never takes the batch down.
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "envs/core/env.hpp"
#include "base/thread_pool.hpp"

namespace dsegym {

struct ResetResult {
  Value obs;
  Value info;
  EvalStatus status;
};

class VectorEnv {
public:
  // `threads` = worker threads besides the caller (0: step on the caller).
  VectorEnv(const std::function<EnvPtr()>& factory, std::size_t num_envs, std::size_t threads);

  std::size_t size() const { return envs_.size(); }
  const EnvSpec& spec() const { return envs_.front()->spec(); }
  Env& env(std::size_t i) { return *envs_.at(i); }

  // Resets env i with derive_seed(seed, i).
  std::vector<ResetResult> reset(std::uint64_t seed);

  // Steps envs 0..actions.size()-1. An env whose episode has ended is reset
  // (continuing its random stream) before it is stepped.
  std::vector<StepResult> step(const std::vector<Value>& actions);

  // One-shot evaluation: env i is reset with seeds[i] and steps actions[i].
  // With `wall_times`, it receives each evaluation's duration in seconds.
  std::vector<StepResult> evaluate(const std::vector<Value>& actions, const std::vector<std::uint64_t>& seeds,
                                   std::vector<double>* wall_times = nullptr);

private:
  std::vector<EnvPtr> envs_;
  ThreadPool pool_;
};

}  // namespace dsegym
