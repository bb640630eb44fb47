#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "simulators/soc/soc.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
using namespace dsegym::soc;
using nlohmann::json;

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

TEST_CASE("DVFS: execution times scale with f_max / f and power with f V^2 from DS3's profiles") {
  Soc ds3 = resolve_soc("ds3_multiple_bal");
  PeType& a15 = ds3.types[1];
  REQUIRE(a15.name == "A15");
  // DS3 SoC.MULTIPLE_BAL: A15 power_profile 2000 MHz = 3.32, 5.05, 6.15, 6.91 W
  // for 1..4 busy cores; OPPs 1400 MHz @ 1100 mV and 2000 MHz @ 1362 mV. At
  // a profiled frequency the cluster draws the measured power, leakage
  // included; elsewhere the profile minus the cluster's leakage at the
  // current voltage scales by f V^2 and the leakage is added back (DS3's
  // compute_dynamic_power_dissipation).
  const double leak2000 = ds3.leak_w(1, 42);
  CHECK(a15.power_w(1, leak2000) == doctest::Approx(3.32));
  CHECK(a15.power_w(4, leak2000) == doctest::Approx(6.91));
  a15.count = 8;  // a second cluster, whose idle cores leak
  CHECK(a15.power_w(6, leak2000) == doctest::Approx(6.91 + 5.05));
  a15.count = 4;
  a15.set_frequency(1400);
  CHECK(a15.slowdown() == doctest::Approx(2000.0 / 1400.0));
  const double leak1400 = ds3.leak_w(1, 42);
  CHECK(leak1400 == doctest::Approx(leak2000 * 1.100 / 1.362).epsilon(0.01));  // leakage about linear in V
  CHECK(a15.power_w(1, leak1400) == doctest::Approx((3.32 - 4 * leak1400) * (1400 * 1.1 * 1.1) / (2000 * 1.362 * 1.362) + 4 * leak1400));
  a15.set_frequency(1000);  // a profiled point: the measured 0.85 W
  CHECK(a15.power_w(1, ds3.leak_w(1, 42)) == doctest::Approx(0.85));
  CHECK_THROWS_WITH_AS(a15.set_frequency(1500), doctest::Contains("valid: 600, 800, 1000"), InvalidArgument);

  // SC-TX at A15 = 1000 MHz: every task takes min(2 x A15, A7 at 1400 MHz):
  // scrambler min(4, 6), viterbi_encoder min(18, 31), puncturing min(6, 6),
  // interleaver min(6, 10), qpsk min(16, 27), crc min(4, 5), upsampling
  // min(18, 42), fir_filter min(40, 30) = 4+18+6+6+16+4+18+30 = 102 us.
  CHECK(simulate(ds3, mix_of({"sc_tx"}, 1, 1, 0, 0), Policy::MET).avg_latency_us == doctest::Approx(102.0));
}

