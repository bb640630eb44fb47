// DRAM simulator speed on ArchGym's cloud-1 trace (10,000 requests,
// DDR3-1600): simulated requests per second and dram-v0 env steps per second,
// for each shipped controller config and for random designs; and the cost of
// calling the simulator as a program (`dsegym sim dram`, as ArchGym and
// external-v0 call simulators): whole process time over the same work in
// process (trace parsing, simulation, JSON output), and `dsegym --version`.
// Usage: bench_dram [repetitions]   (default 50)
#include "bench/bench_args.hpp"
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/builtin.hpp"
#include "base/rng.hpp"
#include "simulators/dram/simulator.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

extern char** environ;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Wall time of one run of `args` (stdout and stderr to /dev/null), in ms.
double process_ms(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto t0 = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
    std::fprintf(stderr, "bench_dram: cannot run %s\n", argv[0]);
    std::exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_dram: %s failed\n", args[0].c_str());
    std::exit(1);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr const char* kUsage = "Usage: bench_dram [repetitions]   (default 50)";
  dsegym::bench::help(argc, argv, kUsage);
  const int reps = static_cast<int>(dsegym::bench::int_arg(argc, argv, 1, 50, 1, 1000000, kUsage));
  namespace d = dsegym::dram;
  const auto spec = d::resolve_memspec("ddr3-1600");
  const auto trace = d::load_trace(d::dram_data_dir() + "/traces/cloud-1.stl", {});
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
  // The simulator as a program against the same work in process.
  {
    const std::string cfg = d::dram_data_dir() + "/mcconfigs/fr_fcfs.json", path = d::dram_data_dir() + "/traces/cloud-1.stl";
    std::vector<double> in_ms, proc_ms, version_ms;
    std::size_t output_bytes = 0;
    for (int i = 0; i < reps; ++i) {
      const auto t0 = Clock::now();
      const auto c = d::load_controller_config(cfg);
      const auto t = d::load_trace(path, {});
      output_bytes += d::simulate(spec, c, mapping, t).to_json().dump(2).size();
      in_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      proc_ms.push_back(process_ms({DSEGYM_BIN, "sim", "dram", "--memspec", "ddr3-1600", "--config", cfg, "--trace", path}));
      version_ms.push_back(process_ms({DSEGYM_BIN, "--version"}));
    }
    const double in = median(in_ms), proc = median(proc_ms);
    std::printf("dsegym sim dram (fr_fcfs.json): process %.2f ms, in process %.2f ms, ratio %.2f; dsegym --version %.2f ms\n", proc, in,
                proc / in, median(version_ms));
    if (output_bytes == 0) return 1;
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
