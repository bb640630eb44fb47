// dram-v0: one step = one controller design simulated on the whole workload.
// Knobs and value sets are ArchGym DRAMGym's (arch_gym/envs, GA/ACO/BO
// agents), plus the power-down policy and the address mapping.
#include "envs/dram/dram_env.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "simulators/dram/simulator.hpp"

namespace dsegym {

namespace {

namespace d = dram;

const std::vector<std::pair<const char*, const char*>>& builtin_workloads() {
  static const std::vector<std::pair<const char*, const char*>> w = {
      {"cloud-1", "cloud-1.stl"}, {"cloud-2", "cloud-2.stl"}, {"ddr3_example", "ddr3_example.stl"}};
  return w;
}

struct Setup {
  d::MemSpec spec;
  std::shared_ptr<const std::vector<d::Request>> trace;
  std::string workload;
  double player_clk_mhz = 800;  // clock of the trace's cycle numbers
  bool wrap = false;
};

std::vector<ParamSpec> dram_options() {
  return {
      {"memspec", "built-in memspec (" + d::builtin_memspec_names() + ") or a DRAMSys memspec file",
       "ddr3-1600", nullptr},
      {"workload", "built-in trace (cloud-1, cloud-2, ddr3_example) or a trace file (see trace_format); ignored when 'generator' is given",
       "cloud-1", nullptr},
      {"generator", "generated workload instead of a trace, e.g. {\"type\": \"random\", \"requests\": 10000}", json::object(),
       nullptr},
      {"trace_clock_mhz", "clock of the trace's cycle numbers (ArchGym's traces: 800 MHz)", 800.0,
       std::make_shared<Box>(1e-3, 1e6)},
      {"trace_format", "format of the workload file: stl (DRAMSys), dramsim3, ramulator2, or auto (from the extension or first line)",
       "auto", std::make_shared<Categorical>(d::trace_format_names())},
      {"objective", "default reward: latency, power, energy, edp (minimised) or target (ArchGym's target-spec reward)",
       "latency", std::make_shared<Categorical>(std::vector<std::string>{"latency", "power", "energy", "edp", "target"})},
      {"targets", "targets for objective 'target', e.g. {\"latency_ns\": 150000, \"power_mw\": 1000}", json::object(), nullptr},
      {"wrap_addresses", "accept trace addresses beyond the memspec's capacity, ignoring their high bits as DRAMSys does (default: an error)",
       false, nullptr},
  };
}

SpacePtr action_space(const d::MemSpec& spec) {
  auto cat = [](const std::vector<std::string>& v) { return std::make_shared<Categorical>(v); };
  std::vector<std::string> refresh = {"NoRefresh", "AllBank"};
  if (spec.supports_per_bank_refresh()) refresh.push_back("PerBank");
  return std::make_shared<DictSpace>(DictSpace::Children{
      {"PagePolicy", cat(d::page_policy_names())},
      {"Scheduler", cat(d::scheduler_names())},
      {"SchedulerBuffer", cat(d::scheduler_buffer_names())},
      {"RequestBufferSize", Integer::pow2(1, 128)},
      {"RespQueue", cat(d::resp_queue_names())},
      {"RefreshPolicy", cat(refresh)},
      {"RefreshMaxPostponed", Integer::pow2(1, 8)},
      {"RefreshMaxPulledin", Integer::pow2(1, 8)},
      {"PowerDownPolicy", cat(d::power_down_policy_names())},
      {"Arbiter", cat(d::arbiter_names())},
      {"MaxActiveTransactions", Integer::pow2(1, 128)},
      {"AddressMapping", cat(d::mapping_names())},
  });
}

std::vector<MetricSpec> metrics(const d::MemSpec& spec) {
  std::vector<MetricSpec> m = {
      {"latency_ns", "ns", Goal::Minimize, "total simulated time to serve the workload (DRAMSys' Total Time; ArchGym's latency)"},
      {"avg_read_latency_ns", "ns", Goal::Minimize, "mean read latency from issue by the initiator to response"},
      {"p99_read_latency_ns", "ns", Goal::Minimize, "99th-percentile read latency"},
      {"bandwidth_gbps", "GB/s", Goal::Maximize, "bytes moved / total time (1e9 B/s)"},
      {"row_hit_rate", "1", Goal::Maximize, "fraction of requests served from an open row"},
  };
  if (spec.has_power()) {
    m.push_back({"energy_nj", "nJ", Goal::Minimize, "DRAM energy (DRAMPower IDD model), all devices"});
    m.push_back({"power_mw", "mW", Goal::Minimize, "average DRAM power = energy / total time"});
  }
  return m;
}

json default_reward(const Params& p, const std::vector<MetricSpec>& ms) {
  const auto objective = p.get_string("objective");
  auto has = [&](const char* name) {
    for (const auto& m : ms)
      if (m.name == name) return true;
    return false;
  };
  if ((objective == "power" || objective == "energy" || objective == "edp") && !has("energy_nj"))
    throw InvalidArgument("env 'dram-v0' option 'objective': '" + objective + "' needs energy, but the memspec has no currents (mempowerspec)");
  if (objective == "latency") return {{"type", "metric"}, {"metric", "latency_ns"}};
  if (objective == "power") return {{"type", "metric"}, {"metric", "power_mw"}};
  if (objective == "energy") return {{"type", "metric"}, {"metric", "energy_nj"}};
  if (objective == "edp") return {{"type", "product"}, {"exponents", {{"energy_nj", 1}, {"latency_ns", 1}}}, {"sign", -1}};
  const json& targets = p.get("targets");
  if (targets.empty())
    throw InvalidArgument("env 'dram-v0' option 'targets' is required for objective 'target', e.g. {\"latency_ns\": 150000, \"power_mw\": 1000}");
  return {{"type", "target"}, {"targets", targets}, {"form", "inverse"}};
}

Setup load_setup(const Params& p) {
  Setup s;
  s.spec = d::resolve_memspec(p.get_string("memspec"));
  const json& gen = p.get("generator");
  if (!gen.empty()) {
    s.trace = std::make_shared<const std::vector<d::Request>>(
        d::generate_trace(gen, s.spec.bytes_per_burst(), s.spec.capacity_bytes(), "env 'dram-v0' option 'generator'"));
    s.workload = "generator " + gen.dump();
    s.player_clk_mhz = gen.value("clk_mhz", 800.0);
    return s;
  }
  std::string path;
  for (const auto& [name, file] : builtin_workloads())
    if (p.get_string("workload") == name) path = d::dram_data_dir() + "/traces/" + file;
  if (path.empty()) path = user_file(p.get_string("workload"), "env 'dram-v0' option 'workload'");
  d::TraceOptions topt;
  topt.clk_mhz = p.get_double("trace_clock_mhz");
  topt.format = d::parse_trace_format(p.get_string("trace_format"), "env 'dram-v0' option 'trace_format'");
  topt.burst_bytes = s.spec.bytes_per_burst();
  s.trace = std::make_shared<const std::vector<d::Request>>(d::load_trace(path, topt));
  s.workload = p.get_string("workload");
  s.player_clk_mhz = topt.clk_mhz;
  s.wrap = p.get_bool("wrap_addresses");
  if (const std::int64_t k = d::first_address_beyond(s.spec, *s.trace); k >= 0 && !s.wrap)
    throw InvalidArgument("env 'dram-v0' option 'workload': request " + std::to_string(k + 1) + " of " + s.workload + " is beyond the " +
                          std::to_string(s.spec.capacity_bytes()) + "-byte memspec " + s.spec.id +
                          "; choose a memspec with room, or set wrap_addresses to ignore the high bits as DRAMSys does");
  return s;
}

class DramEnv final : public Env {
public:
  DramEnv(std::shared_ptr<const EnvSpec> spec, Setup setup) : Env(std::move(spec)), setup_(std::move(setup)) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }

