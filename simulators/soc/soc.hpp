#pragma once
// Discrete-event emulator of a heterogeneous SoC running continuously
// arriving jobs (DAG-structured applications), as DS3 / DeepSoCS model it:
// processing elements (PEs) of several types with per-task execution times,
// busy and idle power and optional DVFS operating points; communication cost
// = data volume / bandwidth between PEs; jobs injected by a Poisson process,
// at a fixed interval or from a trace; execution times with optional Gaussian
// noise; and list schedulers: MET, ETF, EFT, STF, ETF_LB (DS3's), HEFT
// (insertion-based, upward rank), random and round-robin. The Emulator class also runs step by step with an
// external policy choosing the PE of every ready task (envs/soc).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
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
  std::map<std::string, double> exec;  // task type -> execution time (us) at the highest OPP
  // Power. Without DVFS: `active_power_w` per busy and `idle_power_w` per
  // idle instance. With DVFS (DS3's model): `opp` lists (MHz, mV) ascending
  // and `power_profile[k]` the measured power of one cluster with 1..L
  // instances busy at k MHz. At frequency f the profile of the lowest
  // measured k >= f is scaled by f V(f)^2 / (k V(k)^2) (dynamic power
  // C f V^2) and execution times by f_max / f. Instances fill clusters of L;
  // a cluster with a busy instance draws its profile power (measured with
  // its idle cores), an all-idle one `idle_power_w` per instance, given at
  // the highest OPP and scaled by V(f) / V(f_max) (leakage is linear in V
  // at a fixed temperature).
  //
  // With the SoC's `leakage` model (DS3's), `leakage_share` > 0 replaces
  // idle_power_w: an instance leaks share x (V C1 T^2 exp(-C2/T) + Igate V)
  // at the SoC's temperature T (K) and its voltage V, and a cluster with b
  // busy instances draws (profile(b) - L leak) x f V^2 / (k V(k)^2) + L leak:
  // the profile's leakage is not scaled with f V^2 (DS3's
  // compute_static/dynamic_power_dissipation).
  double active_power_w = 0;
  double leakage_share = 0;
  std::vector<std::pair<double, double>> opp;
  std::map<double, std::vector<double>> power_profile;
  double freq_mhz = 0;  // operating point; 0 without OPPs
  double idle_power_w = 0;
  // Run-time DVFS (DS3's DTPM_policies): "performance" (the highest OPP, the
  // default), "powersave" (the lowest), "ondemand" (every Soc::dvfs
  // interval: the highest OPP when the busiest cluster's summed core
  // utilisation exceeds `up`, one OPP lower when it is below `down`), or
  // "table": the OPP of the first row of `governor_table` (utilisation up
  // to, MHz) whose bound is not exceeded. Without a governor the type stays
  // at freq_mhz.
  std::string governor;
  std::vector<std::pair<double, double>> governor_table;
  // Thermal throttling caps (MHz) per trip point of Thermal::trip_c; <= 0:
  // no cap at that trip point (DS3's trip_freq, -1).
  std::vector<double> trip_mhz;

  bool has_dvfs() const { return !opp.empty(); }
  double slowdown() const;  // f_max / f; 1 without DVFS
  double voltage_v() const;  // at the operating point; 0 without OPPs
  // Power of one cluster of `instances` (at most the profile's size) with
  // `busy` of them running, given one instance's leakage: {dynamic, static}.
  // Without OPPs a cluster is every instance of the type.
  std::pair<double, double> cluster_power_w(int busy, int instances, double leak_each_w) const;
  // Instances per cluster (the power profile's size; all of them without OPPs).
  int cluster_size() const;
  // Power of all instances of this type while `busy` of them run (idle ones
  // included), with `leak_each_w` leakage per instance (see Soc::leak_w).
  double power_w(int busy, double leak_each_w) const;
  std::vector<double> frequencies() const;
  // Throws InvalidArgument listing the OPPs when `mhz` is not one of them.
  void set_frequency(double mhz);
};

// DS3's leakage model of the Odroid-XU3 (DTPM_power_models.py): per
// cluster V C1 T^2 exp(-C2 / T) + Igate V, T in kelvin.
struct Leakage {
  double c1 = 0, c2 = 0, igate = 0;
  double temperature_c = 42;  // when no thermal model runs
};

