// The heterogeneous ASIC model and the asic-v0 / nasaic-v0 envs.
#include <doctest/doctest.h>

#include <cmath>

#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/core/wrappers.hpp"
#include "simulators/accel/workload.hpp"
#include "simulators/asic/asic.hpp"
#include "simulators/nn/cell_space.hpp"

using namespace dsegym;

namespace {

asic::Network net(const std::string& workload) {
  const accel::Workload w = accel::resolve_workload(workload);
  return {w.name, w.layers};
}

// One network alone on one sub-accelerator, through the accelerator model directly.
accel::WorkloadResult alone(const asic::SubAccel& s, const asic::Network& n) {
  accel::Workload w;
  w.name = n.name;
  w.layers = n.layers;
  return accel::run_workload(w, asic::sub_arch(s, {}), asic::template_dataflow(s.templ));
}

Value asic_action(const std::vector<std::tuple<std::string, int, int, int>>& slots, const std::vector<std::pair<std::string, int>>& on) {
  Value::Dict d;
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const std::string s = "s" + std::to_string(k) + "_";
    d.emplace_back(s + "template", Value(std::get<0>(slots[k])));
    d.emplace_back(s + "pes", Value(std::int64_t{std::get<1>(slots[k])}));
    d.emplace_back(s + "bandwidth_gbps", Value(std::int64_t{std::get<2>(slots[k])}));
    d.emplace_back(s + "glb_kb", Value(std::int64_t{std::get<3>(slots[k])}));
  }
  for (const auto& [n, k] : on) d.emplace_back(n + "_on", Value(std::int64_t{k}));
  return Value(std::move(d));
}

}  // namespace

TEST_CASE("sub-accelerators run their networks in parallel, each one's networks in turn, area adds up") {
  const asic::Network a = net("alexnet"), m = net("mobilenetv2");
  const asic::SubAccel dla{"dla", 1024, 32, 256}, shi{"shi", 256, 16, 128};
  const double ta = alone(dla, a).latency_ns / 1000, tm = alone(shi, m).latency_ns / 1000, tm_dla = alone(dla, m).latency_ns / 1000;
  const asic::Result par = asic::evaluate({dla, shi}, {a, m}, {0, 1}, {}, {});
  REQUIRE(par.valid);
  CHECK(par.latency_us == doctest::Approx(std::max(ta, tm)));
  CHECK(par.energy_uj == doctest::Approx((alone(dla, a).energy_pj + alone(shi, m).energy_pj) / 1e6));
  CHECK(par.area_mm2 == doctest::Approx(accel::area(asic::sub_arch(dla, {})).total_mm2 + accel::area(asic::sub_arch(shi, {})).total_mm2));
  const asic::Result seq = asic::evaluate({dla, shi}, {a, m}, {0, 0}, {}, {});
  CHECK(seq.latency_us == doctest::Approx(ta + tm_dla));
  CHECK(seq.area_mm2 == doctest::Approx(par.area_mm2));  // the idle sub-accelerator still costs area
  // 1024 PEs: a 32 x 32 array; 512: 16 x 32.
  CHECK(asic::sub_arch(dla, {}).rows == 32);
  CHECK(asic::sub_arch({"rs", 512, 8, 64}, {}).cols == 32);
}

