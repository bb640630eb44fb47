#pragma once
// A one-line progress display with ETA, drawn on stderr only when stderr is
// a terminal (CI logs stay clean).
#include <chrono>
#include <cstdint>
#include <string>

namespace dsegym {

class Progress {
public:
  Progress(std::int64_t total, std::string label, bool enabled);
  ~Progress();
  void update(std::int64_t done, const std::string& status = "");
  void finish();
  static bool stderr_is_terminal();

private:
  std::int64_t total_;
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace dsegym
