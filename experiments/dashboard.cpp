#include "experiments/dashboard.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <thread>

#include "agents/pareto.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "experiments/svg_plot.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Designs per env drawn in parallel coordinates (evenly strided over all
// evaluations): more lines hide each other and slow the page.
constexpr std::size_t kParallelRows = 400;

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(); }

// A non-dominated set of (minimised) objective pairs with their designs.
struct FrontPoint {
  double a, b;  // minimised
  json metrics, action;
  std::int64_t step;
};

void insert_front(std::vector<FrontPoint>& front, FrontPoint p) {
  for (const auto& q : front)
    if (q.a <= p.a && q.b <= p.b) return;  // dominated or equal
  front.erase(std::remove_if(front.begin(), front.end(), [&](const FrontPoint& q) { return p.a <= q.a && p.b <= q.b; }), front.end());
  front.push_back(std::move(p));
}

}  // namespace

struct DashboardData::Trial {
  fs::path dir;
  std::string id, env_key, env, agent, agent_key;
  std::uint64_t seed = 0;
  std::int64_t budget = 0;
  json hyperparameters = json::object();
  std::vector<std::string> objectives;  // the sweep's or the run's; else the first two metrics with a goal
  bool is_run = false;                  // a run folder, not a sweep trial

  // From run.json once it exists.
  bool have_spec = false;
  json metric_specs = json::array();
  std::map<std::string, double> sign;  // +1 minimised, -1 maximised

  // From result.json once it exists.
  std::string status = "pending", reason;

  // From the trace, read incrementally.
  std::uintmax_t offset = 0;
  std::string partial;  // a line not yet ended
  std::vector<double> best_so_far;
  std::int64_t failed_rows = 0;
  std::vector<FrontPoint> front;
  std::vector<std::string> knobs;                       // action keys, in order
  std::vector<std::vector<std::string>> labels;         // per knob: text values seen
  std::vector<std::vector<double>> designs;             // per evaluation: knob values (label index for text), reward last

  double final_best() const { return best_so_far.empty() ? kNaN : best_so_far.back(); }

  void read_spec() {
    if (have_spec) return;
    const json run = read_json(dir / "run.json");
    if (run.is_null()) return;
    have_spec = true;
    metric_specs = run.at("env_spec").value("metrics", json::array());
    // A run's Pareto objectives as the runner resolved them (older run
    // folders: the first two metrics with a goal).
    if (is_run)
      for (const auto& o : run.value("objectives", json::array()))
        if (objectives.size() < 2 && o.is_string()) objectives.push_back(o.get<std::string>());
    for (const auto& m : metric_specs)
      if (m.value("goal", "") == "min" || m.value("goal", "") == "max") {
        sign[m.at("name").get<std::string>()] = m.at("goal") == "max" ? -1.0 : 1.0;
        if (objectives.size() < 2 && is_run) objectives.push_back(m.at("name").get<std::string>());
      }
    if (is_run) budget = run.value("budget", std::int64_t{0});
  }

  void read_result() {
    if (status == "done" || status == "failed") return;
    if (!is_run) {
      const json r = read_json(dir / "result.json");
      if (!r.is_null()) {
        status = r.value("status", "failed");
        reason = r.value("reason", "");
        return;
      }
    }
    if (!best_so_far.empty() || have_spec) status = is_run && budget > 0 && static_cast<std::int64_t>(best_so_far.size()) >= budget ? "done" : "running";
  }

  void add_row(const json& row) {
    const bool ok = row.value("status", "") == "ok";
    const json& r = row.contains("reward") ? row.at("reward") : json();
    const double reward = ok && r.is_number() ? r.get<double>() : kNaN;
    double best = best_so_far.empty() ? kNaN : best_so_far.back();
    if (std::isfinite(reward) && !(reward <= best)) best = reward;
    best_so_far.push_back(best);
    if (!ok) ++failed_rows;
    const json& action = row.contains("action") ? row.at("action") : json();
    if (!ok || !action.is_object()) return;
    if (knobs.empty())
      for (const auto& [k, v] : action.items()) {
        knobs.push_back(k);
        labels.emplace_back();
      }
    std::vector<double> d(knobs.size() + 1, kNaN);
    for (std::size_t i = 0; i < knobs.size(); ++i) {
      if (!action.contains(knobs[i])) continue;
      const json& v = action.at(knobs[i]);
      if (v.is_number()) {
        d[i] = v.get<double>();
      } else {
        const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        auto& l = labels[i];
        auto it = std::find(l.begin(), l.end(), s);
        d[i] = static_cast<double>(it - l.begin());
        if (it == l.end()) l.push_back(s);
      }
    }
    d.back() = reward;
    designs.push_back(std::move(d));
    if (objectives.size() >= 2 && row.contains("metrics")) {
      const json& m = row.at("metrics");
      const auto& o0 = objectives[0];
      const auto& o1 = objectives[1];
      if (m.contains(o0) && m.contains(o1) && m.at(o0).is_number() && m.at(o1).is_number() && sign.count(o0) && sign.count(o1))
        insert_front(front, {sign.at(o0) * m.at(o0).get<double>(), sign.at(o1) * m.at(o1).get<double>(), m, action,
                             row.value("step", std::int64_t{0})});
    }
  }