TEST_CASE("an ASIC over budget or missing a spec is reported as such, never as a good design") {
  const asic::Network a = net("alexnet");
  const asic::Result over = asic::evaluate({{"dla", 4096, 32, 256}, {"rs", 64, 8, 64}}, {a}, {0}, {}, {});
  CHECK_FALSE(over.valid);
  CHECK(over.reason.find("4160 PEs; the budget is 4096") != std::string::npos);
  const asic::Result bw = asic::evaluate({{"dla", 256, 64, 256}, {"rs", 64, 8, 64}}, {a}, {0}, {}, {});
  CHECK(bw.reason.find("72 GB/s") != std::string::npos);

  const asic::Result free = asic::evaluate({{"dla", 1024, 32, 256}}, {a}, {0}, {}, {});
  asic::Specs tight;
  tight.latency_us = free.latency_us * 0.5;
  tight.area_mm2 = free.area_mm2 * 2;
  const asic::Result r = asic::evaluate({{"dla", 1024, 32, 256}}, {a}, {0}, {}, tight);
  REQUIRE(r.valid);
  CHECK_FALSE(r.specs_met());
  REQUIRE(r.violations.size() == 1);  // latency only; area is within its spec
  CHECK(r.violations[0].rfind("latency_us ", 0) == 0);

  // Through asic-v0: the violating design is infeasible with the spec named,
  // its reward is no reward, and its metrics are still there to see.
  auto rewarded = [](EnvPtr e) -> EnvPtr {
    const json spec = e->spec().default_reward;
    return std::make_unique<RewardWrapper>(std::move(e), spec);
  };
  auto env = rewarded(make_env(env_registry(), "asic-v0",
                               {{"networks", {"alexnet"}}, {"slots", 1}, {"specs", {{"latency_us", tight.latency_us}, {"area_mm2", tight.area_mm2}}}}));
  env->reset(0);
  const StepResult s = env->step(asic_action({{"dla", 1024, 32, 256}}, {{"alexnet", 0}}));
  CHECK(s.status.code == Status::Infeasible);
  CHECK(s.status.reason.find("specs not met: latency_us") != std::string::npos);
  CHECK(s.metrics.at("spec_violations") == 1);
  CHECK(s.metrics.at("latency_us") == doctest::Approx(free.latency_us));
  CHECK(std::isnan(s.reward));
  // The same design with room in the specs is fine.
  auto loose = rewarded(make_env(env_registry(), "asic-v0", {{"networks", {"alexnet"}}, {"slots", 1}, {"specs", json::object()}}));
  loose->reset(0);
  const StepResult ok = loose->step(asic_action({{"dla", 1024, 32, 256}}, {{"alexnet", 0}}));
  CHECK(ok.status.ok());
  CHECK(ok.reward == doctest::Approx(-free.latency_us));
  // A network on a slot that is off.
  auto two = make_env(env_registry(), "asic-v0", {{"networks", {"alexnet"}}, {"slots", 2}});
  two->reset(0);
  const StepResult off = two->step(asic_action({{"dla", 1024, 32, 256}, {"off", 16, 1, 16}}, {{"alexnet", 1}}));
  CHECK(off.status.reason == "network 'alexnet' is assigned to slot 1, which is off");
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "asic-v0", {{"specs", {{"power_mw", 1}}}}), doctest::Contains("power_mw"), InvalidArgument);
}

TEST_CASE("nasaic-v0 scores each task's cell as nas-v0 does and runs both networks on the ASIC") {
  auto env = make_env(env_registry(), "nasaic-v0", {{"specs", json::object()}});
  env = std::make_unique<RewardWrapper>(std::move(env), env->spec().default_reward);
  const std::string tops = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
  const std::string others = "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|";
  Value act = asic_action({{"rs", 256, 16, 128}, {"shi", 256, 16, 128}}, {{"tops", 0}, {"others", 1}});
  for (const auto& [task, cell] : std::vector<std::pair<std::string, std::string>>{{"tops", tops}, {"others", others}}) {
    const nn::Cell c = nn::Cell::parse(cell);
    for (int e = 0; e < nn::kEdges; ++e)
      act.as_dict().emplace_back(task + "_e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e)),
                                 Value(nn::op_names()[static_cast<std::size_t>(c.ops[static_cast<std::size_t>(e)])]));
  }
  env->reset(0);
  const StepResult r = env->step(act);
  REQUIRE(r.status.ok());
  for (const auto& [task, cell, classes] : std::vector<std::tuple<std::string, std::string, json>>{{"tops", tops, {0, 2, 3, 4, 6}},
                                                                                                     {"others", others, {1, 5, 7, 8, 9}}}) {
    auto nas = make_env(env_registry(), "nas-v0", {{"classes", classes}});
    nas->reset(0);
    Value::Dict d;
    const nn::Cell c = nn::Cell::parse(cell);
    for (int e = 0; e < nn::kEdges; ++e)
      d.emplace_back("e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e)),
                     Value(nn::op_names()[static_cast<std::size_t>(c.ops[static_cast<std::size_t>(e)])]));
    CHECK(r.metrics.at(task + "_score") == nas->step(Value(std::move(d))).metrics.at("naswot"));
  }
  CHECK(r.metrics.at("score") == doctest::Approx((r.metrics.at("tops_score") + r.metrics.at("others_score")) / 2));
  CHECK(r.reward == r.metrics.at("score"));
  CHECK(r.metrics.at("pes") == 512);
}
