#include "simulators/accel/mapper.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "envs/core/error.hpp"

namespace dsegym::accel {

const std::vector<std::string>& dataflow_names() {
  static const std::vector<std::string> v = {"ws", "os", "rs", "is"};
  return v;
}

Dataflow dataflow_from_name(const std::string& name) {
  const auto& v = dataflow_names();
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == name) return static_cast<Dataflow>(i);
  throw InvalidArgument("dataflow '" + name + "' is not valid; choices: ws, os, rs, is");
}

namespace {

// Spatial dimensions of each template, in the order they fill the rows and
// the columns (later ones take what the earlier leave, as Eyeriss folds
// channels and filters onto its array):
//   ws  weight stationary (NVDLA, TPU): rows C, R; columns K, N
//   os  output stationary (ShiDianNao): rows P, N; columns Q, K
//   rs  row stationary (Eyeriss): rows R, C; columns P, K
//   is  input stationary: rows C, R; columns Q, P
struct Template {
  std::vector<int> rows, cols;
};
Template spatial_template(Dataflow df) {
  switch (df) {
    case Dataflow::WeightStationary: return {{C, R}, {K, N}};
    case Dataflow::OutputStationary: return {{P, N}, {Q, K}};
    case Dataflow::RowStationary: return {{R, C}, {P, K}};
    case Dataflow::InputStationary: return {{C, R}, {Q, P}};
  }
  return {{C}, {K}};
}

std::vector<std::int64_t> prime_factors(std::int64_t n) {
  std::vector<std::int64_t> f;
  for (std::int64_t p = 2; p * p <= n; ++p)
    while (n % p == 0) {
      f.push_back(p);
      n /= p;
    }
  if (n > 1) f.push_back(n);
  return f;
}

double edp(const Evaluation& e) { return e.valid ? e.energy_pj * e.latency_ns : std::numeric_limits<double>::infinity(); }

}  // namespace

MappedLayer map_layer(const Layer& l, const Arch& a, Dataflow df) {
  const Template t = spatial_template(df);
  Mapping base;
  // Spatial: fill each array axis with its dimensions in turn; a dimension
  // takes the largest factor that still fits (idle PEs remain when none does).
  auto fill = [&](const std::vector<int>& dims, std::int64_t length, int axis) {
    std::int64_t used = 1;
    for (int d : dims) {
      const std::int64_t f = std::min<std::int64_t>(l.size[d], length / used);
      if (f < 1) break;
      base.factors[2][d] = f;
      base.spatial_axis[d] = axis;
      used *= f;
    }
  };
  fill(t.rows, a.rows, 0);
  fill(t.cols, a.cols, 1);
  std::array<std::vector<std::int64_t>, kDims> primes;
  for (int d = 0; d < kDims; ++d) {
    const std::int64_t rest = (l.size[d] + base.factors[2][d] - 1) / base.factors[2][d];
    base.factors[0][d] = rest;
    primes[d] = prime_factors(rest);
  }
  // Loop orders tried at the DRAM and GLB levels (outermost first): keep
  // weights, inputs or outputs stationary innermost.
  const std::vector<std::array<int, kDims>> orders = {
      {N, C, R, S, K, P, Q},  // P, Q innermost: weights stay
      {N, P, Q, R, S, C, K},  // K innermost: inputs stay
      {N, K, P, Q, C, R, S},  // C, R, S innermost: outputs stay
  };
  MappedLayer best;
  best.eval.reason = "no valid mapping";
  for (const auto& dram_order : orders)
    for (const auto& glb_order : orders) {
      Mapping m = base;
      m.dram_order = dram_order;
      m.glb_order = glb_order;
      Evaluation cur = evaluate(l, a, m);
      ++best.evaluated;
      // Greedy descent: move one prime factor of a dimension one level
      // inward (DRAM -> GLB -> RF) while that lowers energy x delay.
      for (int step = 0; step < 64; ++step) {
        Mapping best_next = m;
        Evaluation best_eval = cur;
        for (int d = 0; d < kDims; ++d)
          for (int from : {0, 1}) {
            const int to = from == 0 ? 1 : 3;
            for (std::int64_t p : primes[d]) {
              if (m.factors[from][d] % p != 0) continue;
              Mapping n = m;
              n.factors[from][d] /= p;
              n.factors[to][d] *= p;
              const Evaluation e = evaluate(l, a, n);
              ++best.evaluated;
              if (edp(e) < edp(best_eval)) {
                best_eval = e;
                best_next = n;
              }
              break;  // one prime per dimension and level is enough to rank the move
            }
          }
        if (!(edp(best_eval) < edp(cur))) break;
        m = best_next;
        cur = best_eval;
      }
      if (cur.valid && (!best.eval.valid || edp(cur) < edp(best.eval))) {
        best.mapping = m;
        best.eval = cur;
      } else if (!best.eval.valid && !cur.valid) {
        best.eval.reason = cur.reason;
      }
    }
  return best;
}

WorkloadResult run_workload(const Workload& w, const Arch& a, Dataflow df, const std::map<std::string, Mapping>& fixed) {
  for (const auto& [name, m] : fixed)
    if (std::none_of(w.layers.begin(), w.layers.end(), [&](const Layer& l) { return l.name == name; })) {
      std::string names;
      for (const auto& l : w.layers) names += (names.empty() ? "" : ", ") + l.name;
      throw InvalidArgument("mapping for layer '" + name + "': " + w.name + " has no such layer; its layers: " + names);
    }
  WorkloadResult r;
  double busy = 0;
  for (const auto& l : w.layers) {
    MappedLayer m;
    if (auto it = fixed.find(l.name); it != fixed.end()) {
      m.mapping = it->second;
      m.eval = evaluate(l, a, m.mapping);
      m.evaluated = 1;
    } else {
      m = map_layer(l, a, df);
    }
    if (!m.eval.valid) {
      r.valid = false;
      r.reason = "layer " + l.name + ": " + m.eval.reason;
    } else {
      r.latency_ns += m.eval.latency_ns;
      r.energy_pj += m.eval.energy_pj;
      busy += static_cast<double>(l.macs());
    }
    r.macs += l.macs();
    r.layers.push_back(std::move(m));
  }
  const double cycles = r.latency_ns * a.clock_mhz / 1000.0;
  r.utilization = cycles > 0 ? busy / (cycles * a.rows * a.cols) : 0;
  return r;
}

}  // namespace dsegym::accel
