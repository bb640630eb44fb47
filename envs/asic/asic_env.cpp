#include "envs/asic/asic_env.hpp"

#include <cmath>
#include <limits>

#include "base/error.hpp"
#include "envs/core/params.hpp"
#include "envs/nas/cell_evaluator.hpp"
#include "simulators/accel/workload.hpp"
#include "simulators/asic/asic.hpp"

namespace dsegym {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// ------------------------------------------------------------------ shared ASIC knobs

// Per slot k: s<k>_template (off or a template), s<k>_pes, s<k>_bandwidth_gbps,
// s<k>_glb_kb; per network n: <name>_on (the slot running it).
void add_asic_knobs(DictSpace::Children& knobs, int slots, const std::vector<std::string>& nets) {
  std::vector<std::string> templates = {"off"};
  for (const auto& t : asic::template_names()) templates.push_back(t);
  for (int k = 0; k < slots; ++k) {
    const std::string s = "s" + std::to_string(k) + "_";
    knobs.emplace_back(s + "template", std::make_shared<Categorical>(templates));
    knobs.emplace_back(s + "pes", Integer::pow2(16, 4096));
    knobs.emplace_back(s + "bandwidth_gbps", Integer::pow2(1, 64));
    knobs.emplace_back(s + "glb_kb", Integer::pow2(16, 1024));
  }
  for (const auto& n : nets) knobs.emplace_back(n + "_on", std::make_shared<Discrete>(slots));
}

std::vector<ParamSpec> asic_common_options() {
  return {
      {"slots", "sub-accelerator slots (each may be off)", 2, std::make_shared<Integer>(1, 4)},
      {"max_pes", "budget: PEs over all sub-accelerators", 4096, std::make_shared<Integer>(1, 1 << 20)},
      {"max_bandwidth_gbps", "budget: DRAM bandwidth over all sub-accelerators (GB/s)", 64.0, std::make_shared<Box>(1.0, 1e4)},
      {"node", "technology node: 45nm or 16nm", "45nm", std::make_shared<Categorical>(std::vector<std::string>{"45nm", "16nm"})},
      {"clock_mhz", "clock of every sub-accelerator", 200.0, std::make_shared<Box>(1.0, 1e5)},
  };
}

asic::Specs parse_specs(const json& j, const std::string& what) {
  check_keys(j, {"latency_us", "energy_uj", "area_mm2"}, what);
  asic::Specs s;
  for (const auto& [k, v] : j.items())
    if (!v.is_number() || v.get<double>() <= 0) throw InvalidArgument(what + "." + k + ": expected a positive number, got " + v.dump());
  s.latency_us = j.value("latency_us", kInf);
  s.energy_uj = j.value("energy_uj", kInf);
  s.area_mm2 = j.value("area_mm2", kInf);
  return s;
}

struct AsicSetup {
  int slots = 2;
  asic::Budget budget;
  asic::Specs specs;
  asic::Tech tech;
};

AsicSetup asic_setup(const Params& p, const std::string& id) {
  AsicSetup a;
  a.slots = static_cast<int>(p.get_int("slots"));
  a.budget.max_pes = p.get_int("max_pes");
  a.budget.max_bandwidth_gbps = p.get_double("max_bandwidth_gbps");
  a.specs = parse_specs(p.get("specs"), "env '" + id + "' option 'specs'");
  a.tech.node = p.get_string("node");
  a.tech.clock_mhz = p.get_double("clock_mhz");
  return a;
}

std::vector<MetricSpec> asic_metrics() {
  return {{"latency_us", "us", Goal::Minimize, "slowest sub-accelerator (its networks one after another), one input each"},
          {"energy_uj", "uJ", Goal::Minimize, "all networks, one input each"},
          {"area_mm2", "mm^2", Goal::Minimize, "PE arrays and buffers of the sub-accelerators that are on"},
          {"pes", "1", Goal::None, "PEs of the sub-accelerators that are on"},
          {"bandwidth_gbps", "GB/s", Goal::None, "DRAM bandwidth of the sub-accelerators that are on"},
          {"spec_violations", "1", Goal::Minimize, "specs (latency, energy, area) not met"}};
}

// Evaluates the ASIC part of an action on `nets`, writing the ASIC metrics;
// a design over budget, with an unmappable layer or missing a spec is
// infeasible, with the reason (its metrics are still reported when known).
void step_asic(const Value& act, const AsicSetup& a, const std::vector<asic::Network>& nets, StepResult& r) {
  std::vector<asic::SubAccel> subs;
  std::vector<int> slot_to_sub(static_cast<std::size_t>(a.slots), -1);
  for (int k = 0; k < a.slots; ++k) {
    const std::string s = "s" + std::to_string(k) + "_";
    const std::string t = act.at(s + "template").as_string();
    if (t == "off") continue;
    slot_to_sub[static_cast<std::size_t>(k)] = static_cast<int>(subs.size());
    subs.push_back({t, act.at(s + "pes").as_int(), static_cast<double>(act.at(s + "bandwidth_gbps").as_int()), act.at(s + "glb_kb").as_int()});
  }
  std::vector<int> assignment;
  for (const auto& n : nets) {
    const auto slot = act.at(n.name + "_on").as_int();
    const int sub = slot_to_sub[static_cast<std::size_t>(slot)];
    if (sub < 0) {
      r.status = EvalStatus::infeasible("network '" + n.name + "' is assigned to slot " + std::to_string(slot) + ", which is off");
      return;
    }
    assignment.push_back(sub);
  }
  const asic::Result res = asic::evaluate(subs, nets, assignment, a.budget, a.specs, a.tech);
  if (!res.valid) {
    r.status = EvalStatus::infeasible(res.reason);
    return;
  }
  double pes = 0, bw = 0;
  for (const auto& s : subs) {
    pes += static_cast<double>(s.pes);
    bw += s.bandwidth_gbps;
  }
  r.metrics.set("latency_us", res.latency_us);
  r.metrics.set("energy_uj", res.energy_uj);
  r.metrics.set("area_mm2", res.area_mm2);
  r.metrics.set("pes", pes);
  r.metrics.set("bandwidth_gbps", bw);
  r.metrics.set("spec_violations", static_cast<double>(res.violations.size()));
  if (!res.violations.empty()) {
    std::string why = "specs not met:";
    for (const auto& v : res.violations) why += " " + v + ";";
    why.pop_back();
    r.status = EvalStatus::infeasible(why);
  }
}

void finish(const EnvSpec& spec, StepResult& r) {
  r.terminated = true;
  r.obs = spec.metric_observation(r.metrics);
}

std::shared_ptr<Box> unbounded(std::size_t n) {
  return std::make_shared<Box>(std::vector<double>(n, -kInf), std::vector<double>(n, kInf), std::vector<std::int64_t>{static_cast<std::int64_t>(n)});
}

// ------------------------------------------------------------------ asic-v0

class AsicEnv final : public Env {
public:
  AsicEnv(std::shared_ptr<const EnvSpec> spec, AsicSetup a, std::vector<asic::Network> nets)
      : Env(std::move(spec)), a_(std::move(a)), nets_(std::move(nets)) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    StepResult r;
    step_asic(act, a_, nets_, r);
    finish(spec(), r);
    return r;
  }

private:
  AsicSetup a_;
  std::vector<asic::Network> nets_;
};

