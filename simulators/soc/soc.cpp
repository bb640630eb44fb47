#include "simulators/soc/soc.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <functional>
#include <queue>

#include <nlohmann/json.hpp>

#include "envs/core/error.hpp"
#include "envs/core/params.hpp"
#include "envs/core/rng.hpp"

namespace dsegym::soc {

using nlohmann::json;

// ------------------------------------------------------------------ data

int Soc::num_pes() const {
  int n = 0;
  for (const auto& t : types) n += t.count;
  return n;
}

int Soc::type_of(int pe) const {
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (pe < types[i].count) return static_cast<int>(i);
    pe -= types[i].count;
  }
  return -1;
}

double Soc::exec_time(int type, const std::string& task_type) const {
  const auto& e = types[static_cast<std::size_t>(type)].exec;
  auto it = e.find(task_type);
  return it == e.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

double Soc::comm_time(double volume, int a, int b) const {
  if (volume <= 0) return 0;
  if (a == b) return bw_same > 0 ? volume / bw_same : 0;
  auto it = bw_pairs.find({type_of(a), type_of(b)});
  if (it == bw_pairs.end()) it = bw_pairs.find({type_of(b), type_of(a)});
  const double bw = it != bw_pairs.end() ? it->second : bw_default;
  return volume / bw;
}

namespace {

std::string data_dir() {
  if (const char* env = std::getenv("DSEGYM_DATA")) return std::string(env) + "/soc";
  return std::string(DSEGYM_SOURCE_DIR) + "/data/soc";
}

json read(const std::string& path, const char* what) {
  std::ifstream f(path);
  if (!f) throw InvalidArgument(std::string(what) + " " + path + ": cannot open file");
  json j = json::parse(f, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InvalidArgument(std::string(what) + " " + path + ": not a JSON object");
  return j;
}

}  // namespace

App load_app(const std::string& path) {
  const json j = read(path, "application");
  check_keys(j, {"name", "source", "time_unit", "tasks", "edges"}, path);
  App a;
  a.name = j.value("name", std::filesystem::path(path).stem().string());
  a.source = j.value("source", "");
  if (!j.contains("tasks") || !j.at("tasks").is_array() || j.at("tasks").empty())
    throw InvalidArgument(path + ".tasks: expected a non-empty list of {\"name\", \"type\"}");
  for (std::size_t i = 0; i < j.at("tasks").size(); ++i) {
    const json& t = j.at("tasks")[i];
    check_keys(t, {"name", "type"}, path + ".tasks[" + std::to_string(i) + "]");
    a.task_names.push_back(t.value("name", "task" + std::to_string(i)));
    a.task_types.push_back(t.value("type", a.task_names.back()));
  }
  const int n = static_cast<int>(a.task_types.size());
  a.preds.resize(static_cast<std::size_t>(n));
  a.succs.resize(static_cast<std::size_t>(n));
  const json edges = j.value("edges", json::array());
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const json& e = edges[i];
    const std::string where = path + ".edges[" + std::to_string(i) + "]";
    check_keys(e, {"from", "to", "volume"}, where);
    const int from = e.value("from", -1), to = e.value("to", -1);
    if (from < 0 || from >= n || to < 0 || to >= n || from == to)
      throw InvalidArgument(where + ": 'from' and 'to' must be distinct task indices in 0.." + std::to_string(n - 1));
    const double v = e.value("volume", 0.0);
    a.preds[static_cast<std::size_t>(to)].emplace_back(from, v);
    a.succs[static_cast<std::size_t>(from)].emplace_back(to, v);
  }
  // Reject cycles: Kahn's algorithm must visit every task.
  std::vector<int> indeg(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) indeg[static_cast<std::size_t>(i)] = static_cast<int>(a.preds[static_cast<std::size_t>(i)].size());
  std::vector<int> q;
  for (int i = 0; i < n; ++i)
    if (indeg[static_cast<std::size_t>(i)] == 0) q.push_back(i);
  for (std::size_t k = 0; k < q.size(); ++k)
    for (auto [s, v] : a.succs[static_cast<std::size_t>(q[k])])
      if (--indeg[static_cast<std::size_t>(s)] == 0) q.push_back(s);
  if (static_cast<int>(q.size()) != n) throw InvalidArgument(path + ".edges: the task graph has a cycle");
  return a;
}

Soc load_soc(const std::string& path) {
  const json j = read(path, "SoC");
  check_keys(j, {"name", "source", "time_unit", "pe_types", "bandwidth"}, path);
  Soc s;
  s.name = j.value("name", std::filesystem::path(path).stem().string());
  s.source = j.value("source", "");
  if (!j.contains("pe_types") || !j.at("pe_types").is_array() || j.at("pe_types").empty())
    throw InvalidArgument(path + ".pe_types: expected a non-empty list");
  for (std::size_t i = 0; i < j.at("pe_types").size(); ++i) {
    const json& p = j.at("pe_types")[i];
    const std::string where = path + ".pe_types[" + std::to_string(i) + "]";
    check_keys(p, {"name", "count", "active_power_w", "exec"}, where);
    PeType t;
    t.name = p.value("name", "PE" + std::to_string(i));
    t.count = p.value("count", 1);
    if (t.count < 0) throw InvalidArgument(where + ".count: must not be negative");
    t.active_power_w = p.value("active_power_w", 0.0);
    const json exec = p.value("exec", json::object());
    for (auto it = exec.begin(); it != exec.end(); ++it) {
      if (!it.value().is_number() || it.value().get<double>() < 0)
        throw InvalidArgument(where + ".exec." + it.key() + ": expected a non-negative time, got " + it.value().dump());
      t.exec[it.key()] = it.value().get<double>();
    }
    s.types.push_back(std::move(t));
  }
  const json bw = j.value("bandwidth", json::object());
  check_keys(bw, {"same_pe", "default", "pairs"}, path + ".bandwidth");
  s.bw_same = bw.value("same_pe", 0.0);
  s.bw_default = bw.value("default", 1.0);
  if (!(s.bw_default > 0)) throw InvalidArgument(path + ".bandwidth.default: must be positive");
  for (const auto& p : bw.value("pairs", json::array())) {
    int a = -1, b = -1;
    for (std::size_t i = 0; i < s.types.size(); ++i) {
      if (s.types[i].name == p.value("from", "")) a = static_cast<int>(i);
      if (s.types[i].name == p.value("to", "")) b = static_cast<int>(i);
    }
    if (a < 0 || b < 0) throw InvalidArgument(path + ".bandwidth.pairs: unknown PE type in " + p.dump());
    s.bw_pairs[{a, b}] = p.value("value", 1.0);
  }
  return s;
}

std::vector<std::string> builtin_apps() { return {"wifi_tx", "wifi_rx", "range_detection", "sc_tx", "sc_rx", "topcuoglu"}; }
std::vector<std::string> builtin_socs() { return {"ds3_multiple_bal", "topcuoglu_3p"}; }

namespace {
template <class F>
auto resolve(const std::string& name, const std::vector<std::string>& builtins, const std::string& folder, const char* what, F load) {
  for (const auto& b : builtins)
    if (b == name) return load(data_dir() + "/" + folder + "/" + b + ".json");
  if (std::filesystem::exists(name)) return load(name);
  std::string list;
  for (const auto& b : builtins) list += (list.empty() ? "" : ", ") + b;
  throw InvalidArgument(std::string(what) + " '" + name + "' is neither a built-in name (" + list + ") nor an existing file");
}
}  // namespace

App resolve_app(const std::string& n) { return resolve(n, builtin_apps(), "apps", "application", load_app); }
Soc resolve_soc(const std::string& n) { return resolve(n, builtin_socs(), "socs", "SoC", load_soc); }

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> v = {"met", "etf", "heft", "random", "rr"};
  return v;
}