TEST_CASE("energy of a job: cluster power, leakage at a fixed temperature, idle accelerators and base power, by hand") {
  // DS3's leakage model (DTPM_power_models.py, Odroid-XU3 fit in
  // config_file.ini: C1 = 0.002488, C2 = 2660, Igate = 0.000519, 42 C):
  // a cluster leaks V C1 T^2 exp(-C2/T) + Igate V, a core a quarter of it,
  // a LITTLE core a further quarter; DS3's accelerators (types ACC_1..3)
  // leak as a big core at 900 mV. Base power: memory 0.0473 W + GPU 0.1201 W.
  const double t = 273.0 + 42.0;
  auto cluster_leak = [&](double v) { return v * 0.002488 * t * t * std::exp(-2660.0 / t) + 0.000519 * v; };
  Soc ds3 = resolve_soc("ds3_multiple_bal");
  ds3.thermal.a.clear();  // leakage at the fixed 42 C
  CHECK(ds3.leak_w(0, 42) == doctest::Approx(cluster_leak(1.300) / 16));
  CHECK(ds3.leak_w(1, 42) == doctest::Approx(cluster_leak(1.362) / 4));
  CHECK(ds3.leak_w(3, 42) == doctest::Approx(cluster_leak(0.900) / 4));
  CHECK(ds3.leak_w(1, 42) == doctest::Approx(0.018257).epsilon(1e-4));  // DS3's per-core A15 leakage at 42 C
  // At 2000 MHz SC-TX runs on the A15s only, one core busy at a time for
  // 56 us: the A15 cluster draws its measured 1-core 3.32 W, the idle A7
  // cluster and the 8 idle accelerators leak, and the base power runs.
  const Result r = simulate(ds3, mix_of({"sc_tx"}, 1, 1, 0, 0), Policy::MET);
  const double a7_idle = 4 * cluster_leak(1.300) / 16, acc_idle = 8 * cluster_leak(0.900) / 4, base = 0.0473 + 0.1201;
  CHECK(r.energy_mj == doctest::Approx((3.32 + a7_idle + acc_idle + base) * 56 * 1e-3).epsilon(1e-6));
  CHECK(r.type_energy_mj[1] == doctest::Approx(3.32 * 56e-3));
  CHECK(r.static_energy_mj == doctest::Approx((4 * cluster_leak(1.362) / 4 + a7_idle + acc_idle) * 56e-3));
  REQUIRE(r.base_energy_mj.size() == 2);
  for (const auto& [source, mj] : r.base_energy_mj) CHECK(mj == doctest::Approx((source == "memory" ? 0.0473 : 0.1201) * 56e-3));
  double per_pe = 0;
  for (double e : r.pe_energy_mj) per_pe += e;
  CHECK(per_pe == doctest::Approx(r.dynamic_energy_mj + r.static_energy_mj));
}

// DS3 itself (segemena/DS3 056c930, run locally with Debian's SimPy 3):
// SoC.MULTIPLE_BAL, ETF, the five apps at equal probabilities, 300 jobs with
// exponential inter-arrivals of mean 200 us and 100 us (scale_values),
// warmup 0, no throttling, performance DVFS, its thermal model on. Its job
// arrivals are replayed here (tests/simulators/data). DS3 reported: mean
// latency 157.09 us and 0.6055 mJ per job (scale 200), 171.15 us and 0.5053
// mJ per job (scale 100). DS3 charges idle leakage per 10-us tick and heats
// idle clusters with the base power too; this model integrates exactly.
TEST_CASE("on DS3's own arrivals, energy per job is within 5 % of DS3's and ETF's mean latency within 4 %") {
  for (const auto& [file, ds3_latency, ds3_mj_per_job] :
       std::vector<std::tuple<std::string, double, double>>{{"ds3_arrivals_scale200.json", 157.09, 0.6055}, {"ds3_arrivals_scale100.json", 171.15, 0.5053}}) {
    INFO(file);
    const Workload w = load_workload(std::string(TESTS_SOURCE_DIR) + "/simulators/data/" + file, default_workload(5, 300, 0, 1));
    const Result r = simulate(resolve_soc("ds3_multiple_bal"), w, Policy::ETF);
    REQUIRE(r.jobs == 300);
    const double mj_per_job = r.energy_mj / static_cast<double>(r.jobs);
    MESSAGE(file << ": latency " << r.avg_latency_us << " us (DS3 " << ds3_latency << "), energy per job " << mj_per_job << " mJ (DS3 "
                 << ds3_mj_per_job << ")");
    CHECK(std::fabs(r.avg_latency_us / ds3_latency - 1) <= 0.04);
    CHECK(std::fabs(mj_per_job / ds3_mj_per_job - 1) <= 0.05);
  }
}