// A network of asic-v0's `networks` option: a workload name or file, or
// {"name": ..., "cell": "|...|", "channels": 8, "cells_per_stage": 1, "classes": 10}.
asic::Network parse_network(const json& j, std::size_t i) {
  const std::string what = "env 'asic-v0' option 'networks'[" + std::to_string(i) + "]";
  asic::Network n;
  if (j.is_string()) {
    const accel::Workload w = accel::resolve_workload(j.get<std::string>());
    n.name = w.name;
    n.layers = w.layers;
    return n;
  }
  if (!j.is_object() || !j.contains("cell"))
    throw InvalidArgument(what + ": expected a workload name or {\"name\", \"cell\", \"channels\", \"cells_per_stage\", \"classes\"}, got " + j.dump());
  check_keys(j, {"name", "cell", "channels", "cells_per_stage", "classes"}, what);
  nn::NetConfig net;
  net.channels = j.value("channels", net.channels);
  net.cells_per_stage = j.value("cells_per_stage", net.cells_per_stage);
  net.classes = j.value("classes", net.classes);
  n.name = j.value("name", "net" + std::to_string(i));
  n.layers = nn::accel_layers(nn::Cell::parse(j.at("cell").get<std::string>()), net);
  return n;
}

// ------------------------------------------------------------------ nasaic-v0