Policy policy_from_name(const std::string& name) {
  const auto& v = policy_names();
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == name) return static_cast<Policy>(i);
  throw InvalidArgument("scheduler '" + name + "' is not valid; choices: met, etf, heft, random, rr");
}

// ------------------------------------------------------------------ engine

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct TaskState {
  int pe = -1;
  int waiting = 0;  // unfinished predecessors
  bool ready = false, assigned = false, done = false;
  double planned_start = 0;  // order on its PE
  double finish = 0;
};

struct Job {
  int app = 0;
  double arrival = 0;
  std::vector<TaskState> tasks;
  int left = 0;
};

struct Pe {
  std::vector<std::pair<double, std::pair<int, int>>> queue;  // (planned start, (job, task)), sorted
  bool busy = false;
  double avail_estimate = 0;  // when its queued work (at mean times) should end
  double busy_time = 0;
  std::vector<std::pair<double, double>> plan;  // HEFT planned intervals, sorted by start
};

class Engine {
public:
  Engine(const Soc& s, const Workload& w, Policy p) : s_(s), w_(w), policy_(p), rng_(w.seed) {
    if (w.mix.empty()) throw InvalidArgument("workload: no applications");
    for (const auto& [app, weight] : w.mix) {
      if (!(weight > 0)) throw InvalidArgument("workload: application '" + app.name + "' needs a positive weight");
      for (std::size_t t = 0; t < app.task_types.size(); ++t) {
        bool ok = false;
        for (std::size_t k = 0; k < s.types.size(); ++k) ok = ok || (s.types[k].count > 0 && !std::isnan(s.exec_time(static_cast<int>(k), app.task_types[t])));
        if (!ok) throw InvalidArgument("application '" + app.name + "': task '" + app.task_names[t] + "' (" + app.task_types[t] + ") runs on no PE of SoC '" + s.name + "'");
      }
    }
    pes_.resize(static_cast<std::size_t>(s.num_pes()));
  }

