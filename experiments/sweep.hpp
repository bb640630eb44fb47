#pragma once
// Sweeps: one JSON config describes a study (envs x agent configurations x
// seeds); `dsegym sweep CONFIG --out DIR` expands it into trials and runs
// them in parallel, in threads or in isolated worker processes, resumably.
// Layout of DIR:
//   sweep.json                      the config and its expanded trials
//   trials/<trial id>/trial.json    what the trial runs
//   trials/<trial id>/run.json, trace.jsonl   as for `dsegym run`
//   trials/<trial id>/result.json   written when the trial ended (done, failed, timeout; cancelled by Slurm)
//   slurm/                          with --backend slurm: batch scripts, job records, task logs
//   summary.csv, summary.json       one row per trial
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/files.hpp"
#include "experiments/runner.hpp"

namespace dsegym {

// Bounds, checked before anything runs.
inline constexpr std::size_t kWorkersPerCore = 4;      // parallel.workers up to this many per core...
inline constexpr std::size_t kMaxWorkers = 1024;       // ... and never more than this
inline constexpr std::size_t kMaxTrials = 100000;      // trials a sweep expands to, unless forced
inline constexpr std::size_t kMaxForcedTrials = 10000000;
// Worker processes find the sweep's pid here: they run under its folder lock.
inline constexpr const char* kSweepWorkerVar = "DSEGYM_SWEEP_WORKER";
// A worker that could not write (disk full) exits with this code and no result.
inline constexpr int kWorkerIoExit = 75;

struct TrialSpec {
  std::string id;       // env key, agent configuration key and seed: "dram-v0__ga-1a2b3c4d__s1"
  std::string env_key;  // env id, plus a hash of its options and reward when given
  std::string agent_key;  // agent id plus a hash of its hyperparameters
  RunConfig run;        // out_dir is set when the trial runs

  json to_json() const;
  static TrialSpec from_json(const json& j);
};

struct SweepConfig {
  std::string name;
  std::vector<TrialSpec> trials;
  std::size_t workers = 1;
  bool isolate = false;     // worker processes instead of threads
  double timeout_s = 0;     // per trial; 0: none
  std::vector<std::string> plugins;
  std::vector<std::string> env_specs;  // external simulator specs, registered in workers too
  json source;              // the config as written
};

// Parses, checks and expands a sweep config; errors name the file and the
// JSON path. Every env is built and every trial's reward, target,
// objectives and batch are checked against it; a config expanding to more
// than max_trials trials is refused (the count is counted before anything
// is expanded).
SweepConfig load_sweep(const std::string& path, std::size_t max_trials = kMaxTrials);
// The file paths a config lists under `key` ("plugins", "env_specs"), each
// relative one taken relative to the config's folder.
std::vector<std::string> config_paths(const json& j, const char* key, const std::string& config_path);
SweepConfig parse_sweep(const json& j, const std::string& where, std::size_t max_trials = kMaxTrials);

struct SweepOptions {
  std::string self_exe;      // the dsegym binary, for worker processes
  bool retry_failed = false; // rerun trials that failed or timed out
  bool progress = true;
  bool allow_oversubscribe = false;  // more than kWorkersPerCore workers per core
};

// parallel.workers against the bounds above (InvalidArgument naming the limit).
void check_workers(std::size_t workers, bool allow_oversubscribe, const std::string& where);

struct SweepSummary {
  std::size_t trials = 0, done = 0, failed = 0, timeout = 0, skipped = 0;
  std::size_t config_errors = 0;  // failed trials whose configuration was at fault (the sweep exits nonzero)
  double wall_time_s = 0;
  std::string summary_csv;
};

SweepSummary run_sweep(const SweepConfig& cfg, const std::string& out_dir, const SweepOptions& opt);

// Runs one trial in this process and writes its result.json; used by worker
// processes (`dsegym trial DIR/trials/ID`). Returns false when it failed.
bool run_trial(const TrialSpec& trial, const std::string& trial_dir);

// Writes sweep.json (refusing a folder that holds another sweep).
void prepare_sweep_dir(const SweepConfig& cfg, const std::string& out_dir);
// Whether a trial whose result.json says `status` ("" when none) runs again:
// unless done, or failed/timed out without retry_failed.
bool needs_run(const std::string& status, bool retry_failed);

// Reads every trial's result.json and writes summary.csv and summary.json.
void write_summary(const std::string& out_dir);

}  // namespace dsegym