// A discrete-time linear thermal model (DS3's of the Odroid-XU3):
// T[k+1] = A (T[k] - ambient) + sum over sources of B_source P_source + ambient,
// every step_us, with the mean power of each source over the step. Leakage
// follows the hottest node.
struct Thermal {
  double ambient_c = 42, step_us = 20;
  std::vector<std::vector<double>> a;                          // nodes x nodes
  std::vector<std::pair<std::string, std::vector<double>>> b;  // source (a base source or a PE type) -> column
  // Throttling (DS3's evaluate_throttling): when the hottest node exceeds
  // trip_c[i], every type with trip_mhz runs at most trip_mhz[i]; below
  // trip_c[i] - hysteresis_c[i] it returns to the cap of the trip point
  // below (none under the first). Empty: no throttling.
  std::vector<double> trip_c, hysteresis_c;
  bool enabled() const { return !a.empty(); }
};

// When run-time governors act (DS3: sampling_rate 10 us, ondemand
// thresholds util_high 0.8 and util_low 0.3 in config_file.ini).
struct Dvfs {
  double interval_us = 10, up = 0.8, down = 0.3;
};

struct Soc {
  std::string name, source;
  std::vector<PeType> types;
  Dvfs dvfs;
  // Always-on power outside the PEs (DS3: memory 0.0473 W, GPU 0.1201 W).
  std::vector<std::pair<std::string, double>> base_power_w;
  Leakage leakage;
  bool has_leakage = false;
  Thermal thermal;
  double bw_same = 0;     // bandwidth between tasks on the same PE; 0: no cost
  double bw_default = 1;  // between different PEs (volume units per us)
  std::map<std::pair<int, int>, double> bw_pairs;  // by PE type index

  int num_pes() const;
  int type_of(int pe) const;
  // NaN when the PE type does not support the task type; scaled by the type's DVFS slowdown.
  double exec_time(int type, const std::string& task_type) const;
  double comm_time(double volume, int pe_from, int pe_to) const;
  // One instance's leakage of a type at a temperature (0 without the model).
  double leak_w(int type, double temperature_c) const;
  // Power with every PE busy (at the leakage model's temperature), base power excluded.
  double peak_power_w() const;
};

// Sets a PE type's governor from its JSON form ("performance", "powersave",
// "ondemand" or {"table": [[utilisation up to, MHz], ...]}); `where` names it
// in errors.
void set_governor(PeType& t, const nlohmann::json& governor, const std::string& where);

App load_app(const std::string& path);
Soc load_soc(const std::string& path);
// The same from JSON already read; `path` names it in messages.
App parse_app(const nlohmann::json& j, const std::string& path);
Soc parse_soc(const nlohmann::json& j, const std::string& path);
// Built-in names (data/soc/apps, data/soc/socs) or paths.
App resolve_app(const std::string& name_or_path);
Soc resolve_soc(const std::string& name_or_path);
std::vector<std::string> builtin_apps();
std::vector<std::string> builtin_socs();

// Builtins in the emulator's scheduler list; External is the env's policy.
// DS3's (scheduler.py): MET, ETF (min-min: repeatedly the ready task and PE
// with the earliest estimated finish), EFT (each ready task in turn to its
// earliest-finish PE), STF (repeatedly the ready task with the shortest
// best-case execution time, on that fastest PE, ignoring queues and data),
// ETF_LB (ETF at the current DVFS speeds, ties to the PE that was given the
// fewest tasks); plus HEFT, random and round robin.
enum class Policy { MET, ETF, HEFT, Random, RoundRobin, EFT, STF, ETF_LB, External };
const std::vector<std::string>& policy_names();  // met, etf, heft, random, rr, eft, stf, etf_lb
Policy policy_from_name(const std::string& name);

struct Workload {
  std::vector<std::pair<App, double>> mix;  // apps and their weights
  double rate_per_ms = 1.0;  // Poisson arrivals; <= 0 with interval_us > 0: fixed interval
  double interval_us = 0;
  std::int64_t jobs = 100;   // jobs injected
  double window_us = 0;      // > 0: generate arrivals until this time instead of `jobs`
  double noise = 0;          // relative std. dev. of execution times
  std::uint64_t seed = 0;
  // A trace of (arrival time in us, index into mix); when given it replaces
  // the generated arrivals and `jobs`.
  std::vector<std::pair<double, int>> trace;
  // DS3's injection controls (config_file.ini): at most `max_in_system`
  // jobs at once (0: no cap; DS3 ships 12): an arrival beyond it waits for a
  // job to finish, and generated arrivals after it keep their gaps from its
  // actual arrival (DS3's generator waits); `inject_asap`: a finishing job
  // brings the next generated arrival forward to its finish time;
  // `warmup_us`: statistics and energy cover only what happens from then
  // on (jobs finishing before it are not counted; DS3's warmup_period).
  std::int64_t max_in_system = 0;
  bool inject_asap = false;
  double warmup_us = 0;
};

