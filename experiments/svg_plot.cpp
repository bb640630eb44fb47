#include "experiments/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace dsegym {

namespace {

constexpr double kW = 720, kH = 420, kLeft = 92, kRight = 190, kTop = 40, kBottom = 60;
const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return o;
}

std::string num(double v) {
  char b[32];
  const double a = std::fabs(v);
  std::snprintf(b, sizeof b, (a != 0 && (a >= 1e5 || a < 1e-3)) ? "%.3g" : "%.4g", v);
  return b;
}

// "Nice" tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
  std::vector<double> t;
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) t.push_back(std::fabs(v) < 1e-12 * step ? 0 : v);
  return t;
}

struct Frame {
  double x0, x1, y0, y1;
  double px(double x) const { return kLeft + (x - x0) / (x1 - x0) * (kW - kLeft - kRight); }
  double py(double y) const { return kH - kBottom - (y - y0) / (y1 - y0) * (kH - kTop - kBottom); }
};

void pad(double& lo, double& hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (hi <= lo) {
    const double d = std::max(1e-9, std::fabs(lo) * 0.05 + 1e-9);
    lo -= d;
    hi += d;
  } else {
    const double d = (hi - lo) * 0.05;
    lo -= d;
    hi += d;
  }
}

void header(std::ostringstream& o, const std::string& title) {
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kW << "\" height=\"" << kH << "\" viewBox=\"0 0 " << kW << " " << kH
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    << "<text x=\"" << kW / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << esc(title) << "</text>\n";
}

void axes(std::ostringstream& o, const Frame& f, const std::string& xlabel, const std::string& ylabel, bool xticks) {
  o << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kW - kLeft - kRight << "\" height=\"" << kH - kTop - kBottom
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  for (double t : ticks(f.y0, f.y1)) {
    o << "<line x1=\"" << kLeft - 4 << "\" x2=\"" << kW - kRight << "\" y1=\"" << f.py(t) << "\" y2=\"" << f.py(t)
      << "\" stroke=\"#ddd\"/>\n<text x=\"" << kLeft - 6 << "\" y=\"" << f.py(t) + 4 << "\" text-anchor=\"end\">" << num(t) << "</text>\n";
  }
  if (xticks)
    for (double t : ticks(f.x0, f.x1))
      o << "<text x=\"" << f.px(t) << "\" y=\"" << kH - kBottom + 16 << "\" text-anchor=\"middle\">" << num(t) << "</text>\n";
  o << "<text x=\"" << (kLeft + kW - kRight) / 2 << "\" y=\"" << kH - 18 << "\" text-anchor=\"middle\">" << esc(xlabel) << "</text>\n"
    << "<text transform=\"translate(14," << (kTop + kH - kBottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << esc(ylabel)
    << "</text>\n";
}

}  // namespace

double quantile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(std::floor(pos));
  const double frac = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

std::string svg_line_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel, const std::vector<Series>& series) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min({y0, s.y[i], s.lo.empty() ? s.y[i] : s.lo[i]});
      y1 = std::max({y1, s.y[i], s.hi.empty() ? s.y[i] : s.hi[i]});
    }
  pad(y0, y1);
  if (!(x1 > x0)) pad(x0, x1);
  const Frame f{x0, x1, y0, y1};
  std::ostringstream o;
  header(o, title);
  axes(o, f, xlabel, ylabel, true);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* c = kColors[k % 10];
    if (!s.lo.empty()) {
      o << "<polygon fill=\"" << c << "\" fill-opacity=\"0.15\" stroke=\"none\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.hi[i])) o << f.px(s.x[i]) << "," << f.py(s.hi[i]) << " ";
      for (std::size_t i = s.x.size(); i-- > 0;)
        if (std::isfinite(s.lo[i])) o << f.px(s.x[i]) << "," << f.py(s.lo[i]) << " ";
      o << "\"/>\n";
    }
    if (s.points) {
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) o << "<circle cx=\"" << f.px(s.x[i]) << "\" cy=\"" << f.py(s.y[i]) << "\" r=\"3\" fill=\"" << c << "\"/>\n";
    } else {
      o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\" points=\"";
      for (std::size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) o << f.px(s.x[i]) << "," << f.py(s.y[i]) << " ";
      o << "\"/>\n";
    }
    const double ly = kTop + 14 + 18 * static_cast<double>(k);
    o << "<rect x=\"" << kW - kRight + 12 << "\" y=\"" << ly - 9 << "\" width=\"12\" height=\"10\" fill=\"" << c << "\"/>\n<text x=\""
      << kW - kRight + 30 << "\" y=\"" << ly << "\">" << esc(s.label) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string svg_box_chart(const std::string& title, const std::string& ylabel, const std::vector<BoxStats>& boxes) {
  double y0 = std::numeric_limits<double>::infinity(), y1 = -y0;
  for (const auto& b : boxes)
    if (std::isfinite(b.min)) {
      y0 = std::min(y0, b.min);
      y1 = std::max(y1, b.max);
    }
  pad(y0, y1);
  const Frame f{0, static_cast<double>(std::max<std::size_t>(1, boxes.size())), y0, y1};
  std::ostringstream o;
  header(o, title);
  axes(o, f, "", ylabel, false);
  for (std::size_t k = 0; k < boxes.size(); ++k) {
    const auto& b = boxes[k];
    const char* c = kColors[k % 10];
    const double cx = f.px(static_cast<double>(k) + 0.5), w = std::min(40.0, (kW - kLeft - kRight) / static_cast<double>(boxes.size()) * 0.5);
    o << "<text x=\"" << cx << "\" y=\"" << kH - kBottom + 16 << "\" text-anchor=\"middle\">" << esc(b.label) << " (" << b.count << ")</text>\n";
    if (!std::isfinite(b.median)) continue;
    o << "<line x1=\"" << cx << "\" x2=\"" << cx << "\" y1=\"" << f.py(b.min) << "\" y2=\"" << f.py(b.max) << "\" stroke=\"" << c << "\"/>\n"
      << "<rect x=\"" << cx - w / 2 << "\" y=\"" << f.py(b.q3) << "\" width=\"" << w << "\" height=\"" << std::max(1.0, f.py(b.q1) - f.py(b.q3))
      << "\" fill=\"" << c << "\" fill-opacity=\"0.3\" stroke=\"" << c << "\"/>\n"
      << "<line x1=\"" << cx - w / 2 << "\" x2=\"" << cx + w / 2 << "\" y1=\"" << f.py(b.median) << "\" y2=\"" << f.py(b.median)
      << "\" stroke=\"" << c << "\" stroke-width=\"3\"/>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace dsegym
