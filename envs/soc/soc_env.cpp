#include "envs/soc/soc_env.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/rng.hpp"
#include "simulators/soc/soc.hpp"

namespace dsegym {

namespace {

namespace s = soc;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// The workload options shared by both envs.
std::vector<ParamSpec> workload_options(double rate, const char* extra_doc) {
  return {{"soc", "SoC JSON file or built-in name (ds3_multiple_bal, topcuoglu_3p)", "ds3_multiple_bal", nullptr},
          {"apps", "applications in equal shares: built-in names (wifi_tx, wifi_rx, range_detection, sc_tx, sc_rx, topcuoglu) or files",
           json::array({"wifi_tx", "wifi_rx", "range_detection", "sc_tx", "sc_rx"}), nullptr},
          {"workload", std::string("workload JSON file (see `dsegym sim soc --help`); overrides apps, rate_per_ms and noise") + extra_doc, "",
           nullptr},
          {"rate_per_ms", "Poisson job arrivals per ms", rate, std::make_shared<Box>(1e-6, 1e6)},
          {"noise", "relative standard deviation of execution times (Gaussian)", 0.0, std::make_shared<Box>(0.0, 10.0)}};
}

// `w` brings the env's own defaults (jobs, seed); a workload file overrides them.
s::Workload make_workload(const Params& p, const std::string& env, s::Workload w) {
  w.mix.clear();
  const json apps = p.get("apps");
  if (!apps.is_array() || apps.empty())
    throw InvalidArgument("env '" + env + "' option 'apps': expected a non-empty list of application names or files, got " + apps.dump());
  for (const auto& a : apps) {
    if (!a.is_string()) throw InvalidArgument("env '" + env + "' option 'apps': expected names or files, got " + a.dump());
    w.mix.emplace_back(s::resolve_app(a.get<std::string>()), 1.0);
  }
  w.rate_per_ms = p.get_double("rate_per_ms");
  w.noise = p.get_double("noise");
  if (!p.get_string("workload").empty()) w = s::load_workload(p.get_string("workload"), w);
  return w;
}

Value zeros(std::size_t n) { return Value(std::vector<double>(n, 0.0)); }

// ------------------------------------------------------------------ soc-sched-v0

// Observation "features" (times in ms, relative to the decision time):
//   [0] ready tasks waiting for a PE (this one included)
//   [1] jobs in the system
//   [2] time since this task's job arrived
//   [3] tasks of the job not yet finished
//   [4] the task's upward rank (mean remaining critical path)
//   [5 .. 5+A) one-hot of the job's application
//   then per PE: [execution time of the task on it (0: cannot run it),
//                 time until its queued work is done, tasks in its queue,
//                 estimated finish of the task on it (0: cannot run it)]
class SchedEnv final : public Env {
public:
  SchedEnv(std::shared_ptr<const EnvSpec> spec, s::Soc soc, s::Workload w)
      : Env(std::move(spec)), soc_(std::move(soc)), w_(std::move(w)), pes_(static_cast<std::size_t>(soc_.num_pes())) {}

  static std::size_t num_features(std::size_t apps, std::size_t pes) { return 5 + apps + 4 * pes; }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value&) override {
    if (seed) rng_.reseed(*seed);
    s::Workload w = w_;
    w.seed = seed ? *seed : rng_.next_u64();
    emu_ = std::make_unique<s::Emulator>(soc_, std::move(w), s::Policy::External);
    accrued_ = 0;
    emu_->run();  // a window always holds the job arriving at time 0
    Value::Dict info = {{"jobs", Value(emu_->jobs_total())}};
    return {observation(), Value(std::move(info))};
  }