  StepResult do_step(const Value& a) override {
    d::ControllerConfig c;
    auto idx = [&](const char* knob, const std::vector<std::string>& names) {
      const auto& label = a.at(knob).as_string();
      for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == label) return static_cast<int>(i);
      throw InvalidArgument(std::string("action.") + knob + ": unknown value " + label);
    };
    c.page_policy = static_cast<d::PagePolicy>(idx("PagePolicy", d::page_policy_names()));
    c.scheduler = static_cast<d::SchedulerKind>(idx("Scheduler", d::scheduler_names()));
    c.scheduler_buffer = static_cast<d::SchedulerBuffer>(idx("SchedulerBuffer", d::scheduler_buffer_names()));
    c.request_buffer_size = static_cast<int>(a.at("RequestBufferSize").as_int());
    c.resp_queue = static_cast<d::RespQueue>(idx("RespQueue", d::resp_queue_names()));
    c.refresh_policy = static_cast<d::RefreshPolicy>(idx("RefreshPolicy", d::refresh_policy_names()));
    c.refresh_max_postponed = static_cast<int>(a.at("RefreshMaxPostponed").as_int());
    c.refresh_max_pulledin = static_cast<int>(a.at("RefreshMaxPulledin").as_int());
    c.power_down_policy = static_cast<d::PowerDownPolicy>(idx("PowerDownPolicy", d::power_down_policy_names()));
    c.arbiter = static_cast<d::Arbiter>(idx("Arbiter", d::arbiter_names()));
    c.max_active_transactions = static_cast<int>(a.at("MaxActiveTransactions").as_int());
    const d::AddressMapping mapping = d::make_mapping(a.at("AddressMapping").as_string(), setup_.spec);

