#include "envs/accel/accel_env.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace dsegym {

namespace a = accel;

namespace {

SpacePtr pow2(std::int64_t lo, std::int64_t hi) { return Integer::pow2(lo, hi); }

SpacePtr dataflows(a::ArrayKind kind) {
  if (kind == a::ArrayKind::Systolic) return std::make_shared<Categorical>(std::vector<std::string>{"ws", "os", "is"});
  return std::make_shared<Categorical>(a::dataflow_names());
}

std::shared_ptr<Box> metric_box(std::size_t n) {
  return std::make_shared<Box>(std::vector<double>(n, 0.0), std::vector<double>(n, std::numeric_limits<double>::infinity()),
                               std::vector<std::int64_t>{static_cast<std::int64_t>(n)});
}

std::vector<MetricSpec> accel_metrics() {
  return {{"latency_ns", "ns", Goal::Minimize, "time to run the workload, layers one after another"},
          {"cycles", "cycles", Goal::Minimize, "the same in clock cycles"},
          {"energy_nj", "nJ", Goal::Minimize, "MAC, RF, wire (NoC or PE-to-PE), global buffer and DRAM access energy"},
          {"edp_mj_ms", "mJ*ms", Goal::Minimize, "energy-delay product", {"energy_nj", "latency_ns"}, 1e-12},
          {"utilization", "1", Goal::Maximize, "MACs / (cycles x PEs)"},
          {"pes", "1", Goal::Minimize, "number of processing elements"},
          {"area_mm2", "mm^2", Goal::Minimize, "PE array and buffers at the technology node (no NoC, control, I/O; see simulators/accel/model.hpp)"}};
}

a::Objective mapper_objective(const std::string& objective) { return a::objective_from_name(objective); }

json default_reward(const std::string& objective) {
  if (objective == "latency") return {{"type", "metric"}, {"metric", "latency_ns"}};
  if (objective == "energy") return {{"type", "metric"}, {"metric", "energy_nj"}};
  return {{"type", "metric"}, {"metric", "edp_mj_ms"}};
}

void set_metrics(StepResult& r, double cycles, double latency_ns, double energy_pj, double utilization, const a::Arch& arch) {
  r.metrics.set("latency_ns", latency_ns);
  r.metrics.set("cycles", cycles);
  r.metrics.set("energy_nj", energy_pj / 1000);
  r.metrics.set("edp_mj_ms", energy_pj / 1e9 * latency_ns / 1e6);
  r.metrics.set("utilization", utilization);
  r.metrics.set("pes", static_cast<double>(arch.pes()));
  r.metrics.set("area_mm2", a::area(arch).total_mm2);
  std::vector<double> obs;
  for (const auto& [k, v] : r.metrics.items()) obs.push_back(v);
  r.obs = Value(std::move(obs));
}

const char* const kObjectiveHelp = "default reward and the mapper's objective: latency, energy or edp (all minimised)";

std::vector<ParamSpec> arch_options() {
  return {{"workload", "alexnet, vgg16, resnet18, resnet50, mobilenetv2, bert_base_encoder or a workload JSON file", "alexnet", nullptr},
          {"array", "array family: spatial (Eyeriss-like, NoC with multicast, RFs) or systolic (TPU-like, SCALE-Sim timing)", "spatial",
           std::make_shared<Categorical>(a::array_kind_names())},
          {"clock_mhz", "clock of the accelerator", 200.0, std::make_shared<Box>(1.0, 1e5)},
          {"node", "technology node of the energy table: 45nm or 16nm", "45nm", std::make_shared<Categorical>(std::vector<std::string>{"45nm", "16nm"})},
          {"objective", kObjectiveHelp, "edp", std::make_shared<Categorical>(a::objective_names())}};
}

// accel-v0: one step designs the accelerator; every layer of the workload is
// mapped by the built-in mapper, minimising the env's objective.
class AccelEnv final : public Env {
public:
  AccelEnv(std::shared_ptr<const EnvSpec> spec, a::Workload w, a::ArrayKind array, double clock, std::string node, a::Objective obj)
      : Env(std::move(spec)), w_(std::move(w)), array_(array), clock_(clock), node_(std::move(node)), obj_(obj) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    a::Arch arch;
    arch.array = array_;
    a::apply_energy_table(arch, node_);
    arch.rows = static_cast<int>(act.at("pe_rows").as_int());
    arch.cols = static_cast<int>(act.at("pe_cols").as_int());
    if (array_ == a::ArrayKind::Spatial) arch.rf_words = act.at("rf_words").as_int();
    arch.glb_words = act.at("glb_kb").as_int() * 512;  // 16-bit words
    arch.glb_words_per_cycle = arch.noc_words_per_cycle = static_cast<double>(act.at("glb_bandwidth").as_int());
    arch.dram_words_per_cycle = static_cast<double>(act.at("dram_bandwidth").as_int());
    arch.clock_mhz = clock_;
    const a::WorkloadResult res = a::run_workload(w_, arch, a::dataflow_from_name(act.at("dataflow").as_string()), {}, obj_);
    StepResult r;
    r.terminated = true;
    if (!res.valid) {
      r.status = EvalStatus::infeasible(res.reason);
      r.obs = Value(std::vector<double>(spec().metrics.size(), 0.0));
      return r;
    }
    set_metrics(r, res.cycles, res.latency_ns, res.energy_pj, res.utilization, arch);
    return r;
  }

private:
  a::Workload w_;
  a::ArrayKind array_;
  double clock_;
  std::string node_;
  a::Objective obj_;
};

