// SoC emulator speed and scheduler quality.
//  1. simulated tasks per second of each scheduler (DS3 SoC and app mix);
//  2. soc-sched-v0 env steps per second (earliest-finish choice from the
//     observation, so observation building is included) and soc-design-v0
//     evaluations per second;
//  3. mean job latency of HEFT, ETF and random across injection rates and
//     execution-time noise levels (3 seeds each) as a Markdown table.
// Usage: bench_soc [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "app/builtin.hpp"
#include "simulators/soc/soc.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

int earliest_finish(const Value& obs, std::size_t apps) {
  const auto& f = obs.at("features").as_real();
  const auto& mask = obs.at("action_mask").as_real();
  int best = -1;
  for (std::size_t pe = 0; pe < mask.size(); ++pe)
    if (mask[pe] == 1.0 && (best < 0 || f[5 + apps + 4 * pe + 3] < f[5 + apps + 4 * static_cast<std::size_t>(best) + 3])) best = static_cast<int>(pe);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const soc::Soc ds3 = soc::resolve_soc("ds3_multiple_bal");
  const std::int64_t jobs = quick ? 2000 : 20000;

  std::printf("## Emulator: DS3 MULTIPLE_BAL, 5-app DS3 mix, %lld jobs at 10 jobs/ms, noise 0.1\n\n", static_cast<long long>(jobs));
  for (const auto& name : soc::policy_names()) {
    const auto t0 = Clock::now();
    const soc::Result r = soc::simulate(ds3, soc::default_workload(10.0, jobs, 0.1, 1), soc::policy_from_name(name));
    const double s = seconds_since(t0);
    std::printf("%-6s %8.2f M tasks/s  (%zu tasks in %.3f s; mean latency %.1f us)\n", name.c_str(), r.schedule.size() / s / 1e6,
                r.schedule.size(), s, r.avg_latency_us);
  }

  std::printf("\n## Envs\n\n");
  {
    auto env = make_env(env_registry(), "soc-sched-v0", {{"window_ms", quick ? 20.0 : 200.0}, {"rate_per_ms", 10.0}});
    std::int64_t steps = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t ep = 0; ep < 3; ++ep) {
      Value obs = env->reset(ep).first;
      for (;;) {
        const StepResult r = env->step(Value(earliest_finish(obs, 5)));
        ++steps;
        if (r.terminated) break;
        obs = r.obs;
      }
    }
    const double s = seconds_since(t0);
    std::printf("soc-sched-v0:  %8.0f steps/s (%lld steps, 3 episodes)\n", steps / s, static_cast<long long>(steps));
  }
  {
    auto env = make_env(env_registry(), "soc-design-v0");
    Rng rng(1);
    const int n = quick ? 50 : 300;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      env->reset();
      env->step(env->action_space().sample(rng));
    }
    std::printf("soc-design-v0: %8.0f evaluations/s (300 jobs each, HEFT)\n", n / seconds_since(t0));
  }

  std::printf("\n## Mean job latency (us), DS3 mix, %d jobs, mean of 3 seeds\n\n", quick ? 300 : 2000);
  const std::vector<double> rates = quick ? std::vector<double>{5, 20} : std::vector<double>{2, 5, 10, 15, 20, 25};
  const std::vector<double> noises = {0.0, 0.2, 0.5};
  std::printf("| jobs/ms | noise | HEFT | ETF | MET | random |\n|---:|---:|---:|---:|---:|---:|\n");
  for (double rate : rates)
    for (double noise : noises) {
      std::printf("| %g | %g |", rate, noise);
      for (auto p : {soc::Policy::HEFT, soc::Policy::ETF, soc::Policy::MET, soc::Policy::Random}) {
        double sum = 0;
        for (std::uint64_t seed = 1; seed <= 3; ++seed)
          sum += soc::simulate(ds3, soc::default_workload(rate, quick ? 300 : 2000, noise, seed), p).avg_latency_us;
        std::printf(" %.0f |", sum / 3);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  return 0;
}
