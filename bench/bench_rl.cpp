// RL agents' training speed on the CPU: env steps per second spent in the
// agent (act + observe, updates included; the env's own time excluded), on
// soc-sched-v0 (74 observation numbers, 16 masked actions) and, for the
// one-knob-per-agent forms, on dram-v0's 12 knobs (one-shot, observation =
// the last metrics).
// Usage: bench_rl [steps]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "agents/agent.hpp"
#include "envs/builtin.hpp"
#include "envs/core/wrappers.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

double agent_steps_per_s(const std::string& agent_id, const std::string& env_id, std::int64_t steps) {
  EnvPtr inner = make_env(env_registry(), env_id);
  const json reward = inner->spec().default_reward;
  RewardWrapper env(std::move(inner), reward);
  const EnvSpec& spec = env.spec();
  auto agent = make_policy_agent(agent_id, {spec.action_space, spec.metrics, 1, spec.observation_space, spec.max_episode_steps});
  Value obs = env.reset(1).first;
  double in_agent = 0;
  for (std::int64_t i = 0; i < steps; ++i) {
    auto t0 = Clock::now();
    const Value a = agent->act(obs);
    in_agent += std::chrono::duration<double>(Clock::now() - t0).count();
    StepResult r = env.step(a);
    t0 = Clock::now();
    agent->observe({obs, a, r.reward, r.obs, r.terminated, r.truncated, r.status});
    in_agent += std::chrono::duration<double>(Clock::now() - t0).count();
    if (r.terminated || r.truncated) {
      Value first = env.reset(static_cast<std::uint64_t>(i)).first;
      obs = spec.max_episode_steps == 1 ? r.obs : first;
    } else {
      obs = r.obs;
    }
  }
  return static_cast<double>(steps) / in_agent;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t steps = argc > 1 ? std::atoll(argv[1]) : 5000;
  std::printf("agent  env            steps/s (agent time only; default hyperparameters, 1 torch thread)\n");
  for (const char* a : {"ppo", "dqn"}) std::printf("%-6s soc-sched-v0  %8.0f\n", a, agent_steps_per_s(a, "soc-sched-v0", steps));
  for (const char* a : {"ppo", "ippo", "mappo"}) std::printf("%-6s dram-v0       %8.0f\n", a, agent_steps_per_s(a, "dram-v0", steps / 10));
  return 0;
}