  Result run();

private:
  const App& app(const Job& j) const { return w_.mix[static_cast<std::size_t>(j.app)].first; }
  double mean_exec(int pe, const std::string& type) const { return s_.exec_time(s_.type_of(pe), type); }
  bool supports(int pe, const std::string& type) const { return !std::isnan(mean_exec(pe, type)); }

  // When task t of job j could start on pe: data from every predecessor.
  double data_ready(int j, int t, int pe) const {
    const Job& job = jobs_[static_cast<std::size_t>(j)];
    double r = job.arrival;
    for (auto [p, vol] : app(job).preds[static_cast<std::size_t>(t)]) {
      const TaskState& ps = job.tasks[static_cast<std::size_t>(p)];
      r = std::max(r, ps.finish + s_.comm_time(vol, ps.pe, pe));
    }
    return r;
  }

  void enqueue(int j, int t, int pe, double planned) {
    TaskState& ts = jobs_[static_cast<std::size_t>(j)].tasks[static_cast<std::size_t>(t)];
    ts.pe = pe;
    ts.assigned = true;
    ts.planned_start = planned;
    auto& q = pes_[static_cast<std::size_t>(pe)].queue;
    const auto item = std::make_pair(planned, std::make_pair(j, t));
    q.insert(std::upper_bound(q.begin(), q.end(), item, [](const auto& a, const auto& b) { return a.first < b.first; }), item);
  }

  void assign_dynamic(double now);
  void plan_heft(int j, double now);
  void try_start(double now);
  double noisy(double mean) {
    if (w_.noise <= 0 || mean <= 0) return mean;
    return mean * std::max(0.05, 1.0 + w_.noise * rng_.normal());
  }

  const Soc& s_;
  const Workload& w_;
  Policy policy_;
  Rng rng_;
  std::vector<Job> jobs_;
  std::vector<Pe> pes_;
  std::vector<std::pair<int, int>> ready_;  // ready, unassigned (dynamic policies)
  int rr_next_ = 0;
  struct Event {
    double time;
    int kind;  // 0 arrival, 1 finish, 2 wake
    int job, task;
    bool operator>(const Event& o) const { return time > o.time || (time == o.time && kind > o.kind); }
  };
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  Result result_;
};

