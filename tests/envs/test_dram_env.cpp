#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/core/wrappers.hpp"
#include "simulators/dram/simulator.hpp"

using namespace dsegym;

namespace {

// ArchGym DRAMGym's default controller (data/dram/mcconfigs/policy.json).
Value archgym_policy() {
  return Value(Value::Dict{{"PagePolicy", "Open"},
                           {"Scheduler", "Fifo"},
                           {"SchedulerBuffer", "Bankwise"},
                           {"RequestBufferSize", 1},
                           {"RespQueue", "Fifo"},
                           {"RefreshPolicy", "NoRefresh"},
                           {"RefreshMaxPostponed", 1},
                           {"RefreshMaxPulledin", 1},
                           {"PowerDownPolicy", "NoPowerDown"},
                           {"Arbiter", "Simple"},
                           {"MaxActiveTransactions", 1},
                           {"AddressMapping", "RoBaCo"}});
}

}  // namespace

TEST_CASE("dram-v0 gives the simulator's numbers for the same design") {
  auto env = make_env(env_registry(), "dram-v0");
  env->reset(0);
  const StepResult r = env->step(archgym_policy());
  REQUIRE(r.status.ok());
  namespace d = dsegym::dram;
  const auto spec = d::resolve_memspec("ddr3-1600");
  const auto cfg = d::load_controller_config(d::dram_data_dir() + "/mcconfigs/policy.json");
  const auto sim = d::simulate(spec, cfg, d::resolve_mapping(d::dram_data_dir() + "/amconfigs/am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json", spec),
                               d::load_trace(d::dram_data_dir() + "/traces/cloud-1.stl", {}));
  CHECK(r.metrics.at("latency_ns") == sim.total_time_ns);
  CHECK(r.metrics.at("energy_nj") == sim.energy_nj);
  CHECK(r.metrics.at("power_mw") == sim.average_power_mw);
  CHECK(r.metrics.at("bandwidth_gbps") == sim.bandwidth_gbps);
  // Plausibility: 10,000 reads of 64 B cannot beat the 12.8 GB/s peak.
  CHECK(r.metrics.at("latency_ns") > 10000 * 64 / 12.8);
  CHECK(r.obs.as_real().size() == env->spec().metrics.size());
}

TEST_CASE("dram-v0 knob value sets are ArchGym's, and per-bank refresh appears only where the memspec has it") {
  auto env = make_env(env_registry(), "dram-v0");
  const auto& space = dynamic_cast<const DictSpace&>(env->action_space());
  CHECK(dynamic_cast<const Categorical&>(*space.child("RefreshPolicy")).labels() == std::vector<std::string>{"NoRefresh", "AllBank"});
  const auto& mat = dynamic_cast<const Integer&>(*space.child("MaxActiveTransactions"));
  CHECK(mat.lo() == 1);
  CHECK(mat.hi() == 128);
  CHECK(mat.is_pow2());
  auto lp = make_env(env_registry(), "dram-v0", {{"memspec", "lpddr4-3200"}, {"generator", {{"type", "random"}, {"requests", 500}}}});
  const auto& lps = dynamic_cast<const DictSpace&>(lp->action_space());
  CHECK(dynamic_cast<const Categorical&>(*lps.child("RefreshPolicy")).labels().back() == "PerBank");
}

TEST_CASE("dram-v0 objectives set the default reward") {
  const json options = {{"objective", "target"}, {"targets", {{"latency_ns", 150000}, {"power_mw", 1000}}}};
  auto env = make_env(env_registry(), "dram-v0", options);
  const json reward = env->spec().default_reward;
  CHECK(reward.at("type") == "target");
  RewardWrapper w(std::move(env), reward);
  w.reset(0);
  const StepResult r = w.step(archgym_policy());
  // ArchGym: reward = prod t / |m - t|.
  const double expected = 150000 / std::fabs(r.metrics.at("latency_ns") - 150000) * 1000 / std::fabs(r.metrics.at("power_mw") - 1000);
  CHECK(r.reward == doctest::Approx(expected));
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"objective", "target"}}), doctest::Contains("'targets' is required"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"objective", "speed"}}), doctest::Contains("choices: latency, power"),
                       InvalidArgument);
}

TEST_CASE("dram-v0 on a memspec without currents has no energy metrics") {
  auto env = make_env(env_registry(), "dram-v0", {{"memspec", "hbm2"}, {"generator", {{"type", "stream"}, {"requests", 1000}}}});
  CHECK(env->spec().find_metric("energy_nj") == nullptr);
  CHECK(env->spec().find_metric("latency_ns") != nullptr);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"memspec", "hbm2"}, {"objective", "energy"}}),
                       doctest::Contains("no currents"), InvalidArgument);
}

TEST_CASE("dram-v0 workload errors name the file") {
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"workload", "/no/such/trace.stl"}}),
                       doctest::Contains("/no/such/trace.stl: cannot open"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"generator", {{"type", "zigzag"}}}}),
                       doctest::Contains("'zigzag' is not valid; choices: stream, random, strided"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "dram-v0", {{"memspec", "ddr5"}}),
                       doctest::Contains("memspec 'ddr5' is neither a built-in name"), InvalidArgument);
}

TEST_CASE("dram-v0 plays the shipped ddr3_example trace, whose cycles restart at line 470, as DRAMSys does") {
  auto env = make_env(env_registry(), "dram-v0", {{"workload", "ddr3_example"}});
  env->reset(0);
  const StepResult r = env->step(archgym_policy());
  REQUIRE(r.status.ok());
  // DRAMSys 460604a (ArchGym's binary) with policy.json on ddr3_example.stl:
  // Total Time 18305 ns, Total Energy 26872725 pJ.
  CHECK(r.metrics.at("latency_ns") == doctest::Approx(18305.0));
  CHECK(r.metrics.at("energy_nj") == doctest::Approx(26872.725));
}