struct Task {
  std::string name;
  std::vector<std::int64_t> classes;
};

// Fashion-MNIST's classes (Xiao et al., 2017): 0 T-shirt/top, 1 trouser,
// 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle
// boot. Default tasks: the five upper-body garments (the confusable ones)
// and the other five.
json default_tasks() {
  return json::array({{{"name", "tops"}, {"classes", {0, 2, 3, 4, 6}}}, {{"name", "others"}, {"classes", {1, 5, 7, 8, 9}}}});
}

std::vector<Task> parse_tasks(const json& j) {
  const std::string what = "env 'nasaic-v0' option 'tasks'";
  if (!j.is_array() || j.empty()) throw InvalidArgument(what + ": expected a non-empty list of {\"name\", \"classes\"}, got " + j.dump());
  std::vector<Task> out;
  for (const auto& t : j) {
    check_keys(t, {"name", "classes"}, what);
    Task task;
    task.name = t.value("name", "");
    if (task.name.empty()) throw InvalidArgument(what + ": every task needs a name, got " + t.dump());
    task.classes = t.value("classes", std::vector<std::int64_t>{});
    if (task.classes.size() < 2) throw InvalidArgument(what + ": task '" + task.name + "' needs at least two classes");
    out.push_back(task);
  }
  return out;
}

std::string cell_key(const std::string& task, int e) {
  return task + "_e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e));
}

class NasaicEnv final : public Env {
public:
  NasaicEnv(std::shared_ptr<const EnvSpec> spec, AsicSetup a, std::vector<Task> tasks, const nn::CellEvalOptions& base, std::string score)
      : Env(std::move(spec)), a_(std::move(a)), tasks_(std::move(tasks)), score_(std::move(score)) {
    for (const auto& t : tasks_) {
      nn::CellEvalOptions o = base;
      o.classes = t.classes;
      o.net.classes = static_cast<int>(t.classes.size());
      evals_.push_back(std::make_unique<nn::CellEvaluator>(o));
    }
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& act) override {
    StepResult r;
    std::vector<asic::Network> nets;
    double sum = 0;
    std::string cells;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      nn::Cell cell;
      for (int e = 0; e < nn::kEdges; ++e) cell.ops[static_cast<std::size_t>(e)] = nn::op_from_name(act.at(cell_key(tasks_[i].name, e)).as_string());
      const json res = evals_[i]->evaluate(cell);
      const double q = res.at(quality_key()).get<double>();
      r.metrics.set(tasks_[i].name + "_" + quality_metric(), q);
      sum += q;
      nets.push_back({tasks_[i].name, nn::accel_layers(cell, evals_[i]->options().net)});
      cells += (cells.empty() ? "" : " ") + tasks_[i].name + "=" + cell.str();
    }
    r.metrics.set(quality_metric(), sum / static_cast<double>(tasks_.size()));
    step_asic(act, a_, nets, r);
    finish(spec(), r);
    r.info = Value(Value::Dict{{"cells", cells}});
    return r;
  }

private:
  std::string quality_key() const { return evals_.front()->options().evaluator == "train" ? "accuracy_pct" : score_; }
  std::string quality_metric() const { return evals_.front()->options().evaluator == "train" ? "accuracy_pct" : "score"; }

  AsicSetup a_;
  std::vector<Task> tasks_;
  std::string score_;
  std::vector<std::unique_ptr<nn::CellEvaluator>> evals_;
};

}  // namespace

