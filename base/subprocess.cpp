#include "base/subprocess.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "base/error.hpp"

namespace dsegym {

namespace bp = boost::process;
namespace fs = std::filesystem;

std::string ProcessResult::describe() const {
  if (output_capped) return "killed for writing more output than its cap";
  if (timed_out) return "timed out";
  if (signalled) return "killed by signal " + std::to_string(code) + " (" + strsignal(code) + ")";
  return "exit code " + std::to_string(code);
}

namespace {

// Process groups of the children running now, for the signal handler (a
// fixed table of atomics: async-signal-safe).
constexpr int kMaxChildren = 4096;
std::atomic<pid_t> g_children[kMaxChildren];

void track(pid_t pgid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pgid)) return;
  }
}

void untrack(pid_t pgid) {
  for (auto& slot : g_children) {
    pid_t want = pgid;
    if (slot.compare_exchange_strong(want, 0)) return;
  }
}

extern "C" void kill_children_and_die(int sig) {
  for (auto& slot : g_children) {
    const pid_t p = slot.load();
    if (p > 0) ::kill(-p, SIGKILL);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

std::int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

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
  // The child's environment, built here and handed to execve directly:
  // Boost 1.74's environment lookup reads past the end of shorter entries
  // (an AddressSanitizer heap-buffer-overflow), so its environment classes
  // are not used.
  std::vector<std::string> env_text;
  if (spec.inherit_env)
    for (char** e = ::environ; e && *e; ++e) {
      const std::string entry(*e);
      const std::string key = entry.substr(0, entry.find('='));
      if (!spec.env.count(key)) env_text.push_back(entry);
    }
  for (const auto& [k, v] : spec.env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out = fresh(spec.stdout_path), err = spec.stderr_path == spec.stdout_path ? out : fresh(spec.stderr_path);
  const std::string dir = spec.dir.empty() ? fs::current_path().string() : spec.dir;
  // In the child: its own group, and death with the parent (also if the
  // parent died before the request took effect).
  const pid_t parent = ::getpid();
  char** const child_env = envp.data();
  auto own_group = bp::extend::on_exec_setup = [parent, child_env](auto& exec) {
    exec.env = child_env;
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
  };
  std::error_code launch;
  const auto start = std::chrono::steady_clock::now();
  bp::child c = out == err && !spec.stdout_path.empty()
                    ? bp::child(bp::exe = exe, bp::args = spec.args, bp::start_dir = dir, (bp::std_out & bp::std_err) > out, bp::std_in < bp::null,
                                launch, own_group)
                    : bp::child(bp::exe = exe, bp::args = spec.args, bp::start_dir = dir, bp::std_out > out, bp::std_err > err, bp::std_in < bp::null,
                                launch, own_group);
  if (launch) throw InvalidArgument("cannot start '" + exe + "': " + launch.message());
  const pid_t pid = c.id();
  ::setpgid(pid, pid);  // also here, so the group exists before the first kill whatever the child's progress
  track(pid);
  ProcessResult r;
  int status = 0;
  auto nap = std::chrono::microseconds(20);  // short first: a fast program ends within a millisecond
  auto over_cap = [&] {
    if (spec.max_output_bytes <= 0) return false;
    return (!spec.stdout_path.empty() && file_size(spec.stdout_path) > spec.max_output_bytes) ||
           (!spec.stderr_path.empty() && file_size(spec.stderr_path) > spec.max_output_bytes);
  };
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    const bool late = spec.timeout_s > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > spec.timeout_s;
    if (late || over_cap()) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      (late ? r.timed_out : r.output_capped) = true;
      break;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::microseconds(2000));
  }
  c.detach();  // reaped above
  ::kill(-pid, SIGKILL);  // anything it left running in its group
  untrack(pid);
  if (!r.timed_out && !r.output_capped && over_cap()) r.output_capped = true;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.timed_out && !r.output_capped) {
    r.signalled = WIFSIGNALED(status);
    r.code = r.signalled ? WTERMSIG(status) : WEXITSTATUS(status);
  }
  return r;
}

void kill_children_on_signal() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = kill_children_and_die;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  });
}

}  // namespace dsegym