TEST_CASE("thermal model: the step response of a one-node model, and leakage that follows the temperature") {
  // One node, T[k+1] = 0.9 (T[k] - 20) + 0.1 P + 20: under a constant 2 W,
  // T[k] - 20 = 2 (1 - 0.9^k). A 210-us task on a 2-W PE spans ten 20-us steps.
  const json soc = json::parse(R"({"name": "hot", "pe_types": [{"name": "cpu", "count": 1, "active_power_w": 2, "exec": {"t": 210}}],
    "thermal": {"ambient_c": 20, "step_us": 20, "a": [[0.9]], "b": {"cpu": [0.1]}}})");
  const json app = json::parse(R"({"name": "one", "tasks": [{"name": "t"}]})");
  Workload w;
  w.mix = {{parse_app(app, "one"), 1.0}};
  w.jobs = 1;
  const Result r = simulate(parse_soc(soc, "hot"), w, Policy::ETF);
  CHECK(r.peak_temperature_c == doctest::Approx(20 + 2 * (1 - std::pow(0.9, 10))));
  // DS3's SoC under a long A15 load heats up, and its leakage with it.
  Soc ds3 = resolve_soc("ds3_multiple_bal");
  const Result hot = simulate(ds3, mix_of({"wifi_rx"}, 200, 20, 0, 1), Policy::ETF);
  ds3.thermal.a.clear();
  const Result cold = simulate(ds3, mix_of({"wifi_rx"}, 200, 20, 0, 1), Policy::ETF);
  CHECK(hot.peak_temperature_c > 50);
  CHECK(hot.static_energy_mj > 1.1 * cold.static_energy_mj);
  CHECK(hot.avg_latency_us == doctest::Approx(cold.avg_latency_us));  // no throttling: the schedule is the same
}

TEST_CASE("DS3's EFT, STF and ETF_LB against ETF on small cases computed by hand") {
  // Two PEs, fast (PE 0) and slow (PE 1); app B's task takes 20 / 25 us,
  // app A's 10 / 30 us; a B job and then an A job arrive at 0.
  const json soc = json::parse(R"({"name": "two", "pe_types": [{"name": "fast", "count": 1, "active_power_w": 1, "exec": {"a": 10, "b": 20}},
    {"name": "slow", "count": 1, "active_power_w": 1, "exec": {"a": 30, "b": 25}}]})");
  Workload w;
  w.mix = {{parse_app(json::parse(R"({"name": "B", "tasks": [{"name": "b"}]})"), "B"), 1.0},
           {parse_app(json::parse(R"({"name": "A", "tasks": [{"name": "a"}]})"), "A"), 1.0}};
  w.trace = {{0.0, 0}, {0.0, 1}};
  auto finishes = [&](Policy p) { return simulate(parse_soc(soc, "two"), w, p).job_finish_us; };
  // ETF: the earliest finish overall first: a on fast (10), then b: fast at 30
  // or slow at 25 -> slow.
  CHECK(finishes(Policy::ETF) == std::vector<double>{25, 10});
  CHECK(finishes(Policy::ETF_LB) == std::vector<double>{25, 10});
  // EFT: b first (ready first): fast at 20; then a: fast at 30 or slow at
  // 30 -> the lower PE, fast.
  CHECK(finishes(Policy::EFT) == std::vector<double>{20, 30});
  // STF: the shortest task first, each on its fastest PE whatever its queue:
  // a (10) then b (20), both on fast: a 0..10, b 10..30.
  CHECK(finishes(Policy::STF) == std::vector<double>{30, 10});

  // ETF_LB's tie-break: two identical PEs; a job at 0 goes to PE 0; at 100
  // both are free: ETF takes PE 0 again, ETF_LB the PE given fewer tasks.
  const json pair = json::parse(R"({"name": "pair", "pe_types": [{"name": "p", "count": 2, "active_power_w": 1, "exec": {"a": 10}}]})");
  Workload two;
  two.mix = {{parse_app(json::parse(R"({"name": "A", "tasks": [{"name": "a"}]})"), "A"), 1.0}};
  two.trace = {{0.0, 0}, {100.0, 0}};
  const Result etf = simulate(parse_soc(pair, "pair"), two, Policy::ETF), lb = simulate(parse_soc(pair, "pair"), two, Policy::ETF_LB);
  REQUIRE(etf.schedule.size() == 2);
  CHECK(etf.schedule[1].pe == 0);
  CHECK(lb.schedule[0].pe == 0);
  CHECK(lb.schedule[1].pe == 1);
  // On Topcuoglu's DAG (3 processors) each finishes every task, and no
  // schedule beats the critical path n1-n2-n9-n10 at each task's fastest
  // processor without communication: 9 + 13 + 12 + 7 = 41 (the paper's
  // Fig. 2 cost table).
  for (Policy p : {Policy::EFT, Policy::STF, Policy::ETF_LB}) {
    const Result r = simulate(resolve_soc("topcuoglu_3p"), mix_of({"topcuoglu"}, 1, 1, 0, 0), p);
    CHECK(r.schedule.size() == 10);
    CHECK(r.makespan_us >= 41.0);
  }
}

