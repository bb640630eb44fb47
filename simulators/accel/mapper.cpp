#include "simulators/accel/mapper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "base/error.hpp"

namespace dsegym::accel {

const std::vector<std::string>& objective_names() {
  static const std::vector<std::string> v = {"latency", "energy", "edp"};
  return v;
}

Objective objective_from_name(const std::string& name) {
  const auto& v = objective_names();
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == name) return static_cast<Objective>(i);
  throw InvalidArgument("mapper objective '" + name + "' is not valid; choices: latency, energy, edp");
}

const std::vector<std::array<int, kDims>>& loop_orders() {
  static const std::vector<std::array<int, kDims>> o = {
      {N, C, R, S, K, P, Q},  // P, Q innermost: weights stay
      {N, P, Q, R, S, C, K},  // K innermost: inputs stay
      {N, K, P, Q, C, R, S},  // C, R, S innermost: outputs stay
  };
  return o;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Objective as (primary, secondary), compared lexicographically.
struct Score {
  double a = kInf, b = kInf;
};

Score score_of(const Evaluation& e, Objective o) {
  if (!e.valid) return {};
  switch (o) {
    case Objective::Energy: return {e.energy_pj, e.latency_ns};
    case Objective::Edp: return {e.energy_pj * e.latency_ns, e.latency_ns};
    default: return {e.latency_ns, e.energy_pj};
  }
}

// x strictly better than y (a relative 1e-9 counts as a tie, so rounding
// noise never decides).
bool better(const Score& x, const Score& y) {
  if (!std::isfinite(y.a)) return std::isfinite(x.a);
  if (!std::isfinite(x.a)) return false;
  const double ta = 1e-9 * std::abs(y.a);
  if (x.a < y.a - ta) return true;
  if (x.a > y.a + ta) return false;
  return x.b < y.b - 1e-9 * std::abs(y.b);
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
// The smallest factor that splits `size` into as many parts as v does.
std::int64_t balanced(std::int64_t v, std::int64_t size) { return ceil_div(size, ceil_div(size, v)); }
std::int64_t next_up(std::int64_t v, std::int64_t size) { return balanced(std::min(size, 2 * v), size); }
std::int64_t next_down(std::int64_t v, std::int64_t size) { return balanced(std::max<std::int64_t>(1, v / 2), size); }

struct Best {
  Mapping mapping;
  Evaluation eval;
  Score score;
};

// Greedy descent over the temporal factors and loop orders of one spatial
// unrolling. `spatial` holds the spatial factors and axes.
Best descend_spatial(const Layer& l, const Arch& a, const Mapping& spatial, Objective obj, std::int64_t& evaluated) {
  std::array<std::int64_t, kDims> rest{}, rf{}, g{};
  for (int d = 0; d < kDims; ++d) {
    rest[d] = ceil_div(l.size[d], spatial.factors[2][d]);
    rf[d] = g[d] = 1;
  }
  int od = 0, og = 0;
  auto build = [&](const std::array<std::int64_t, kDims>& rf_, const std::array<std::int64_t, kDims>& g_, int od_, int og_) {
    Mapping m = spatial;
    for (int d = 0; d < kDims; ++d) {
      m.factors[3][d] = rf_[d];
      m.factors[1][d] = g_[d];
      m.factors[0][d] = ceil_div(rest[d], rf_[d] * g_[d]);
    }
    m.dram_order = loop_orders()[static_cast<std::size_t>(od_)];
    m.glb_order = loop_orders()[static_cast<std::size_t>(og_)];
    return m;
  };
  Best cur;
  for (int o1 = 0; o1 < 3; ++o1)
    for (int o2 = 0; o2 < 3; ++o2) {
      Mapping m = build(rf, g, o1, o2);
      Evaluation e = evaluate(l, a, m);
      ++evaluated;
      const Score s = score_of(e, obj);
      if (o1 == 0 && o2 == 0 ? true : better(s, cur.score)) {
        cur = {m, e, s};
        od = o1, og = o2;
      }
    }
  if (!cur.eval.valid) return cur;
  for (;;) {
    Best step = cur;
    std::array<std::int64_t, kDims> best_rf = rf, best_g = g;
    int best_od = od, best_og = og;
    auto consider = [&](const std::array<std::int64_t, kDims>& rf_, const std::array<std::int64_t, kDims>& g_, int od_, int og_) {
      Mapping m = build(rf_, g_, od_, og_);
      Evaluation e = evaluate(l, a, m);
      ++evaluated;
      const Score s = score_of(e, obj);
      if (better(s, step.score)) {
        step = {m, e, s};
        best_rf = rf_, best_g = g_, best_od = od_, best_og = og_;
      }
    };
    for (int d = 0; d < kDims; ++d) {
      if (rest[d] <= 1) continue;
      if (rf[d] < rest[d]) {
        auto rf2 = rf, g2 = g;
        rf2[d] = next_up(rf[d], rest[d]);
        g2[d] = std::min(g[d], ceil_div(rest[d], rf2[d]));
        consider(rf2, g2, od, og);
      }
      if (rf[d] > 1) {
        auto rf2 = rf;
        rf2[d] = next_down(rf[d], rest[d]);
        consider(rf2, g, od, og);
      }
      const std::int64_t gmax = ceil_div(rest[d], rf[d]);
      if (g[d] < gmax) {
        auto g2 = g;
        g2[d] = next_up(g[d], gmax);
        consider(rf, g2, od, og);
        if (g2[d] != gmax) {
          g2[d] = gmax;
          consider(rf, g2, od, og);
        }
      }
      if (g[d] > 1) {
        auto g2 = g;
        g2[d] = next_down(g[d], gmax);
        consider(rf, g2, od, og);
      }
    }
    for (int o = 0; o < 3; ++o) {
      if (o != od) consider(rf, g, o, og);
      if (o != og) consider(rf, g, od, o);
    }
    if (!better(step.score, cur.score)) break;
    cur = step;
    rf = best_rf, g = best_g, od = best_od, og = best_og;
  }
  return cur;
}

// Dimensions a spatial dataflow may unroll on its two axes.
std::pair<std::vector<int>, std::vector<int>> spatial_template(Dataflow df) {
  switch (df) {
    case Dataflow::WeightStationary: return {{C, R, S}, {K}};
    case Dataflow::OutputStationary: return {{P, N}, {Q, K}};
    case Dataflow::RowStationary: return {{R, C}, {P, K}};
    case Dataflow::InputStationary: return {{C}, {Q, P, N}};
  }
  return {{C}, {K}};
}

// The ways one axis of length L can be filled from `dims` (see mapper.hpp).
std::vector<std::array<std::int64_t, kDims>> axis_fills(const Layer& l, std::vector<int> dims, std::int64_t length) {
  std::set<std::int64_t> budgets;
  for (std::int64_t b = length; b >= 1; b /= 2) budgets.insert(b);
  for (std::int64_t b = 1; b <= length; b *= 2) budgets.insert(b);
  std::set<std::array<std::int64_t, kDims>> out;
  std::sort(dims.begin(), dims.end());
  do {
    for (std::int64_t b : budgets) {
      std::array<std::int64_t, kDims> f{};
      f.fill(1);
      std::int64_t used = 1;
      for (int d : dims) {
        const std::int64_t v = std::max<std::int64_t>(1, std::min(l.size[d], b / used));
        f[d] = balanced(v, l.size[d]);
        used *= f[d];
      }
      out.insert(f);
    }
  } while (std::next_permutation(dims.begin(), dims.end()));
  return {out.begin(), out.end()};
}

struct Candidate {
  Mapping spatial;  // factors[2] and spatial_axis
  Score bound;
};

// A lower bound on the objective of every mapping with these spatial
// factors: compute cycles, the minimum DRAM traffic (each tensor once), the
// MAC and RF energy every mapping pays.
Score lower_bound(const Layer& l, const Arch& a, const Mapping& sp, Objective obj) {
  double compute = 1;
  for (int d = 0; d < kDims; ++d) compute *= static_cast<double>(ceil_div(l.size[d], sp.factors[2][d]));
  const double min_dram = static_cast<double>(l.weight_words() + l.input_words() + l.output_words());
  const double lat = std::max(compute, min_dram / a.dram_words_per_cycle) * 1000.0 / a.clock_mhz;
  const double macs = static_cast<double>(l.macs());
  const double energy = macs * (a.energy.mac + 4 * a.e_rf()) + min_dram * a.energy.dram;
  switch (obj) {
    case Objective::Energy: return {energy, lat};
    case Objective::Edp: return {energy * lat, lat};
    default: return {lat, energy};
  }
}

std::vector<Candidate> spatial_candidates(const Layer& l, const Arch& a, Dataflow df, Objective obj) {
  const auto [first, second] = spatial_template(df);
  std::set<std::pair<std::array<std::int64_t, kDims>, std::array<int, kDims>>> seen;
  std::vector<Candidate> out;
  // The two lists on the rows and the columns, either way round, or all of
  // the dimensions on one axis (a one-dimensional array, like MAESTRO's).
  std::vector<int> all = first;
  all.insert(all.end(), second.begin(), second.end());
  const std::vector<std::pair<std::vector<int>, std::vector<int>>> layouts = {{first, second}, {second, first}, {all, {}}, {{}, all}};
  for (const auto& [on_rows, on_cols] : layouts) {
    const auto rf = axis_fills(l, on_rows, a.rows), cf = axis_fills(l, on_cols, a.cols);
    for (const auto& r : rf)
      for (const auto& c : cf) {
        Mapping m;
        std::array<int, kDims> axis{};
        for (int d = 0; d < kDims; ++d) {
          m.factors[2][d] = r[d] * c[d];
          axis[d] = c[d] > 1 ? 1 : 0;
        }
        m.spatial_axis = axis;
        if (!seen.insert({m.factors[2], axis}).second) continue;
        out.push_back({m, lower_bound(l, a, m, obj)});
      }
  }
  // Best bound first; ties in a fixed order of the factors (never of the array).
  std::sort(out.begin(), out.end(), [](const Candidate& x, const Candidate& y) {
    if (x.bound.a != y.bound.a) return x.bound.a < y.bound.a;
    if (x.bound.b != y.bound.b) return x.bound.b < y.bound.b;
    return std::tie(x.spatial.factors[2], x.spatial.spatial_axis) < std::tie(y.spatial.factors[2], y.spatial.spatial_axis);
  });
  return out;
}

}  // namespace

MappedLayer map_layer(const Layer& l, const Arch& a, Dataflow df, Objective obj) {
  MappedLayer out;
  if (a.array == ArrayKind::Systolic) {
    if (df == Dataflow::RowStationary) {
      out.eval.reason = "row stationary needs a spatial array; a systolic array runs ws, os or is";
      return out;
    }
    // Every fold order, the stream cut into 1, 2, 4, ... chunks, and folds
    // on the whole array or on a half, quarter, ... of its rows or columns
    // (smaller working sets; fills stay the array's).
    const double t = systolic_shape(l, df).t;
    Score best;
    for (std::int64_t ru = a.rows; ru >= 1; ru /= 2)
      for (std::int64_t cu = a.cols; cu >= 1; cu /= 2)
        for (bool rows_outer : {true, false})
          for (std::int64_t chunks = 1; static_cast<double>(chunks) <= t; chunks *= 2) {
            Mapping m;
            m.dataflow = df;
            m.fold_rows_outer = rows_outer;
            m.stream_chunks = chunks;
            m.rows_used = ru, m.cols_used = cu;
            const Evaluation e = evaluate(l, a, m);
            ++out.evaluated;
            if (better(score_of(e, obj), best)) {
              best = score_of(e, obj);
              out.mapping = m;
              out.eval = e;
            }
          }
    return out;
  }
  Best best;
  std::string first_reason;
  for (const Candidate& c : spatial_candidates(l, a, df, obj)) {
    if (std::isfinite(best.score.a) && c.bound.a > best.score.a * (1 + 1e-9)) break;
    const Best b = descend_spatial(l, a, c.spatial, obj, out.evaluated);
    if (!b.eval.valid && first_reason.empty()) first_reason = b.eval.reason;
    if (better(b.score, best.score)) best = b;
  }
  if (!best.eval.valid) {
    out.eval.reason = first_reason.empty() ? "no valid mapping" : first_reason;
    return out;
  }
  out.mapping = best.mapping;
  out.eval = best.eval;
  return out;
}

WorkloadResult run_workload(const Workload& w, const Arch& a, Dataflow df, const std::map<std::string, Mapping>& fixed, Objective obj) {
  for (const auto& entry : fixed) {
    const std::string& name = entry.first;  // a plain reference: lambdas cannot capture structured bindings in clang 14
    if (std::none_of(w.layers.begin(), w.layers.end(), [&](const Layer& l) { return l.name == name; })) {
      std::string names;
      for (const auto& l : w.layers) names += (names.empty() ? "" : ", ") + l.name;
      throw InvalidArgument("mapping for layer '" + name + "': " + w.name + " has no such layer; its layers: " + names);
    }
  }
  WorkloadResult r;
  double busy = 0;
  std::map<std::tuple<std::array<std::int64_t, kDims>, int, bool>, MappedLayer> by_shape;
  for (const auto& l : w.layers) {
    MappedLayer m;
    if (auto it = fixed.find(l.name); it != fixed.end()) {
      m.mapping = it->second;
      m.eval = evaluate(l, a, m.mapping);
      m.evaluated = 1;
    } else {
      const auto key = std::make_tuple(l.size, l.stride, l.depthwise);
      if (auto it2 = by_shape.find(key); it2 != by_shape.end()) {
        m = it2->second;
        m.evaluated = 0;  // mapped already
      } else {
        m = by_shape.emplace(key, map_layer(l, a, df, obj)).first->second;
      }
    }
    if (!m.eval.valid) {
      if (r.valid) r.reason = "layer " + l.name + ": " + m.eval.reason;
      r.valid = false;
    } else {
      r.cycles += m.eval.cycles;
      r.latency_ns += m.eval.latency_ns;
      r.energy_pj += m.eval.energy_pj;
      busy += static_cast<double>(l.macs());
    }
    r.macs += l.macs();
    r.layers.push_back(std::move(m));
  }
  r.utilization = r.cycles > 0 ? busy / (r.cycles * static_cast<double>(a.pes())) : 0;
  return r;
}

}  // namespace dsegym::accel