// The DS3 domain mix (WiFi TX/RX, range detection, SC TX/RX, equal weights)
// at `rate_per_ms`.
Workload default_workload(double rate_per_ms, std::int64_t jobs, double noise, std::uint64_t seed);
// A workload JSON file:
//   {"apps": {"wifi_tx": 1, "range_detection": 2} | ["wifi_tx", ...],
//    "rate_per_ms": 2, "interval_us": 0, "jobs": 200, "noise": 0.1, "seed": 1,
//    "arrivals": [{"time_us": 0, "app": "wifi_tx"}, ...]}   (optional trace)
// Missing keys keep the values of `defaults`.
Workload load_workload(const std::string& path, const Workload& defaults);

struct TaskRecord {
  int job, task, pe;
  double start_us, finish_us;
};

struct Result {
  std::int64_t jobs = 0;  // counted in the statistics (finished after the warm-up)
  double avg_latency_us = 0, p95_latency_us = 0, max_latency_us = 0;
  double makespan_us = 0;  // first arrival to last completion
  double throughput_jobs_per_ms = 0;
  double energy_mj = 0;    // busy and idle power of the PEs and the base power, first arrival to last completion
  // The same by PE, by PE type (the clusters) and by source: the PEs'
  // dynamic and static (leakage) parts and each base power source.
  std::vector<double> pe_energy_mj, type_energy_mj;
  double dynamic_energy_mj = 0, static_energy_mj = 0;
  std::vector<std::pair<std::string, double>> base_energy_mj;
  double peak_temperature_c = 0, final_temperature_c = 0;  // hottest node (the leakage temperature without a thermal model)
  struct FrequencyChange {
    double time_us;
    int type;
    double mhz;
  };
  std::vector<FrequencyChange> frequency_trace;  // the governors' changes
  double utilization = 0;  // mean over PEs of busy time / makespan
  std::vector<double> pe_utilization;
  std::vector<TaskRecord> schedule;
  std::vector<double> job_arrival_us, job_finish_us;
  std::vector<int> job_app;
  std::vector<std::string> app_names;

  nlohmann::json to_json(const Soc& soc, bool with_schedule) const;
  nlohmann::json energy_json(const Soc& soc) const;
};

// The emulator. With a builtin policy run() goes to the end; with
// Policy::External run() stops whenever a ready task needs a PE, the caller
// picks one with assign(), and run() continues.
class Emulator {
public:
  // Throws InvalidArgument on an empty mix, a non-positive weight, or a task
  // type that no PE of the SoC supports.
  Emulator(Soc soc, Workload w, Policy policy);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // True: a decision is pending (External only). False: every job finished.
  bool run();
  // The ready task waiting for a PE (job, task), while run() returned true.
  std::pair<int, int> pending() const;
  std::size_t num_pending() const;
  // Sends the pending task to `pe`'s queue; throws InvalidArgument when the
  // PE cannot run it (naming the task and the PEs that can).
  void assign(int pe);

  const Soc& soc() const;
  const Workload& workload() const;
  double now() const;
  bool supports(int pe, int job, int task) const;
  double mean_exec(int pe, int job, int task) const;
  // When the PE should finish its queued work (mean execution times).
  double pe_available(int pe) const;
  std::size_t pe_queue(int pe) const;
  // Earliest finish of the task on the PE with its inputs (estimate).
  double estimated_finish(int pe, int job, int task) const;
  // Upward rank (Topcuoglu et al. 2002) of a task of the job's app.
  double upward_rank(int job, int task) const;
  double job_arrival(int job) const;
  int job_app(int job) const;  // index into the workload's mix
  int job_tasks_left(int job) const;
  std::int64_t jobs_arrived() const;
  std::int64_t jobs_done() const;
  std::int64_t jobs_total() const;
  // Integral over time of the number of jobs in the system (job*us): the sum
  // of the latencies accrued so far.
  double latency_accrued_us() const;
  // Sum of the latencies of the jobs that finished.
  double completed_latency_us() const;
  // Energy from the first arrival until now (brings the energy integrals up
  // to now, which changes no result).
  double energy_mj();

  // After run() returned false.
  Result result() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs every job to completion with a builtin policy.
Result simulate(const Soc& soc, const Workload& w, Policy policy);

}  // namespace dsegym::soc
