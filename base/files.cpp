#include "base/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void io_error(const std::string& what, const fs::path& p, int err) {
  throw IoError("cannot " + what + " " + p.string() + ": " + std::strerror(err));
}

void write_fd(int fd, const std::string& s, const fs::path& p) {
  const char* at = s.data();
  std::size_t left = s.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, at, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_error("write", p, errno);
    }
    at += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::string& content) {
  const fs::path parent = path.parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw IoError("cannot create folder " + parent.string() + ": " + ec.message());
  }
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error("create", tmp, errno);
  try {
    write_fd(fd, content, tmp);
    if (::fsync(fd) != 0) io_error("flush", tmp, errno);
  } catch (...) {
    ::close(fd);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    io_error("close", tmp, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    io_error("rename " + tmp.string() + " to", path, err);
  }
  // The rename itself is durable once the folder is.
  const int dfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_json_atomically(const fs::path& path, const nlohmann::json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

void check_written(std::ostream& out, const fs::path& path) {
  out.flush();
  if (!out) throw IoError("cannot write " + path.string() + ": " + std::strerror(errno ? errno : EIO));
}

nlohmann::json read_json(const fs::path& p) {
  try {
    return read_json_file(p);
  } catch (const InvalidArgument&) {
    return nullptr;
  }
}

namespace {
thread_local const FileConfinement* t_confinement = nullptr;
}

FileConfinement::FileConfinement(fs::path data_dir) : previous_(t_confinement) {
  if (!data_dir.empty()) {
    std::error_code ec;
    dir_ = fs::canonical(data_dir, ec);
    if (ec) throw InvalidArgument("data folder " + data_dir.string() + ": " + ec.message());
  }
  t_confinement = this;
}

FileConfinement::~FileConfinement() { t_confinement = previous_; }

std::string user_file(const std::string& path, const std::string& what) {
  const FileConfinement* c = t_confinement;
  if (!c) return path;
  if (c->dir_.empty())
    throw InvalidArgument(what + ": this server reads no files named by clients (its operator can allow a folder with --data-dir); use a built-in name");
  const fs::path given(path);
  for (const auto& part : given)
    if (part == "..") throw InvalidArgument(what + ": '..' is not allowed in a path; name a file inside the server's data folder");
  const fs::path full = given.is_absolute() ? given : c->dir_ / given;
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(full, ec);  // follows symlinks
  const std::string root = c->dir_.string() + "/";
  if (ec || real.string().rfind(root, 0) != 0)
    throw InvalidArgument(what + ": '" + excerpt(path, 120) + "' is not inside the server's data folder");
  return real.string();
}

FolderLock::FolderLock(const fs::path& path, const std::string& what, const std::string& holder) {
  std::error_code ec;
  if (!path.parent_path().empty()) fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) io_error("open the lock file", path, errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {0};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) io_error("lock", path, err);
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw InvalidArgument(what + " is in use by " + holder + " (pid " + pid + "); wait for it to end or stop it");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    io_error("write", path, err);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace dsegym
