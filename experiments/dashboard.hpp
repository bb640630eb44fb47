#pragma once
// `dsegym dashboard DIR...`: what the dashboard shows, computed from sweep
// folders (sweep.json, trials/<id>/{run.json,trace.jsonl,result.json}) and
// run folders (run.json, trace.jsonl) while they are written. Traces are
// read incrementally: each refresh reads only the bytes appended since the
// last one, so a refresh costs what changed, not what exists.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/thread_pool.hpp"

namespace dsegym {

using json = nlohmann::json;

class DashboardData {
public:
  // Each folder a sweep's --out or a run's --out; checked here.
  explicit DashboardData(std::vector<std::string> folders);
  ~DashboardData();

  // Everything the page draws, as JSON (see dashboard_state in the README):
  // per folder its trials' status and progress, per env the best-so-far
  // curves per agent (median and IQR over seeds of the agent's best
  // configuration), the Pareto front per agent with each point's design,
  // designs for parallel coordinates, and the hyperparameter lottery.
  // Re-reads what changed on disk first; thread-safe.
  json state();
  // One trial's evaluations (every trace row, the metrics' units), read
  // afresh; folder is the index in the folders given, id a trial id (or
  // "run" for a run folder). Throws InvalidArgument for an unknown one.
  json trial(std::size_t folder, const std::string& id);

  struct Trial;
  struct Folder;

private:
  void refresh();
  json env_state(const std::string& env_key, const std::vector<const Trial*>& trials) const;

  std::mutex mu_;
  ThreadPool pool_;
  std::vector<std::unique_ptr<Folder>> folders_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::int64_t>> progress_;  // (time, evaluations done) samples
};

// The live page (HTML, CSS and script; charts by Chart.js served at
// static/chart.min.js): polls api/state.
std::string dashboard_page();
// The same page as one self-contained file: Chart.js inlined and `state`
// (DashboardData::state()) embedded instead of polled; extra_html (a
// report's tables) goes after the charts.
std::string dashboard_snapshot(const json& state, const std::string& extra_html = "");

// Chart.js (Debian's libjs-chart.js), read once per call.
std::string chart_js();

struct DashboardOptions {
  std::vector<std::string> folders;
  std::string bind = "127.0.0.1";
  int port = 8080;  // 0 picks a free one
  std::string port_file;
  std::string token;  // required when binding a non-loopback address
};

// Serves the dashboard until SIGTERM/SIGINT.
void serve_dashboard(const DashboardOptions& opt);

}  // namespace dsegym