std::string knob(const char* prefix, int d) { return std::string(prefix) + a::dim_name(d); }

// accel-mapping-v0: one step maps one layer on a fixed architecture.
//  - spatial arrays, per loop dimension X of size > 1: the spatial factor
//    sp_X and its axis axis_X (rows or cols), the RF factor rf_X and the GLB
//    factor glb_X (the rest iterates at the DRAM level); the DRAM and GLB
//    loop orders. An action decodes to a valid mapping where one exists
//    (accel_action_mapping); the step's info holds the mapping evaluated.
//  - systolic arrays: the dataflow (ws, os, is), the fold order, the number
//    of chunks the stream is cut into (powers of two, at most the dataflow's
//    stream) and the rows and columns the folds use.
class MappingEnv final : public Env {
public:
  MappingEnv(std::shared_ptr<const EnvSpec> spec, a::Layer l, a::Arch arch) : Env(std::move(spec)), layer_(std::move(l)), arch_(arch) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    const a::Mapping m = accel_action_mapping(layer_, arch_, act);
    const a::Evaluation e = a::evaluate(layer_, arch_, m);
    StepResult r;
    r.terminated = true;
    r.info = Value(Value::Dict{{"mapping", value_from_json(a::mapping_to_json(m, arch_.array))}});
    if (!e.valid) {
      r.status = EvalStatus::infeasible(e.reason);
      r.obs = Value(std::vector<double>(spec().metrics.size(), 0.0));
      return r;
    }
    set_metrics(r, e.cycles, e.latency_ns, e.energy_pj, e.utilization, arch_);
    return r;
  }

private:
  a::Layer layer_;
  a::Arch arch_;
};

}  // namespace

DictSpace::Children accel_mapping_knobs(const a::Layer& l, const a::Arch& arch) {
  DictSpace::Children knobs;
  auto order = [] { return std::make_shared<Discrete>(static_cast<std::int64_t>(a::loop_orders().size())); };
  if (arch.array == a::ArrayKind::Systolic) {
    knobs.emplace_back("dataflow", dataflows(arch.array));
    knobs.emplace_back("fold_order", std::make_shared<Categorical>(std::vector<std::string>{"rows", "cols"}));
    double longest = 1;  // the longest stream of the three dataflows
    for (a::Dataflow df : {a::Dataflow::WeightStationary, a::Dataflow::OutputStationary, a::Dataflow::InputStationary})
      longest = std::max(longest, a::systolic_shape(l, df).t);
    std::int64_t top = 1;
    while (static_cast<double>(top) * 2 <= longest) top *= 2;
    knobs.emplace_back("stream_chunks", pow2(1, top));
    knobs.emplace_back("rows_used", std::make_shared<Integer>(1, arch.rows));
    knobs.emplace_back("cols_used", std::make_shared<Integer>(1, arch.cols));
    return knobs;
  }
  const std::int64_t longest = std::max(arch.rows, arch.cols);
  for (int d = 0; d < a::kDims; ++d) {
    if (l.size[d] <= 1) continue;
    knobs.emplace_back(knob("sp_", d), std::make_shared<Integer>(1, std::min(l.size[d], longest)));
    knobs.emplace_back(knob("axis_", d), std::make_shared<Categorical>(std::vector<std::string>{"rows", "cols"}));
    knobs.emplace_back(knob("rf_", d), std::make_shared<Integer>(1, l.size[d]));
    knobs.emplace_back(knob("glb_", d), std::make_shared<Integer>(1, l.size[d]));
  }
  knobs.emplace_back("dram_order", order());
  knobs.emplace_back("glb_order", order());
  return knobs;
}

