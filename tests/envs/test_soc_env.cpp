#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "app/builtin.hpp"
#include "base/error.hpp"
#include "simulators/soc/soc.hpp"

using namespace dsegym;

namespace {

struct Episode {
  double ret = 0;  // sum of latency increments
  double avg_latency_us = 0;
  double jobs_done = 0;
  std::int64_t steps = 0, jobs = 0, mask_violations = 0;
};

// Chooses among the legal PEs (from the observation's action_mask) by `pick`.
template <class Pick>
Episode play(Env& env, std::uint64_t seed, Pick pick) {
  Episode e;
  auto [obs, info] = env.reset(seed);
  e.jobs = info.at("jobs").as_int();
  for (;;) {
    const auto& mask = obs.at("action_mask").as_real();
    const int pe = pick(obs);
    e.mask_violations += mask[static_cast<std::size_t>(pe)] == 1.0 ? 0 : 1;
    const StepResult r = env.step(Value(pe));
    REQUIRE(r.status.ok());
    ++e.steps;
    e.ret += r.metrics.at("latency_increment_us");
    if (r.terminated) {
      e.avg_latency_us = r.metrics.at("avg_latency_us");
      e.jobs_done = r.metrics.at("jobs_done");
      return e;
    }
    obs = r.obs;
  }
}

// The legal PE with the earliest estimated finish (feature 4 of each PE block).
int greedy_eft(const Value& obs, std::size_t apps) {
  const auto& f = obs.at("features").as_real();
  const auto& mask = obs.at("action_mask").as_real();
  int best = -1;
  for (std::size_t pe = 0; pe < mask.size(); ++pe) {
    if (mask[pe] != 1.0) continue;
    const double fin = f[5 + apps + 4 * pe + 3];
    if (best < 0 || fin < f[5 + apps + 4 * static_cast<std::size_t>(best) + 3]) best = static_cast<int>(pe);
  }
  return best;
}

}  // namespace

TEST_CASE("soc-sched-v0: an episode schedules every job of the window, the returns sum the job latencies") {
  auto env = make_env(env_registry(), "soc-sched-v0", {{"window_ms", 4.0}, {"rate_per_ms", 8.0}});
  const Episode e = play(*env, 3, [](const Value& obs) { return greedy_eft(obs, 5); });
  CHECK(e.mask_violations == 0);
  CHECK(e.jobs > 10);
  CHECK(e.jobs_done == static_cast<double>(e.jobs));
  // The per-step increments integrate jobs-in-system over time: their sum is
  // the total latency of the window's jobs.
  CHECK(e.ret == doctest::Approx(e.avg_latency_us * e.jobs_done));
}

TEST_CASE("soc-sched-v0: earliest-finish decisions beat random legal ones, the same seed replays the episode") {
  auto env = make_env(env_registry(), "soc-sched-v0", {{"window_ms", 4.0}, {"rate_per_ms", 8.0}});
  Rng rng(5);
  auto random_legal = [&](const Value& obs) {
    const auto& mask = obs.at("action_mask").as_real();
    std::vector<int> ok;
    for (std::size_t pe = 0; pe < mask.size(); ++pe)
      if (mask[pe] == 1.0) ok.push_back(static_cast<int>(pe));
    return ok[rng.below(ok.size())];
  };
  const Episode greedy = play(*env, 9, [](const Value& obs) { return greedy_eft(obs, 5); });
  const Episode rnd = play(*env, 9, random_legal);
  CHECK(rnd.mask_violations == 0);
  CHECK(greedy.avg_latency_us < 0.5 * rnd.avg_latency_us);
  const Episode again = play(*env, 9, [](const Value& obs) { return greedy_eft(obs, 5); });
  CHECK(again.ret == greedy.ret);
  CHECK(again.steps == greedy.steps);
  const Episode other = play(*env, 10, [](const Value& obs) { return greedy_eft(obs, 5); });
  CHECK(other.ret != greedy.ret);
}