void Engine::assign_dynamic(double now) {
  if (ready_.empty()) return;
  auto est_finish = [&](int j, int t, int pe) {
    const std::string& type = app(jobs_[static_cast<std::size_t>(j)]).task_types[static_cast<std::size_t>(t)];
    return std::max({now, pes_[static_cast<std::size_t>(pe)].avail_estimate, data_ready(j, t, pe)}) + mean_exec(pe, type);
  };
  auto commit = [&](int j, int t, int pe) {
    Pe& p = pes_[static_cast<std::size_t>(pe)];
    const double finish = est_finish(j, t, pe);
    enqueue(j, t, pe, std::max(now, p.avail_estimate));
    p.avail_estimate = finish;
  };
  if (policy_ == Policy::ETF) {
    // Repeatedly commit the (task, PE) pair that finishes earliest.
    while (!ready_.empty()) {
      double best = kInf;
      std::size_t bi = 0;
      int bpe = -1;
      for (std::size_t i = 0; i < ready_.size(); ++i)
        for (int pe = 0; pe < static_cast<int>(pes_.size()); ++pe) {
          const auto [j, t] = ready_[i];
          if (!supports(pe, app(jobs_[static_cast<std::size_t>(j)]).task_types[static_cast<std::size_t>(t)])) continue;
          const double f = est_finish(j, t, pe);
          if (f < best) {
            best = f;
            bi = i;
            bpe = pe;
          }
        }
      commit(ready_[bi].first, ready_[bi].second, bpe);
      ready_.erase(ready_.begin() + static_cast<std::ptrdiff_t>(bi));
    }
    return;
  }
  for (const auto& [j, t] : ready_) {
    const std::string& type = app(jobs_[static_cast<std::size_t>(j)]).task_types[static_cast<std::size_t>(t)];
    std::vector<int> ok;
    for (int pe = 0; pe < static_cast<int>(pes_.size()); ++pe)
      if (supports(pe, type)) ok.push_back(pe);
    int chosen = ok.front();
    switch (policy_) {
      case Policy::MET: {
        // The fastest PE type; of its instances the one free first.
        double best_exec = kInf, best_avail = kInf;
        for (int pe : ok) {
          const double e = mean_exec(pe, type), a = pes_[static_cast<std::size_t>(pe)].avail_estimate;
          if (e < best_exec || (e == best_exec && a < best_avail)) {
            best_exec = e;
            best_avail = a;
            chosen = pe;
          }
        }
        break;
      }
      case Policy::Random: chosen = ok[rng_.below(ok.size())]; break;
      case Policy::RoundRobin: {
        chosen = ok.front();
        for (int pe : ok)
          if (pe >= rr_next_) {
            chosen = pe;
            break;
          }
        rr_next_ = chosen + 1;
        break;
      }
      default: break;
    }
    commit(j, t, chosen);
  }
  ready_.clear();
}