  // Reads what was appended to the trace since the last call.
  void read_trace() {
    const fs::path path = dir / "trace.jsonl";
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec || size <= offset) return;
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    std::string chunk(static_cast<std::size_t>(size - offset), '\0');
    f.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    chunk.resize(static_cast<std::size_t>(f.gcount()));
    offset += chunk.size();
    partial += chunk;
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl == start) continue;
      json row = json::parse(partial.begin() + static_cast<std::ptrdiff_t>(start), partial.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
      if (!row.is_discarded()) add_row(row);  // a malformed row is skipped here; `dsegym report` names it
    }
    partial.erase(0, start);
  }

  void refresh() {
    read_spec();
    read_trace();
    read_result();
  }
};

struct DashboardData::Folder {
  fs::path path;
  std::string name;
  bool is_run = false;
  bool listed = false;  // trials known (a sweep's sweep.json read)
  std::vector<std::unique_ptr<Trial>> trials;

  void list_trials() {
    if (listed) return;
    if (is_run) {
      auto t = std::make_unique<Trial>();
      t->dir = path;
      t->id = "run";
      t->is_run = true;
      const json run = read_json(path / "run.json");
      if (run.is_null()) return;
      t->env = t->env_key = run.value("env", "");
      t->agent = t->agent_key = run.value("agent", "");
      t->seed = run.value("seed", std::uint64_t{0});
      t->hyperparameters = run.value("hyperparameters", json::object());
      trials.push_back(std::move(t));
      listed = true;
      return;
    }
    const json sweep = read_json(path / "sweep.json");
    if (sweep.is_null()) return;
    name = sweep.value("name", name);
    for (const auto& s : sweep.at("trials")) {
      auto t = std::make_unique<Trial>();
      t->id = s.at("id").get<std::string>();
      t->dir = path / "trials" / t->id;
      t->env_key = s.at("env_key").get<std::string>();
      t->env = s.at("env").get<std::string>();
      t->agent = s.at("agent").get<std::string>();
      t->agent_key = s.at("agent_key").get<std::string>();
      t->seed = s.at("seed").get<std::uint64_t>();
      t->budget = s.value("budget", std::int64_t{0});
      t->hyperparameters = s.value("hyperparameters", json::object());
      for (const auto& o : s.value("objectives", json::array()))
        if (t->objectives.size() < 2) t->objectives.push_back(o.get<std::string>());
      trials.push_back(std::move(t));
    }
    listed = true;
  }
};

DashboardData::DashboardData(std::vector<std::string> folders) : pool_(std::max(1u, std::thread::hardware_concurrency()) - 1) {
  if (folders.empty()) throw InvalidArgument("dashboard: give at least one sweep or run folder");
  for (const auto& f : folders) {
    auto folder = std::make_unique<Folder>();
    folder->path = f;
    folder->name = fs::path(f).lexically_normal().filename().string();
    if (folder->name.empty()) folder->name = f;
    if (!fs::is_directory(f)) throw InvalidArgument("dashboard: " + f + " is not a folder; give the --out folder of a `dsegym sweep` or `dsegym run`");
    if (fs::exists(fs::path(f) / "sweep.json"))
      folder->is_run = false;
    else if (fs::exists(fs::path(f) / "run.json"))
      folder->is_run = true;
    else
      throw InvalidArgument("dashboard: " + f + " has neither sweep.json nor run.json; give the --out folder of a `dsegym sweep` or `dsegym run`");
    folders_.push_back(std::move(folder));
  }
}

DashboardData::~DashboardData() = default;

void DashboardData::refresh() {
  std::vector<Trial*> all;
  for (auto& f : folders_) {
    f->list_trials();
    for (auto& t : f->trials) all.push_back(t.get());
  }
  // Trials are independent: the first refresh of a large sweep parses
  // every trace, on every core.
  pool_.parallel_for(all.size(), [&](std::size_t i) { all[i]->refresh(); });
}

