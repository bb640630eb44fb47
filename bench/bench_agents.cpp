// Agent speed. BO ask() latency p50/p99 from 100, 500 and 2000 observations on the
// dram-v0 design space (12 knobs, 26 GP features), and ask+tell time per
// design for every built-in agent on toy-v0.
// Usage: bench_agents
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "envs/builtin.hpp"
#include "envs/core/wrappers.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main() {
  auto dram = make_env(env_registry(), "dram-v0");
  const auto& space = dram->spec().action_space;
  // A smooth synthetic reward over the encoding (the GP's cost does not
  // depend on the values).
  auto reward_of = [&](const Value& a) {
    const auto x = space->encode(a);
    double f = 0;
    for (std::size_t k = 0; k < x.size(); ++k) f -= (x[k] - 0.3) * (x[k] - 0.3) * static_cast<double>(k + 1);
    return f;
  };
  std::printf("BO ask() latency on the dram-v0 space: asks of 1 design, each told before the next, from n\n");
  std::printf("observations on, after a first ask; enough asks for a warm hyperparameter refit (at +10 %%) to be among them:\n");
  std::printf("%12s %6s %10s %10s %10s %16s\n", "observations", "asks", "p50 (ms)", "p99 (ms)", "max (ms)", "first ask (ms)");
  for (int n : {100, 500, 2000}) {
    const int asks = std::max(60, n / 8);
    AgentPtr bo = make_agent("bo", {space, dram->spec().metrics, 1});
    Rng rng(n);
    std::vector<Trial> told;
    for (int i = 0; i < n; ++i) {
      const Value a = space->sample(rng);
      told.push_back({-1 - i, a, {}, reward_of(a), {}});
    }
    bo->tell(told);
    std::vector<double> ms;
    double first = 0;
    for (int k = 0; k <= asks; ++k) {
      const auto t0 = Clock::now();
      auto s = bo->ask(1);
      // The first ask fits the hyperparameters from scratch (a run that
      // reached n observations fits them from their last values).
      (k == 0 ? first : ms.emplace_back()) = ms_since(t0);
      bo->tell({{s[0].id, s[0].action, {}, reward_of(s[0].action), {}}});
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%12d %6d %10.1f %10.1f %10.1f %16.1f\n", n, asks, ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(), first);
  }

  std::printf("\nask(1) + tell per design on toy-v0 (500 designs; env time excluded):\n");
  auto toy = make_env(env_registry(), "toy-v0");
  RewardWrapper w(std::move(toy), json{{"type", "metric"}, {"metric", "loss"}});
  for (const char* id : {"random", "grid", "quasirandom", "ga", "sa", "aco", "nsga2", "bo"}) {
    AgentPtr agent = make_agent(id, {w.spec().action_space, w.spec().metrics, 1});
    double agent_ms = 0;
    for (int i = 0; i < 500; ++i) {
      auto t0 = Clock::now();
      auto s = agent->ask(1);
      agent_ms += ms_since(t0);
      w.reset(0);
      auto r = w.step(s[0].action);
      t0 = Clock::now();
      agent->tell({{s[0].id, s[0].action, r.metrics, r.reward, r.status}});
      agent_ms += ms_since(t0);
    }
    std::printf("  %-12s %10.4f ms\n", id, agent_ms / 500);
  }
  return 0;
}