  StepResult do_step(const Value& act) override {
    StepResult r;
    const int pe = static_cast<int>(act.as_int());
    const auto [j, t] = emu_->pending();
    if (!emu_->supports(pe, j, t)) {
      std::string ok;
      for (int p = 0; p < static_cast<int>(pes_); ++p)
        if (emu_->supports(p, j, t)) ok += (ok.empty() ? "" : ", ") + std::to_string(p);
      r.status = EvalStatus::infeasible("PE " + std::to_string(pe) + " (" + soc_.types[static_cast<std::size_t>(soc_.type_of(pe))].name +
                                        ") cannot run the pending task; legal PEs: " + ok + " (see the observation's action_mask)");
      set_metrics(r, 0);
      r.obs = observation();
      return r;
    }
    emu_->assign(pe);
    const bool more = emu_->run();
    const double inc = emu_->latency_accrued_us() - accrued_;
    accrued_ = emu_->latency_accrued_us();
    set_metrics(r, inc);
    r.terminated = !more;
    r.obs = more ? observation() : Value(Value::Dict{{"features", zeros(num_features(w_.mix.size(), pes_))}, {"action_mask", zeros(pes_)}});
    return r;
  }

private:
  void set_metrics(StepResult& r, double inc) const {
    r.metrics.set("latency_increment_us", inc);
    const auto done = emu_->jobs_done();
    r.metrics.set("avg_latency_us", done > 0 ? emu_->completed_latency_us() / static_cast<double>(done) : 0.0);
    r.metrics.set("jobs_done", static_cast<double>(done));
    r.metrics.set("energy_mj", emu_->energy_mj());
    r.metrics.set("sim_time_us", emu_->now());
  }

  Value observation() const {
    const auto [j, t] = emu_->pending();
    const double now = emu_->now();
    std::vector<double> f = {static_cast<double>(emu_->num_pending()),
                             static_cast<double>(emu_->jobs_arrived() - emu_->jobs_done()),
                             (now - emu_->job_arrival(j)) / 1000.0,
                             static_cast<double>(emu_->job_tasks_left(j)),
                             emu_->upward_rank(j, t) / 1000.0};
    const std::size_t app = static_cast<std::size_t>(emu_->job_app(j));
    for (std::size_t a = 0; a < w_.mix.size(); ++a) f.push_back(a == app ? 1.0 : 0.0);
    std::vector<double> mask(pes_, 0.0);
    for (int pe = 0; pe < static_cast<int>(pes_); ++pe) {
      const bool ok = emu_->supports(pe, j, t);
      mask[static_cast<std::size_t>(pe)] = ok ? 1.0 : 0.0;
      f.push_back(ok ? emu_->mean_exec(pe, j, t) / 1000.0 : 0.0);
      f.push_back((emu_->pe_available(pe) - now) / 1000.0);
      f.push_back(static_cast<double>(emu_->pe_queue(pe)));
      f.push_back(ok ? (emu_->estimated_finish(pe, j, t) - now) / 1000.0 : 0.0);
    }
    return Value(Value::Dict{{"features", Value(std::move(f))}, {"action_mask", Value(std::move(mask))}});
  }

  s::Soc soc_;
  s::Workload w_;
  std::size_t pes_;
  Rng rng_{0};
  std::unique_ptr<s::Emulator> emu_;
  double accrued_ = 0;
};

// ------------------------------------------------------------------ soc-design-v0

class DesignEnv final : public Env {
public:
  DesignEnv(std::shared_ptr<const EnvSpec> spec, s::Soc soc, s::Workload w, s::Policy policy, double budget)
      : Env(std::move(spec)), base_(std::move(soc)), w_(std::move(w)), policy_(policy), budget_(budget) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {zeros(spec().metrics.size()), Value()}; }

  StepResult do_step(const Value& act) override {
    StepResult r;
    r.terminated = true;
    r.obs = zeros(spec().metrics.size());
    s::Soc soc = base_;
    for (auto& t : soc.types) {
      t.count = static_cast<int>(act.at(t.name + "_count").as_int());
      if (t.opp.size() > 1) {
        const Value& f = act.at(t.name + "_mhz");
        t.set_frequency(f.is_int() ? static_cast<double>(f.as_int()) : std::stod(f.as_string()));
      }
    }
    const double peak = soc.peak_power_w();
    if (peak > budget_ * (1 + 1e-12)) {
      r.status = EvalStatus::infeasible("peak power " + num(peak) + " W exceeds the budget of " + num(budget_) + " W");
      r.metrics.set("peak_power_w", peak);  // the constraint's value, for agents that model it
      return r;
    }
    s::Result res;
    try {
      res = s::simulate(soc, w_, policy_);
    } catch (const InvalidArgument& e) {  // a task type with no PE left to run it
      r.status = EvalStatus::infeasible(e.what());
      return r;
    }
    r.metrics.set("avg_latency_us", res.avg_latency_us);
    r.metrics.set("p95_latency_us", res.p95_latency_us);
    r.metrics.set("energy_mj", res.energy_mj);
    r.metrics.set("edp_mj_ms", res.energy_mj * res.avg_latency_us / 1000.0);
    r.metrics.set("peak_power_w", peak);
    r.metrics.set("pes", static_cast<double>(soc.num_pes()));
    std::vector<double> obs;
    for (const auto& [k, v] : r.metrics.items()) obs.push_back(v);
    r.obs = Value(std::move(obs));
    return r;
  }

private:
  s::Soc base_;
  s::Workload w_;
  s::Policy policy_;
  double budget_;
};

