#pragma once
// Minimal SVG charts for reports: line charts with shaded bands, box plots
// and scatter plots, with axes, ticks and a legend.
#include <string>
#include <vector>

namespace dsegym {

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::vector<double> lo, hi;  // optional band (same length as x)
  bool points = false;         // markers instead of a line
};

struct BoxStats {
  std::string label;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
  std::size_t count = 0;
};

std::string svg_line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                           const std::vector<Series>& series);
std::string svg_box_chart(const std::string& title, const std::string& ylabel, const std::vector<BoxStats>& boxes);

// Quantile q in [0,1] of a sample (linear interpolation); NaN when empty.
double quantile(std::vector<double> v, double q);

}  // namespace dsegym
