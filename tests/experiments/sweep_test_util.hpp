#pragma once
// Helpers shared by the sweep tests.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dsegym::testing {

// summary.csv without its wall-time column (the one column that differs
// between two runs of the same sweep).
inline std::string summary_without_time(const std::filesystem::path& dir) {
  std::ifstream f(dir / "summary.csv");
  std::string line, out;
  int wall_col = -1;
  while (std::getline(f, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cells.push_back(c);
    if (wall_col < 0)
      for (std::size_t i = 0; i < cells.size(); ++i)
        if (cells[i] == "wall_time_s") wall_col = static_cast<int>(i);
    for (std::size_t i = 0; i < cells.size(); ++i)
      if (static_cast<int>(i) != wall_col) out += cells[i] + ",";
    out += "\n";
  }
  return out;
}

}  // namespace dsegym::testing