TEST_CASE("Temporal Mitigation (DS3's sixth app) runs its matrix products on the MM accelerator") {
  // MET: hermitian_opt on an A15 (6 us), CMM_1 and CMM_2 in parallel on the
  // two MM accelerators (22 us), matrix_opts (8) and matrix_multiplication
  // (5) on A15s, CMM_3 on MM (22), matrix_subtraction on an A15 (16): a
  // critical path of 6 + 22 + 8 + 5 + 22 + 16 = 79 us (DS3's times; edges of
  // volume 1 cost 1/1000 us each).
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  const Result r = simulate(ds3, mix_of({"temporal_mitigation"}, 1, 1, 0, 0), Policy::MET);
  CHECK(r.avg_latency_us == doctest::Approx(79.0).epsilon(1e-3));
  int on_mm = 0;
  for (const auto& t : r.schedule) on_mm += ds3.types[static_cast<std::size_t>(ds3.type_of(t.pe))].name == "MM" ? 1 : 0;
  CHECK(on_mm == 3);
}

TEST_CASE("thermal throttling caps the frequency past a trip point and lifts it below the hysteresis") {
  // One node, T[k+1] = 0.9 (T[k] - 20) + 0.1 P + 20; 10 W at 2000 MHz, a
  // quarter at 500 MHz (f V^2, same V). Trip at 25 C with 2 C hysteresis,
  // cap 500 MHz. Under 10 W, T[k] = 20 + 10 (1 - 0.9^k) passes 25 at step 7
  // (140 us); then at 2.5 W it decays towards 22.5 until below 23.
  const json soc = json::parse(R"({"name": "hot", "pe_types": [{"name": "cpu", "count": 1, "opp": [[500, 1000], [2000, 1000]],
      "power_profile": {"2000": [10]}, "trip_mhz": [500], "exec": {"t": 4000}}],
    "thermal": {"ambient_c": 20, "step_us": 20, "a": [[0.9]], "b": {"cpu": [0.1]}, "trip_c": [25], "hysteresis_c": [2]}})");
  Workload w;
  w.mix = {{parse_app(json::parse(R"({"name": "a", "tasks": [{"name": "t"}]})"), "a"), 1.0}};
  w.jobs = 1;
  const Result r = simulate(parse_soc(soc, "hot"), w, Policy::ETF);
  REQUIRE(r.frequency_trace.size() >= 2);
  CHECK(r.frequency_trace[0].time_us == doctest::Approx(140));
  CHECK(r.frequency_trace[0].mhz == 500);
  double t = 20 + 10 * (1 - std::pow(0.9, 7));
  int k = 7;
  while (t >= 23) {
    t = 20 + 0.9 * (t - 20) + 0.1 * 2.5;
    ++k;
  }
  CHECK(r.frequency_trace[1].time_us == doctest::Approx(20.0 * k));
  CHECK(r.frequency_trace[1].mhz == 2000);
  CHECK(r.peak_temperature_c < 25.5);
  CHECK(r.avg_latency_us > 4000);  // slowed while throttled
}

