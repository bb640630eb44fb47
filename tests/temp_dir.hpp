#pragma once
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace dsegym::testing {

// Folders handed out by temp_dir(), removed when the test program exits.
class TempDirs {
public:
  ~TempDirs() {
    std::error_code ec;
    for (const auto& p : dirs_) std::filesystem::remove_all(p, ec);
  }
  void add(const std::filesystem::path& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    dirs_.push_back(p);
  }

private:
  std::mutex mutex_;
  std::vector<std::filesystem::path> dirs_;
};

inline TempDirs& temp_dirs() {
  static TempDirs dirs;
  return dirs;
}

// A fresh, empty folder under the system temp dir, unique to this process;
// removed at exit (DSEGYM_KEEP_TEST_DIRS=1 keeps it for debugging).
inline std::filesystem::path temp_dir(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / ("dsegym_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  if (!std::getenv("DSEGYM_KEEP_TEST_DIRS")) temp_dirs().add(p);
  return p;
}

}  // namespace dsegym::testing
