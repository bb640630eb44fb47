#pragma once
// external-v0: any simulator program as a one-shot env, described by a JSON
// spec file (see README, "External simulators"):
//   {"id": "my-sim-v0", "description": "...",
//    "knobs": [{"name": "pes", "space": {"type": "integer", "low": 1, "high": 64}}, ...],
//    "command": ["{{spec_dir}}/run_sim.sh", "--pes", "{{pes}}", "--config", "cfg.json"],
//    "files": [{"path": "cfg.json", "template": "cfg.json.in"}],      (or "content": "...")
//    "env": {"OMP_NUM_THREADS": "1"}, "inherit_env": true,
//    "metrics": [{"name": "latency_ns", "unit": "ns", "goal": "min", "source": "stdout",
//                 "regex": "latency: ([0-9.eE+-]+) (ps|ns|us)", "group": 1, "unit_group": 2},
//                {"name": "energy_uj", "unit": "uJ", "goal": "min", "source": "file:out.json",
//                 "json": "/energy/total", "from_unit": "nJ"}],
//    "infeasible": {"exit_codes": [3], "stdout_regex": "INFEASIBLE: (.*)"},
//    "timeout_s": 60, "retries": 1, "max_output_bytes": 16777216, "default_reward": {...}}
// Each evaluation renders the command and files (placeholders {{knob}},
// {{workdir}}, {{spec_dir}}, {{seed}}, {{dsegym}}) into a fresh working
// directory and runs the program there (Boost.Process; never a shell; its
// own process group, killed whole at the timeout, which also covers reading
// the output). Regexes are RE2 (linear time, no backreferences); stdout,
// stderr and metric files are capped at max_output_bytes (default 16 MiB):
// past it the run is killed and the evaluation is a sim_error naming the cap.
#include <cstdint>
#include <string>

#include "envs/core/env_registry.hpp"

namespace dsegym {

inline constexpr std::int64_t kDefaultMaxOutputBytes = std::int64_t{16} << 20;

// Reads and checks the spec, and registers its env under the spec's id.
// Errors name the file, the field and what is valid. Returns the id.
std::string register_external_env(EnvRegistry& reg, const std::string& spec_path);

// The path {{dsegym}} stands for: DSEGYM_BIN, else `dsegym` beside the
// running program.
std::string dsegym_program();

}  // namespace dsegym
