#include "envs/core/vector_env.hpp"

#include <chrono>

#include "base/error.hpp"
#include "base/rng.hpp"

namespace dsegym {

namespace {
StepResult failed_step(const std::string& why) {
  StepResult r;
  r.status = EvalStatus::sim_error(why);
  r.terminated = true;
  return r;
}
}  // namespace

VectorEnv::VectorEnv(const std::function<EnvPtr()>& factory, std::size_t num_envs, std::size_t threads)
    : pool_(num_envs > 1 ? std::min(threads, num_envs - 1) : 0) {
  if (num_envs == 0) throw InvalidArgument("VectorEnv: needs at least one env");
  envs_.reserve(num_envs);
  for (std::size_t i = 0; i < num_envs; ++i) envs_.push_back(factory());
}

std::vector<ResetResult> VectorEnv::reset(std::uint64_t seed) {
  std::vector<ResetResult> out(envs_.size());
  pool_.parallel_for(envs_.size(), [&](std::size_t i) {
    try {
      auto [obs, info] = envs_[i]->reset(derive_seed(seed, i));
      out[i] = {std::move(obs), std::move(info), {}};
    } catch (const std::exception& e) {
      out[i].status = EvalStatus::sim_error(e.what());
    }
  });
  return out;
}

std::vector<StepResult> VectorEnv::step(const std::vector<Value>& actions) {
  if (actions.size() > envs_.size())
    throw InvalidArgument("VectorEnv::step: " + std::to_string(actions.size()) + " actions for " +
                          std::to_string(envs_.size()) + " envs");
  std::vector<StepResult> out(actions.size());
  pool_.parallel_for(actions.size(), [&](std::size_t i) {
    try {
      if (!envs_[i]->in_episode()) envs_[i]->reset();
      out[i] = envs_[i]->step(actions[i]);
    } catch (const std::exception& e) {
      out[i] = failed_step(e.what());
    }
  });
  return out;
}

std::vector<StepResult> VectorEnv::evaluate(const std::vector<Value>& actions, const std::vector<std::uint64_t>& seeds,
                                            std::vector<double>* wall_times) {
  if (actions.size() > envs_.size() || seeds.size() != actions.size())
    throw InvalidArgument("VectorEnv::evaluate: " + std::to_string(actions.size()) + " actions and " +
                          std::to_string(seeds.size()) + " seeds for " + std::to_string(envs_.size()) + " envs");
  std::vector<StepResult> out(actions.size());
  if (wall_times) wall_times->assign(actions.size(), 0.0);
  if (envs_.front()->evaluates_batches() && actions.size() > 1) {
    // One call for the batch (a remote env: one BatchStep); each evaluation
    // is charged an equal share of its time.
    const auto start = std::chrono::steady_clock::now();
    try {
      out = envs_.front()->evaluate_batch(seeds, actions);
    } catch (const std::exception& e) {
      for (auto& r : out) r = failed_step(e.what());
    }
    if (wall_times)
      wall_times->assign(actions.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                                             static_cast<double>(actions.size()));
    return out;
  }
  pool_.parallel_for(actions.size(), [&](std::size_t i) {
    const auto start = std::chrono::steady_clock::now();
    try {
      out[i] = envs_[i]->evaluate(seeds[i], actions[i]);
    } catch (const std::exception& e) {
      out[i] = failed_step(e.what());
    }
    if (wall_times)
      (*wall_times)[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  return out;
}

}  // namespace dsegym