void register_asic_envs(EnvRegistry& reg) {
  std::vector<ParamSpec> aopts = asic_common_options();
  aopts.insert(aopts.begin(), ParamSpec{"networks",
                                        "networks to run: workload names/files or {\"name\", \"cell\", \"channels\", \"cells_per_stage\", \"classes\"}",
                                        json::array({"resnet18", "mobilenetv2"}), nullptr});
  aopts.push_back({"specs", "limits: {latency_us, energy_uj, area_mm2} (missing: none); a design missing one is infeasible",
                   json{{"latency_us", 100000}, {"energy_uj", 25000}, {"area_mm2", 15}}, nullptr});
  reg.add(EnvEntry{"asic-v0",
                   "heterogeneous ASIC from sub-accelerator templates (ShiDianNao/NVDLA/Eyeriss-like) for a fixed set of networks under "
                   "PE/bandwidth budgets and latency/energy/area specs",
                   aopts, [aopts](const Params& p) -> EnvPtr {
                     AsicSetup a = asic_setup(p, "asic-v0");
                     const json& nj = p.get("networks");
                     if (!nj.is_array() || nj.empty()) throw InvalidArgument("env 'asic-v0' option 'networks': expected a non-empty list, got " + nj.dump());
                     std::vector<asic::Network> nets;
                     std::vector<std::string> names;
                     for (std::size_t i = 0; i < nj.size(); ++i) {
                       nets.push_back(parse_network(nj[i], i));
                       for (const auto& n : names)
                         if (n == nets.back().name) throw InvalidArgument("env 'asic-v0' option 'networks': two networks are named '" + n + "'");
                       names.push_back(nets.back().name);
                     }
                     auto spec = std::make_shared<EnvSpec>();
                     spec->id = "asic-v0";
                     spec->description = "heterogeneous ASIC";
                     DictSpace::Children knobs;
                     add_asic_knobs(knobs, a.slots, names);
                     spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
                     spec->metrics = asic_metrics();
                     spec->observation_space = unbounded(spec->metrics.size());
                     spec->options = aopts;
                     spec->default_reward = {{"type", "metric"}, {"metric", "latency_us"}};
                     spec->resolved_options = p.resolved();
                     spec->max_episode_steps = 1;
                     return std::make_unique<AsicEnv>(std::move(spec), std::move(a), std::move(nets));
                   }});

  std::vector<ParamSpec> nopts = asic_common_options();
  nopts.insert(nopts.begin(), {"tasks", "tasks as Fashion-MNIST class subsets: [{\"name\", \"classes\"}]; default tops (0,2,3,4,6) and others",
                               default_tasks(), nullptr});
  for (auto& spec : nn::cell_eval_param_specs()) nopts.push_back(std::move(spec));
  nopts.push_back({"specs", "limits: {latency_us, energy_uj, area_mm2} (missing: none); a design missing one is infeasible",
                   json{{"latency_us", 400}, {"energy_uj", 100}, {"area_mm2", 12}}, nullptr});
  reg.add(EnvEntry{"nasaic-v0",
                   "NAS + ASIC co-exploration (NASAIC): a NAS-Bench-201 cell per task and the heterogeneous ASIC running them; "
                   "reward = mean accuracy (or zero-cost score) subject to latency/energy/area specs",
                   nopts, [nopts](const Params& p) -> EnvPtr {
                     AsicSetup a = asic_setup(p, "nasaic-v0");
                     std::vector<Task> tasks = parse_tasks(p.get("tasks"));
                     const nn::CellEvalOptions base = nn::cell_eval_options(p, "nasaic-v0");
                     const bool train = base.evaluator == "train";
                     auto spec = std::make_shared<EnvSpec>();
                     spec->id = "nasaic-v0";
                     spec->description = "NAS + heterogeneous ASIC co-exploration";
                     DictSpace::Children knobs;
                     const std::vector<std::string> ops(nn::op_names().begin(), nn::op_names().end());
                     std::vector<std::string> names;
                     for (const auto& t : tasks) {
                       for (int e = 0; e < nn::kEdges; ++e) knobs.emplace_back(cell_key(t.name, e), std::make_shared<Categorical>(ops));
                       names.push_back(t.name);
                     }
                     add_asic_knobs(knobs, a.slots, names);
                     spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
                     const std::string q = train ? "accuracy_pct" : "score";
                     spec->metrics.push_back({q, train ? "%" : "1", Goal::Maximize,
                                              train ? "mean test accuracy over the tasks" : "mean zero-cost score over the tasks"});
                     for (const auto& t : tasks)
                       spec->metrics.push_back({t.name + "_" + q, train ? "%" : "1", Goal::Maximize, "task " + t.name});
                     for (auto& m : asic_metrics()) spec->metrics.push_back(m);
                     spec->observation_space = unbounded(spec->metrics.size());
                     spec->options = nopts;
                     spec->default_reward = {{"type", "metric"}, {"metric", q}};
                     spec->resolved_options = p.resolved();
                     spec->max_episode_steps = 1;
                     return std::make_unique<NasaicEnv>(std::move(spec), std::move(a), std::move(tasks), base, p.get_string("score"));
                   }});
}

}  // namespace dsegym
