// dsegym: the command-line front end.
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/subprocess.hpp"
#include "envs/core/wrappers.hpp"
#include "experiments/dataset.hpp"
#include "envs/external/external_env.hpp"
#include "experiments/plugin.hpp"
#include "experiments/slurm.hpp"
#include "experiments/report.hpp"
#include "experiments/dashboard.hpp"
#include "experiments/server.hpp"
#include "experiments/runner.hpp"
#include "experiments/sweep.hpp"
#include "proxies/proxy.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/dram/simulator.hpp"
#include "simulators/soc/soc.hpp"

using namespace dsegym;
namespace fs = std::filesystem;

namespace {

// JSON from a command-line value: inline text, or @path to read a file.
json parse_json_arg(const std::string& flag, const std::string& text) {
  if (text.empty()) return json::object();
  std::string body = text;
  std::string where = flag;
  if (text[0] == '@') return read_json_file(text.substr(1), flag);
  return parse_json(body, where);
}

void cmd_list(const std::string& what) {
  if (what == "envs" || what == "all") {
    std::cout << "envs:\n";
    for (const auto& id : env_registry().ids()) std::printf("  %-14s %s\n", id.c_str(), env_registry().get(id).description.c_str());
  }
  if (what == "agents" || what == "all") {
    std::cout << "agents:\n";
    for (const auto& id : agent_registry().ids()) std::printf("  %-14s %s\n", id.c_str(), agent_registry().get(id).description.c_str());
  }
}

void cmd_describe(const std::string& id, const std::string& options) {
  if (agent_registry().contains(id) && !env_registry().contains(id)) {
    const auto& e = agent_registry().get(id);
    json hp = json::array();
    for (const auto& p : e.hyperparameters) hp.push_back(p.to_json());
    std::cout << json{{"agent", e.id}, {"description", e.description}, {"hyperparameters", hp}}.dump(2) << "\n";
    return;
  }
  EnvPtr env = make_env(env_registry(), id, parse_json_arg("--options", options));
  std::cout << env->spec().to_json().dump(2) << "\n";
}

void cmd_eval(const std::string& id, const json& options, const json& action_json, const json& reward, std::uint64_t seed) {
  EnvPtr inner = make_env(env_registry(), id, options);
  const json reward_spec = reward.is_null() ? inner->spec().default_reward : reward;
  RewardWrapper env(std::move(inner), reward_spec);
  const Value action = env.action_space().parse(action_json, "action");
  env.reset(seed);
  const StepResult r = env.step(action);
  json metrics = json::object();
  for (const auto& [k, v] : r.metrics.items()) metrics[k] = v;
  json units = json::object();
  for (const auto& m : env.spec().metrics) units[m.name] = m.unit;
  std::cout << json{{"status", status_name(r.status.code)}, {"reason", r.status.reason}, {"metrics", metrics},
                    {"units", units}, {"reward", std::isfinite(r.reward) ? json(r.reward) : json(nullptr)},
                    {"obs", to_json(r.obs)}}
                   .dump(2)
            << "\n";
}

void cmd_sim_dram(const std::string& memspec, const std::string& config, const std::string& mapping, const std::string& trace,
                  const std::string& generator, double trace_clk, const std::string& trace_format, bool log, bool wrap) {
  namespace d = dsegym::dram;
  const d::MemSpec spec = d::resolve_memspec(memspec);
  const d::ControllerConfig cfg = config.empty() ? d::ControllerConfig{} : d::load_controller_config(config);
  cfg.validate(spec, config.empty() ? "controller config" : config);
  const d::AddressMapping map = d::resolve_mapping(mapping, spec);
  if (trace.empty() && generator.empty()) throw InvalidArgument("give --trace FILE or --generator JSON");
  const std::vector<d::Request> requests =
      trace.empty() ? d::generate_trace(parse_json_arg("--generator", generator), spec.bytes_per_burst(), spec.capacity_bytes(), "--generator")
                    : d::load_trace(trace, {trace_clk, d::parse_trace_format(trace_format, "--trace-format"), spec.bytes_per_burst()});
  d::SimOptions opt;
  opt.record_commands = log;
  opt.wrap_addresses = wrap;
  opt.player_clk_mhz = trace.empty() ? parse_json_arg("--generator", generator).value("clk_mhz", 800.0) : trace_clk;
  const d::SimResult r = d::simulate(spec, cfg, map, requests, opt);
  json out = r.to_json();
  out["memspec"] = spec.id;
  out["config"] = d::controller_config_to_json(cfg);
  out["mapping"] = map.name;
  if (log) {
    json cmds = json::array();
    for (const auto& c : r.command_log) cmds.push_back({c.cycle, d::cmd_name(c.cmd), c.channel, c.rank, c.bank, c.row});
    out["command_log"] = cmds;
  }
  std::cout << out.dump(2) << "\n";
}

// A server's shared secret: --token-file's first line, else --token, else
// DSEGYM_TOKEN.
std::string shared_secret(const std::string& given, const std::string& file) {
  if (!file.empty()) {
    std::ifstream f(file);
    std::string token;
    if (!f || !std::getline(f, token) || token.empty()) throw InvalidArgument("--token-file " + file + ": cannot read a secret from its first line");
    return token;
  }
  if (!given.empty()) return given;
  const char* t = std::getenv("DSEGYM_TOKEN");
  return t ? t : "";
}

}  // namespace