namespace {

std::int64_t ceil_div(std::int64_t x, std::int64_t y) { return (x + y - 1) / y; }
// Half of v, as the smallest factor giving as many parts of `size`.
std::int64_t halve(std::int64_t v, std::int64_t size) { return ceil_div(size, ceil_div(size, std::max<std::int64_t>(1, v / 2))); }

// Halves the largest factor above 1 at a level (1 GLB, 2 spatial, 3 RF),
// keeping the factors covering each dimension. False when every factor
// there is 1.
bool shrink(const a::Layer& l, a::Mapping& m, int level) {
  int best = -1;
  std::int64_t largest = 1;
  for (int d = 0; d < a::kDims; ++d)
    if (m.factors[level][d] > largest) largest = m.factors[level][d], best = d;
  if (best < 0) return false;
  const int d = best;
  auto& f = m.factors;
  const std::int64_t rest_before = ceil_div(l.size[d], f[2][d]);
  if (level == 2) f[2][d] = halve(f[2][d], l.size[d]);
  const std::int64_t rest = ceil_div(l.size[d], f[2][d]);
  if (level == 3) f[3][d] = halve(f[3][d], rest_before);
  f[3][d] = std::min(f[3][d], rest);
  if (level == 1) f[1][d] = halve(f[1][d], ceil_div(rest, f[3][d]));
  f[1][d] = std::min(f[1][d], ceil_div(rest, f[3][d]));
  f[0][d] = ceil_div(rest, f[3][d] * f[1][d]);
  return true;
}

}  // namespace

a::Mapping accel_action_mapping(const a::Layer& l, const a::Arch& arch, const Value& act) {
  a::Mapping m;
  if (arch.array == a::ArrayKind::Systolic) {
    m.dataflow = a::dataflow_from_name(act.at("dataflow").as_string());
    m.fold_rows_outer = act.at("fold_order").as_string() == "rows";
    // No more chunks than the dataflow's stream has rows.
    const double t = a::systolic_shape(l, m.dataflow).t;
    m.stream_chunks = act.at("stream_chunks").as_int();
    while (static_cast<double>(m.stream_chunks) > t) m.stream_chunks /= 2;
    m.rows_used = act.at("rows_used").as_int();
    m.cols_used = act.at("cols_used").as_int();
    return m;
  }
  auto order = [&](const char* key) { return a::loop_orders()[static_cast<std::size_t>(act.at(key).as_int())]; };
  m.dram_order = order("dram_order");
  {
    m.glb_order = order("glb_order");
    std::int64_t used[2] = {1, 1};
    for (int d = 0; d < a::kDims; ++d) {
      if (l.size[d] <= 1) continue;
      const int axis = act.at(knob("axis_", d)).as_string() == "cols" ? 1 : 0;
      // The spatial factor, clamped to the PEs its axis has left.
      const std::int64_t room = (axis == 0 ? arch.rows : arch.cols) / used[axis];
      const std::int64_t sp = std::max<std::int64_t>(1, std::min({l.size[d], act.at(knob("sp_", d)).as_int(), room}));
      used[axis] *= sp;
      const std::int64_t rest = ceil_div(l.size[d], sp);
      const std::int64_t rf = std::min(rest, act.at(knob("rf_", d)).as_int());
      const std::int64_t g = std::min(ceil_div(rest, rf), act.at(knob("glb_", d)).as_int());
      m.factors[2][d] = sp;
      m.factors[3][d] = rf;
      m.factors[1][d] = g;
      m.factors[0][d] = ceil_div(rest, rf * g);
      m.spatial_axis[d] = axis;
    }
  }
  // Tiles that overflow a buffer are halved, largest first: RF tiles while
  // the RF overflows; GLB tiles, then RF tiles, then spatial factors while
  // the GLB does. Ends at the smallest mapping, which fits whenever any does.
  using Reject = a::Evaluation::Reject;
  for (;;) {
    const Reject why = a::evaluate(l, arch, m).rejected;
    if (why == Reject::Rf && shrink(l, m, 3)) continue;
    if (why == Reject::Glb && (shrink(l, m, 1) || shrink(l, m, 3) || shrink(l, m, 2))) continue;
    return m;
  }
}