TEST_CASE("soc-sched-v0: an illegal PE is an infeasible step that names the legal ones and changes nothing") {
  auto env = make_env(env_registry(), "soc-sched-v0");
  auto [obs, info] = env->reset(1);
  const auto& mask = obs.at("action_mask").as_real();
  int bad = -1;
  for (std::size_t pe = 0; pe < mask.size(); ++pe)
    if (mask[pe] == 0.0) bad = static_cast<int>(pe);
  REQUIRE(bad >= 0);
  const StepResult r = env->step(Value(bad));
  CHECK(r.status.code == Status::Infeasible);
  CHECK(r.status.reason.find("legal PEs: ") != std::string::npos);
  CHECK(r.metrics.at("latency_increment_us") == 0.0);
  CHECK(r.obs.at("features").as_real() == obs.at("features").as_real());
  CHECK_THROWS_AS(env->step(Value(16)), InvalidArgument);  // outside Discrete(16)
}

TEST_CASE("soc-design-v0: the SoC file's own design scores as the emulator does, over-budget and incomplete designs are infeasible") {
  auto env = make_env(env_registry(), "soc-design-v0", {{"jobs", 100}});
  env->reset(0);
  // DS3's MULTIPLE_BAL: 4 A7, 4 A15, 2 MM, 4 FFT, 2 VIT at the highest OPPs.
  auto design = [](int a7, int a15, int a15_mhz) {
    return Value(Value::Dict{{"A7_count", a7}, {"A7_mhz", 1400}, {"A15_count", a15}, {"A15_mhz", a15_mhz},
                             {"MM_count", 2}, {"FFT_count", 4}, {"VIT_count", 2}});
  };
  StepResult r = env->step(design(4, 4, 2000));
  REQUIRE(r.status.ok());
  namespace s = dsegym::soc;
  const s::Soc ds3 = s::resolve_soc("ds3_multiple_bal");
  const s::Result direct = s::simulate(ds3, s::default_workload(5.0, 100, 0.0, 1), s::Policy::HEFT);
  CHECK(r.metrics.at("avg_latency_us") == doctest::Approx(direct.avg_latency_us));
  CHECK(r.metrics.at("energy_mj") == doctest::Approx(direct.energy_mj));
  // The default budget is that design's peak power: 0.81 + 6.91 + 0.1 + 0.3652 + 0.1177 W
  // (DS3's 4-core A7 and A15 profiles at 1400 / 2000 MHz and the accelerators').
  CHECK(r.metrics.at("peak_power_w") == doctest::Approx(8.3029));

  env->reset(0);
  r = env->step(design(4, 8, 2000));
  CHECK(r.status.code == Status::Infeasible);
  CHECK(r.status.reason.find("exceeds the budget of 8.3029 W") != std::string::npos);
  // The budget is a declared constraint, and an over-budget design still
  // reports how far over it is: 4 more A15 cores at 2000 MHz add 6.91 W.
  const auto& peak_spec = *std::find_if(env->spec().metrics.begin(), env->spec().metrics.end(),
                                        [](const MetricSpec& m) { return m.name == "peak_power_w"; });
  CHECK(peak_spec.upper_limit == doctest::Approx(8.3029));
  CHECK(r.metrics.at("peak_power_w") == doctest::Approx(8.3029 + 6.91));
  CHECK(r.metrics.find("avg_latency_us") == nullptr);
  // Slower big cores buy room for more of them.
  env->reset(0);
  r = env->step(design(4, 8, 1000));
  CHECK(r.status.ok());
  env->reset(0);
  r = env->step(design(0, 0, 2000));
  CHECK(r.status.code == Status::Infeasible);
  CHECK(r.status.reason.find("runs on no PE") != std::string::npos);
  // Frequencies are ordered knobs: DS3's OPPs in steps of 200 MHz.
  CHECK(env->action_space().to_json().dump().find(R"({"high":2000,"low":600,"step":200,"type":"integer"})") != std::string::npos);
  env->reset(0);
  CHECK_THROWS_WITH_AS(env->step(design(4, 4, 1900)), doctest::Contains("A15_mhz"), InvalidArgument);
}
