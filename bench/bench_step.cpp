// Framework overhead per step on toy-v0, in process. The toy function costs
// a few nanoseconds, so these figures are the framework's own cost:
//   env      reset + step through the Env interface (action validation incl.)
//   reward   the same through RewardWrapper
//   run      the runner loop: random agent ask/tell, vector env, reward
//   run+log  the same, writing every trace row to disk
// Usage: bench_step [evaluations]   (default 200000)
#include "bench/bench_args.hpp"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/builtin.hpp"
#include "envs/core/wrappers.hpp"
#include "experiments/runner.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

template <class F>
double median_ns_per_step(int reps, std::int64_t n, F&& body) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    body();
    t.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() / static_cast<double>(n));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  dsegym::register_builtins();
  constexpr const char* kUsage = "Usage: bench_step [evaluations]   (default 200000)";
  dsegym::bench::help(argc, argv, kUsage);
  const std::int64_t n = dsegym::bench::int_arg(argc, argv, 1, 200000, 1, 1000000000, kUsage);
  auto env = make_env(env_registry(), "toy-v0");
  Rng rng(1);
  std::vector<Value> actions;
  for (int i = 0; i < 4096; ++i) actions.push_back(env->action_space().sample(rng));
  volatile double sink = 0;

  const double env_ns = median_ns_per_step(5, n, [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      env->reset(static_cast<std::uint64_t>(i));
      sink = sink + env->step(actions[static_cast<std::size_t>(i) & 4095]).metrics.items().size();
    }
  });

  RewardWrapper rw(make_env(env_registry(), "toy-v0"), env->spec().default_reward);
  const double reward_ns = median_ns_per_step(5, n, [&] {
    for (std::int64_t i = 0; i < n; ++i) {
      rw.reset(static_cast<std::uint64_t>(i));
      sink = sink + rw.step(actions[static_cast<std::size_t>(i) & 4095]).reward;
    }
  });

  RunConfig rc;
  rc.env_id = "toy-v0";
  rc.budget = n;
  rc.seed = 1;
  const double run_ns = median_ns_per_step(5, n, [&] { sink = sink + run_experiment(rc).best_reward; });

  const auto dir = std::filesystem::temp_directory_path() / "dsegym_bench_step";
  const std::int64_t n_log = std::min<std::int64_t>(n, 50000);
  rc.budget = n_log;
  const double log_ns = median_ns_per_step(3, n_log, [&] {
    std::filesystem::remove_all(dir);
    rc.out_dir = dir.string();
    sink = sink + run_experiment(rc).best_reward;
  });
  std::filesystem::remove_all(dir);

  std::printf("toy-v0 framework overhead per evaluation (median of runs, %lld evaluations):\n", static_cast<long long>(n));
  std::printf("  env (reset+step, validated)       %8.0f ns\n", env_ns);
  std::printf("  + reward wrapper                  %8.0f ns\n", reward_ns);
  std::printf("  runner loop (random agent)        %8.0f ns   target < 5000 ns\n", run_ns);
  std::printf("  runner loop + JSONL trace row     %8.0f ns\n", log_ns);
  return 0;
}