// A PE type's operating frequencies as a knob: ordered integer MHz when they
// are whole numbers evenly spaced (DS3: A7 600..1400, A15 600..2000 in steps
// of 200), otherwise their labels as categories.
std::shared_ptr<Space> frequency_space(const std::vector<double>& mhz) {
  bool even = mhz.size() > 1;
  for (std::size_t i = 0; even && i < mhz.size(); ++i)
    even = mhz[i] == std::round(mhz[i]) && mhz[i] > 0 && mhz[i] < 1e9 && (i < 2 || mhz[i] - mhz[i - 1] == mhz[1] - mhz[0]) &&
           (i == 0 || mhz[i] > mhz[i - 1]);
  if (even) return std::make_shared<Integer>(static_cast<std::int64_t>(mhz.front()), static_cast<std::int64_t>(mhz.back()),
                                             static_cast<std::int64_t>(mhz[1] - mhz[0]));
  std::vector<std::string> labels;
  for (double f : mhz) labels.push_back(num(f));
  return std::make_shared<Categorical>(labels);
}

std::shared_ptr<Box> nonneg_box(std::size_t n) {
  return std::make_shared<Box>(std::vector<double>(n, 0.0), std::vector<double>(n, kInf), std::vector<std::int64_t>{static_cast<std::int64_t>(n)});
}

}  // namespace