namespace {
// Numeric bounds of command-line options.
constexpr double kMaxBudget = 1e12;
const CLI::Validator kSeedRange = CLI::Range(0.0, 9223372036854775807.0).description("0..2^63");
}  // namespace

int main(int argc, char** argv) {
  dsegym::register_builtins();  // the built-in envs, cost models and agents
  kill_children_on_signal();  // no child process outlives an interrupted dsegym
  CLI::App app{"dsegym: a gym for design-space exploration of computer architectures.\n\n"
               "Example:\n  dsegym run --env toy-v0 --agent random --budget 200 --seed 1 --out runs/toy\n"};
  app.set_version_flag("--version", std::string("dsegym ") + DSEGYM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // --env-spec and --plugin also after the subcommand: dsegym run --env-spec F ...
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::vector<std::string> plugins;
  app.add_option("--plugin", plugins, "shared library with agents or envs to load first (repeatable), e.g. --plugin libmy_agent.so");
  std::vector<std::string> env_specs;
  app.add_option("--env-spec", env_specs,
                 "JSON spec of an external simulator to register as an env (repeatable), e.g.\n"
                 "  dsegym --env-spec examples/external/dram_sim.json run --env dram-ext-v0 --agent random --budget 50");

  std::string list_what = "all";
  auto* list = app.add_subcommand("list", "List the registered envs and agents.\n\nExample:\n  dsegym list envs");
  list->add_option("what", list_what, "envs, agents or all")->check(CLI::IsMember({"envs", "agents", "all"}));

  std::string describe_id, describe_options;
  auto* describe = app.add_subcommand(
      "describe", "Print an env's spaces, metrics and options (or an agent's hyperparameters) as JSON.\n\n"
                  "Example:\n  dsegym describe toy-v0 --options '{\"noise\": 0.1}'");
  describe->add_option("id", describe_id, "env or agent id")->required();
  describe->add_option("--options", describe_options, "env options as JSON (or @file.json)");

  RunConfig rc;
  std::string env_options, agent_options, reward;
  auto* run = app.add_subcommand(
      "run", "Run one agent on one env for a budget of evaluations; writes run.json and trace.jsonl under --out.\n\n"
             "Example:\n  dsegym run --env toy-v0 --agent random --budget 200 --seed 1 --out runs/toy");
  run->add_option("--env", rc.env_id, "env id (see `dsegym list envs`)")->required();
  run->add_option("--agent", rc.agent_id, "agent id (see `dsegym list agents`)")->capture_default_str();
  run->add_option("--budget", rc.budget, "number of evaluations (1..10^12)")->capture_default_str()->check(CLI::Range(1.0, kMaxBudget));
  run->add_option("--seed", rc.seed, "random seed (0..2^63); the same seed gives the same trace")->capture_default_str()->check(kSeedRange);
  run->add_option("--out", rc.out_dir, "folder for run.json and trace.jsonl (must not hold a trace yet, unless --resume)");
  run->add_flag("--resume", rc.resume,
                "continue the run in --out (a killed run): its recorded evaluations are replayed into the agent, the rest run;\n"
                "  the other options must be those of the run there");
  run->add_option("--env-options", env_options, "env options as JSON (or @file.json)");
  run->add_option("--agent-options", agent_options, "agent hyperparameters as JSON (or @file.json)");
  run->add_option("--reward", reward, "reward spec as JSON (or @file.json); default: the env's");
  run->add_option("--batch", rc.batch, "suggestions evaluated at once (1..1048576)")->capture_default_str()->check(CLI::Range(1.0, 1048576.0));
  run->add_option("--threads", rc.threads, "worker threads besides the main one (0..1024)")->capture_default_str()->check(CLI::Range(0.0, 1024.0));
  run->add_option("--run-id", rc.run_id, "run id written to every trace row (default: <env>-<agent>-s<seed>)");
  run->add_option("--objectives", rc.objectives, "metrics for the Pareto front and hypervolume, e.g. --objectives latency_ns energy_nj")
      ->delimiter(',');
  run->add_option("--load-agent", rc.load_agent, "start the agent from this checkpoint (a file written by --save-agent)");
  run->add_option("--save-agent", rc.save_agent, "write the agent's checkpoint (networks, optimiser, RNG; or a search's state) here after the run");
  run->add_flag("--greedy", rc.greedy, "policy agents: act greedily and do not learn, e.g. to evaluate a trained policy\n"
                                       "  (dsegym run --env soc-sched-v0 --agent ppo --load-agent ppo.json --greedy --budget 2000)");
  std::string hv_ref;
  run->add_option("--hv-ref", hv_ref, "hypervolume reference point as JSON, e.g. '{\"latency_ns\": 3e5, \"energy_nj\": 4e5}'");

  std::string eval_env, eval_action, eval_options, eval_reward;
  std::uint64_t eval_seed = 0;
  auto* eval = app.add_subcommand(
      "eval", "Evaluate one action (a design) on an env and print its status, metrics and reward as JSON.\n\n"
              "Example:\n  dsegym eval --env toy-v0 --action '{\"kind\": \"b\", \"n\": 8, \"m\": 7, \"x\": 1.5, \"y\": -0.5}'");
  eval->add_option("--env", eval_env, "env id")->required();
  eval->add_option("--action", eval_action, "the action as JSON (or @file.json)")->required();
  eval->add_option("--env-options", eval_options, "env options as JSON (or @file.json)");
  eval->add_option("--reward", eval_reward, "reward spec as JSON (or @file.json); default: the env's");
  eval->add_option("--seed", eval_seed, "seed for the env's reset (0..2^63)")->capture_default_str()->check(kSeedRange);

  auto* sim = app.add_subcommand(
      "sim", "Run a simulator on its own and print its result as JSON.\n\n"
             "Example:\n  dsegym sim dram --memspec ddr3-1600 --trace data/dram/traces/cloud-1.stl");
  sim->require_subcommand(1);
  std::string sim_memspec = "ddr3-1600", sim_config, sim_trace, sim_mapping = "RoBaCo", sim_generator;
  double sim_trace_clk = 800;
  std::string sim_trace_format = "auto";
  bool sim_log = false, sim_wrap = false;
  auto* sim_dram = sim->add_subcommand(
      "dram", "Simulate a DRAM memory controller and device on a trace.\n\n"
              "Example:\n  dsegym sim dram --memspec ddr3-1600 --config data/dram/mcconfigs/policy.json "
              "--trace data/dram/traces/cloud-1.stl");
  sim_dram->add_option("--memspec", sim_memspec,
                       "built-in memspec (" + dsegym::dram::builtin_memspec_names() + ") or a DRAMSys memspec JSON file")
      ->capture_default_str();
  sim_dram->add_option("--config", sim_config, "DRAMSys mcconfig JSON file (default: DRAMSys' defaults)");
  sim_dram->add_option("--mapping", sim_mapping, "address mapping: RoBaCo, BaRoCo, RoCoBa or a DRAMSys amconfig JSON file")
      ->capture_default_str();
  auto* trace_opt = sim_dram->add_option("--trace", sim_trace, "trace file: DRAMSys .stl, DRAMsim3 or Ramulator 2 (see --trace-format)");
  sim_dram->add_option("--generator", sim_generator,
                       "generated trace as JSON, e.g. '{\"type\": \"random\", \"requests\": 10000, \"write_fraction\": 0.3}'")
      ->excludes(trace_opt);
  sim_dram->add_option("--trace-clock-mhz", sim_trace_clk, "clock of the trace's cycle numbers (0.001..1000000)")
      ->capture_default_str()
      ->check(CLI::Range(1e-3, 1e6));
  sim_dram->add_option("--trace-format", sim_trace_format,
                       "stl ('<cycle>: [(<bytes>)] read|write <hex address>'), dramsim3 ('<hex address> READ|WRITE <cycle>'),\n"
                       "ramulator2 ('LD|ST <address>', no timing) or auto (the .stl extension or the first line decides)")
      ->capture_default_str()
      ->check(CLI::IsMember(dsegym::dram::trace_format_names()));
  sim_dram->add_flag("--command-log", sim_log, "also print every issued DRAM command");
  sim_dram->add_flag("--wrap-addresses", sim_wrap,
                     "accept addresses beyond the memspec's capacity, ignoring their high bits as DRAMSys does (default: an error)");

  std::string sweep_config, sweep_out;
  bool sweep_retry = false;
  auto* sweep = app.add_subcommand(
      "sweep", "Run a study described by a sweep config (envs x agent configurations x seeds) in parallel; rerunning the\n"
               "same command resumes it. Writes trials/, summary.csv and summary.json under --out.\n\n"
               "Example:\n  dsegym sweep experiments/configs/default.json --out results/default\n"
               "  dsegym sweep experiments/configs/default.json --out /shared/results --backend slurm --partition cpu --time 01:00:00 --wait");
  sweep->add_option("config", sweep_config, "sweep config JSON (schema in the README)")->required();
  sweep->add_option("--out", sweep_out, "results folder")->required();
  sweep->add_flag("--retry-failed", sweep_retry, "run failed and timed-out trials again");
  bool sweep_oversubscribe = false, sweep_force = false;
  sweep->add_flag("--allow-oversubscribe", sweep_oversubscribe,
                  "allow parallel.workers above " + std::to_string(kWorkersPerCore) + " per core (at most " + std::to_string(kMaxWorkers) + ")");
  sweep->add_flag("--force", sweep_force,
                  "run a config that expands to more than " + std::to_string(kMaxTrials) + " trials (at most " + std::to_string(kMaxForcedTrials) + ")");
  std::string sweep_backend = "local";
  SlurmOptions slurm_opt;
  sweep->add_option("--backend", sweep_backend, "local (this machine) or slurm (a job array; --out must be on storage the nodes share)")
      ->check(CLI::IsMember({"local", "slurm"}));
  sweep->add_option("--partition", slurm_opt.partition, "slurm: partition");
  sweep->add_option("--time", slurm_opt.time, "slurm: time limit per array task, e.g. 02:00:00");
  sweep->add_option("--array-max", slurm_opt.array_max, "slurm: at most this many array tasks at once")->check(CLI::NonNegativeNumber);
  sweep->add_option("--chunk", slurm_opt.chunk, "slurm: trials per array task (default 1)")->check(CLI::PositiveNumber);
  sweep->add_flag("--wait", slurm_opt.wait, "slurm: wait for the job and show progress (default: return after submitting)");
  sweep->add_option("--sbatch-arg", slurm_opt.sbatch_args, "slurm: extra sbatch argument (repeatable), e.g. --sbatch-arg=--mem=4G");
  ServeOptions serve_opt;
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve envs over gRPC (EnvService in proto/dsegym.proto) until SIGTERM/SIGINT.\n\n"
               "Example:\n  dsegym serve --port 50051 --max-sessions 64\n"
               "  dsegym run --env remote://127.0.0.1:50051/dram-v0 --agent bo --budget 100");
  serve_cmd->add_option("--port", serve_opt.port, "TCP port; 0 picks a free one")->capture_default_str();
  serve_cmd->add_option("--bind", serve_opt.bind, "address to listen on (a non-loopback one needs --token)")->capture_default_str();
  serve_cmd->add_option("--port-file", serve_opt.port_file, "write the chosen port to this file");
  serve_cmd->add_option("--max-sessions", serve_opt.max_sessions, "sessions held at once (1..1000000)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e6));
  serve_cmd->add_option("--idle-timeout", serve_opt.idle_timeout_s, "seconds after which an unused session is reclaimed")
      ->capture_default_str()
      ->check(CLI::Range(1e-3, 1e9));
  serve_cmd->add_option("--token", serve_opt.token,
                        "shared secret clients must send (DSEGYM_TOKEN); prefer --token-file or DSEGYM_TOKEN in the server's\n"
                        "  environment, which `ps` does not show");
  std::string serve_token_file;
  serve_cmd->add_option("--token-file", serve_token_file, "read the shared secret from this file (its first line)");
  serve_cmd->add_option("--data-dir", serve_opt.data_dir,
                        "folder of files clients may name in env options (workloads, traces, memspecs, proxy models);\n"
                        "  without it clients can use built-in names only");
  DashboardOptions dash_opt;
  std::string dash_token_file;
  auto* dashboard = app.add_subcommand(
      "dashboard", "Serve a live web dashboard of sweep and run folders (updates while they run) until SIGTERM/SIGINT:\n"
                   "progress and ETA, best reward so far per agent, Pareto fronts, knobs vs reward, the hyperparameter lottery,\n"
                   "and each trial's evaluations.\n\n"
                   "Example:\n  dsegym dashboard results/default --port 8080   # then open http://127.0.0.1:8080/");
  dashboard->add_option("dirs", dash_opt.folders, "--out folders of `dsegym sweep` or `dsegym run`")->required();
  dashboard->add_option("--port", dash_opt.port, "TCP port; 0 picks a free one")->capture_default_str();
  dashboard->add_option("--bind", dash_opt.bind, "address to listen on (a non-loopback one needs --token)")->capture_default_str();
  dashboard->add_option("--port-file", dash_opt.port_file, "write the chosen port to this file");
  dashboard->add_option("--token", dash_opt.token,
                        "shared secret the page must be opened with (/?token=SECRET); prefer --token-file or DSEGYM_TOKEN");
  dashboard->add_option("--token-file", dash_token_file, "read the shared secret from this file (its first line)");
  std::string report_dir;
  auto* report = app.add_subcommand("report", "Write a Markdown report (SVG plots) and a self-contained HTML report (the dashboard's charts) of a sweep to DIR/report.\n\n"
                                              "Example:\n  dsegym report results/default");
  report->add_option("dir", report_dir, "the --out folder of a sweep")->required();
  std::string trial_dir;
  auto* trial = app.add_subcommand("trial", "Run one trial of a sweep (used by worker processes).\n\n"
                                            "Example:\n  dsegym trial results/default/trials/dram-v0__ga-1a2b3c4d__s1");
  trial->group("");  // internal: not listed in --help
  trial->add_option("dir", trial_dir, "trial folder holding trial.json")->required();

  std::string accel_arch, accel_workload = "alexnet", accel_dataflow = "rs", accel_mapping, accel_objective = "latency";
  auto* sim_accel = sim->add_subcommand(
      "accel", "Map a DNN workload onto a spatial or systolic accelerator with the built-in mapper; prints per-layer and total\n"
               "cycles, latency, energy and utilisation.\n\n"
               "Examples:\n  dsegym sim accel --workload resnet50 --dataflow ws --arch '{\"rows\": 16, \"cols\": 16}'\n"
               "  dsegym sim accel --workload alexnet --dataflow os --arch '{\"array\": \"systolic\", \"rows\": 32, \"cols\": 32}'");
  sim_accel->add_option("--arch", accel_arch,
                        "architecture JSON (or @file.json): array (spatial or systolic), rows, cols, rf_words, glb_words,\n"
                        "glb_words_per_cycle, noc_words_per_cycle, dram_words_per_cycle, clock_mhz, node;\n"
                        "default: Eyeriss-like spatial 12x14 PEs");
  sim_accel->add_option("--objective", accel_objective, "what the mapper minimises: latency (ties by energy), energy or edp")
      ->capture_default_str();
  sim_accel->add_option("--workload", accel_workload, "alexnet, vgg16, resnet18, resnet50, mobilenetv2, bert_base_encoder or a JSON file")
      ->capture_default_str();
  sim_accel->add_option("--dataflow", accel_dataflow, "ws, os, rs or is (systolic arrays: ws, os, is)")->capture_default_str();
  sim_accel->add_option("--mapping", accel_mapping,
                        "JSON file {\"layers\": {NAME: mapping}} fixing the mapping of the layers it names (the format of the\n"
                        "\"mapping\" this command prints per layer); other layers are mapped by the mapper");

  std::string soc_file = "ds3_multiple_bal", soc_workload, soc_scheduler = "heft";
  std::vector<std::string> soc_apps, soc_freqs, soc_governors;
  double soc_rate = 5.0, soc_noise = 0.0;
  std::int64_t soc_jobs = 500;
  std::uint64_t soc_seed = 1;
  bool soc_schedule = false;
  auto* sim_soc = sim->add_subcommand(
      "soc", "Run continuously arriving DAG jobs on a heterogeneous SoC with a list scheduler; prints latency, throughput,\n"
             "energy and utilisation as JSON. Defaults: DS3's big.LITTLE + accelerator SoC and its five domain apps\n"
             "(wifi_tx, wifi_rx, range_detection, sc_tx, sc_rx) in equal shares, Poisson arrivals.\n\n"
             "Example:\n  dsegym sim soc --scheduler etf --rate 4 --jobs 1000 --noise 0.2\n"
             "  dsegym sim soc --soc my_soc.json --workload my_workload.json --scheduler heft --frequency A15=1000\n"
             "  dsegym sim soc --governor A15=ondemand --governor A7=powersave --rate 2");
  sim_soc->add_option("--soc", soc_file, "SoC JSON file or built-in name (ds3_multiple_bal, topcuoglu_3p)")->capture_default_str();
  sim_soc->add_option("--workload", soc_workload, "workload JSON file (apps and weights, rate, jobs, noise, seed or an arrival trace)");
  sim_soc->add_option("--apps", soc_apps, "applications in equal shares (built-in names or files), overriding the workload's");
  sim_soc->add_option("--scheduler", soc_scheduler, "met, etf, heft, random, rr, eft, stf or etf_lb")->capture_default_str();
  auto* soc_rate_opt = sim_soc->add_option("--rate", soc_rate, "Poisson job arrivals per ms")->capture_default_str()->check(CLI::Range(1e-9, 1e9));
  auto* soc_jobs_opt = sim_soc->add_option("--jobs", soc_jobs, "jobs injected (1..10000000)")->capture_default_str()->check(CLI::Range(1.0, 1e7));
  auto* soc_noise_opt = sim_soc->add_option("--noise", soc_noise, "relative std. dev. of execution times")->capture_default_str();
  auto* soc_seed_opt = sim_soc->add_option("--seed", soc_seed, "seed of arrivals, noise and the random scheduler")->capture_default_str()->check(kSeedRange);
  sim_soc->add_option("--frequency", soc_freqs, "operating point of a PE type as TYPE=MHz (repeatable); default: the highest");
  sim_soc->add_option("--governor", soc_governors,
                      "run-time DVFS governor of a PE type as TYPE=performance|powersave|ondemand (repeatable; after --frequency)");
  sim_soc->add_flag("--schedule", soc_schedule, "also print every task's PE, start and finish");

  auto* proxy_cmd = app.add_subcommand(
      "proxy", "Train and evaluate proxy cost models on exported datasets.\n\n"
               "Example:\n  dsegym proxy train dram.csv --target latency_ns --target energy_nj --model xgb --out dram_xgb.json\n"
               "  dsegym proxy eval dram_xgb.json dram_test.csv");
  proxy_cmd->require_subcommand(1);
  std::string ptrain_data, ptrain_out, ptrain_options;
  proxy::TrainOptions ptrain;
  auto* proxy_train = proxy_cmd->add_subcommand(
      "train", "Fit one model per target metric on a dataset's ok rows (seeded train/validation/test split) and save it;\n"
               "prints validation and test scores (RMSE, RMSE relative to the mean, MAPE, R^2, Kendall's tau).\n\n"
               "Example:\n  dsegym proxy train dram.csv --target latency_ns --model xgb --out dram_xgb.json --options '{\"max_depth\": 10}'\n"
               "  dsegym proxy train astra_train.csv --test-file astra_test.csv --target observation-1 --model auto --out astra.json");
  proxy_train->add_option("dataset", ptrain_data, "a .csv or .jsonl from `dsegym dataset export` (its .schema.json beside it)")->required();
  proxy_train->add_option("--target", ptrain.targets, "metric to predict (repeatable)")->required();
  proxy_train->add_option("--model", ptrain.model,
                          "xgb (gradient-boosted trees), rf (random forest), et (extremely randomized trees), gp (Gaussian process), mlp, or auto (per target, the model and\n"
                          "hyperparameters with the best k-fold cross-validated R^2 on the training rows, within --budget)")
      ->capture_default_str();
  std::string ptrain_test_file;
  proxy_train->add_option("--test-file", ptrain_test_file, "a fixed test set (a dataset with the same parameters): scored, never fitted; replaces --test");
  proxy_train->add_option("--target-transform", ptrain.target_transform,
                          "auto (log or none, whichever validates better), none, or log (of a target whose values are all positive)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "none", "log"}));
  proxy_train->add_option("--budget", ptrain.auto_budget_s,
                          "--model auto: seconds of cross-validation for all targets together (0: 30, and 30 per 8,000 training rows beyond)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  proxy_train->add_option("--folds", ptrain.folds, "--model auto: folds of the cross-validation (2..20; 0: 5, or 3 above 10,000 training rows)")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  proxy_train->add_option("--options", ptrain_options, "model options as JSON, e.g. '{\"bags\": 5}' (see the README)");
  proxy_train->add_option("--out", ptrain_out, "model file to write (JSON)")->required();
  proxy_train->add_option("--seed", ptrain.seed, "seed of the split and the model")->capture_default_str();
  proxy_train->add_option("--validation", ptrain.validation_fraction, "fraction of rows for early stopping")->capture_default_str();
  proxy_train->add_option("--test", ptrain.test_fraction, "fraction of rows held out for the test scores")->capture_default_str();
  std::string peval_model, peval_data;
  auto* proxy_eval = proxy_cmd->add_subcommand(
      "eval", "Score a saved proxy on a dataset (all its ok rows); refuses a dataset whose parameters differ.\n\n"
              "Example:\n  dsegym proxy eval dram_xgb.json dram_test.csv");
  proxy_eval->add_option("model", peval_model, "model file from `dsegym proxy train`")->required();
  proxy_eval->add_option("dataset", peval_data, "dataset (.csv or .jsonl with its schema)")->required();
  std::string peval_predictions;
  proxy_eval->add_option("--predictions", peval_predictions, "also write per-row truth, prediction and std. dev. to this CSV");

  auto* dataset = app.add_subcommand(
      "dataset", "Make datasets for proxy models: export traces, or import any CSV table.\n\n"
                 "Example:\n  dsegym dataset export runs/ --out dram.csv");
  dataset->require_subcommand(1);
  std::vector<std::string> export_inputs;
  std::string export_out;
  auto* exp = dataset->add_subcommand(
      "export", "Merge traces into one CSV or JSONL table with a schema sidecar (<out>.schema.json).\n\n"
                "Example:\n  dsegym dataset export runs/toy/trace.jsonl --out toy.csv");
  exp->add_option("traces", export_inputs, "trace files or folders holding trace.jsonl files")->required();
  exp->add_option("--out", export_out, "output file ending in .csv or .jsonl")->required();
  ExportOptions export_opt;
  bool keep_duplicates = false;
  exp->add_option("--env", export_opt.env, "only traces of this env id (needed when a sweep has several envs)");
  exp->add_flag("--keep-duplicates", keep_duplicates, "keep evaluations identical to an earlier one (default: dropped)");
  std::string import_file, import_out;
  std::vector<std::string> import_kinds;
  ImportOptions import_opt;
  auto* imp = dataset->add_subcommand(
      "import", "Turn any CSV table into a dataset for `proxy train`: parameter kinds inferred (or given), the schema written beside it.\n\n"
                "Example:\n  dsegym dataset import actions.csv --join observations.csv --targets observation-1 --drop observation-2 --out astra.csv");
  imp->add_option("file", import_file, "CSV file with a header line")->required();
  imp->add_option("--join", import_opt.join, "another CSV whose row i belongs to row i of FILE (repeatable)");
  imp->add_option("--targets", import_opt.targets, "columns to predict, comma-separated (numbers in every row)")->required()->delimiter(',');
  imp->add_option("--drop", import_opt.drop, "columns to leave out, comma-separated")->delimiter(',');
  imp->add_option("--kind", import_kinds, "force a column's kind: COL=real|integer|ordinal|categorical (repeatable)");
  imp->add_option("--out", import_out, "dataset to write (.csv; the schema goes to <out>.schema.json)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors: one line, exit 2, like every other input error.
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    std::cerr << "dsegym: error: " << excerpt(msg, 1000) << " (see --help)\n";
    return 2;
  }

  try {
    for (const auto& p : plugins) load_plugin(p);
    for (const auto& e : env_specs) register_external_env(env_registry(), e);
    if (*list) {
      cmd_list(list_what);
    } else if (*describe) {
      cmd_describe(describe_id, describe_options);
    } else if (*run) {
      rc.env_options = parse_json_arg("--env-options", env_options);
      rc.agent_options = parse_json_arg("--agent-options", agent_options);
      if (!reward.empty()) rc.reward = parse_json_arg("--reward", reward);
      if (!hv_ref.empty()) rc.hv_reference = parse_json_arg("--hv-ref", hv_ref);
      rc.progress = true;
      const RunResult r = run_experiment(rc);
      std::cout << r.to_json().dump(2) << "\n";
    } else if (*sim_accel) {
      namespace a = dsegym::accel;
      const a::Arch arch = a::parse_arch(accel_arch.empty() ? json::object() : parse_json_arg("--arch", accel_arch), "--arch");
      const a::Workload w = a::resolve_workload(accel_workload);
      std::map<std::string, a::Mapping> fixed;
      if (!accel_mapping.empty()) {
        const json mj = parse_json_arg("--mapping", "@" + accel_mapping);
        check_keys(mj, {"layers"}, accel_mapping);
        if (!mj.contains("layers") || !mj.at("layers").is_object())
          throw InvalidArgument(accel_mapping + ".layers: expected {layer name: mapping}");
        for (const auto& [name, m] : mj.at("layers").items()) fixed[name] = a::parse_mapping(m, accel_mapping + ".layers." + name);
      }
      const a::WorkloadResult r =
          a::run_workload(w, arch, a::dataflow_from_name(accel_dataflow), fixed, a::objective_from_name(accel_objective));
      json layers = json::array();
      for (std::size_t i = 0; i < r.layers.size(); ++i) {
        const auto& e = r.layers[i].eval;
        json l = {{"name", w.layers[i].name}, {"macs", w.layers[i].macs()}, {"valid", e.valid},
                  {"mapped_by", fixed.count(w.layers[i].name) ? "file" : "mapper"},
                  {"mapping", a::mapping_to_json(r.layers[i].mapping, arch.array)}};
        if (e.valid) {
          l["cycles"] = e.cycles;
          l["latency_ns"] = e.latency_ns;
          l["energy_nj"] = e.energy_pj / 1000;
          l["utilization"] = e.utilization;
          l["pes_used"] = e.pes_used;
          l["bound"] = e.bound();
          l["cycles_by"] = {{"compute", e.compute_cycles}, {"glb", e.glb_cycles}, {"noc", e.noc_cycles}, {"dram", e.dram_cycles},
                            {"first_load_last_writeback", e.exposed_cycles}};
          l["dram_words"] = e.access[0][0].reads + e.access[0][1].reads + e.access[0][2].reads + e.access[0][2].writes;
          l["energy_nj_by"] = {{"mac", e.energy_breakdown[0] / 1000}, {"rf", e.energy_breakdown[1] / 1000}, {"wires", e.energy_breakdown[2] / 1000},
                               {"glb", e.energy_breakdown[3] / 1000}, {"dram", e.energy_breakdown[4] / 1000}};
        } else {
          l["reason"] = e.reason;
        }
        layers.push_back(l);
      }
      const a::Area ar = a::area(arch);
      std::cout << json{{"workload", w.name}, {"dataflow", accel_dataflow}, {"objective", accel_objective}, {"arch", a::arch_to_json(arch)},
                        {"valid", r.valid}, {"reason", r.reason}, {"macs", r.macs}, {"cycles", r.cycles}, {"latency_ns", r.latency_ns},
                        {"energy_nj", r.energy_pj / 1000}, {"utilization", r.utilization},
                        {"area_mm2", {{"mac", ar.mac_mm2}, {"rf", ar.rf_mm2}, {"glb", ar.glb_mm2}, {"total", ar.total_mm2}}},
                        {"layers", layers}}
                       .dump(2)
                << "\n";
    } else if (*sim_soc) {
      namespace sc = dsegym::soc;
      sc::Soc soc = sc::resolve_soc(soc_file);
      // TYPE=VALUE options: the PE type they name.
      auto type_of = [&](const std::string& opt, const std::string& f, const char* example) -> std::pair<sc::PeType*, std::string> {
        const auto eq = f.find('=');
        if (eq == std::string::npos) throw InvalidArgument(opt + " " + f + ": expected " + example);
        const std::string type = f.substr(0, eq);
        auto it = std::find_if(soc.types.begin(), soc.types.end(), [&](const auto& t) { return t.name == type; });
        if (it == soc.types.end()) {
          std::string names;
          for (const auto& t : soc.types) names += (names.empty() ? "" : ", ") + t.name;
          throw InvalidArgument(opt + " " + f + ": no PE type '" + type + "' in " + soc.name + " (" + names + ")");
        }
        return {&*it, f.substr(eq + 1)};
      };
      for (const auto& f : soc_freqs) {
        auto [type, value] = type_of("--frequency", f, "TYPE=MHz, e.g. A15=1000");
        double mhz = 0;
        try {
          mhz = std::stod(value);
        } catch (const std::exception&) {
          throw InvalidArgument("--frequency " + f + ": '" + value + "' is not a number of MHz");
        }
        type->set_frequency(mhz);
      }
      for (const auto& g : soc_governors) {
        auto [type, value] = type_of("--governor", g, "TYPE=GOVERNOR, e.g. A15=ondemand");
        sc::set_governor(*type, nlohmann::json(value), "--governor " + g);
      }
      sc::Workload w = sc::default_workload(soc_rate, soc_jobs, soc_noise, soc_seed);
      if (!soc_workload.empty()) w = sc::load_workload(soc_workload, w);
      if (!soc_apps.empty()) {
        w.mix.clear();
        for (const auto& a : soc_apps) w.mix.emplace_back(sc::resolve_app(a), 1.0);
      }
      if (soc_rate_opt->count()) w.rate_per_ms = soc_rate;
      if (soc_jobs_opt->count()) w.jobs = soc_jobs;
      if (soc_noise_opt->count()) w.noise = soc_noise;
      if (soc_seed_opt->count()) w.seed = soc_seed;
      const sc::Result r = sc::simulate(soc, w, sc::policy_from_name(soc_scheduler));
      json out = {{"soc", soc.name}, {"scheduler", soc_scheduler}, {"rate_per_ms", w.trace.empty() ? json(w.rate_per_ms) : json()},
                  {"noise", w.noise}, {"seed", w.seed}, {"peak_power_w", soc.peak_power_w()}};
      out.update(r.to_json(soc, soc_schedule));
      std::cout << out.dump(2) << "\n";
    } else if (*proxy_train) {
      ptrain.model_options = parse_json_arg("--options", ptrain_options);
      const proxy::Dataset d = proxy::load_dataset(ptrain_data);
      proxy::Dataset test_set;
      if (!ptrain_test_file.empty()) {
        test_set = proxy::load_dataset(ptrain_test_file);
        ptrain.test_set = &test_set;
      }
      json report;
      const proxy::ProxyModel m = proxy::ProxyModel::train(d, ptrain, &report);
      m.save(ptrain_out);
      report["model_file"] = ptrain_out;
      std::cout << report.dump(2) << "\n";
    } else if (*proxy_eval) {
      const proxy::ProxyModel m = proxy::ProxyModel::load(peval_model);
      std::cout << m.evaluate(proxy::load_dataset(peval_data), peval_predictions).dump(2) << "\n";
    } else if (*sim_dram) {
      cmd_sim_dram(sim_memspec, sim_config, sim_mapping, sim_trace, sim_generator, sim_trace_clk, sim_trace_format, sim_log, sim_wrap);
    } else if (*sweep) {
      SweepOptions opt;
      opt.self_exe = fs::read_symlink("/proc/self/exe").string();
      opt.retry_failed = sweep_retry;
      // The config's plugins must be loaded before its envs and agents are checked.
      {
        const json raw = read_json_file(sweep_config, "sweep config");
        for (const auto& p : config_paths(raw, "plugins", sweep_config)) load_plugin(p);
        for (const auto& e : config_paths(raw, "env_specs", sweep_config)) register_external_env(env_registry(), e);
      }
      opt.allow_oversubscribe = sweep_oversubscribe;
      SweepConfig cfg = load_sweep(sweep_config, sweep_force ? kMaxForcedTrials : kMaxTrials);
      check_workers(cfg.workers, sweep_oversubscribe, sweep_config);
      cfg.plugins.insert(cfg.plugins.begin(), plugins.begin(), plugins.end());
      cfg.env_specs.insert(cfg.env_specs.begin(), env_specs.begin(), env_specs.end());
      if (sweep_backend == "slurm") {
        slurm_opt.self_exe = opt.self_exe;
        slurm_opt.retry_failed = sweep_retry;
        const SlurmSubmission sb = run_sweep_slurm(cfg, sweep_out, slurm_opt);
        for (const auto& e : sb.events) std::cerr << e << "\n";
        std::cout << json{{"job", sb.job_id},     {"submitted", sb.submitted},     {"queued_earlier", sb.queued},
                          {"trials", sb.summary.trials}, {"done", sb.summary.done}, {"failed", sb.summary.failed},
                          {"timeout", sb.summary.timeout}, {"summary", sb.summary.summary_csv}}
                         .dump(2)
                  << "\n";
        if (!sb.job_id.empty() && !slurm_opt.wait)
          std::cerr << "submitted Slurm job " << sb.job_id << "; run the same command again to see what ended and resubmit what did not\n";
        return 0;
      }
      const SweepSummary sm = run_sweep(cfg, sweep_out, opt);
      std::cout << json{{"trials", sm.trials}, {"done", sm.done}, {"failed", sm.failed}, {"timeout", sm.timeout},
                        {"skipped_already_finished", sm.skipped}, {"wall_time_s", sm.wall_time_s}, {"summary", sm.summary_csv}}
                       .dump(2)
                << "\n";
      if (sm.config_errors > 0) {
        std::cerr << "dsegym: error: " << sm.config_errors << " trial(s) failed for a configuration error; see summary.csv\n";
        return 1;
      }
    } else if (*serve_cmd) {
      serve_opt.token = shared_secret(serve_opt.token, serve_token_file);
      serve(serve_opt);
    } else if (*dashboard) {
      dash_opt.token = shared_secret(dash_opt.token, dash_token_file);
      serve_dashboard(dash_opt);
    } else if (*report) {
      const ReportFiles f = write_report(report_dir);
      std::cout << "wrote " << f.markdown << " and " << f.html << " (" << f.plots << " plots)\n";
    } else if (*trial) {
      const json tj = read_json(fs::path(trial_dir) / "trial.json");
      if (tj.is_null()) throw InvalidArgument(trial_dir + ": no readable trial.json");
      const TrialSpec t = TrialSpec::from_json(tj);
      // Run by hand, a trial takes its sweep's folder lock; a sweep's own
      // worker runs under the sweep's.
      std::unique_ptr<FolderLock> sweep_lock;
      if (!std::getenv(kSweepWorkerVar))
        sweep_lock = std::make_unique<FolderLock>(fs::path(trial_dir).parent_path().parent_path() / ".lock",
                                                  "sweep folder " + fs::path(trial_dir).parent_path().parent_path().string(), "a sweep");
      try {
        return run_trial(t, trial_dir) ? 0 : 1;
      } catch (const IoError& e) {
        std::cerr << "dsegym: error: " << e.what() << "\n";
        return kWorkerIoExit;
      }
    } else if (*eval) {
      cmd_eval(eval_env, parse_json_arg("--env-options", eval_options), parse_json_arg("--action", eval_action),
               eval_reward.empty() ? json() : parse_json_arg("--reward", eval_reward), eval_seed);
    } else if (*imp) {
      for (const auto& k : import_kinds) {
        const auto eq = k.find('=');
        if (eq == std::string::npos || eq == 0) throw InvalidArgument("--kind " + k + ": expected COL=KIND, e.g. --kind topology=categorical");
        import_opt.kinds[k.substr(0, eq)] = k.substr(eq + 1);
      }
      const ImportResult r = import_dataset(import_file, import_opt, import_out);
      std::cout << json{{"rows", r.rows}, {"out", r.out_path}, {"schema", r.schema_path}, {"parameters", r.kinds}, {"targets", import_opt.targets},
                        {"constant_columns_left_out", r.constant}}
                       .dump(2)
                << "\n";
    } else if (*exp) {
      export_opt.dedupe = !keep_duplicates;
      const ExportResult r = export_dataset(export_inputs, export_out, export_opt);
      std::cout << "wrote " << r.rows << " rows from " << r.files << " trace(s) to " << r.out_path << " (schema: " << r.schema_path
                << "; " << r.duplicates << " duplicate evaluations dropped)\n";
      if (r.truncated_tails) std::cerr << "note: " << r.truncated_tails << " trace(s) ended in a cut-short row, which was skipped\n";
    }
  } catch (const std::bad_alloc&) {
    std::cerr << "dsegym: error: out of memory (a size or count in the input is too large)\n";
    return 2;
  } catch (const std::exception& e) {
    // One line, of bounded length, whatever the input was.
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n' || c == '\r') c = ' ';
    std::cerr << "dsegym: error: " << excerpt(msg, 1000) << "\n";
    return 2;
  }
  return 0;
}