TEST_CASE("DS3's injection controls: a cap on jobs in the system, inject_asap and a warm-up, by hand") {
  // One PE, a 100-us task per job (2 W busy, nothing idle), generated arrivals.
  const Soc one = parse_soc(json::parse(R"({"name": "one", "pe_types": [{"name": "p", "count": 1, "active_power_w": 2, "exec": {"t": 100}}]})"), "one");
  auto workload = [](double interval) {
    Workload w;
    w.mix = {{parse_app(json::parse(R"({"name": "a", "tasks": [{"name": "t"}]})"), "a"), 1.0}};
    w.jobs = 3;
    w.rate_per_ms = 0;
    w.interval_us = interval;
    return w;
  };
  // Every 10 us: without a cap jobs queue (latencies 100, 190, 280); with at
  // most one job in the system, job 1 waits until 100, and job 2 comes 10 us
  // after job 1's actual arrival (110), waits, and enters at 200.
  Workload w = workload(10);
  CHECK(simulate(one, w, Policy::ETF).avg_latency_us == doctest::Approx((100 + 190 + 280) / 3.0));
  w.max_in_system = 1;
  Result r = simulate(one, w, Policy::ETF);
  CHECK(r.job_arrival_us == std::vector<double>{0, 100, 200});
  CHECK(r.avg_latency_us == doctest::Approx(100));
  // Every 1000 us, inject_asap: each finish brings the next arrival forward.
  w = workload(1000);
  w.inject_asap = true;
  r = simulate(one, w, Policy::ETF);
  CHECK(r.job_arrival_us == std::vector<double>{0, 100, 200});
  // A warm-up of 1500 us: only job 2 (2000..2100) counts, and the energy
  // from 1500 us on: 2 W x 100 us = 0.2 mJ.
  w = workload(1000);
  w.warmup_us = 1500;
  r = simulate(one, w, Policy::ETF);
  CHECK(r.jobs == 1);
  CHECK(r.job_arrival_us == std::vector<double>{2000});
  CHECK(r.energy_mj == doctest::Approx(0.2));
  w.warmup_us = 5000;
  CHECK_THROWS_WITH_AS(simulate(one, w, Policy::ETF), doctest::Contains("no job finished after the warm-up"), InvalidArgument);
}

TEST_CASE("DVFS governors: each one's frequency trace on a busy-idle-busy load, and running tasks follow the frequency") {
  // One core with OPPs 500, 1000, 2000 MHz; a 100-us task (at 2000 MHz)
  // arriving at 0 and at 200 us; governors act every 10 us (DS3's
  // sampling_rate) with ondemand's thresholds 0.8 / 0.3 (DS3's
  // util_high_threshold / util_low_threshold).
  auto run = [](const json& governor) {
    json soc = json::parse(R"({"name": "one", "dvfs": {"interval_us": 10, "up": 0.8, "down": 0.3},
      "pe_types": [{"name": "cpu", "count": 1, "opp": [[500, 1000], [1000, 1000], [2000, 1000]], "power_profile": {"2000": [1.0]},
                    "exec": {"t": 100}}]})");
    soc["pe_types"][0]["governor"] = governor;
    Workload w;
    w.mix = {{parse_app(json::parse(R"({"name": "a", "tasks": [{"name": "t"}]})"), "a"), 1.0}};
    w.trace = {{0.0, 0}, {200.0, 0}};
    return simulate(parse_soc(soc, "one"), w, Policy::ETF);
  };
  using Trace = std::vector<std::pair<double, double>>;
  auto trace = [](const Result& r) {
    Trace t;
    for (const auto& c : r.frequency_trace) t.emplace_back(c.time_us, c.mhz);
    return t;
  };
  const Result perf = run("performance");
  CHECK(trace(perf).empty());
  CHECK(perf.avg_latency_us == doctest::Approx(100));
  const Result save = run("powersave");  // 500 MHz throughout: 4x longer
  CHECK(trace(save).empty());
  CHECK(save.job_finish_us[0] == doctest::Approx(400));
  // ondemand: busy windows keep 2000 MHz; idle ones step down one OPP each
  // (110 us: 1000, 120 us: 500); the second job starts at 500 MHz, and the
  // busy window [200, 210] sends it to 2000: 2.5 us of work done, 97.5 left.
  const Result od = run("ondemand");
  CHECK(trace(od) == Trace{{110, 1000}, {120, 500}, {210, 2000}});
  CHECK(od.job_finish_us[1] == doctest::Approx(307.5));
  // A table: utilisation up to 0.5 -> 500 MHz, up to 1 -> 2000 MHz.
  const Result tab = run(json{{"table", {{0.5, 500}, {1.0, 2000}}}});
  CHECK(trace(tab) == Trace{{110, 500}, {210, 2000}});
  CHECK(tab.job_finish_us[1] == doctest::Approx(307.5));
  CHECK_THROWS_WITH_AS(run("turbo"), doctest::Contains("valid: performance, powersave, ondemand"), InvalidArgument);
  CHECK_THROWS_WITH_AS(run(json{{"table", {{0.5, 700}}}}), doctest::Contains("valid: 500, 1000, 2000"), InvalidArgument);
}

