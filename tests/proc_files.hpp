#pragma once
// Reading /proc/<pid>/* of a process that may exit at any moment: a read
// then fails with ESRCH, which std::ifstream turns into an exception from
// deep inside its buffer. This reader returns what it got instead.
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <string>

namespace dsegym::testing {

// The contents of /proc/<pid>/<file>; empty when the process is gone.
inline std::string read_proc_file(pid_t pid, const std::string& file) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;  // end of file, or the process went away mid-read
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// The state letter of /proc/<pid>/stat (R, S, Z, ...); '\0' when the process is gone.
inline char proc_state(pid_t pid) {
  const std::string stat = read_proc_file(pid, "stat");
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '\0';
}

}  // namespace dsegym::testing
