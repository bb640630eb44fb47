// DRAM simulator speed on ArchGym's cloud-1 trace (10,000 requests,
// DDR3-1600): simulated requests per second and dram-v0 env steps per second,
// for each shipped controller config and for random designs.
// Usage: bench_dram [repetitions]   (default 50)
#include "bench/bench_args.hpp"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/builtin.hpp"
#include "envs/core/rng.hpp"
#include "simulators/dram/simulator.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  constexpr const char* kUsage = "Usage: bench_dram [repetitions]   (default 50)";
  dsegym::bench::help(argc, argv, kUsage);
  const int reps = static_cast<int>(dsegym::bench::int_arg(argc, argv, 1, 50, 1, 1000000, kUsage));
  namespace d = dsegym::dram;
  const auto spec = d::resolve_memspec("ddr3-1600");
  const auto trace = d::load_stl(d::dram_data_dir() + "/traces/cloud-1.stl", 800);
  const auto mapping = d::make_mapping("RoBaCo", spec);
  std::printf("cloud-1 (%zu requests) on %s, median of %d runs\n", trace.size(), spec.id.c_str(), reps);
  std::printf("%-18s %10s %14s %14s\n", "config", "ms/run", "requests/s", "sim time (us)");
  for (const char* cfg : {"policy.json", "fifo.json", "fr_fcfs.json", "fr_fcfs_grp.json"}) {
    const auto c = d::load_controller_config(d::dram_data_dir() + "/mcconfigs/" + cfg);
    std::vector<double> ms;
    double sim_us = 0;
    for (int i = 0; i < reps; ++i) {
      const auto t0 = Clock::now();
      const auto r = d::simulate(spec, c, mapping, trace);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      sim_us = r.total_time_ns / 1000;
    }
    std::sort(ms.begin(), ms.end());
    const double med = ms[ms.size() / 2];
    std::printf("%-18s %10.3f %14.0f %14.1f\n", cfg, med, static_cast<double>(trace.size()) / (med / 1000), sim_us);
  }
  auto env = make_env(env_registry(), "dram-v0");
  Rng rng(1);
  std::vector<Value> actions;
  for (int i = 0; i < reps; ++i) actions.push_back(env->action_space().sample(rng));
  const auto t0 = Clock::now();
  for (const auto& a : actions) {
    env->reset(0);
    env->step(a);
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("dram-v0 random designs: %.1f steps/s (%.3f ms/step, %.0f simulated requests/s)\n", reps / s, 1000 * s / reps,
              reps * static_cast<double>(trace.size()) / s);
  return 0;
}
