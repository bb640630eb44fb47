// Fault injection for tests: with LD_PRELOAD, write(2) to files under
// $DSEGYM_FAULT_DIR fails with ENOSPC ("No space left on device") once this
// process has written $DSEGYM_FAULT_BYTES bytes to them: a disk filling up
// mid-sweep, without root or a real small file system.
#include <dlfcn.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

std::atomic<long long> written{0};

bool under_fault_dir(int fd) {
  const char* dir = getenv("DSEGYM_FAULT_DIR");
  if (!dir || !*dir) return false;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return false;
  path[n] = 0;
  return std::strncmp(path, dir, std::strlen(dir)) == 0;
}

}  // namespace

extern "C" ssize_t write(int fd, const void* buf, size_t count) {
  using Write = ssize_t (*)(int, const void*, size_t);
  static Write real_write = nullptr;
  if (!real_write) real_write = reinterpret_cast<Write>(dlsym(RTLD_NEXT, "write"));
  if (under_fault_dir(fd)) {
    const char* limit = getenv("DSEGYM_FAULT_BYTES");
    const long long cap = limit ? std::atoll(limit) : 0;
    if (written + static_cast<long long>(count) > cap) {
      /* Like a filling disk: what fits goes, then ENOSPC. */
      const long long room = cap - written;
      if (room > 0) {
        const ssize_t n = real_write(fd, buf, static_cast<size_t>(room));
        if (n > 0) written += n;
        return n;
      }
      errno = ENOSPC;
      return -1;
    }
    const ssize_t n = real_write(fd, buf, count);
    if (n > 0) written += n;
    return n;
  }
  return real_write(fd, buf, count);
}
