// Per-step cost of the external-simulator path: dram-v0 against the same
// simulator run as a program (examples/external/dram_sim.json), and a
// program that does nothing but print its metric (the bare overhead of
// working directory, files, process start and parsing).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "app/builtin.hpp"
#include "envs/external/external_env.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

double ms_per_step(Env& env, int steps) {
  Rng rng(1);
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) {
    env.reset(0);
    const StepResult r = env.step(env.action_space().sample(rng));
    if (!r.status.ok()) std::fprintf(stderr, "step %d: %s\n", i, r.status.reason.c_str());
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
}

}  // namespace

int main() {
  try {
    const int steps = 50;
    register_external_env(env_registry(), std::string(DSEGYM_SOURCE_DIR) + "/examples/external/dram_sim.json");
    const auto dir = std::filesystem::temp_directory_path() / "dsegym_bench_external";
    std::filesystem::create_directories(dir);
    const json null_spec = {{"id", "null-ext-v0"},
                            {"knobs", {{{"name", "x"}, {"space", {{"type", "integer"}, {"low", 1}, {"high", 9}}}}}},
                            {"command", {"/bin/echo", "latency: {{x}} ns"}},
                            {"files", {{{"path", "in.cfg"}, {"content", "x = {{x}}\n"}}}},
                            {"metrics", {{{"name", "latency_ns"}, {"unit", "ns"}, {"goal", "min"}, {"regex", "latency: ([0-9]+) (ns)"}, {"unit_group", 2}}}}};
    std::ofstream(dir / "null.json") << null_spec.dump();
    register_external_env(env_registry(), (dir / "null.json").string());
    auto builtin = make_env(env_registry(), "dram-v0");
    auto ext = make_env(env_registry(), "dram-ext-v0");
    auto null_env = make_env(env_registry(), "null-ext-v0");
    const double b = ms_per_step(*builtin, steps), e = ms_per_step(*ext, steps), n = ms_per_step(*null_env, 200);
    std::printf("dram-v0 (in process):           %7.2f ms per step\n", b);
    std::printf("dram-ext-v0 (dsegym sim dram):  %7.2f ms per step (+%.2f ms)\n", e, e - b);
    std::printf("null program (/bin/echo):       %7.2f ms per step (the external path's own cost)\n", n);
    return 0;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "bench_external: %s\n", ex.what());
    return 1;
  }
}
