#pragma once
// Runs one agent on one env for a budget of evaluations, logging every
// evaluation as a trace row. A run directory holds run.json (what was run:
// env spec, options, agent, hyperparameters, seed, reward) and trace.jsonl.
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "envs/core/env.hpp"

namespace dsegym {

struct RunConfig {
  std::string env_id;
  json env_options = json::object();
  std::string agent_id = "random";
  json agent_options = json::object();
  json reward;  // null: the env's default reward
  std::int64_t budget = 100;
  std::uint64_t seed = 0;
  std::size_t batch = 1;    // suggestions asked and evaluated at once
  std::size_t threads = 0;  // worker threads besides the caller
  std::string out_dir;      // empty: no files written
  std::string run_id;       // empty: "<env>-<agent>-s<seed>"
  bool progress = false;    // progress line on a terminal
  // Multi-objective summary: the Pareto front over these metrics (default:
  // every metric with a goal, when there are at most three) and its
  // hypervolume against `hv_reference` (metric -> value; default: the worst
  // value of each objective seen in the run).
  std::vector<std::string> objectives;
  json hv_reference = json::object();
  // Stop after this much wall time (0: no limit). A run stopped by wall
  // time is not reproducible to the evaluation.
  double wall_time_s = 0;
  // {"metric": "latency_ns", "value": 60000}: report how many evaluations it
  // took to first reach it.
  json target;
  // Continue the trace already in out_dir (same run.json) instead of refusing:
  // its evaluations are replayed into the agent, not redone.
  bool resume = false;
  // Agent checkpoints (JSON from the agent's save()): loaded into the agent
  // before the run, written after it. Empty: none.
  std::string load_agent, save_agent;
  // Policy agents only: act greedily and do not learn (evaluating a
  // trained policy, e.g. with load_agent).
  bool greedy = false;
};

struct RunResult {
  std::string run_id;
  std::int64_t evaluations = 0;
  std::map<std::string, std::int64_t> status_counts;
  bool has_best = false;  // some evaluation was ok with a finite reward
  std::int64_t best_step = -1;
  double best_reward = 0;
  Value best_action;
  Metrics best_metrics;
  double wall_time_s = 0;
  std::string trace_path;
  json pareto;  // null when no objectives apply
  std::int64_t evaluations_to_target = -1;
  std::string stopped;  // why the run ended before its budget, if it did


  json to_json() const;
};

RunResult run_experiment(const RunConfig& cfg);

// The checks run_experiment makes before anything runs (budget, batch, the
// reward spec, target, objectives, hypervolume reference, wall time)
// against an env's spec; InvalidArgument naming what is wrong.
void check_run_config(const RunConfig& cfg, const EnvSpec& spec);

// Seed of the env for evaluation `step` of a run with seed `seed`.
std::uint64_t evaluation_seed(std::uint64_t seed, std::int64_t step);

}  // namespace dsegym
