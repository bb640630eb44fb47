#pragma once
// Positional arguments of the benchmarks: --help prints the usage, a bad
// number is one line and exit 2 (never an uncaught std::stoi exception).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsegym::bench {

// Prints `usage` and exits 0 when any argument is -h or --help.
inline void help(int argc, char** argv, const char* usage) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::printf("%s\n", usage);
      std::exit(0);
    }
}

// argv[index] as an integer in [lo, hi], or `fallback` when absent.
inline long long int_arg(int argc, char** argv, int index, long long fallback, long long lo, long long hi, const char* usage) {
  if (index >= argc) return fallback;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(argv[index], &end, 10);
  if (errno != 0 || end == argv[index] || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "error: argument %d '%s' is not an integer in %lld..%lld\n%s\n", index, argv[index], lo, hi, usage);
    std::exit(2);
  }
  return v;
}

// Comma-separated items; commas inside {...} (an agent's JSON
// hyperparameters) do not separate.
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : text) {
    depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    if (c == ',' && depth == 0)
      out.emplace_back();
    else
      out.back() += c;
  }
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

// "ga{\"population\": 16}" -> ("ga", {"population": 16}); a bad JSON part is one line and exit 2.
inline std::pair<std::string, nlohmann::json> agent_with_hyperparameters(const std::string& item) {
  const auto brace = item.find('{');
  if (brace == std::string::npos) return {item, nlohmann::json::object()};
  try {
    return {item.substr(0, brace), nlohmann::json::parse(item.substr(brace))};
  } catch (const nlohmann::json::exception& e) {
    std::fprintf(stderr, "error: '%s': the hyperparameters are not JSON (%s)\n", item.c_str(), e.what());
    std::exit(2);
  }
}

}  // namespace dsegym::bench
