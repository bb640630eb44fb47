#include "envs/accel/accel_env.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "envs/core/error.hpp"
#include "simulators/accel/mapper.hpp"

namespace dsegym {

namespace {

namespace a = accel;

SpacePtr pow2(std::int64_t lo, std::int64_t hi) { return Integer::pow2(lo, hi); }
SpacePtr dataflows() { return std::make_shared<Categorical>(a::dataflow_names()); }

std::shared_ptr<Box> metric_box(std::size_t n) {
  return std::make_shared<Box>(std::vector<double>(n, 0.0), std::vector<double>(n, std::numeric_limits<double>::infinity()),
                               std::vector<std::int64_t>{static_cast<std::int64_t>(n)});
}

std::vector<MetricSpec> accel_metrics() {
  return {{"latency_ns", "ns", Goal::Minimize, "time to run the workload, layers one after another"},
          {"energy_nj", "nJ", Goal::Minimize, "MAC, RF, NoC, global buffer and DRAM access energy"},
          {"edp_mj_ms", "mJ*ms", Goal::Minimize, "energy-delay product"},
          {"utilization", "1", Goal::Maximize, "MACs / (cycles x PEs)"},
          {"pes", "1", Goal::Minimize, "number of processing elements"},
          {"area_mm2", "mm^2", Goal::Minimize, "PE array and buffers at the technology node (no NoC, control, I/O; see simulators/accel/model.hpp)"}};
}

json default_reward(const std::string& objective) {
  if (objective == "latency") return {{"type", "metric"}, {"metric", "latency_ns"}};
  if (objective == "energy") return {{"type", "metric"}, {"metric", "energy_nj"}};
  return {{"type", "metric"}, {"metric", "edp_mj_ms"}};
}

void set_metrics(StepResult& r, double latency_ns, double energy_pj, double utilization, const a::Arch& arch) {
  const double pes = static_cast<double>(arch.rows) * arch.cols;
  r.metrics.set("latency_ns", latency_ns);
  r.metrics.set("energy_nj", energy_pj / 1000);
  r.metrics.set("edp_mj_ms", energy_pj / 1e9 * latency_ns / 1e6);
  r.metrics.set("utilization", utilization);
  r.metrics.set("pes", pes);
  r.metrics.set("area_mm2", a::area(arch).total_mm2);
  std::vector<double> obs;
  for (const auto& [k, v] : r.metrics.items()) obs.push_back(v);
  r.obs = Value(std::move(obs));
}

std::vector<ParamSpec> arch_options() {
  return {{"workload", "alexnet, vgg16, resnet18, resnet50, mobilenetv2, bert_base_encoder or a workload JSON file", "alexnet", nullptr},
          {"clock_mhz", "clock of the accelerator", 200.0, std::make_shared<Box>(1.0, 1e5)},
          {"node", "technology node of the energy table: 45nm or 16nm", "45nm", std::make_shared<Categorical>(std::vector<std::string>{"45nm", "16nm"})},
          {"objective", "default reward: latency, energy or edp (all minimised)", "edp",
           std::make_shared<Categorical>(std::vector<std::string>{"latency", "energy", "edp"})}};
}

// accel-v0: one step designs the accelerator; every layer of the workload is
// mapped by the built-in mapper.
class AccelEnv final : public Env {
public:
  AccelEnv(std::shared_ptr<const EnvSpec> spec, a::Workload w, double clock, std::string node)
      : Env(std::move(spec)), w_(std::move(w)), clock_(clock), node_(std::move(node)) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    a::Arch arch;
    a::apply_energy_table(arch, node_);
    arch.rows = static_cast<int>(act.at("pe_rows").as_int());
    arch.cols = static_cast<int>(act.at("pe_cols").as_int());
    arch.rf_words = act.at("rf_words").as_int();
    arch.glb_words = act.at("glb_kb").as_int() * 512;  // 16-bit words
    arch.glb_words_per_cycle = arch.noc_words_per_cycle = static_cast<double>(act.at("glb_bandwidth").as_int());
    arch.dram_words_per_cycle = static_cast<double>(act.at("dram_bandwidth").as_int());
    arch.clock_mhz = clock_;
    const a::WorkloadResult res = a::run_workload(w_, arch, a::dataflow_from_name(act.at("dataflow").as_string()));
    StepResult r;
    r.terminated = true;
    if (!res.valid) {
      r.status = EvalStatus::infeasible(res.reason);
      r.obs = Value(std::vector<double>(spec().metrics.size(), 0.0));
      return r;
    }
    set_metrics(r, res.latency_ns, res.energy_pj, res.utilization, arch);
    return r;
  }

private:
  a::Workload w_;
  double clock_;
  std::string node_;
};

// accel-mapping-v0: one step maps one layer on a fixed architecture. Per
// dimension the agent picks the RF and global-buffer tile (powers of two up to
// the dimension), the rest is iterated at the DRAM level; plus the dataflow
// (spatial unrolling) and the loop orders. Mappings that overflow a buffer are
// infeasible, with the reason.
class MappingEnv final : public Env {
public:
  MappingEnv(std::shared_ptr<const EnvSpec> spec, a::Layer l, a::Arch arch) : Env(std::move(spec)), layer_(std::move(l)), arch_(arch) {}