TEST_CASE("a workload file sets the mix, and an arrival trace replaces generated arrivals") {
  const auto dir = dsegym::testing::temp_dir("soc_wl");
  std::ofstream(dir / "w.json") << R"({"apps": {"sc_tx": 1, "sc_rx": 3}, "noise": 0.1,
    "arrivals": [{"time_us": 500, "app": "sc_rx"}, {"time_us": 0, "app": "sc_tx"}, {"time_us": 20, "app": "sc_tx"}]})";
  const Workload w = load_workload((dir / "w.json").string(), default_workload(5, 10, 0, 1));
  REQUIRE(w.mix.size() == 2);
  const std::size_t rx = w.mix[0].first.name == "sc_rx" ? 0 : 1, tx = 1 - rx;
  CHECK(w.mix[rx].second == 3.0);
  CHECK(w.mix[tx].second == 1.0);
  CHECK(w.noise == 0.1);
  const Result r = simulate(resolve_soc("ds3_multiple_bal"), w, Policy::ETF);
  REQUIRE(r.jobs == 3);
  CHECK(r.job_arrival_us == std::vector<double>{0, 20, 500});
  CHECK(r.job_app == std::vector<int>{static_cast<int>(tx), static_cast<int>(tx), static_cast<int>(rx)});

  std::ofstream(dir / "bad.json") << R"({"apps": ["sc_tx"], "arrivals": [{"time_us": 0, "app": "wifi_tx"}]})";
  CHECK_THROWS_WITH_AS(load_workload((dir / "bad.json").string(), Workload{}), doctest::Contains("'wifi_tx' is not in the workload's apps (sc_tx)"),
                       InvalidArgument);
  std::ofstream(dir / "typo.json") << R"({"apps": ["sc_tx"], "rate": 3})";
  CHECK_THROWS_WITH_AS(load_workload((dir / "typo.json").string(), Workload{}), doctest::Contains("rate"), InvalidArgument);
}

TEST_CASE("stepping with an external policy reproduces a builtin scheduler and accrues the latencies") {
  const Soc ds3 = resolve_soc("ds3_multiple_bal");
  const Workload w = mix_of(kApps, 120, 8, 0.2, 5);
  const Result builtin = simulate(ds3, w, Policy::MET);

  Emulator e(ds3, w, Policy::External);
  std::int64_t decisions = 0;
  while (e.run()) {
    // MET by hand: the fastest PE, ties to the one free first.
    const auto [j, t] = e.pending();
    int best = -1;
    for (int pe = 0; pe < ds3.num_pes(); ++pe) {
      if (!e.supports(pe, j, t)) continue;
      if (best < 0 || e.mean_exec(pe, j, t) < e.mean_exec(best, j, t) ||
          (e.mean_exec(pe, j, t) == e.mean_exec(best, j, t) && e.pe_available(pe) < e.pe_available(best)))
        best = pe;
    }
    e.assign(best);
    ++decisions;
  }
  const Result ext = e.result();
  CHECK(decisions == static_cast<std::int64_t>(builtin.schedule.size()));
  REQUIRE(ext.schedule.size() == builtin.schedule.size());
  int same = 0;
  for (std::size_t i = 0; i < ext.schedule.size(); ++i)
    same += ext.schedule[i].pe == builtin.schedule[i].pe && ext.schedule[i].start_us == builtin.schedule[i].start_us ? 1 : 0;
  CHECK(same == static_cast<int>(ext.schedule.size()));
  // The integral of jobs in the system is the sum of the job latencies.
  CHECK(e.latency_accrued_us() == doctest::Approx(ext.avg_latency_us * static_cast<double>(ext.jobs)));

  Emulator bad(ds3, mix_of({"sc_rx"}, 1, 1, 0, 0), Policy::External);
  REQUIRE(bad.run());
  // match_correlation runs on the CPUs (PEs 0-7) only.
  CHECK_THROWS_WITH_AS(bad.assign(9), doctest::Contains("PEs that can: 0 (A7)"), InvalidArgument);
}
