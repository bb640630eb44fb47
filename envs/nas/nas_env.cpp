#include "envs/nas/nas_env.hpp"

#include <limits>
#include <sstream>

#include "base/error.hpp"
#include "envs/core/params.hpp"
#include "envs/nas/cell_evaluator.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/nn/cell_space.hpp"
#include "simulators/nn/macro_space.hpp"

namespace dsegym {

namespace {

using nn::Cell;

// Action keys, one per edge: "e<from>_<to>".
std::string edge_key(int e) { return "e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e)); }

// Macro-space knob keys of stage s.
std::string stage_key(char what, int s) { return std::string(1, what) + std::to_string(s); }

template <class T, std::size_t N>
std::vector<std::string> labels(const std::array<T, N>& values) {
  std::vector<std::string> out;
  for (const T v : values) {
    std::ostringstream o;
    o << v;
    out.push_back(o.str());
  }
  return out;
}

std::vector<ParamSpec> nas_options() {
  std::vector<ParamSpec> o = {
      {"space", "search space: cell (NAS-Bench-201) or mobilenet (Once-for-All-style stages)", "cell",
       std::make_shared<Categorical>(std::vector<std::string>{"cell", "mobilenet"})},
      {"classes", "the task: Fashion-MNIST classes to tell apart, e.g. [0, 2, 3, 4, 6] (empty: all ten)", json::array(), nullptr},
      {"arch", "accelerator for latency and energy, as JSON (see `dsegym sim accel --arch`); default Eyeriss-like", json::object(), nullptr},
      {"dataflow", "accelerator dataflow: ws, os, rs or is", "rs", std::make_shared<Categorical>(accel::dataflow_names())},
  };
  for (auto& spec : nn::cell_eval_param_specs()) o.push_back(std::move(spec));
  return o;
}

nn::CellEvalOptions eval_options(const Params& p) {
  nn::CellEvalOptions o = nn::cell_eval_options(p, "nas-v0");
  const json& classes = p.get("classes");
  if (!classes.is_array() || classes.size() == 1)
    throw InvalidArgument("env 'nas-v0' option 'classes': expected a list of at least two class ids 0-9 (or []), got " + classes.dump());
  for (const auto& c : classes)
    if (!c.is_number_integer() || c.get<int>() < 0 || c.get<int>() > 9)
      throw InvalidArgument("env 'nas-v0' option 'classes': " + c.dump() + " is not a class id 0-9");
  o.classes = classes.get<std::vector<std::int64_t>>();
  if (!o.classes.empty()) o.net.classes = static_cast<int>(o.classes.size());
  return o;
}

class NasEnv final : public Env {
public:
  NasEnv(std::shared_ptr<const EnvSpec> spec, const Params& p)
      : Env(std::move(spec)),
        macro_(p.get_string("space") == "mobilenet"),
        cells_(eval_options(p)),
        arch_(accel::parse_arch(p.get("arch"), "env 'nas-v0' option 'arch'")),
        dataflow_(accel::dataflow_from_name(p.get_string("dataflow"))) {
    if (arch_.array == accel::ArrayKind::Systolic && dataflow_ == accel::Dataflow::RowStationary)
      throw InvalidArgument("env 'nas-v0' option 'dataflow': rs needs a spatial array; a systolic 'arch' runs ws, os or is");
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }

  StepResult do_step(const Value& act) override {
    StepResult r;
    r.terminated = true;
    accel::Workload w;
    Value::Dict info;
    const nn::NetConfig& net = cells_.options().net;
    if (macro_) {
      nn::MacroArch a;
      for (int s = 0; s < nn::kStages; ++s) {
        auto& st = a.stages[static_cast<std::size_t>(s)];
        st.depth = static_cast<int>(act.at(stage_key('d', s)).as_int());
        st.width = std::stod(act.at(stage_key('w', s)).as_string());
        st.kernel = std::stoi(act.at(stage_key('k', s)).as_string());
        st.expand = std::stoi(act.at(stage_key('e', s)).as_string());
      }
      const json scores = cells_.evaluate(a);
      for (const auto& [k, v] : scores.items()) r.metrics.set(k, v.get<double>());
      nn::MacroNetConfig mnet;
      mnet.classes = net.classes;
      r.metrics.set("params", static_cast<double>(nn::parameter_count(a, mnet)));
      r.metrics.set("macs", static_cast<double>(nn::mac_count(a, mnet)));
      w.name = "mobilenet-style network";
      w.layers = nn::accel_layers(a, mnet);
      info = {{"network", a.str()}};
    } else {
      Cell cell;
      for (int e = 0; e < nn::kEdges; ++e) cell.ops[static_cast<std::size_t>(e)] = nn::op_from_name(act.at(edge_key(e)).as_string());
      const json scores = cells_.evaluate(cell);
      for (const auto& [k, v] : scores.items()) r.metrics.set(k, v.get<double>());
      r.metrics.set("params", static_cast<double>(nn::parameter_count(cell, net)));
      r.metrics.set("macs", static_cast<double>(nn::mac_count(cell, net)));
      w.name = "nas-bench-201 network";
      w.layers = nn::accel_layers(cell, net);
      info = {{"cell", cell.str()}, {"evaluated_as", nn::representative(cell).str()}};
    }
    const accel::WorkloadResult hw = accel::run_workload(w, arch_, dataflow_);
    if (hw.valid) {
      r.metrics.set("latency_us", hw.latency_ns / 1000);
      r.metrics.set("energy_uj", hw.energy_pj / 1e6);
    }
    r.obs = spec().metric_observation(r.metrics);
    r.info = Value(std::move(info));
    if (!hw.valid) r.status = EvalStatus::infeasible("the accelerator cannot run the network: " + hw.reason);
    return r;
  }

private:
  bool macro_;
  nn::CellEvaluator cells_;
  accel::Arch arch_;
  accel::Dataflow dataflow_;
};

}  // namespace

void register_nas_envs(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "nas-v0",
      "neural architecture search (NAS-Bench-201 cells or MobileNet-style stages) on Fashion-MNIST; accuracy (trained) or zero-cost scores, params, MACs, accelerator latency and energy",
      nas_options(),
      [](const Params& p) -> EnvPtr {
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "nas-v0";
        spec->description = p.get_string("space") == "mobilenet" ? "MobileNet-style network for Fashion-MNIST" : "NAS-Bench-201 cell for Fashion-MNIST";
        DictSpace::Children knobs;
        if (p.get_string("space") == "mobilenet") {
          for (int s = 0; s < nn::kStages; ++s) {
            knobs.emplace_back(stage_key('d', s), std::make_shared<Integer>(nn::depth_choices().front(), nn::depth_choices().back()));
            knobs.emplace_back(stage_key('w', s), std::make_shared<Categorical>(labels(nn::width_choices())));
            knobs.emplace_back(stage_key('k', s), std::make_shared<Categorical>(labels(nn::kernel_choices())));
            knobs.emplace_back(stage_key('e', s), std::make_shared<Categorical>(labels(nn::expand_choices())));
          }
        } else {
          const std::vector<std::string> ops(nn::op_names().begin(), nn::op_names().end());
          for (int e = 0; e < nn::kEdges; ++e) knobs.emplace_back(edge_key(e), std::make_shared<Categorical>(ops));
        }
        spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
        const bool train = p.get_string("evaluator") == "train";
        if (train) {
          spec->metrics.push_back({"accuracy_pct", "%", Goal::Maximize, "Fashion-MNIST test accuracy after the training budget"});
        } else {
          spec->metrics.push_back({"naswot", "1", Goal::Maximize, "log|det(K + I)| of ReLU activation codes at initialisation (Mellor et al., ICML 2021)"});
          spec->metrics.push_back({"synflow", "1", Goal::Maximize, "synaptic flow at initialisation (Tanaka et al., 2020; Abdelfattah et al., ICLR 2021)"});
          spec->metrics.push_back({"grad_norm", "1", Goal::Maximize, "sum of per-parameter gradient L2 norms at initialisation"});
        }
        spec->metrics.push_back({"params", "1", Goal::Minimize, "trainable parameters"});
        spec->metrics.push_back({"macs", "1", Goal::Minimize, "multiply-accumulates per image (live ops)"});
        spec->metrics.push_back({"latency_us", "us", Goal::Minimize, "one image on the accelerator (simulators/accel, mapped layer by layer)"});
        spec->metrics.push_back({"energy_uj", "uJ", Goal::Minimize, "one image on the accelerator"});
        const auto n = static_cast<std::int64_t>(spec->metrics.size());
        spec->observation_space = std::make_shared<Box>(std::vector<double>(static_cast<std::size_t>(n), -std::numeric_limits<double>::infinity()),
                                                        std::vector<double>(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity()),
                                                        std::vector<std::int64_t>{n});
        spec->options = nas_options();
        spec->default_reward = {{"type", "metric"}, {"metric", train ? "accuracy_pct" : p.get_string("score")}};
        spec->resolved_options = p.resolved();
        spec->max_episode_steps = 1;
        return std::make_unique<NasEnv>(std::move(spec), p);
      }});
}

}  // namespace dsegym
