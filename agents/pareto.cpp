#include "agents/pareto.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace dsegym {

bool dominates(const Point& a, const Point& b) {
  bool better = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    better = better || a[i] < b[i];
  }
  return better;
}

std::vector<std::size_t> pareto_front(const std::vector<Point>& points) {
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < points.size(); ++i) {
    bool keep = true;
    for (std::size_t j = 0; j < points.size() && keep; ++j)
      keep = !(dominates(points[j], points[i]) || (j < i && points[j] == points[i]));
    if (keep) front.push_back(i);
  }
  return front;
}

std::vector<std::vector<std::size_t>> non_dominated_sort(const std::vector<Point>& p) {
  const std::size_t n = p.size();
  std::vector<std::vector<std::size_t>> dominated(n);
  std::vector<std::size_t> count(n, 0);
  std::vector<std::vector<std::size_t>> fronts(1);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (dominates(p[i], p[j])) {
        dominated[i].push_back(j);
        ++count[j];
      } else if (dominates(p[j], p[i])) {
        dominated[j].push_back(i);
        ++count[i];
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (count[i] == 0) fronts[0].push_back(i);
  while (!fronts.back().empty()) {
    std::vector<std::size_t> next;
    for (auto i : fronts.back())
      for (auto j : dominated[i])
        if (--count[j] == 0) next.push_back(j);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<Point>& p, const std::vector<std::size_t>& front) {
  const std::size_t n = front.size();
  std::vector<double> d(n, 0.0);
  if (n == 0) return d;
  const std::size_t m = p[front[0]].size();
  std::vector<std::size_t> order(n);
  for (std::size_t obj = 0; obj < m; ++obj) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[front[a]][obj] < p[front[b]][obj]; });
    const double lo = p[front[order.front()]][obj], hi = p[front[order.back()]][obj];
    d[order.front()] = d[order.back()] = std::numeric_limits<double>::infinity();
    if (hi <= lo) continue;
    for (std::size_t k = 1; k + 1 < n; ++k)
      d[order[k]] += (p[front[order[k + 1]]][obj] - p[front[order[k - 1]]][obj]) / (hi - lo);
  }
  return d;
}

namespace {

double hv2(std::vector<Point> pts, const Point& ref) {
  std::sort(pts.begin(), pts.end(), [](const Point& a, const Point& b) { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]); });
  double area = 0, best_y = ref[1];
  for (const auto& q : pts) {
    if (q[1] < best_y) {
      area += (ref[0] - q[0]) * (best_y - q[1]);
      best_y = q[1];
    }
  }
  return area;
}

double hv_rec(std::vector<Point> pts, const Point& ref) {
  const std::size_t m = ref.size();
  if (pts.empty()) return 0;
  if (m == 1) {
    double best = ref[0];
    for (const auto& q : pts) best = std::min(best, q[0]);
    return ref[0] - best;
  }
  if (m == 2) return hv2(std::move(pts), ref);
  // Slice along the last objective: between consecutive values, the points
  // at or below the slice form an (m-1)-dimensional problem.
  std::sort(pts.begin(), pts.end(), [m](const Point& a, const Point& b) { return a[m - 1] < b[m - 1]; });
  const Point sub_ref(ref.begin(), ref.end() - 1);
  double volume = 0;
  std::vector<Point> active;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    active.emplace_back(pts[i].begin(), pts[i].end() - 1);
    const double top = i + 1 < pts.size() ? pts[i + 1][m - 1] : ref[m - 1];
    const double height = top - pts[i][m - 1];
    if (height > 0) {
      std::vector<Point> nd;
      for (auto k : pareto_front(active)) nd.push_back(active[k]);
      volume += height * hv_rec(std::move(nd), sub_ref);
    }
  }
  return volume;
}

}  // namespace

double hypervolume(const std::vector<Point>& points, const Point& ref) {
  std::vector<Point> inside;
  for (const auto& q : points) {
    bool ok = q.size() == ref.size();
    for (std::size_t i = 0; ok && i < q.size(); ++i) ok = q[i] < ref[i];
    if (ok) inside.push_back(q);
  }
  std::vector<Point> nd;
  for (auto k : pareto_front(inside)) nd.push_back(inside[k]);
  return hv_rec(std::move(nd), ref);
}

}  // namespace dsegym