  static const std::vector<std::array<int, a::kDims>>& orders() {
    static const std::vector<std::array<int, a::kDims>> o = {{a::N, a::C, a::R, a::S, a::K, a::P, a::Q},
                                                             {a::N, a::P, a::Q, a::R, a::S, a::C, a::K},
                                                             {a::N, a::K, a::P, a::Q, a::C, a::R, a::S}};
    return o;
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    // Spatial unrolling from the dataflow template, then the agent's tiles.
    a::MappedLayer tmpl = a::map_layer(layer_, arch_, a::dataflow_from_name(act.at("dataflow").as_string()));
    a::Mapping m = tmpl.mapping;
    for (int d = 0; d < a::kDims; ++d) {
      const std::int64_t sp = m.factors[2][d];
      const std::int64_t rest = (layer_.size[d] + sp - 1) / sp;
      const std::int64_t rf = std::min<std::int64_t>(act.at(std::string("rf_") + a::dim_name(d)).as_int(), rest);
      const std::int64_t glb = std::min<std::int64_t>(act.at(std::string("glb_") + a::dim_name(d)).as_int(), (rest + rf - 1) / rf);
      m.factors[3][d] = rf;
      m.factors[1][d] = glb;
      m.factors[0][d] = (rest + rf * glb - 1) / (rf * glb);
    }
    m.dram_order = orders()[static_cast<std::size_t>(act.at("dram_order").as_int())];
    m.glb_order = orders()[static_cast<std::size_t>(act.at("glb_order").as_int())];
    const a::Evaluation e = a::evaluate(layer_, arch_, m);
    StepResult r;
    r.terminated = true;
    if (!e.valid) {
      r.status = EvalStatus::infeasible(e.reason);
      r.obs = Value(std::vector<double>(spec().metrics.size(), 0.0));
      return r;
    }
    set_metrics(r, e.latency_ns, e.energy_pj, e.utilization, arch_);
    return r;
  }

private:
  a::Layer layer_;
  a::Arch arch_;
};

}  // namespace

void register_accel_envs(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "accel-v0",
      "DNN accelerator architecture design (PE array, buffers, bandwidths, dataflow); each layer mapped by the built-in mapper",
      arch_options(),
      [](const Params& p) -> EnvPtr {
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "accel-v0";
        a::Workload w = a::resolve_workload(p.get_string("workload"));
        spec->description = "accelerator for " + w.name;
        spec->action_space = std::make_shared<DictSpace>(DictSpace::Children{
            {"pe_rows", pow2(2, 64)},
            {"pe_cols", pow2(2, 64)},
            {"rf_words", pow2(16, 1024)},
            {"glb_kb", pow2(16, 2048)},
            {"glb_bandwidth", pow2(8, 256)},
            {"dram_bandwidth", pow2(1, 64)},
            {"dataflow", dataflows()},
        });
        spec->metrics = accel_metrics();
        spec->observation_space = metric_box(spec->metrics.size());
        spec->options = arch_options();
        spec->default_reward = default_reward(p.get_string("objective"));
        spec->resolved_options = p.resolved();
        return std::make_unique<AccelEnv>(std::move(spec), std::move(w), p.get_double("clock_mhz"), p.get_string("node"));
      }});
  std::vector<ParamSpec> mopts = {
      {"workload", "workload holding the layer", "resnet50", nullptr},
      {"layer", "layer name or index in the workload", "layer2.0.conv2", nullptr},
      {"arch", "fixed architecture as JSON (see `dsegym sim accel --arch`); default Eyeriss-like", json::object(), nullptr},
      {"objective", "default reward: latency, energy or edp (all minimised)", "edp",
       std::make_shared<Categorical>(std::vector<std::string>{"latency", "energy", "edp"})}};
  reg.add(EnvEntry{
      "accel-mapping-v0",
      "mapping of one DNN layer on a fixed accelerator (dataflow, tile sizes per level, loop orders)",
      mopts,
      [mopts](const Params& p) -> EnvPtr {
        const a::Workload w = a::resolve_workload(p.get_string("workload"));
        const std::string want = p.get_string("layer");
        const a::Layer* layer = nullptr;
        for (std::size_t i = 0; i < w.layers.size(); ++i)
          if (w.layers[i].name == want || std::to_string(i) == want) layer = &w.layers[i];
        if (!layer) {
          std::string names;
          for (const auto& l : w.layers) names += (names.empty() ? "" : ", ") + l.name;
          throw InvalidArgument("env 'accel-mapping-v0' option 'layer': no layer '" + want + "' in " + w.name + "; valid: " + names);
        }
        const a::Arch arch = a::parse_arch(p.get("arch"), "env 'accel-mapping-v0' option 'arch'");
        DictSpace::Children knobs = {{"dataflow", dataflows()}};
        for (int d = 0; d < a::kDims; ++d) {
          std::int64_t top = 1;
          while (top < layer->size[d]) top *= 2;
          knobs.emplace_back(std::string("rf_") + a::dim_name(d), pow2(1, top));
          knobs.emplace_back(std::string("glb_") + a::dim_name(d), pow2(1, top));
        }
        knobs.emplace_back("dram_order", std::make_shared<Discrete>(3));
        knobs.emplace_back("glb_order", std::make_shared<Discrete>(3));
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "accel-mapping-v0";
        spec->description = "mapping of " + w.name + "/" + layer->name;
        spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
        spec->metrics = accel_metrics();
        spec->observation_space = metric_box(spec->metrics.size());
        spec->options = mopts;
        spec->default_reward = default_reward(p.get_string("objective"));
        spec->resolved_options = p.resolved();
        return std::make_unique<MappingEnv>(std::move(spec), *layer, arch);
      }});
}

}  // namespace dsegym
