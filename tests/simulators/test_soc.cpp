#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "envs/core/error.hpp"
#include "simulators/soc/soc.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
using namespace dsegym::soc;

namespace {

Workload mix_of(std::vector<std::string> apps, std::int64_t jobs, double rate, double noise, std::uint64_t seed) {
  Workload w;
  for (const auto& a : apps) w.mix.emplace_back(resolve_app(a), 1.0);
  w.jobs = jobs;
  w.rate_per_ms = rate;
  w.noise = noise;
  w.seed = seed;
  return w;
}

const std::vector<std::string> kApps = {"wifi_tx", "wifi_rx", "range_detection", "sc_tx", "sc_rx"};

}  // namespace

TEST_CASE("HEFT schedules the example of Topcuoglu et al. with the published makespan") {
  // Topcuoglu, Hariri and Wu, IEEE TPDS 13(3) 2002, Fig. 2 and 4: HEFT's
  // schedule of the 10-task graph on 3 processors has makespan 80.
  const Result r = simulate(resolve_soc("topcuoglu_3p"), mix_of({"topcuoglu"}, 1, 1, 0, 0), Policy::HEFT);
  CHECK(r.makespan_us == doctest::Approx(80.0));
  // The paper's order by upward rank starts with task 1 on P3 (its fastest).
  REQUIRE(!r.schedule.empty());
  CHECK(r.schedule.front().task == 0);
  CHECK(r.schedule.front().pe == 2);
  CHECK(r.schedule.front().finish_us == doctest::Approx(9.0));
}

TEST_CASE("a single chain job on an idle SoC finishes at its critical-path time") {
  // SC-TX is a chain of 8 tasks with no data volume; the A15 is fastest for
  // every one: 2 + 9 + 3 + 3 + 8 + 2 + 9 + 20 = 56 us (DS3's execution times).
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  for (const auto p : {Policy::MET, Policy::ETF, Policy::HEFT}) {
    CHECK(simulate(ds3, mix_of({"sc_tx"}, 1, 1, 0, 0), p).avg_latency_us == doctest::Approx(56.0));
  }
  // SC-RX: match_correlation 20, filter 20, payload_extraction 3, qpsk_demodulation 96, deinterleaver 7,
  // viterbi_depuncturing 3, viterbi_decoder 2 (the Viterbi accelerator), descrambler 2.
  CHECK(simulate(ds3, mix_of({"sc_rx"}, 1, 1, 0, 0), Policy::MET).avg_latency_us == doctest::Approx(153.0));
}

TEST_CASE("schedules never violate dependencies or double-book a PE") {
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  for (const auto& name : policy_names()) {
    INFO(name);
    const Workload w = mix_of(kApps, 150, 4, 0.2, 7);
    const Result r = simulate(ds3, w, policy_from_name(name));
    std::map<int, std::vector<std::pair<double, double>>> per_pe;
    std::map<std::pair<int, int>, TaskRecord> by_task;
    for (const auto& t : r.schedule) {
      per_pe[t.pe].emplace_back(t.start_us, t.finish_us);
      by_task[{t.job, t.task}] = t;
    }
    std::size_t tasks = 0;
    for (std::size_t j = 0; j < r.job_app.size(); ++j) tasks += w.mix[static_cast<std::size_t>(r.job_app[j])].first.task_types.size();
    CHECK(r.schedule.size() == tasks);
    int overlaps = 0, violations = 0;
    for (auto& [pe, iv] : per_pe) {
      std::sort(iv.begin(), iv.end());
      for (std::size_t k = 1; k < iv.size(); ++k) overlaps += iv[k].first < iv[k - 1].second - 1e-9 ? 1 : 0;
    }
    for (const auto& [key, t] : by_task) {
      const App& app = w.mix[static_cast<std::size_t>(r.job_app[static_cast<std::size_t>(t.job)])].first;
      CHECK(t.start_us >= r.job_arrival_us[static_cast<std::size_t>(t.job)] - 1e-9);
      for (auto [p, vol] : app.preds[static_cast<std::size_t>(t.task)]) {
        const TaskRecord& pr = by_task.at({t.job, p});
        violations += t.start_us < pr.finish_us + ds3.comm_time(vol, pr.pe, t.pe) - 1e-9 ? 1 : 0;
      }
    }
    CHECK(overlaps == 0);
    CHECK(violations == 0);
  }
}

TEST_CASE("ETF and HEFT beat random scheduling on the shipped workloads") {
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  for (double rate : {1.0, 4.0}) {
    INFO("rate ", rate);
    const Workload w = mix_of(kApps, 300, rate, 0.1, 3);
    const double rnd = simulate(ds3, w, Policy::Random).avg_latency_us;
    CHECK(simulate(ds3, w, Policy::ETF).avg_latency_us < 0.5 * rnd);
    CHECK(simulate(ds3, w, Policy::HEFT).avg_latency_us < 0.5 * rnd);
  }
}

TEST_CASE("the same seed gives the same schedule") {
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  const Result a = simulate(ds3, mix_of(kApps, 80, 3, 0.3, 11), Policy::Random);
  const Result b = simulate(ds3, mix_of(kApps, 80, 3, 0.3, 11), Policy::Random);
  const Result c = simulate(ds3, mix_of(kApps, 80, 3, 0.3, 12), Policy::Random);
  REQUIRE(a.schedule.size() == b.schedule.size());
  bool same = true;
  for (std::size_t i = 0; i < a.schedule.size(); ++i)
    same = same && a.schedule[i].pe == b.schedule[i].pe && a.schedule[i].start_us == b.schedule[i].start_us;
  CHECK(same);
  CHECK(a.avg_latency_us != c.avg_latency_us);
}

TEST_CASE("bad applications, SoCs and schedulers are named errors") {
  const auto dir = dsegym::testing::temp_dir("soc");
  std::ofstream(dir / "cyc.json") << R"({"tasks": [{"name": "a"}, {"name": "b"}], "edges": [{"from": 0, "to": 1}, {"from": 1, "to": 0}]})";
  CHECK_THROWS_WITH_AS(load_app((dir / "cyc.json").string()), doctest::Contains("cycle"), InvalidArgument);
  std::ofstream(dir / "alien.json") << R"({"tasks": [{"name": "warp_drive"}]})";
  Workload w;
  w.mix = {{load_app((dir / "alien.json").string()), 1.0}};
  w.jobs = 1;
  CHECK_THROWS_WITH_AS(simulate(resolve_soc("ds3_multiple_bal"), w, Policy::ETF), doctest::Contains("runs on no PE"), InvalidArgument);
  CHECK_THROWS_WITH_AS(policy_from_name("fifo"), doctest::Contains("choices: met, etf, heft, random, rr"), InvalidArgument);
}