json accel_mapping_action(const a::Layer& l, const a::Arch& arch, const a::Mapping& m) {
  if (arch.array == a::ArrayKind::Systolic)
    return {{"dataflow", a::dataflow_name(m.dataflow)},
            {"fold_order", m.fold_rows_outer ? "rows" : "cols"},
            {"stream_chunks", m.stream_chunks},
            {"rows_used", m.rows_used > 0 ? m.rows_used : arch.rows},
            {"cols_used", m.cols_used > 0 ? m.cols_used : arch.cols}};
  json j = {{"dram_order", 0}, {"glb_order", 0}};
  for (std::size_t i = 0; i < a::loop_orders().size(); ++i) {
    if (a::loop_orders()[i] == m.dram_order) j["dram_order"] = i;
    if (a::loop_orders()[i] == m.glb_order) j["glb_order"] = i;
  }
  for (int d = 0; d < a::kDims; ++d) {
    if (l.size[d] <= 1) continue;
    j[knob("sp_", d)] = m.factors[2][d];
    j[knob("axis_", d)] = m.spatial_axis[d] == 1 ? "cols" : "rows";
    j[knob("rf_", d)] = m.factors[3][d];
    j[knob("glb_", d)] = m.factors[1][d];
  }
  return j;
}

void register_accel_envs(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "accel-v0",
      "DNN accelerator architecture design (PE array, buffers, bandwidths, dataflow; spatial or systolic array); each layer mapped by "
      "the built-in mapper",
      arch_options(),
      [](const Params& p) -> EnvPtr {
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "accel-v0";
        a::Workload w = a::resolve_workload(p.get_string("workload"));
        const a::ArrayKind array = a::array_kind_from_name(p.get_string("array"));
        spec->description = std::string(a::array_kind_name(array)) + " accelerator for " + w.name;
        DictSpace::Children knobs = {{"pe_rows", pow2(2, 64)}, {"pe_cols", pow2(2, 64)}};
        if (array == a::ArrayKind::Spatial) knobs.emplace_back("rf_words", pow2(16, 1024));
        knobs.emplace_back("glb_kb", pow2(16, 2048));
        knobs.emplace_back("glb_bandwidth", pow2(8, 256));
        knobs.emplace_back("dram_bandwidth", pow2(1, 64));
        knobs.emplace_back("dataflow", dataflows(array));
        spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
        spec->metrics = accel_metrics();
        spec->observation_space = metric_box(spec->metrics.size());
        spec->options = arch_options();
        spec->default_reward = default_reward(p.get_string("objective"));
        spec->objectives = {"latency_ns", "energy_nj"};
        spec->resolved_options = p.resolved();
        return std::make_unique<AccelEnv>(std::move(spec), std::move(w), array, p.get_double("clock_mhz"), p.get_string("node"),
                                          mapper_objective(p.get_string("objective")));
      }});
  std::vector<ParamSpec> mopts = {
      {"workload", "workload holding the layer", "resnet50", nullptr},
      {"layer", "layer name or index in the workload", "layer2.0.conv2", nullptr},
      {"arch", "fixed architecture as JSON (see `dsegym sim accel --arch`; \"array\": \"systolic\" for a systolic one); default Eyeriss-like",
       json::object(), nullptr},
      {"objective", "default reward: latency, energy or edp (all minimised)", "edp", std::make_shared<Categorical>(a::objective_names())}};
  reg.add(EnvEntry{
      "accel-mapping-v0",
      "mapping of one DNN layer on a fixed accelerator (spatial unrolling, tile factors per level, loop orders; systolic: dataflow, tiles, order)",
      mopts,
      [mopts](const Params& p) -> EnvPtr {
        const a::Workload w = a::resolve_workload(p.get_string("workload"));
        const a::Layer& layer = accel_mapping_layer(w, p.get_string("layer"));
        const a::Arch arch = a::parse_arch(p.get("arch"), "env 'accel-mapping-v0' option 'arch'");
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "accel-mapping-v0";
        spec->description = "mapping of " + w.name + "/" + layer.name + " on a " + a::array_kind_name(arch.array) + " array";
        spec->action_space = std::make_shared<DictSpace>(accel_mapping_knobs(layer, arch));
        spec->metrics = accel_metrics();
        spec->observation_space = metric_box(spec->metrics.size());
        spec->options = mopts;
        spec->default_reward = default_reward(p.get_string("objective"));
        spec->objectives = {"latency_ns", "energy_nj"};
        spec->resolved_options = p.resolved();
        return std::make_unique<MappingEnv>(std::move(spec), layer, arch);
      }});
}

const a::Layer& accel_mapping_layer(const a::Workload& w, const std::string& want) {
  for (std::size_t i = 0; i < w.layers.size(); ++i)
    if (w.layers[i].name == want || std::to_string(i) == want) return w.layers[i];
  std::string names;
  for (const auto& l : w.layers) names += (names.empty() ? "" : ", ") + l.name;
  throw InvalidArgument("env 'accel-mapping-v0' option 'layer': no layer '" + want + "' in " + w.name + "; valid: " + names);
}

}  // namespace dsegym