json DashboardData::env_state(const std::string& env_key, const std::vector<const Trial*>& trials) const {
  json env = {{"key", env_key}, {"env", trials.front()->env}};
  // Units and goals of the metrics, from the first trial that has them.
  for (const auto* t : trials)
    if (t->have_spec) {
      env["metrics"] = t->metric_specs;
      break;
    }

  // agent -> configuration -> trials
  std::map<std::string, std::map<std::string, std::vector<const Trial*>>> groups;
  for (const auto* t : trials) groups[t->agent][t->agent_key].push_back(t);
  json curves = json::array(), lottery = json::array(), fronts = json::array();
  for (const auto& [agent, cfgs] : groups) {
    std::string best_cfg;
    double best_median = -std::numeric_limits<double>::infinity();
    std::vector<double> medians;
    for (const auto& [cfg, ts] : cfgs) {
      std::vector<double> finals;
      for (const auto* t : ts)
        if (std::isfinite(t->final_best())) finals.push_back(t->final_best());
      const double med = quantile(finals, 0.5);
      if (!std::isfinite(med)) continue;
      medians.push_back(med);
      if (med > best_median) {
        best_median = med;
        best_cfg = cfg;
      }
    }
    if (!medians.empty())
      lottery.push_back({{"agent", agent},
                         {"configurations", medians.size()},
                         {"min", quantile(medians, 0)},
                         {"q1", quantile(medians, 0.25)},
                         {"median", quantile(medians, 0.5)},
                         {"q3", quantile(medians, 0.75)},
                         {"max", quantile(medians, 1)}});
    if (!best_cfg.empty()) {
      const auto& ts = cfgs.at(best_cfg);
      std::size_t len = 0;
      for (const auto* t : ts) len = std::max(len, t->best_so_far.size());
      std::size_t seeds = 0;
      for (const auto* t : ts) seeds += t->best_so_far.empty() ? 0 : 1;
      json med = json::array(), lo = json::array(), hi = json::array();
      std::vector<double> v;
      for (std::size_t k = 0; k < len; ++k) {
        v.clear();
        for (const auto* t : ts)
          if (k < t->best_so_far.size() && std::isfinite(t->best_so_far[k])) v.push_back(t->best_so_far[k]);
        med.push_back(finite_or_null(quantile(v, 0.5)));
        lo.push_back(finite_or_null(quantile(v, 0.25)));
        hi.push_back(finite_or_null(quantile(v, 0.75)));
      }
      curves.push_back({{"agent", agent},
                        {"configuration", best_cfg},
                        {"hyperparameters", ts.front()->hyperparameters},
                        {"seeds", seeds},
                        {"median", med},
                        {"q1", lo},
                        {"q3", hi}});
    }
    // The agent's Pareto front over all its trials.
    std::vector<FrontPoint> front;
    for (const auto& [cfg, ts] : cfgs)
      for (const auto* t : ts)
        for (const auto& p : t->front) insert_front(front, p);
    if (!front.empty()) {
      std::sort(front.begin(), front.end(), [](const FrontPoint& a, const FrontPoint& b) { return a.a < b.a; });
      json pts = json::array();
      const auto& o = trials.front()->objectives;
      for (const auto& p : front)
        pts.push_back({{"x", p.metrics.at(o[0])}, {"y", p.metrics.at(o[1])}, {"action", p.action}, {"step", p.step}});
      fronts.push_back({{"agent", agent}, {"points", pts}});
    }
  }
  env["curves"] = curves;
  env["lottery"] = lottery;
  const auto& objectives = trials.front()->objectives;
  if (objectives.size() >= 2) env["pareto"] = {{"objectives", objectives}, {"fronts", fronts}};

  // Parallel coordinates: the knobs (text values as their labels, in the
  // order first seen) and the reward, for designs strided over every
  // evaluation of the env.
  std::vector<std::string> knobs;
  for (const auto* t : trials)
    if (!t->knobs.empty()) {
      knobs = t->knobs;
      break;
    }
  if (!knobs.empty()) {
    std::vector<std::vector<std::string>> labels(knobs.size());
    std::vector<std::pair<const Trial*, std::size_t>> all;
    for (const auto* t : trials) {
      if (t->knobs != knobs) continue;  // another action space (cannot happen within an env key)
      for (std::size_t i = 0; i < knobs.size(); ++i)
        for (const auto& l : t->labels[i])
          if (std::find(labels[i].begin(), labels[i].end(), l) == labels[i].end()) labels[i].push_back(l);
      for (std::size_t r = 0; r < t->designs.size(); ++r) all.emplace_back(t, r);
    }
    json axes = json::array();
    for (std::size_t i = 0; i < knobs.size(); ++i) axes.push_back({{"name", knobs[i]}, {"labels", labels[i]}});
    json rows = json::array();
    const std::size_t stride = std::max<std::size_t>(1, (all.size() + kParallelRows - 1) / kParallelRows);
    for (std::size_t k = 0; k < all.size(); k += stride) {
      const auto& [t, r] = all[k];
      const auto& d = t->designs[r];
      json row = json::array();
      for (std::size_t i = 0; i < knobs.size(); ++i) {
        if (t->labels[i].empty() || !std::isfinite(d[i])) {
          row.push_back(finite_or_null(d[i]));
          continue;
        }
        const auto& l = t->labels[i][static_cast<std::size_t>(d[i])];
        row.push_back(std::find(labels[i].begin(), labels[i].end(), l) - labels[i].begin());
      }
      row.push_back(finite_or_null(d.back()));
      rows.push_back(std::move(row));
    }
    env["parallel"] = {{"axes", axes}, {"rows", rows}, {"of", all.size()}};
  }
  return env;
}

