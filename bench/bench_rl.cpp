// RL agents' training speed on the CPU: env steps per second spent in the
// agent (act + observe, updates included; the env's own time excluded), on
// soc-sched-v0 (74 observation numbers, 16 masked actions) and, for the
// one-knob-per-agent forms, on dram-v0's 12 knobs (one-shot, observation =
// the last metrics).
// With --soc STEPS it instead trains PPO (a flat head and one scoring each
// PE), and DQN on soc-sched-v0 under
// execution-time noise and compares the greedy policy's mean job latency
// with HEFT's and ETF's on the same 20 held-out windows of arrivals.
// Usage: bench_rl [steps] | bench_rl --soc STEPS [rate_per_ms] [noise] [agents] [seed]
//   agents: comma-separated, each with optional JSON hyperparameters;
//   default ppo,ppo{"candidate_features":4},dqn
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "agents/agent.hpp"
#include "bench/bench_args.hpp"
#include "app/builtin.hpp"
#include "envs/core/wrappers.hpp"
#include "simulators/soc/soc.hpp"

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

// Trains `agent_id` for `steps` env steps, then returns the mean job latency
// of its greedy policy over the held-out windows (seeds 10000..10019).
double soc_trained(const std::string& agent_id, const json& env_opts, std::int64_t steps, const json& hp, std::uint64_t seed) {
  EnvPtr inner = make_env(env_registry(), "soc-sched-v0", env_opts);
  const json reward = inner->spec().default_reward;
  RewardWrapper env(std::move(inner), reward);
  const EnvSpec& spec = env.spec();
  auto agent = make_policy_agent(agent_id, {spec.action_space, spec.metrics, seed, spec.observation_space, spec.max_episode_steps}, hp);
  std::uint64_t episode = 0;
  Value obs = env.reset(episode).first;
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < steps; ++i) {
    const Value a = agent->act(obs);
    StepResult r = env.step(a);
    agent->observe({obs, a, r.reward, r.obs, r.terminated, r.truncated, r.status});
    obs = r.terminated ? env.reset(++episode).first : r.obs;
  }
  std::fprintf(stderr, "%s: %lld training steps (%llu episodes) in %.0f s\n", agent_id.c_str(), static_cast<long long>(steps),
               static_cast<unsigned long long>(episode), std::chrono::duration<double>(Clock::now() - t0).count());
  double sum = 0;
  for (std::uint64_t s = 10000; s < 10020; ++s) {
    Value o = env.reset(s).first;
    for (;;) {
      StepResult r = env.step(agent->greedy(o));
      if (r.terminated) {
        sum += r.metrics.at("avg_latency_us");
        break;
      }
      o = r.obs;
    }
  }
  return sum / 20;
}

double soc_heuristic(soc::Policy p, double rate, double noise, double window_ms) {
  const soc::Soc ds3 = soc::resolve_soc("ds3_multiple_bal");
  double sum = 0;
  for (std::uint64_t s = 10000; s < 10020; ++s) {
    soc::Workload w = soc::default_workload(rate, 1, noise, s);
    w.window_us = window_ms * 1000;
    sum += soc::simulate(ds3, w, p).avg_latency_us;
  }
  return sum / 20;
}

int main(int argc, char** argv) {
  dsegym::register_builtins();
  if (argc > 2 && std::string(argv[1]) == "--soc") {
    const std::int64_t steps = std::atoll(argv[2]);
    const double rate = argc > 3 ? std::atof(argv[3]) : 10.0, noise = argc > 4 ? std::atof(argv[4]) : 0.2;
    const json opts = {{"rate_per_ms", rate}, {"noise", noise}, {"window_ms", 10.0}};
    std::printf("soc-sched-v0, DS3 SoC and mix, %g jobs/ms, noise %g, 10 ms windows; mean job latency (us) over 20 held-out windows\n", rate, noise);
    std::printf("HEFT  %8.1f\n", soc_heuristic(soc::Policy::HEFT, rate, noise, 10.0));
    std::printf("ETF   %8.1f\n", soc_heuristic(soc::Policy::ETF, rate, noise, 10.0));
    std::printf("MET   %8.1f\n", soc_heuristic(soc::Policy::MET, rate, noise, 10.0));
    std::printf("random%8.1f\n", soc_heuristic(soc::Policy::Random, rate, noise, 10.0));
    const std::string agents = argc > 5 ? argv[5] : "ppo,ppo{\"candidate_features\":4},dqn";
    const auto seed = static_cast<std::uint64_t>(bench::int_arg(argc, argv, 6, 1, 0, 1000000000, "bench_rl --soc STEPS [rate] [noise] [agents] [seed]"));
    for (const auto& item : bench::split_list(agents)) {
      const auto [id, hp] = bench::agent_with_hyperparameters(item);
      std::printf("%-6s %8.1f  (%s, after %lld steps)\n", id.c_str(), soc_trained(id, opts, steps, hp, seed), hp.dump().c_str(),
                  static_cast<long long>(steps));
      std::fflush(stdout);
    }
    return 0;
  }
  const std::int64_t steps = argc > 1 ? std::atoll(argv[1]) : 5000;
  std::printf("agent  env            steps/s (agent time only; default hyperparameters, 1 torch thread)\n");
  for (const char* a : {"ppo", "dqn"}) std::printf("%-6s soc-sched-v0  %8.0f\n", a, agent_steps_per_s(a, "soc-sched-v0", steps));
  for (const char* a : {"ppo", "ippo", "mappo"}) std::printf("%-6s dram-v0       %8.0f\n", a, agent_steps_per_s(a, "dram-v0", steps / 10));
  return 0;
}
