#include "envs/core/subprocess.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "envs/core/error.hpp"

namespace dsegym {

namespace bp = boost::process;
namespace fs = std::filesystem;

std::string ProcessResult::describe() const {
  if (timed_out) return "timed out";
  if (signalled) return "killed by signal " + std::to_string(code) + " (" + strsignal(code) + ")";
  return "exit code " + std::to_string(code);
}

namespace {

// Boost.Process opens redirection files without truncating them.
std::string fresh(const std::string& path) {
  if (path.empty()) return "/dev/null";
  std::error_code ec;
  fs::remove(path, ec);
  return path;
}

}  // namespace

ProcessResult run_process(const ProcessSpec& spec) {
  std::string exe = spec.program;
  if (exe.find('/') == std::string::npos) {
    const auto found = bp::search_path(exe);
    if (found.empty()) throw InvalidArgument("program '" + exe + "' is not on the PATH");
    exe = found.string();
  }
  if (!fs::exists(exe)) throw InvalidArgument("program '" + exe + "' does not exist");
  bp::environment env = spec.inherit_env ? bp::environment(boost::this_process::environment()) : bp::environment();
  for (const auto& [k, v] : spec.env) env[k] = v;
  const std::string out = fresh(spec.stdout_path), err = spec.stderr_path == spec.stdout_path ? out : fresh(spec.stderr_path);
  const std::string dir = spec.dir.empty() ? fs::current_path().string() : spec.dir;
  auto own_group = bp::extend::on_exec_setup = [](auto&) { ::setpgid(0, 0); };
  std::error_code launch;
  const auto start = std::chrono::steady_clock::now();
  bp::child c = out == err && !spec.stdout_path.empty()
                    ? bp::child(bp::exe = exe, bp::args = spec.args, bp::start_dir = dir, (bp::std_out & bp::std_err) > out, bp::std_in < bp::null,
                                env, launch, own_group)
                    : bp::child(bp::exe = exe, bp::args = spec.args, bp::start_dir = dir, bp::std_out > out, bp::std_err > err, bp::std_in < bp::null,
                                env, launch, own_group);
  if (launch) throw InvalidArgument("cannot start '" + exe + "': " + launch.message());
  const pid_t pid = c.id();
  ::setpgid(pid, pid);  // also here, so the group exists before the first kill whatever the child's progress
  ProcessResult r;
  int status = 0;
  auto nap = std::chrono::microseconds(20);  // short first: a fast program ends within a millisecond
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (spec.timeout_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > spec.timeout_s) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(2000));
  }
  c.detach();  // reaped above
  ::kill(-pid, SIGKILL);  // anything it left running in its group
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.timed_out) {
    r.signalled = WIFSIGNALED(status);
    r.code = r.signalled ? WTERMSIG(status) : WEXITSTATUS(status);
  }
  return r;
}

}  // namespace dsegym
