// `dsegym dashboard` on a large sweep: 100 trials x 1,000 evaluations of
// dram-v0-shaped rows (12 knobs, 7 metrics), 10 of them still running.
// Measures, over HTTP on loopback against the real server:
//   start-up: from starting the server until it listens (it reads every
//     trace first);
//   initial page: GET /, GET /static/chart.min.js and the first GET
//     /api/state;
//   updates: GET /api/state after one more evaluation in each running
//     trial (p50 / p99 / max of 30), and with nothing changed.
// Usage: bench_dashboard [trials] [evaluations]
// Example: bench_dashboard 100 1000
#include <httplib.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/rng.hpp"

extern char** environ;

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string row(const std::string& run, std::int64_t step, dsegym::Rng& rng) {
  static const char* policies[] = {"Open", "Closed", "OpenAdaptive", "ClosedAdaptive"};
  json action = {{"PagePolicy", policies[rng.below(4)]}, {"Scheduler", rng.bernoulli(0.5) ? "Fifo" : "FrFcfs"},
                 {"SchedulerBuffer", rng.bernoulli(0.5) ? "Bankwise" : "Shared"}, {"RequestBufferSize", 1 << rng.below(8)},
                 {"RespQueue", rng.bernoulli(0.5) ? "Fifo" : "Reorder"}, {"RefreshPolicy", rng.bernoulli(0.5) ? "AllBank" : "NoRefresh"},
                 {"RefreshMaxPostponed", 1 << rng.below(4)}, {"RefreshMaxPulledin", 1 << rng.below(4)},
                 {"PowerDownPolicy", rng.bernoulli(0.5) ? "NoPowerDown" : "Staggered"}, {"Arbiter", rng.bernoulli(0.5) ? "Simple" : "Fifo"},
                 {"MaxActiveTransactions", 1 << rng.below(8)}, {"AddressMapping", rng.bernoulli(0.5) ? "RoBaCo" : "RoCoBa"}};
  const double latency = 50000 + 100000 * rng.uniform(), energy = 150000 + 50000 * rng.uniform();
  json metrics = {{"latency_ns", latency}, {"avg_read_latency_ns", latency / 3}, {"p99_read_latency_ns", latency / 2},
                  {"bandwidth_gbps", 10 * rng.uniform()}, {"row_hit_rate", rng.uniform()}, {"energy_nj", energy}, {"power_mw", 1000 + 1000 * rng.uniform()}};
  return json({{"action", action}, {"agent", "ga"}, {"env", "dram-v0"}, {"episode", step}, {"metrics", metrics}, {"reason", ""},
               {"reward", -latency}, {"run", run}, {"seed", 1}, {"status", "ok"}, {"step", step}, {"wall_time_s", 0.005}})
             .dump() +
         "\n";
}

void percentiles(const char* what, std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::printf("%-44s p50 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (%zu requests)\n", what, v[v.size() / 2],
              v[std::min(v.size() - 1, static_cast<std::size_t>(0.99 * static_cast<double>(v.size())))], v.back(), v.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::puts("Usage: bench_dashboard [trials] [evaluations]\nExample: bench_dashboard 100 1000");
    return 0;
  }
  const int trials = argc > 1 ? std::atoi(argv[1]) : 100, evals = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int running = std::max(1, trials / 10);
  const fs::path dir = fs::temp_directory_path() / ("bench-dashboard-" + std::to_string(::getpid()));
  fs::create_directories(dir / "trials");
  dsegym::Rng rng(1);
  json metric_specs = json::array();
  for (const auto& [name, unit, goal] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"latency_ns", "ns", "min"}, {"avg_read_latency_ns", "ns", "min"}, {"p99_read_latency_ns", "ns", "min"}, {"bandwidth_gbps", "Gb/s", "max"},
           {"row_hit_rate", "1", "max"}, {"energy_nj", "nJ", "min"}, {"power_mw", "mW", "min"}})
    metric_specs.push_back({{"name", name}, {"unit", unit}, {"goal", goal}});
  json list = json::array();
  std::vector<std::string> ids;
  for (int t = 0; t < trials; ++t) {
    const std::string agent = std::vector<std::string>{"random", "ga", "sa", "aco", "bo"}[static_cast<std::size_t>(t % 5)];
    const std::string id = "dram-v0__" + agent + "-" + std::to_string(t % 10 / 5) + "__s" + std::to_string(t / 10);
    ids.push_back(id);
    list.push_back({{"id", id}, {"env", "dram-v0"}, {"env_key", "dram-v0"}, {"agent", agent}, {"agent_key", agent + "-" + std::to_string(t % 10 / 5)},
                    {"seed", t / 10}, {"budget", evals + 100}, {"hyperparameters", json::object()}, {"objectives", {"latency_ns", "energy_nj"}}});
    const fs::path td = dir / "trials" / id;
    fs::create_directories(td);
    std::ofstream(td / "run.json") << json({{"env_spec", {{"metrics", metric_specs}}}}).dump();
    std::ofstream trace(td / "trace.jsonl");
    for (int k = 0; k < evals; ++k) trace << row(id, k, rng);
    if (t >= running) std::ofstream(td / "result.json") << json({{"status", "done"}}).dump();
  }
  std::ofstream(dir / "sweep.json") << json({{"name", "bench"}, {"trials", list}}).dump();
  std::printf("sweep of %d trials x %d evaluations (%d running) in %s\n", trials, evals, running, dir.c_str());

  const std::string port_file = (dir / "port").string();
  std::vector<std::string> args = {DSEGYM_BIN, "dashboard", dir.string(), "--port", "0", "--port-file", port_file};
  std::vector<char*> argvv;
  for (auto& a : args) argvv.push_back(a.data());
  argvv.push_back(nullptr);
  pid_t pid = 0;
  const auto spawned = std::chrono::steady_clock::now();
  if (posix_spawn(&pid, DSEGYM_BIN, nullptr, nullptr, argvv.data(), environ) != 0) {
    std::perror("posix_spawn");
    return 1;
  }
  while (!fs::exists(port_file)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::printf("server listening %.0f ms after start (it reads every trace first)\n", ms_since(spawned));
  int port = 0;
  std::ifstream(port_file) >> port;
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(60, 0);

  auto get = [&](const std::string& path, std::size_t* bytes = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    auto res = cli.Get(path);
    const double ms = ms_since(t0);
    if (!res || res->status != 200) {
      std::fprintf(stderr, "GET %s failed\n", path.c_str());
      std::exit(1);
    }
    if (bytes) *bytes = res->body.size();
    return ms;
  };
  std::size_t page_bytes = 0, lib_bytes = 0, state_bytes = 0;
  const double page = get("/", &page_bytes), lib = get("/static/chart.min.js", &lib_bytes), first = get("/api/state", &state_bytes);
  std::printf("initial page: GET / %.1f ms (%zu B), chart.min.js %.1f ms (%zu B), first /api/state %.1f ms (%zu B): %.1f ms in all\n", page, page_bytes, lib,
              lib_bytes, first, state_bytes, page + lib + first);

  std::vector<double> updates, idle;
  for (int round = 0; round < 30; ++round) {
    for (int t = 0; t < running; ++t) {
      std::ofstream trace(dir / "trials" / ids[static_cast<std::size_t>(t)] / "trace.jsonl", std::ios::app);
      trace << row(ids[static_cast<std::size_t>(t)], evals + round, rng);
    }
    updates.push_back(get("/api/state"));
    idle.push_back(get("/api/state"));
  }
  percentiles("update (one more evaluation per running trial)", updates);
  percentiles("update (nothing changed)", idle);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  fs::remove_all(dir);
  return 0;
}
