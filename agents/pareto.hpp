#pragma once
// Pareto dominance, non-dominated sorting and hypervolume, all for
// minimisation of every objective.
#include <cstddef>
#include <vector>

namespace dsegym {

using Point = std::vector<double>;

// a dominates b: no worse in every objective and better in one.
bool dominates(const Point& a, const Point& b);

// Indices of the non-dominated points (duplicates kept once, the first).
std::vector<std::size_t> pareto_front(const std::vector<Point>& points);

// Fronts of the fast non-dominated sort (Deb et al. 2002): fronts[0] is the
// Pareto front, fronts[1] the front after removing it, ...
std::vector<std::vector<std::size_t>> non_dominated_sort(const std::vector<Point>& points);

// Crowding distance of each member of one front (Deb et al. 2002).
std::vector<double> crowding_distance(const std::vector<Point>& points, const std::vector<std::size_t>& front);

// Exact hypervolume dominated by `points` and bounded by `ref` (points not
// strictly better than ref in every objective add nothing): sweep in 2-D,
// slicing by the last objective above that.
double hypervolume(const std::vector<Point>& points, const Point& ref);

}  // namespace dsegym
