#pragma once
// Running a program as a child process (Boost.Process; never a shell), in
// its own process group: at the timeout the whole group is killed, and
// after the program ends anything it left running in the group is killed
// too. A child never outlives this process: it gets SIGKILL when its parent
// dies (PR_SET_PDEATHSIG), and kill_children_on_signal() makes SIGINT,
// SIGTERM and SIGHUP kill every running child's group first. Output is
// capped: past max_output_bytes in its stdout or stderr file the group is
// killed. Used for external simulators, sweep worker processes and the Slurm
// client commands.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dsegym {

struct ProcessSpec {
  std::string program;  // a path, or a name looked up on the PATH
  std::vector<std::string> args;
  std::string dir;      // working directory (empty: the caller's)
  std::map<std::string, std::string> env;  // set on top of the inherited environment
  bool inherit_env = true;
  std::string stdout_path, stderr_path;    // truncated first; the same path for both merges them; empty: discarded
  double timeout_s = 0;                    // 0: none
  std::int64_t max_output_bytes = 0;       // per output file; 0: no cap
};

struct ProcessResult {
  bool timed_out = false, signalled = false;
  bool output_capped = false;  // killed for writing more than max_output_bytes
  int code = 0;  // exit code, or the signal that ended it
  double seconds = 0;
  std::string describe() const;  // "exit code 3", "killed by signal 11 (Segmentation fault)", "timed out"
};

// Throws InvalidArgument naming the program when it does not exist or cannot start.
ProcessResult run_process(const ProcessSpec& spec);

// Installs handlers for SIGINT, SIGTERM and SIGHUP that kill the process
// group of every child run_process is running, then end this process with
// the same signal. Idempotent.
void kill_children_on_signal();

}  // namespace dsegym
