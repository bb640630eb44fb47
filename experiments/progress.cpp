#include "experiments/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace dsegym {

bool Progress::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::int64_t total, std::string label, bool enabled)
    : total_(total), label_(std::move(label)), enabled_(enabled && stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()), last_(start_ - std::chrono::seconds(1)) {}

Progress::~Progress() { finish(); }

void Progress::update(std::int64_t done, const std::string& status) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const double eta = done > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
  constexpr int width = 24;
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %lld/%lld %3.0f%% %.1fs eta %.1fs %s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), 100.0 * frac, elapsed, eta, status.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) {
    std::fputc('\n', stderr);
    drawn_ = false;
  }
}

}  // namespace dsegym