    StepResult r;
    r.terminated = true;
    d::SimOptions opt;
    opt.wrap_addresses = setup_.wrap;
    opt.player_clk_mhz = setup_.player_clk_mhz;
    const d::SimResult s = d::simulate(setup_.spec, c, mapping, *setup_.trace, opt);
    r.metrics.set("latency_ns", s.total_time_ns);
    r.metrics.set("avg_read_latency_ns", s.avg_read_latency_ns);
    r.metrics.set("p99_read_latency_ns", s.p99_read_latency_ns);
    r.metrics.set("bandwidth_gbps", s.bandwidth_gbps);
    r.metrics.set("row_hit_rate", s.row_hit_rate);
    if (s.has_energy) {
      r.metrics.set("energy_nj", s.energy_nj);
      r.metrics.set("power_mw", s.average_power_mw);
    }
    std::vector<double> obs;
    for (const auto& [k, v] : r.metrics.items()) obs.push_back(v);
    r.obs = Value(std::move(obs));
    return r;
  }

private:
  Setup setup_;
};

}  // namespace

void register_dram_env(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "dram-v0",
      "DRAM memory-controller design (ArchGym DRAMGym knobs) on an in-process cycle-level DRAM simulator",
      dram_options(),
      [](const Params& p) -> EnvPtr {
        Setup setup = load_setup(p);
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "dram-v0";
        spec->description = "memory controller for " + setup.spec.id + " on workload " + setup.workload;
        spec->action_space = action_space(setup.spec);
        spec->metrics = metrics(setup.spec);
        const auto n = static_cast<std::int64_t>(spec->metrics.size());
        spec->observation_space = std::make_shared<Box>(std::vector<double>(static_cast<std::size_t>(n), 0.0),
                                                        std::vector<double>(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity()),
                                                        std::vector<std::int64_t>{n});
        spec->options = dram_options();
        spec->max_episode_steps = 1;
        spec->default_reward = default_reward(p, spec->metrics);
        spec->objectives = {"latency_ns", "energy_nj"};
        spec->resolved_options = p.resolved();
        return std::make_unique<DramEnv>(std::move(spec), std::move(setup));
      }});
}

}  // namespace dsegym
