#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

namespace dsegym::testing {

// A fresh, empty folder under the system temp dir, unique to this process.
inline std::filesystem::path temp_dir(const std::string& name) {
  const auto p = std::filesystem::temp_directory_path() / ("dsegym_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace dsegym::testing