json DashboardData::state() {
  std::lock_guard<std::mutex> lock(mu_);
  refresh();
  json out = {{"folders", json::array()}};
  std::int64_t done_evals = 0, remaining_evals = 0;
  for (std::size_t fi = 0; fi < folders_.size(); ++fi) {
    const auto& f = *folders_[fi];
    json folder = {{"index", fi}, {"name", f.name}, {"path", f.path.string()}, {"kind", f.is_run ? "run" : "sweep"}};
    json trials = json::array();
    std::map<std::string, std::vector<const Trial*>> by_env;
    std::map<std::string, std::map<std::string, std::int64_t>> counts;  // env -> status -> trials
    for (const auto& t : f.trials) {
      by_env[t->env_key].push_back(t.get());
      ++counts[t->env_key][t->status];
      const auto n = static_cast<std::int64_t>(t->best_so_far.size());
      done_evals += n;
      if (t->status == "pending" || t->status == "running") remaining_evals += std::max<std::int64_t>(0, t->budget - n);
      trials.push_back({{"id", t->id},
                        {"env_key", t->env_key},
                        {"agent", t->agent},
                        {"configuration", t->agent_key},
                        {"hyperparameters", t->hyperparameters},
                        {"seed", t->seed},
                        {"status", t->status},
                        {"reason", t->reason},
                        {"evaluations", n},
                        {"failed_evaluations", t->failed_rows},
                        {"budget", t->budget},
                        {"best", finite_or_null(t->final_best())}});
    }
    folder["trials"] = trials;
    json envs = json::array();
    for (const auto& [key, ts] : by_env) {
      json e = env_state(key, ts);
      e["counts"] = counts[key];
      e["trials"] = ts.size();
      envs.push_back(std::move(e));
    }
    folder["envs"] = envs;
    out["folders"].push_back(std::move(folder));
  }
  // ETA from the evaluation rate over the last minute the dashboard watched.
  const auto now = std::chrono::steady_clock::now();
  progress_.emplace_back(now, done_evals);
  while (progress_.size() > 2 && now - progress_.front().first > std::chrono::seconds(60)) progress_.erase(progress_.begin());
  const double dt = std::chrono::duration<double>(now - progress_.front().first).count();
  const double rate = dt > 0 ? static_cast<double>(done_evals - progress_.front().second) / dt : 0.0;
  out["evaluations"] = done_evals;
  out["remaining_evaluations"] = remaining_evals;
  out["evaluations_per_s"] = rate;
  out["eta_s"] = rate > 0 && remaining_evals > 0 ? json(static_cast<double>(remaining_evals) / rate) : json();
  return out;
}

json DashboardData::trial(std::size_t folder, const std::string& id) {
  fs::path dir;
  json metrics;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (folder >= folders_.size())
      throw InvalidArgument("dashboard: folder " + std::to_string(folder) + " does not exist; valid: 0.." + std::to_string(folders_.size() - 1));
    for (const auto& t : folders_[folder]->trials)
      if (t->id == id) {
        dir = t->dir;
        metrics = t->metric_specs;
      }
    if (dir.empty()) throw InvalidArgument("dashboard: folder " + std::to_string(folder) + " has no trial '" + id + "'");
  }
  json rows = json::array();
  std::ifstream f(dir / "trace.jsonl");
  for (std::string line; std::getline(f, line);) {
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) continue;  // a line being written
    rows.push_back({{"step", row.value("step", std::int64_t{0})},
                    {"status", row.value("status", "")},
                    {"reason", row.value("reason", "")},
                    {"reward", row.contains("reward") ? row.at("reward") : json()},
                    {"metrics", row.value("metrics", json::object())},
                    {"action", row.value("action", json::object())},
                    {"wall_time_s", row.value("wall_time_s", 0.0)}});
  }
  return {{"folder", folder}, {"id", id}, {"metrics", metrics}, {"rows", rows}};
}

std::string chart_js() {
  const std::string p = "/usr/share/javascript/chart.js/chart.min.js";
  std::ifstream f(p, std::ios::binary);
  if (!f) throw InvalidArgument("dashboard: " + p + " is missing; install Debian's libjs-chart.js (scripts/setup.sh does)");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace dsegym