void Engine::plan_heft(int j, double now) {
  Job& job = jobs_[static_cast<std::size_t>(j)];
  const App& a = app(job);
  const int n = static_cast<int>(a.task_types.size());
  // Upward ranks with mean execution time over supporting PEs and mean
  // communication cost between different PEs (Topcuoglu et al. 2002, eq. 3-5).
  std::vector<double> wbar(static_cast<std::size_t>(n)), rank(static_cast<std::size_t>(n), -1);
  for (int t = 0; t < n; ++t) {
    double sum = 0;
    int cnt = 0;
    for (int pe = 0; pe < static_cast<int>(pes_.size()); ++pe)
      if (supports(pe, a.task_types[static_cast<std::size_t>(t)])) {
        sum += mean_exec(pe, a.task_types[static_cast<std::size_t>(t)]);
        ++cnt;
      }
    wbar[static_cast<std::size_t>(t)] = sum / cnt;
  }
  std::function<double(int)> up = [&](int t) {
    double& r = rank[static_cast<std::size_t>(t)];
    if (r >= 0) return r;
    double m = 0;
    for (auto [s, vol] : a.succs[static_cast<std::size_t>(t)]) m = std::max(m, vol / s_.bw_default + up(s));
    return r = wbar[static_cast<std::size_t>(t)] + m;
  };
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int t = 0; t < n; ++t) up(t);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return rank[static_cast<std::size_t>(x)] > rank[static_cast<std::size_t>(y)]; });
  // Insertion-based earliest finish time on each PE.
  std::vector<double> planned_finish(static_cast<std::size_t>(n), 0);
  for (int t : order) {
    const std::string& type = a.task_types[static_cast<std::size_t>(t)];
    double best_eft = kInf, best_est = 0;
    int best_pe = -1;
    for (int pe = 0; pe < static_cast<int>(pes_.size()); ++pe) {
      if (!supports(pe, type)) continue;
      double ready = std::max(now, job.arrival);
      for (auto [p, vol] : a.preds[static_cast<std::size_t>(t)])
        ready = std::max(ready, planned_finish[static_cast<std::size_t>(p)] + s_.comm_time(vol, job.tasks[static_cast<std::size_t>(p)].pe, pe));
      const double w = mean_exec(pe, type);
      double est = ready;
      for (const auto& [s, f] : pes_[static_cast<std::size_t>(pe)].plan) {
        if (est + w <= s) break;
        est = std::max(est, f);
      }
      if (est + w < best_eft) {
        best_eft = est + w;
        best_est = est;
        best_pe = pe;
      }
    }
    auto& plan = pes_[static_cast<std::size_t>(best_pe)].plan;
    plan.insert(std::upper_bound(plan.begin(), plan.end(), std::make_pair(best_est, best_eft)), {best_est, best_eft});
    planned_finish[static_cast<std::size_t>(t)] = best_eft;
    job.tasks[static_cast<std::size_t>(t)].pe = best_pe;  // for the successors' communication estimates
    enqueue(j, t, best_pe, best_est);
  }
}

void Engine::try_start(double now) {
  for (int pe = 0; pe < static_cast<int>(pes_.size()); ++pe) {
    Pe& p = pes_[static_cast<std::size_t>(pe)];
    if (p.busy || p.queue.empty()) continue;
    const auto [j, t] = p.queue.front().second;
    Job& job = jobs_[static_cast<std::size_t>(j)];
    if (job.tasks[static_cast<std::size_t>(t)].waiting > 0) continue;  // its inputs are not computed yet
    const double start = data_ready(j, t, pe);
    if (start > now) {
      events_.push({start, 2, j, t});
      continue;
    }
    p.queue.erase(p.queue.begin());
    p.busy = true;
    const double dur = noisy(mean_exec(pe, app(job).task_types[static_cast<std::size_t>(t)]));
    p.busy_time += dur;
    result_.energy_mj += dur * 1e-6 * s_.types[static_cast<std::size_t>(s_.type_of(pe))].active_power_w * 1e3;
    result_.schedule.push_back({j, t, pe, now, now + dur});
    job.tasks[static_cast<std::size_t>(t)].finish = now + dur;
    events_.push({now + dur, 1, j, t});
  }
}

