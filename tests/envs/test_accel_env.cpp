// accel-v0 and accel-mapping-v0 on both array families.
#include <doctest/doctest.h>

#include "envs/accel/accel_env.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "base/rng.hpp"

using namespace dsegym;
namespace a = dsegym::accel;

namespace {

// The env's layer and architecture, as its options resolve them.
struct Setup {
  a::Layer layer;
  a::Arch arch;
};
Setup setup(const json& options) {
  const a::Workload w = a::resolve_workload(options.value("workload", "resnet50"));
  return {accel_mapping_layer(w, options.value("layer", "layer2.0.conv2")),
          a::parse_arch(options.value("arch", json::object()), "arch")};
}

}  // namespace

TEST_CASE("accel-mapping-v0: the built-in mapper's mapping, written as an action, evaluates to the mapper's own metrics") {
  const json systolic = {{"array", "systolic"}, {"rows", 32}, {"cols", 32}};
  for (const json& options : {json::object(), json{{"arch", {{"rows", 16}, {"cols", 16}, {"glb_words", 16384}}}},
                              json{{"arch", systolic}}, json{{"workload", "alexnet"}, {"layer", "conv1"}, {"arch", systolic}}}) {
    const Setup s = setup(options);
    auto env = make_env(env_registry(), "accel-mapping-v0", options);
    for (const auto& df : a::dataflow_names()) {
      if (s.arch.array == a::ArrayKind::Systolic && df == "rs") continue;
      for (const auto& obj : a::objective_names()) {
        INFO(options.dump(), " ", df, " ", obj);
        const a::MappedLayer m = a::map_layer(s.layer, s.arch, a::dataflow_from_name(df), a::objective_from_name(obj));
        REQUIRE(m.eval.valid);
        const Value action = env->spec().action_space->parse(accel_mapping_action(s.layer, s.arch, m.mapping), "action");
        env->reset(0);
        const StepResult r = env->step(action);
        REQUIRE(r.status.ok());
        CHECK(r.metrics.at("latency_ns") == doctest::Approx(m.eval.latency_ns).epsilon(1e-12));
        CHECK(r.metrics.at("energy_nj") == doctest::Approx(m.eval.energy_pj / 1000).epsilon(1e-12));
        CHECK(r.metrics.at("cycles") == doctest::Approx(m.eval.cycles).epsilon(1e-12));
      }
    }
  }
}

TEST_CASE("accel-mapping-v0: the action holds the spatial unrolling, so search can change what the mapper chose") {
  const Setup s = setup(json::object());
  auto env = make_env(env_registry(), "accel-mapping-v0", json::object());
  const auto& space = *env->spec().action_space;
  for (const char* k : {"sp_K", "axis_K", "rf_C", "glb_P", "dram_order", "glb_order"}) CHECK(space.to_json().dump().find(k) != std::string::npos);
  // The weight-stationary mapping turned into an output-stationary one by
  // editing only the spatial knobs: a different, valid evaluation.
  const a::MappedLayer ws = a::map_layer(s.layer, s.arch, a::Dataflow::WeightStationary);
  json act = accel_mapping_action(s.layer, s.arch, ws.mapping);
  for (const char* d : {"C", "R", "S", "K", "P", "Q"}) act[std::string("sp_") + d] = 1;
  act["sp_P"] = 12, act["axis_P"] = "rows";
  act["sp_Q"] = 14, act["axis_Q"] = "cols";
  env->reset(0);
  const StepResult r = env->step(space.parse(act, "action"));
  REQUIRE(r.status.ok());
  CHECK(r.metrics.at("latency_ns") != doctest::Approx(ws.eval.latency_ns));
  // Actions decode to a valid mapping where one exists: a spatial factor
  // beyond what its axis has left is clamped, in dimension order (K takes 4
  // of the 14 columns, Q the 3 that fit in the rest), RF and
  // GLB tiles that overflow are halved until they fit; the step's info holds
  // the mapping evaluated.
  act["sp_K"] = 4, act["axis_K"] = "cols";
  act["rf_C"] = 128, act["rf_K"] = 128, act["glb_P"] = 28, act["glb_Q"] = 28;
  env->reset(0);
  const StepResult fixed = env->step(space.parse(act, "action"));
  REQUIRE(fixed.status.ok());
  const json m = to_json(fixed.info.at("mapping"));
  CHECK(m.at("spatial").at("K") == 4);
  CHECK(m.at("spatial").at("Q") == 3);
  CHECK(a::evaluate(s.layer, s.arch, a::parse_mapping(m, "mapping")).latency_ns == doctest::Approx(fixed.metrics.at("latency_ns")));
  // Only when nothing fits is a step infeasible, with the reason.
  auto tiny = make_env(env_registry(), "accel-mapping-v0", {{"arch", {{"rf_words", 2}}}});
  tiny->reset(0);
  const StepResult none = tiny->step(space.parse(act, "action"));
  CHECK(none.status.code == Status::Infeasible);
  CHECK(none.status.reason.find("the RF tile needs 3 words, a PE has 2") != std::string::npos);
  // Random actions are mostly valid mappings.
  Rng rng(3);
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    env->reset();
    ok += env->step(space.sample(rng)).status.ok() ? 1 : 0;
  }
  CHECK(ok >= 90);
}

TEST_CASE("accel-v0: the array family is an option, a systolic array has no RF knob and no row-stationary dataflow") {
  auto spatial = make_env(env_registry(), "accel-v0", json::object());
  auto systolic = make_env(env_registry(), "accel-v0", {{"array", "systolic"}});
  const std::string sp = spatial->spec().action_space->to_json().dump(), sy = systolic->spec().action_space->to_json().dump();
  CHECK(sp.find("rf_words") != std::string::npos);
  CHECK(sy.find("rf_words") == std::string::npos);
  CHECK(sy.find("\"rs\"") == std::string::npos);
  const json design = {{"pe_rows", 32}, {"pe_cols", 32}, {"glb_kb", 512}, {"glb_bandwidth", 64}, {"dram_bandwidth", 16}, {"dataflow", "ws"}};
  systolic->reset(0);
  const StepResult r = systolic->step(systolic->spec().action_space->parse(design, "action"));
  REQUIRE(r.status.ok());
  // The env's numbers are the simulator's: AlexNet, the mapper minimising edp (the default objective).
  a::Arch arch;
  arch.array = a::ArrayKind::Systolic;
  arch.rows = arch.cols = 32;
  arch.glb_words = 512 * 512;
  arch.glb_words_per_cycle = arch.noc_words_per_cycle = 64;
  arch.dram_words_per_cycle = 16;
  const a::WorkloadResult w = a::run_workload(a::resolve_workload("alexnet"), arch, a::Dataflow::WeightStationary, {}, a::Objective::Edp);
  CHECK(r.metrics.at("latency_ns") == doctest::Approx(w.latency_ns));
  CHECK(r.metrics.at("cycles") == doctest::Approx(w.cycles));
  CHECK(r.metrics.at("area_mm2") == doctest::Approx(a::area(arch).total_mm2));
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "accel-v0", {{"array", "mesh"}}), doctest::Contains("spatial, systolic"), InvalidArgument);
}