void register_soc_envs(EnvRegistry& reg) {
  std::vector<ParamSpec> sched_opts = workload_options(5.0, "; an arrival trace replaces the window");
  sched_opts.push_back({"window_ms", "jobs arrive during this simulated window; the episode ends when they have all finished", 10.0,
                        std::make_shared<Box>(1e-3, 1e6)});
  reg.add(EnvEntry{
      "soc-sched-v0",
      "DeepSoCS-style scheduling: each step assigns the next ready task of continuously arriving DAG jobs to a PE (masked)",
      sched_opts,
      [sched_opts](const Params& p) -> EnvPtr {
        s::Soc soc = s::resolve_soc(p.get_string("soc"));
        s::Workload w = make_workload(p, "soc-sched-v0", s::Workload{});
        w.window_us = p.get_double("window_ms") * 1000.0;
        s::Emulator probe(soc, w, s::Policy::External);  // validates the mix against the SoC
        const auto pes = static_cast<std::size_t>(soc.num_pes());
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "soc-sched-v0";
        spec->description = "scheduling on " + soc.name;
        spec->action_space = std::make_shared<Discrete>(static_cast<std::int64_t>(pes));
        spec->observation_space = std::make_shared<DictSpace>(DictSpace::Children{
            {"features", nonneg_box(SchedEnv::num_features(w.mix.size(), pes))},
            {"action_mask", std::make_shared<Box>(std::vector<double>(pes, 0.0), std::vector<double>(pes, 1.0),
                                                  std::vector<std::int64_t>{static_cast<std::int64_t>(pes)})}});
        spec->metrics = {
            {"latency_increment_us", "us", Goal::Minimize,
             "job latency accrued since the previous step: jobs in the system x simulated time elapsed (sums to the total job latency)"},
            {"avg_latency_us", "us", Goal::Minimize, "mean latency of the jobs finished so far"},
            {"jobs_done", "1", Goal::Maximize, "jobs finished so far"},
            {"energy_mj", "mJ", Goal::Minimize, "SoC energy since the first arrival"},
            {"sim_time_us", "us", Goal::None, "simulated time of the decision"}};
        spec->options = sched_opts;
        spec->max_episode_steps = 0;
        spec->default_reward = {{"type", "metric"}, {"metric", "latency_increment_us"}};
        spec->resolved_options = p.resolved();
        return std::make_unique<SchedEnv>(std::move(spec), std::move(soc), std::move(w));
      }});

  std::vector<ParamSpec> design_opts = workload_options(5.0, "");
  design_opts.push_back({"jobs", "jobs per evaluation", 300, std::make_shared<Integer>(1, 1000000)});
  design_opts.push_back({"workload_seed", "seed of arrivals and noise, fixed so that designs see the same jobs", 1, nullptr});
  design_opts.push_back({"scheduler", "list scheduler of every design: met, etf, heft, random, rr, eft, stf or etf_lb", "heft",
                         std::make_shared<Categorical>(s::policy_names())});
  design_opts.push_back({"power_budget_w", "largest peak power (every PE busy); 0: the peak power of the SoC file's own design", 0.0,
                         std::make_shared<Box>(0.0, 1e6)});
  design_opts.push_back({"max_count", "largest count of each PE type", 8, std::make_shared<Integer>(1, 64)});
  design_opts.push_back({"objective", "default reward: latency (mean job latency), energy or edp, all minimised", "latency",
                         std::make_shared<Categorical>(std::vector<std::string>{"latency", "energy", "edp"})});
  reg.add(EnvEntry{
      "soc-design-v0",
      "SoC design (FARSI-style): counts and frequencies of each PE type under a power budget, scored by a list scheduler on a job mix",
      design_opts,
      [design_opts](const Params& p) -> EnvPtr {
        s::Soc soc = s::resolve_soc(p.get_string("soc"));
        s::Workload base;
        base.jobs = p.get_int("jobs");
        base.seed = static_cast<std::uint64_t>(p.get_int("workload_seed"));
        const s::Workload w = make_workload(p, "soc-design-v0", base);
        s::Emulator probe(soc, w, s::Policy::HEFT);  // validates the mix against the SoC
        double budget = p.get_double("power_budget_w");
        if (budget <= 0) budget = soc.peak_power_w();
        const auto max_count = p.get_int("max_count");
        DictSpace::Children knobs;
        for (const auto& t : soc.types) {
          knobs.emplace_back(t.name + "_count", std::make_shared<Integer>(0, max_count));
          if (t.opp.size() > 1) knobs.emplace_back(t.name + "_mhz", frequency_space(t.frequencies()));
        }
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "soc-design-v0";
        spec->description = "PE counts and frequencies of " + soc.name + " under " + num(budget) + " W";
        spec->action_space = std::make_shared<DictSpace>(std::move(knobs));
        spec->metrics = {{"avg_latency_us", "us", Goal::Minimize, "mean job latency (arrival to last task's end)"},
                         {"p95_latency_us", "us", Goal::Minimize, "95th-percentile job latency"},
                         {"energy_mj", "mJ", Goal::Minimize, "SoC energy over the workload (busy cluster power and idle leakage)"},
                         {"edp_mj_ms", "mJ*ms", Goal::Minimize, "energy x mean job latency", {"energy_mj", "avg_latency_us"}, 1e-3},
                         {"peak_power_w", "W", Goal::Minimize, "power with every PE busy (the budgeted quantity)", {}, 1, budget},
                         {"pes", "1", Goal::Minimize, "processing elements in the design"}};
        spec->observation_space = nonneg_box(spec->metrics.size());
        spec->options = design_opts;
        const std::string obj = p.get_string("objective");
        spec->default_reward = {{"type", "metric"},
                                {"metric", obj == "energy" ? "energy_mj" : obj == "edp" ? "edp_mj_ms" : "avg_latency_us"}};
        spec->objectives = {"avg_latency_us", "energy_mj"};
        spec->resolved_options = p.resolved();
        spec->resolved_options["power_budget_w"] = budget;
        return std::make_unique<DesignEnv>(std::move(spec), std::move(soc), std::move(w), s::policy_from_name(p.get_string("scheduler")),
                                           budget);
      }});
}

}  // namespace dsegym