Result Engine::run() {
  // Arrivals.
  double t = 0;
  double total_weight = 0;
  for (const auto& [app, weight] : w_.mix) total_weight += weight;
  for (std::int64_t k = 0; k < w_.jobs; ++k) {
    Job job;
    double r = rng_.uniform() * total_weight;
    job.app = 0;
    for (std::size_t i = 0; i < w_.mix.size(); ++i) {
      if ((r -= w_.mix[i].second) < 0) {
        job.app = static_cast<int>(i);
        break;
      }
    }
    job.arrival = t;
    const App& a = w_.mix[static_cast<std::size_t>(job.app)].first;
    job.tasks.resize(a.task_types.size());
    for (std::size_t i = 0; i < a.task_types.size(); ++i) job.tasks[i].waiting = static_cast<int>(a.preds[i].size());
    job.left = static_cast<int>(a.task_types.size());
    jobs_.push_back(std::move(job));
    events_.push({t, 0, static_cast<int>(k), -1});
    t += w_.rate_per_ms > 0 ? -std::log1p(-rng_.uniform()) * 1000.0 / w_.rate_per_ms : w_.interval_us;
  }
  std::int64_t done_jobs = 0;
  double now = 0;
  while (!events_.empty()) {
    const Event e = events_.top();
    events_.pop();
    now = e.time;
    Job& job = jobs_[static_cast<std::size_t>(e.job)];
    if (e.kind == 0) {
      if (policy_ == Policy::HEFT) {
        plan_heft(e.job, now);
      } else {
        for (std::size_t i = 0; i < job.tasks.size(); ++i)
          if (job.tasks[i].waiting == 0) ready_.emplace_back(e.job, static_cast<int>(i));
      }
    } else if (e.kind == 1) {
      TaskState& ts = job.tasks[static_cast<std::size_t>(e.task)];
      ts.done = true;
      pes_[static_cast<std::size_t>(ts.pe)].busy = false;
      for (auto [s, vol] : app(job).succs[static_cast<std::size_t>(e.task)]) {
        if (--job.tasks[static_cast<std::size_t>(s)].waiting == 0 && policy_ != Policy::HEFT) ready_.emplace_back(e.job, s);
      }
      if (--job.left == 0) ++done_jobs;
    }
    if (policy_ != Policy::HEFT) assign_dynamic(now);
    try_start(now);
  }
  if (done_jobs != w_.jobs) throw Error("soc emulator: " + std::to_string(w_.jobs - done_jobs) + " jobs did not finish");

  // Results.
  std::vector<double> lat;
  double first = kInf, last = 0;
  for (const auto& job : jobs_) {
    double fin = job.arrival;
    for (const auto& ts : job.tasks) fin = std::max(fin, ts.finish);
    result_.job_arrival_us.push_back(job.arrival);
    result_.job_finish_us.push_back(fin);
    result_.job_app.push_back(job.app);
    lat.push_back(fin - job.arrival);
    first = std::min(first, job.arrival);
    last = std::max(last, fin);
  }
  result_.jobs = static_cast<std::int64_t>(jobs_.size());
  result_.makespan_us = last - first;
  result_.avg_latency_us = std::accumulate(lat.begin(), lat.end(), 0.0) / static_cast<double>(lat.size());
  std::sort(lat.begin(), lat.end());
  result_.p95_latency_us = lat[std::min(lat.size() - 1, static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(lat.size()))) - 1)];
  result_.max_latency_us = lat.back();
  result_.throughput_jobs_per_ms = result_.makespan_us > 0 ? static_cast<double>(jobs_.size()) / (result_.makespan_us / 1000.0) : 0;
  double u = 0;
  for (const auto& p : pes_) {
    result_.pe_utilization.push_back(result_.makespan_us > 0 ? p.busy_time / result_.makespan_us : 0);
    u += result_.pe_utilization.back();
  }
  result_.utilization = u / static_cast<double>(pes_.size());
  return result_;
}

}  // namespace

Result simulate(const Soc& soc, const Workload& w, Policy policy) {
  if (w.jobs < 1) throw InvalidArgument("workload: at least one job");
  if (w.rate_per_ms <= 0 && w.interval_us < 0) throw InvalidArgument("workload: give a positive rate or a non-negative interval");
  Engine e(soc, w, policy);
  return e.run();
}

json Result::to_json(const Soc& soc, bool with_schedule) const {
  json j = {{"jobs", jobs},
            {"avg_latency_us", avg_latency_us},
            {"p95_latency_us", p95_latency_us},
            {"max_latency_us", max_latency_us},
            {"makespan_us", makespan_us},
            {"throughput_jobs_per_ms", throughput_jobs_per_ms},
            {"energy_mj", energy_mj},
            {"utilization", utilization},
            {"pe_utilization", pe_utilization}};
  if (with_schedule) {
    json s = json::array();
    for (const auto& r : schedule)
      s.push_back({{"job", r.job}, {"task", r.task}, {"pe", r.pe}, {"pe_type", soc.types[static_cast<std::size_t>(soc.type_of(r.pe))].name},
                   {"start_us", r.start_us}, {"finish_us", r.finish_us}});
    j["schedule"] = s;
  }
  return j;
}

}  // namespace dsegym::soc
