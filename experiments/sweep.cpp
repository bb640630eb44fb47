#include "experiments/sweep.hpp"


#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "agents/agent.hpp"
#include "agents/pareto.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/subprocess.hpp"
#include "base/thread_pool.hpp"
#include "experiments/progress.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

std::string hex8(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(splitmix64(h) & 0xffffffffU));
  return buf;
}

// Agent configurations of one "agents" entry: fixed hyperparameters, times a
// grid, or `count` samples over the declared ranges.
std::vector<json> agent_configs(const json& a, const std::string& where) {
  check_keys(a, {"id", "hyperparameters", "grid", "sample"}, where);
  if (!a.contains("id") || !a.at("id").is_string()) throw InvalidArgument(where + ".id: required agent id");
  const std::string id = a.at("id").get<std::string>();
  const AgentEntry& entry = agent_registry().get(id);
  json fixed = a.value("hyperparameters", json::object());
  std::vector<json> configs = {fixed};
  if (a.contains("grid")) {
    const json& g = a.at("grid");
    if (!g.is_object() || g.empty()) throw InvalidArgument(where + ".grid: expected an object of hyperparameter -> list of values");
    for (auto it = g.begin(); it != g.end(); ++it) {
      if (!it.value().is_array() || it.value().empty())
        throw InvalidArgument(where + ".grid." + it.key() + ": expected a non-empty list of values");
      std::vector<json> next;
      for (const auto& c : configs)
        for (const auto& v : it.value()) {
          json n = c;
          n[it.key()] = v;
          next.push_back(std::move(n));
        }
      configs = std::move(next);
    }
  }
  if (a.contains("sample")) {
    const json& s = a.at("sample");
    check_keys(s, {"count", "method", "seed", "params"}, where + ".sample");
    const auto count = s.value("count", 0);
    if (count < 1) throw InvalidArgument(where + ".sample.count: must be at least 1");
    const std::string method = s.value("method", "random");
    if (method != "random" && method != "quasirandom")
      throw InvalidArgument(where + ".sample.method: '" + method + "' is not valid; choices: random, quasirandom");
    DictSpace::Children ranges;
    for (const auto& p : entry.hyperparameters) {
      bool wanted = !s.contains("params");
      if (s.contains("params"))
        for (const auto& n : s.at("params")) wanted = wanted || n == p.name;
      if (wanted && p.range) ranges.emplace_back(p.name, p.range);
    }
    if (s.contains("params"))
      for (const auto& n : s.at("params")) {
        bool known = false;
        for (const auto& r : ranges) known = known || n == r.first;
        if (!known) throw InvalidArgument(where + ".sample.params: '" + n.dump() + "' is not a hyperparameter of '" + id + "' with a range; valid: " + param_names(entry.hyperparameters));
      }
    if (ranges.empty()) throw InvalidArgument(where + ".sample: agent '" + id + "' has no hyperparameters with ranges to sample");
    auto space = std::make_shared<DictSpace>(std::move(ranges));
    AgentPtr sampler = make_agent(method, {space, {}, s.value("seed", std::uint64_t{0})});
    std::vector<json> next;
    for (const auto& c : configs)
      for (const auto& sug : sampler->ask(static_cast<std::size_t>(count))) {
        json n = c;
        for (const auto& [k, v] : sug.action.as_dict()) n[k] = to_json(v);
        next.push_back(std::move(n));
      }
    configs = std::move(next);
  }
  // Validate every configuration now, not halfway through the sweep.
  try {
    for (auto& c : configs) c = Params(entry.hyperparameters, c, "agent '" + id + "' hyperparameter").resolved();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
  return configs;
}

std::string csv(const json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

json TrialSpec::to_json() const {
  const RunConfig& r = run;
  return {{"id", id},          {"env_key", env_key},   {"agent_key", agent_key},     {"env", r.env_id},
          {"env_options", r.env_options}, {"reward", r.reward}, {"agent", r.agent_id},  {"hyperparameters", r.agent_options},
          {"seed", r.seed},    {"budget", r.budget},   {"wall_time_s", r.wall_time_s}, {"batch", r.batch},
          {"target", r.target}, {"objectives", r.objectives}, {"hv_reference", r.hv_reference}};
}

TrialSpec TrialSpec::from_json(const json& j) {
  TrialSpec t;
  t.id = j.at("id").get<std::string>();
  t.env_key = j.at("env_key").get<std::string>();
  t.agent_key = j.at("agent_key").get<std::string>();
  RunConfig& r = t.run;
  r.env_id = j.at("env").get<std::string>();
  r.env_options = j.at("env_options");
  r.reward = j.at("reward");
  r.agent_id = j.at("agent").get<std::string>();
  r.agent_options = j.at("hyperparameters");
  r.seed = j.at("seed").get<std::uint64_t>();
  r.budget = j.at("budget").get<std::int64_t>();
  r.wall_time_s = j.at("wall_time_s").get<double>();
  r.batch = j.at("batch").get<std::size_t>();
  r.target = j.at("target");
  r.objectives = j.at("objectives").get<std::vector<std::string>>();
  r.hv_reference = j.at("hv_reference");
  r.run_id = t.id;
  r.resume = true;
  return t;
}

std::vector<std::string> config_paths(const json& j, const char* key, const std::string& config_path) {
  std::vector<std::string> out;
  if (!j.is_object() || !j.contains(key)) return out;
  const json& list = j.at(key);
  if (!list.is_array()) throw InvalidArgument(config_path + "." + key + ": expected a list of file paths");
  const fs::path base = fs::path(config_path).parent_path();
  for (const auto& p : list) {
    if (!p.is_string() || p.get<std::string>().empty())
      throw InvalidArgument(config_path + "." + key + ": expected a list of file paths, got " + p.dump().substr(0, 80));
    const fs::path path = p.get<std::string>();
    out.push_back(path.is_relative() ? (base / path).lexically_normal().string() : path.string());
  }
  return out;
}

SweepConfig load_sweep(const std::string& path, std::size_t max_trials) {
  return parse_sweep(read_json_file(path, "sweep config"), path, max_trials);
}

namespace {

std::size_t sat_mul(std::size_t a, std::size_t b) {
  std::size_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

// An integer setting in [lo, hi], or an error naming it.
std::int64_t bounded_int(const json& v, std::int64_t lo, std::int64_t hi, const std::string& where) {
  if (!v.is_number() || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() < static_cast<double>(lo) ||
      v.get<double>() > static_cast<double>(hi))
    throw InvalidArgument(where + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + v.dump().substr(0, 80));
  return v.get<std::int64_t>();
}

// How many configurations an "agents" entry expands to, without expanding it.
std::size_t agent_config_count(const json& a, const std::string& where) {
  std::size_t n = 1;
  if (a.is_object() && a.contains("grid") && a.at("grid").is_object())
    for (auto it = a.at("grid").begin(); it != a.at("grid").end(); ++it) n = sat_mul(n, it.value().is_array() ? it.value().size() : 1);
  if (a.is_object() && a.contains("sample") && a.at("sample").is_object() && a.at("sample").contains("count"))
    n = sat_mul(n, static_cast<std::size_t>(
                       bounded_int(a.at("sample").at("count"), 1, static_cast<std::int64_t>(kMaxForcedTrials), where + ".sample.count")));
  return n;
}

}  // namespace

SweepConfig expand_sweep(const json& j, const std::string& where, std::size_t max_trials);

SweepConfig parse_sweep(const json& j, const std::string& where, std::size_t max_trials) {
  try {
    return expand_sweep(j, where, max_trials);
  } catch (const json::exception& e) {  // a field of the wrong type
    throw InvalidArgument(where + ": a field has the wrong type (" + excerpt(std::string_view(e.what()), 200) + ")");
  }
}

SweepConfig expand_sweep(const json& j, const std::string& where, std::size_t max_trials) {
  if (!j.is_object()) throw InvalidArgument(where + ": expected a sweep config object");
  check_keys(j, {"name", "envs", "agents", "seeds", "budget", "batch", "reward", "target", "objectives", "hv_reference", "parallel", "plugins",
                 "env_specs", "endpoints"},
            where);
  SweepConfig cfg;
  cfg.source = j;
  cfg.name = j.value("name", fs::path(where).stem().string());
  cfg.plugins = config_paths(j, "plugins", where);
  cfg.env_specs = config_paths(j, "env_specs", where);
  if (!j.contains("envs") || !j.at("envs").is_array() || j.at("envs").empty())
    throw InvalidArgument(where + ".envs: required non-empty list of {\"id\": ..., \"options\": {...}}");
  if (!j.contains("agents") || !j.at("agents").is_array() || j.at("agents").empty())
    throw InvalidArgument(where + ".agents: required non-empty list of {\"id\": ..., \"grid\"|\"sample\"|\"hyperparameters\": ...}");
  std::vector<std::uint64_t> seeds;
  if (!j.contains("seeds")) {
    seeds = {0};
  } else if (j.at("seeds").is_array()) {
    for (std::size_t i = 0; i < j.at("seeds").size(); ++i)
      seeds.push_back(static_cast<std::uint64_t>(bounded_int(j.at("seeds").at(i), 0, INT64_MAX / 2, where + ".seeds[" + std::to_string(i) + "]")));
  } else {
    check_keys(j.at("seeds"), {"count", "start"}, where + ".seeds");
    const std::int64_t count = j.at("seeds").contains("count")
                                   ? bounded_int(j.at("seeds").at("count"), 1, static_cast<std::int64_t>(kMaxForcedTrials), where + ".seeds.count")
                                   : 1;
    const std::int64_t start = j.at("seeds").contains("start") ? bounded_int(j.at("seeds").at("start"), 0, INT64_MAX / 2, where + ".seeds.start") : 0;
    for (std::int64_t i = 0; i < count; ++i) seeds.push_back(static_cast<std::uint64_t>(start + i));
  }
  std::size_t batch = 1;
  if (j.contains("batch")) batch = static_cast<std::size_t>(bounded_int(j.at("batch"), 1, 1 << 20, where + ".batch"));
  // Count the trials before expanding anything.
  std::size_t per_env = 0;
  for (std::size_t ai = 0; ai < j.at("agents").size(); ++ai)
    per_env = std::min(SIZE_MAX - 1, per_env + agent_config_count(j.at("agents")[ai], where + ".agents[" + std::to_string(ai) + "]"));
  const std::size_t total = sat_mul(sat_mul(j.at("envs").size(), per_env), seeds.size());
  if (total > max_trials)
    throw InvalidArgument(where + ": the config expands to " + (total == SIZE_MAX ? std::string("more than 2^64") : std::to_string(total)) +
                          " trials, more than the " + std::to_string(max_trials) + " allowed" +
                          (max_trials < kMaxForcedTrials ? "; pass --force to run up to " + std::to_string(kMaxForcedTrials) : std::string()));
  std::int64_t budget = 100;
  double wall = 0;
  if (j.contains("budget")) {
    const json& b = j.at("budget");
    if (b.is_number_integer()) {
      budget = b.get<std::int64_t>();
    } else {
      check_keys(b, {"evaluations", "wall_time_s"}, where + ".budget");
      budget = b.value("evaluations", std::int64_t{1} << 40);
      if (b.contains("wall_time_s")) {
        const json& w = b.at("wall_time_s");
        if (!w.is_number() || !(w.get<double>() > 0) || !std::isfinite(w.get<double>()))
          throw InvalidArgument(where + ".budget.wall_time_s: expected a positive number of seconds, got " + w.dump().substr(0, 80));
        wall = w.get<double>();
      }
      if (!b.contains("evaluations") && !b.contains("wall_time_s"))
        throw InvalidArgument(where + ".budget: give evaluations and/or wall_time_s");
    }
    if (budget < 1) throw InvalidArgument(where + ".budget.evaluations: must be at least 1");
  }
  if (j.contains("parallel")) {
    const json& p = j.at("parallel");
    check_keys(p, {"workers", "isolation", "timeout_s"}, where + ".parallel");
    if (p.contains("workers")) cfg.workers = static_cast<std::size_t>(bounded_int(p.at("workers"), 1, INT64_MAX, where + ".parallel.workers"));
    const std::string iso = p.value("isolation", "thread");
    if (iso != "thread" && iso != "process") throw InvalidArgument(where + ".parallel.isolation: '" + iso + "' is not valid; choices: thread, process");
    cfg.isolate = iso == "process";
    if (p.contains("timeout_s")) {
      const json& t = p.at("timeout_s");
      if (!t.is_number() || !(t.get<double>() > 0) || !std::isfinite(t.get<double>()))
        throw InvalidArgument(where + ".parallel.timeout_s: expected a positive number of seconds, got " + t.dump().substr(0, 80));
      cfg.timeout_s = t.get<double>();
    }
  }
  // A pool of `dsegym serve` endpoints for the envs marked "remote": a list
  // of "host:port", or "@FILE" with one per line (what the serve-pool
  // recipe writes). Sessions spread over the pool; a dead endpoint is skipped.
  std::string pool;
  if (j.contains("endpoints")) {
    std::vector<std::string> eps;
    const json& ep = j.at("endpoints");
    if (ep.is_string() && ep.get<std::string>().rfind("@", 0) == 0) {
      const std::string file = ep.get<std::string>().substr(1);
      std::ifstream f(file);
      if (!f) throw InvalidArgument(where + ".endpoints: cannot read " + file);
      for (std::string line; std::getline(f, line);)
        if (!line.empty() && line[0] != '#') eps.push_back(line);
    } else if (ep.is_array()) {
      eps = ep.get<std::vector<std::string>>();
    } else {
      throw InvalidArgument(where + ".endpoints: expected a list of \"host:port\" or \"@FILE\", got " + ep.dump());
    }
    if (eps.empty()) throw InvalidArgument(where + ".endpoints: no endpoints");
    for (const auto& e : eps) pool += (pool.empty() ? "" : ",") + e;
  }
  std::set<std::string> ids;
  for (std::size_t ei = 0; ei < j.at("envs").size(); ++ei) {
    const json& e = j.at("envs")[ei];
    const std::string ew = where + ".envs[" + std::to_string(ei) + "]";
    check_keys(e, {"id", "options", "reward", "remote"}, ew);
    if (!e.contains("id") || !e.at("id").is_string()) throw InvalidArgument(ew + ".id: required env id");
    const bool remote = e.value("remote", false);
    if (remote && pool.empty()) throw InvalidArgument(ew + ".remote: the sweep config has no \"endpoints\"");
    const std::string env_id = remote ? "remote://" + pool + "/" + e.at("id").get<std::string>() : e.at("id").get<std::string>();
    const json options = e.value("options", json::object());
    const json reward = e.contains("reward") ? e.at("reward") : j.value("reward", json());
    // Checks the id and options now (for a pool: that one endpoint answers),
    // then each agent's run settings against the env (reward, target, objectives, batch).
    const EnvPtr probe = make_env(env_registry(), env_id, options);
    const std::string env_key = e.at("id").get<std::string>() + (remote ? "-remote" : "") +
                                (options.empty() && reward.is_null() ? "" : "-" + hex8(options.dump() + reward.dump()));
    for (std::size_t ai = 0; ai < j.at("agents").size(); ++ai) {
      const json& a = j.at("agents")[ai];
      bool checked = false;
      for (const json& hp : agent_configs(a, where + ".agents[" + std::to_string(ai) + "]")) {
        const std::string agent_id = a.at("id").get<std::string>();
        const std::string agent_key = agent_id + "-" + hex8(hp.dump());
        for (auto seed : seeds) {
          TrialSpec t;
          t.env_key = env_key;
          t.agent_key = agent_key;
          t.id = env_key + "__" + agent_key + "__s" + std::to_string(seed);
          if (!ids.insert(t.id).second) continue;  // the same trial listed twice
          RunConfig& r = t.run;
          r.env_id = env_id;
          r.env_options = options;
          r.reward = reward;
          r.agent_id = agent_id;
          r.agent_options = hp;
          r.seed = seed;
          r.budget = budget;
          r.wall_time_s = wall;
          r.batch = batch;
          r.target = j.value("target", json());
          if (j.contains("objectives")) {
            if (!j.at("objectives").is_array()) throw InvalidArgument(where + ".objectives: expected a list of metric names");
            for (const auto& o : j.at("objectives")) {
              if (!o.is_string()) throw InvalidArgument(where + ".objectives: expected a list of metric names, got " + o.dump().substr(0, 80));
              r.objectives.push_back(o.get<std::string>());
            }
          }
          r.hv_reference = j.value("hv_reference", json::object());
          r.run_id = t.id;
          r.resume = true;
          if (!checked) {
            try {
              check_run_config(r, probe->spec());
            } catch (const InvalidArgument& e) {
              throw InvalidArgument(ew + " with agents[" + std::to_string(ai) + "] (" + agent_id + "): " + e.what());
            }
            checked = true;
          }
          cfg.trials.push_back(std::move(t));
        }
      }
    }
  }
  return cfg;
}

bool run_trial(const TrialSpec& trial, const std::string& trial_dir) {
  RunConfig rc = trial.run;
  rc.out_dir = trial_dir;
  json result = {{"trial", trial.id}};
  bool ok = true;
  try {
    const RunResult r = run_experiment(rc);
    result["status"] = "done";
    result["result"] = r.to_json();
  } catch (const IoError&) {
    throw;  // not the trial's fault: it stays resumable, with no result
  } catch (const InvalidArgument& e) {
    result["status"] = "failed";
    result["reason"] = e.what();
    result["config_error"] = true;  // the sweep as a whole exits nonzero
    ok = false;
  } catch (const std::exception& e) {
    result["status"] = "failed";
    result["reason"] = e.what();
    ok = false;
  }
  write_json_atomically(fs::path(trial_dir) / "result.json", result);
  return ok;
}

namespace {

// Runs a trial in a child process; returns its result.json (written by the
// child, or here when it crashed or timed out).
json run_trial_process(const TrialSpec& t, const fs::path& dir, const SweepConfig& cfg, const SweepOptions& opt) {
  const fs::path log = dir / "worker.log";
  ProcessSpec ps;
  ps.program = opt.self_exe;
  for (const auto& p : cfg.plugins) ps.args.insert(ps.args.end(), {"--plugin", p});
  for (const auto& e : cfg.env_specs) ps.args.insert(ps.args.end(), {"--env-spec", fs::absolute(e).string()});
  ps.args.insert(ps.args.end(), {"trial", dir.string()});
  ps.env[kSweepWorkerVar] = std::to_string(::getpid());  // the worker runs under this sweep's lock
  ps.stdout_path = ps.stderr_path = log.string();
  ps.timeout_s = cfg.timeout_s;
  const ProcessResult pr = run_process(ps);  // its own process group, so a timeout kills everything it started
  json result = read_json(dir / "result.json");
  if (!pr.timed_out && !pr.signalled && pr.code == kWorkerIoExit) {
    // Its log may not have been written either (the same full disk).
    std::ifstream lf(log);
    std::string text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.size() > 400) text = text.substr(text.size() - 400);
    for (char& c : text)
      if (c == '\n') c = ' ';
    throw IoError("the worker of trial " + dir.string() + " could not write its files" + (text.empty() ? " (nor its log)" : ": " + text));
  }
  if (pr.timed_out) {
    result = {{"trial", t.id}, {"status", "timeout"}, {"reason", "killed after the trial timeout of " + std::to_string(cfg.timeout_s) + " s"}};
  } else if (result.is_null() || pr.signalled) {
    std::string why = pr.signalled ? "worker " + pr.describe() : "worker exited with code " + std::to_string(pr.code) + " without a result";
    std::ifstream lf(log);
    std::string tail((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    if (tail.size() > 400) tail = tail.substr(tail.size() - 400);
    if (!tail.empty()) why += "; log: " + tail;
    result = {{"trial", t.id}, {"status", "failed"}, {"reason", why}};
  }
  write_json_atomically(dir / "result.json", result);
  return result;
}

}  // namespace

void prepare_sweep_dir(const SweepConfig& cfg, const std::string& out_dir) {
  const fs::path root(out_dir);
  fs::create_directories(root / "trials");
  json trials = json::array();
  for (const auto& t : cfg.trials) trials.push_back(t.to_json());
  const json sweep = {{"format", "dsegym-sweep"}, {"version", 1}, {"name", cfg.name}, {"config", cfg.source}, {"trials", trials}};
  const json old = read_json(root / "sweep.json");
  if (!old.is_null() && old.value("trials", json()) != trials)
    throw InvalidArgument(out_dir + " holds a different sweep (sweep.json differs); use another --out folder");
  write_json_atomically(root / "sweep.json", sweep);
}

void check_workers(std::size_t workers, bool allow_oversubscribe, const std::string& where) {
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t cap = kWorkersPerCore * cores;
  if (workers > cap && !allow_oversubscribe)
    throw InvalidArgument(where + ".parallel.workers: " + std::to_string(workers) + " is more than " + std::to_string(kWorkersPerCore) +
                          " per core (" + std::to_string(cap) + " on this machine); lower it or pass --allow-oversubscribe");
  if (workers > kMaxWorkers)
    throw InvalidArgument(where + ".parallel.workers: " + std::to_string(workers) + " is more than the " + std::to_string(kMaxWorkers) +
                          " a sweep runs at once");
}

SweepSummary run_sweep(const SweepConfig& cfg, const std::string& out_dir, const SweepOptions& opt) {
  const fs::path root(out_dir);
  check_workers(cfg.workers, opt.allow_oversubscribe, cfg.name);
  FolderLock lock(root / ".lock", "sweep folder " + out_dir, "another sweep");
  prepare_sweep_dir(cfg, out_dir);

  SweepSummary summary;
  summary.trials = cfg.trials.size();
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cfg.trials.size(); ++i) {
    const json r = read_json(root / "trials" / cfg.trials[i].id / "result.json");
    const std::string status = r.is_null() ? "" : r.value("status", "");
    if (!needs_run(status, opt.retry_failed))
      ++summary.skipped;
    else
      todo.push_back(i);
  }
  const auto start = std::chrono::steady_clock::now();
  Progress progress(static_cast<std::int64_t>(todo.size()), cfg.name, opt.progress);
  const bool log_lines = opt.progress && !Progress::stderr_is_terminal();
  std::mutex mu;
  std::size_t finished = 0;
  std::atomic<bool> io_failed{false};  // after a write failed (a full disk), start no more trials
  ThreadPool pool(cfg.workers - 1);
  pool.parallel_for(todo.size(), [&](std::size_t k) {
    if (io_failed) return;
    const TrialSpec& t = cfg.trials[todo[k]];
    const fs::path dir = root / "trials" / t.id;
    fs::create_directories(dir);
    write_json_atomically(dir / "trial.json", t.to_json());
    json r;
    try {
      if (cfg.isolate) {
        r = run_trial_process(t, dir, cfg, opt);
      } else {
        TrialSpec tt = t;
        if (cfg.timeout_s > 0 && (tt.run.wall_time_s == 0 || tt.run.wall_time_s > cfg.timeout_s)) tt.run.wall_time_s = cfg.timeout_s;
        run_trial(tt, dir.string());
        r = read_json(dir / "result.json");
        if (cfg.timeout_s > 0 && r.value("status", "") == "done" && r.at("result").contains("stopped") && tt.run.wall_time_s == cfg.timeout_s &&
            t.run.wall_time_s != cfg.timeout_s) {
          r["status"] = "timeout";
          r["reason"] = "stopped at the trial timeout of " + std::to_string(cfg.timeout_s) + " s";
          write_json_atomically(dir / "result.json", r);
        }
      }
    } catch (const IoError&) {
      io_failed = true;
      throw;
    }
    std::lock_guard<std::mutex> lock(mu);
    ++finished;
    const std::string status = r.value("status", "failed");
    if (r.value("config_error", false)) ++summary.config_errors;
    if (status == "done")
      ++summary.done;
    else if (status == "timeout")
      ++summary.timeout;
    else
      ++summary.failed;
    if (log_lines) {
      std::string what = status;
      if (status == "done" && r.at("result").contains("best") && !r.at("result").at("best").is_null())
        what += ", best reward " + r.at("result").at("best").at("reward").dump();
      if (status != "done") what += ": " + r.value("reason", "");
      std::cerr << "[" << finished << "/" << todo.size() << "] " << t.id << " " << what << "\n";
    }
    progress.update(static_cast<std::int64_t>(finished), std::to_string(summary.failed + summary.timeout) + " failed");
  });
  progress.finish();
  write_summary(out_dir);
  summary.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  summary.summary_csv = (root / "summary.csv").string();
  return summary;
}

bool needs_run(const std::string& status, bool retry_failed) {
  // A trial cancelled by a cluster was not at fault: it always runs again.
  return !(status == "done" || (!retry_failed && (status == "failed" || status == "timeout")));
}

void write_summary(const std::string& out_dir) {
  const fs::path root(out_dir);
  const json sweep = read_json(root / "sweep.json");
  if (sweep.is_null()) throw InvalidArgument(out_dir + ": no sweep.json; is this a sweep folder?");
  // Columns: hyperparameter and metric names over all trials.
  std::set<std::string> hps, metrics;
  std::vector<std::pair<json, json>> rows;
  for (const auto& t : sweep.at("trials")) {
    json r = read_json(root / "trials" / t.at("id").get<std::string>() / "result.json");
    for (auto it = t.at("hyperparameters").begin(); it != t.at("hyperparameters").end(); ++it) hps.insert(it.key());
    if (!r.is_null() && r.contains("result") && r.at("result").contains("best") && !r.at("result").at("best").is_null())
      for (auto it = r.at("result").at("best").at("metrics").begin(); it != r.at("result").at("best").at("metrics").end(); ++it)
        metrics.insert(it.key());
    rows.emplace_back(t, r);
  }
  // Hypervolumes comparable across trials: every trial's Pareto front against
  // one reference point, the sweep's hv_reference or else the worst front
  // value of each objective over all trials of the same env and objectives.
  std::map<std::string, std::vector<double>> group_ref;  // env key + objectives -> reference (minimised)
  std::vector<std::pair<std::string, std::vector<Point>>> fronts(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [t, r] = rows[i];
    if (r.is_null() || !r.contains("result") || r.at("result").value("pareto", json()).is_null()) continue;
    const json& pareto = r.at("result").at("pareto");
    const json run = read_json(root / "trials" / t.at("id").get<std::string>() / "run.json");
    std::vector<double> sign;
    for (const auto& name : pareto.at("objectives")) {
      double sg = 1.0;
      for (const auto& m : run.at("env_spec").at("metrics"))
        if (m.at("name") == name && m.at("goal") == "max") sg = -1.0;
      sign.push_back(sg);
    }
    const std::string key = t.at("env_key").get<std::string>() + pareto.at("objectives").dump();
    std::vector<Point> pts;
    for (const auto& f : pareto.at("front")) {
      Point p;
      std::size_t k = 0;
      for (const auto& name : pareto.at("objectives")) p.push_back(sign[k++] * f.at("metrics").at(name.get<std::string>()).get<double>());
      pts.push_back(p);
    }
    auto& ref = group_ref[key];
    if (ref.empty()) ref.assign(sign.size(), -std::numeric_limits<double>::infinity());
    const json& given = t.at("hv_reference");
    std::size_t k = 0;
    for (const auto& name : pareto.at("objectives")) {
      if (given.contains(name.get<std::string>())) {
        ref[k] = sign[k] * given.at(name.get<std::string>()).get<double>();
      } else {
        for (const auto& p : pts) ref[k] = std::max(ref[k], p[k]);
      }
      ++k;
    }
    fronts[i] = {key, std::move(pts)};
  }
  std::ostringstream f;
  // hypervolume: of the trial's Pareto front against the common reference above.
  f << "trial,env,agent,config,seed,status,reason,evaluations,best_reward,evaluations_to_target,hypervolume,wall_time_s";
  for (const auto& h : hps) f << "," << csv("hp." + h);
  for (const auto& m : metrics) f << "," << csv("best." + m);
  f << "\n";
  json out = json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& [t, r] = rows[i];
    const json res = r.is_null() ? json() : r.value("result", json());
    const std::string status = r.is_null() ? "pending" : r.value("status", "failed");
    const json best = res.is_null() ? json() : res.value("best", json());
    const json pareto = res.is_null() ? json() : res.value("pareto", json());
    std::vector<json> cells = {t.at("id"),
                               t.at("env_key"),
                               t.at("agent"),
                               t.at("agent_key"),
                               t.at("seed"),
                               status,
                               r.is_null() ? json() : r.value("reason", json()),
                               res.is_null() ? json() : res.value("evaluations", json()),
                               best.is_null() ? json() : best.at("reward"),
                               res.is_null() ? json() : res.value("evaluations_to_target", json()),
                               fronts[i].first.empty() ? json() : json(hypervolume(fronts[i].second, group_ref[fronts[i].first])),
                               res.is_null() ? json() : res.value("wall_time_s", json())};
    for (const auto& h : hps) cells.push_back(t.at("hyperparameters").value(h, json()));
    for (const auto& m : metrics) cells.push_back(best.is_null() ? json() : best.at("metrics").value(m, json()));
    for (std::size_t i = 0; i < cells.size(); ++i) f << (i ? "," : "") << csv(cells[i]);
    f << "\n";
    out.push_back({{"trial", t}, {"status", status}, {"result", r}});
  }
  write_file_atomically(root / "summary.csv", f.str());
  json refs = json::object();
  for (const auto& [k, v] : group_ref) refs[k] = v;
  write_json_atomically(root / "summary.json",
                        {{"name", sweep.value("name", "")}, {"hypervolume_reference_minimised", refs}, {"trials", out}});
}

}  // namespace dsegym
