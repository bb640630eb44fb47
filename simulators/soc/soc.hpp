#pragma once
// Discrete-event emulator of a heterogeneous SoC running continuously
// arriving jobs (DAG-structured applications), as DS3 / DeepSoCS model it:
// processing elements (PEs) of several types with per-task execution times
// and active power, communication cost = data volume / bandwidth between PEs,
// jobs injected by a Poisson process (or at a fixed interval), execution
// times with optional Gaussian noise, and list schedulers: MET, ETF, HEFT
// (insertion-based, upward rank), random and round-robin.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsegym::soc {

struct App {
  std::string name, source;
  std::vector<std::string> task_types;  // per task, the key into the PEs' execution tables
  std::vector<std::string> task_names;
  std::vector<std::vector<std::pair<int, double>>> preds, succs;  // (task, data volume)
};

struct PeType {
  std::string name;
  int count = 1;
  double active_power_w = 0;
  std::map<std::string, double> exec;  // task type -> execution time (us)
};

struct Soc {
  std::string name, source;
  std::vector<PeType> types;
  double bw_same = 0;     // bandwidth between tasks on the same PE; 0: no cost
  double bw_default = 1;  // between different PEs (volume units per us)
  std::map<std::pair<int, int>, double> bw_pairs;  // by PE type index

  int num_pes() const;
  int type_of(int pe) const;
  // NaN when the PE type does not support the task type.
  double exec_time(int type, const std::string& task_type) const;
  double comm_time(double volume, int pe_from, int pe_to) const;
};

App load_app(const std::string& path);
Soc load_soc(const std::string& path);
// Built-in names (data/soc/apps, data/soc/socs) or paths.
App resolve_app(const std::string& name_or_path);
Soc resolve_soc(const std::string& name_or_path);
std::vector<std::string> builtin_apps();
std::vector<std::string> builtin_socs();

enum class Policy { MET, ETF, HEFT, Random, RoundRobin };
const std::vector<std::string>& policy_names();  // met, etf, heft, random, rr
Policy policy_from_name(const std::string& name);

struct Workload {
  std::vector<std::pair<App, double>> mix;  // apps and their weights
  double rate_per_ms = 1.0;  // Poisson arrivals; <= 0 with interval_us > 0: fixed interval
  double interval_us = 0;
  std::int64_t jobs = 100;   // jobs injected
  double noise = 0;          // relative std. dev. of execution times
  std::uint64_t seed = 0;
};

struct TaskRecord {
  int job, task, pe;
  double start_us, finish_us;
};

struct Result {
  std::int64_t jobs = 0;
  double avg_latency_us = 0, p95_latency_us = 0, max_latency_us = 0;
  double makespan_us = 0;
  double throughput_jobs_per_ms = 0;
  double energy_mj = 0;
  double utilization = 0;  // mean over PEs of busy time / makespan
  std::vector<double> pe_utilization;
  std::vector<TaskRecord> schedule;
  std::vector<double> job_arrival_us, job_finish_us;
  std::vector<int> job_app;

  nlohmann::json to_json(const Soc& soc, bool with_schedule) const;
};

// Runs every job to completion. Throws InvalidArgument when a task type has
// no PE that supports it.
Result simulate(const Soc& soc, const Workload& w, Policy policy);

}  // namespace dsegym::soc
