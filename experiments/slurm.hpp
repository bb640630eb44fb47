#pragma once
// The Slurm backend of `dsegym sweep`: the trials that still need to run
// are submitted as one job array (sbatch), each array task running `dsegym
// trial` on a chunk of trials in the shared results folder, so the folder,
// summary, report and resume semantics are the local backend's. Each call
// first reconciles earlier submissions: trials whose array task ended
// without a result (cancelled, timed out, failed, node failure) get a
// result.json with Slurm's state and reason (sacct when accounting is on,
// else scontrol); trials of tasks still queued or running are left to them.
// Then it submits what is left: cancelled trials always, failed or timed-out
// ones with --retry-failed.
//
// DIR/slurm/: submit-<n>.sh and trials-<n>.txt per submission, jobs.json
// (job id -> trials), events.jsonl (what reconciliation found), logs/.
#include <string>
#include <vector>

#include "experiments/sweep.hpp"

namespace dsegym {

struct SlurmOptions {
  std::string partition, time;           // sbatch --partition, --time (empty: the cluster's defaults)
  int array_max = 0;                     // at most this many array tasks at once (0: no limit)
  int chunk = 1;                         // trials per array task
  bool wait = false;                     // wait for the job, showing progress
  std::vector<std::string> sbatch_args;  // passed to sbatch as they are
  std::string self_exe;                  // the dsegym binary the tasks run
  bool retry_failed = false;
  bool progress = true;
};

struct SlurmSubmission {
  std::string job_id;              // empty when nothing was submitted
  std::size_t submitted = 0;       // trials in this submission
  std::size_t queued = 0;          // trials left to earlier, still active jobs
  std::vector<std::string> events; // what reconciliation recorded, one line each
  SweepSummary summary;            // after waiting (or as things stand)
};

SlurmSubmission run_sweep_slurm(const SweepConfig& cfg, const std::string& out_dir, const SlurmOptions& opt);

}  // namespace dsegym
