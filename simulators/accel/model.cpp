#include "simulators/accel/model.hpp"

#include <algorithm>
#include <cmath>

#include "envs/core/error.hpp"

namespace dsegym::accel {

const char* dim_name(int d) {
  static const char* names[] = {"N", "K", "C", "P", "Q", "R", "S"};
  return names[d];
}

std::int64_t Layer::macs() const {
  std::int64_t m = 1;
  for (auto v : size) m *= v;
  return m;
}
std::int64_t Layer::weight_words() const { return size[K] * size[C] * size[R] * size[S]; }
std::int64_t Layer::input_words() const {
  const std::int64_t h = (size[P] - 1) * stride + size[R], w = (size[Q] - 1) * stride + size[S];
  return size[N] * (depthwise ? size[K] : size[C]) * h * w;
}
std::int64_t Layer::output_words() const { return size[N] * size[K] * size[P] * size[Q]; }

const std::vector<EnergyTable>& energy_tables() {
  // 45 nm, 16-bit words: the normalised access costs of Chen, Emer and Sze
  // (Eyeriss, ISCA 2016, Fig. 3; Sze et al., Proc. IEEE 2017, Fig. 9): MAC 1x,
  // RF (0.5 kB) 1x, NoC 2x, global buffer (100-500 kB) 6x, DRAM 200x,
  // anchored at ~1 pJ for a 16-bit MAC (Horowitz, "Computing's energy
  // problem", ISSCC 2014: 8-bit multiply 0.2 pJ, 16-bit FP multiply 1.1 pJ).
  //
  // 16 nm: the on-chip entries scaled by Stillmaker and Baas, "Scaling
  // equations for the accurate prediction of CMOS device performance from
  // 180 nm to 7 nm", Integration 58 (2017): energy(node, Vdd) = a Vdd^2 +
  // b Vdd + c with (a, b, c) = (1.103, -0.362, 0.2767) at 45 nm and
  // (0.2958, -0.1241, 0.03024) at 16 nm; 45 nm at 1.0 V -> 16 nm at 0.8 V
  // (the nominal core supply of 16 nm FinFET processes) is a factor
  // 0.120272 / 1.0177 = 0.11818. DRAM energy is set by the DRAM, not by the
  // accelerator's node, and stays.
  constexpr double k16 = (0.2958 * 0.64 - 0.1241 * 0.8 + 0.03024) / (1.103 - 0.362 + 0.2767);
  static const std::vector<EnergyTable> t = {
      {"45nm", 45, 1.0, 1.0, 2.0, 6.0, 200.0, "Chen et al. ISCA 2016 normalised costs; Horowitz ISSCC 2014 45 nm MAC energy"},
      {"16nm", 16, k16, k16, 2.0 * k16, 6.0 * k16, 200.0, "the 45 nm table scaled by Stillmaker and Baas, Integration 2017 (1.0 V -> 0.8 V); DRAM unchanged"},
  };
  return t;
}

void apply_energy_table(Arch& a, const std::string& node) {
  for (const auto& t : energy_tables())
    if (t.node == node) {
      a.e_mac = t.mac;
      a.e_rf = t.rf;
      a.e_noc = t.noc;
      a.e_glb = t.glb;
      a.e_dram = t.dram;
      a.node_nm = t.nm;
      return;
    }
  std::string valid;
  for (const auto& t : energy_tables()) valid += (valid.empty() ? "" : ", ") + t.node;
  throw InvalidArgument("technology node '" + node + "' is not valid; choices: " + valid);
}

Area area(const Arch& a) {
  constexpr double kMacUm2 = 4470.9;                                   // 16-bit MAC, 28 nm (MAESTRO)
  constexpr double kSramUm2PerByte = 0.29 * 331e6 / (24.0 * 1048576);  // TPU v1 unified buffer, 28 nm
  const double scale = (a.node_nm / 28.0) * (a.node_nm / 28.0);
  const double pes = static_cast<double>(a.rows) * a.cols, bytes_per_word = a.word_bits / 8.0;
  Area r;
  r.mac_mm2 = pes * kMacUm2 * std::pow(a.word_bits / 16.0, 1.8) * scale / 1e6;
  r.rf_mm2 = pes * static_cast<double>(a.rf_words) * bytes_per_word * kSramUm2PerByte * scale / 1e6;
  r.glb_mm2 = static_cast<double>(a.glb_words) * bytes_per_word * kSramUm2PerByte * scale / 1e6;
  r.total_mm2 = r.mac_mm2 + r.rf_mm2 + r.glb_mm2;
  return r;
}

Mapping::Mapping() {
  for (auto& lvl : factors) lvl.fill(1);
  spatial_axis.fill(0);
}

namespace {

enum Tensor { W = 0, I = 1, O = 2 };

bool relevant(int t, int d, bool depthwise) {
  switch (t) {
    case W: return d == K || (d == C && !depthwise) || d == R || d == S;
    case I: return d == N || (depthwise ? d == K : d == C) || d == P || d == Q || d == R || d == S;
    case O: return d == N || d == K || d == P || d == Q;
  }
  return false;
}

// Words of tensor t in a tile with extents e.
double footprint(int t, const std::array<std::int64_t, kDims>& e, const Layer& l) {
  switch (t) {
    case W: return static_cast<double>(e[K] * (l.depthwise ? 1 : e[C]) * e[R] * e[S]);
    case I: {
      const double h = static_cast<double>((e[P] - 1) * l.stride + e[R]), w = static_cast<double>((e[Q] - 1) * l.stride + e[S]);
      return static_cast<double>(e[N] * (l.depthwise ? e[K] : e[C])) * h * w;
    }
    case O: return static_cast<double>(e[N] * e[K] * e[P] * e[Q]);
  }
  return 0;
}

// How often a tile of tensor t below the given temporal loops (outermost
// first) is filled: scanning from the innermost loop outward, loops that do
// not index t reuse the tile (stationarity) until the first loop that does;
// from there on every iteration refills it.
double refills(int t, const std::vector<std::pair<int, std::int64_t>>& loops_outer_first, bool depthwise) {
  double n = 1;
  bool moving = false;
  for (auto it = loops_outer_first.rbegin(); it != loops_outer_first.rend(); ++it) {
    if (it->second <= 1) continue;
    if (!moving && relevant(t, it->first, depthwise)) moving = true;
    if (moving) n *= static_cast<double>(it->second);
  }
  return n;
}

}  // namespace

Evaluation evaluate(const Layer& l, const Arch& a, const Mapping& m) {
  Evaluation ev;
  ev.macs = l.macs();
  if (l.depthwise && l.size[C] != 1) {
    ev.reason = "a depthwise layer has C = 1 (one input channel per output channel)";
    return ev;
  }
  // Factors must cover each dimension (padding allowed).
  std::array<std::int64_t, kDims> glb_ext{}, sp_ext{}, rf_ext{};
  std::int64_t rows_used = 1, cols_used = 1;
  for (int d = 0; d < kDims; ++d) {
    const auto& f = m.factors;
    if (f[0][d] < 1 || f[1][d] < 1 || f[2][d] < 1 || f[3][d] < 1) {
      ev.reason = std::string("factor of ") + dim_name(d) + " below 1";
      return ev;
    }
    if (f[0][d] * f[1][d] * f[2][d] * f[3][d] < l.size[d]) {
      ev.reason = std::string("the factors of ") + dim_name(d) + " cover " + std::to_string(f[0][d] * f[1][d] * f[2][d] * f[3][d]) +
                  " of its " + std::to_string(l.size[d]);
      return ev;
    }
    rf_ext[d] = f[3][d];
    sp_ext[d] = f[2][d] * f[3][d];
    glb_ext[d] = f[1][d] * sp_ext[d];
    (m.spatial_axis[d] == 0 ? rows_used : cols_used) *= f[2][d];
  }
  if (rows_used > a.rows || cols_used > a.cols) {
    ev.reason = "the spatial factors need a " + std::to_string(rows_used) + " x " + std::to_string(cols_used) + " array, the array is " +
                std::to_string(a.rows) + " x " + std::to_string(a.cols);
    return ev;
  }
  double rf_need = 0, glb_need = 0;
  for (int t = 0; t < 3; ++t) {
    rf_need += footprint(t, rf_ext, l);
    glb_need += footprint(t, glb_ext, l);
  }
  if (rf_need > static_cast<double>(a.rf_words)) {
    ev.reason = "the RF tile needs " + std::to_string(static_cast<std::int64_t>(rf_need)) + " words, a PE has " + std::to_string(a.rf_words);
    return ev;
  }
  if (glb_need > static_cast<double>(a.glb_words)) {
    ev.reason = "the global buffer tile needs " + std::to_string(static_cast<std::int64_t>(glb_need)) + " words, the buffer has " +
                std::to_string(a.glb_words);
    return ev;
  }

  std::vector<std::pair<int, std::int64_t>> dram_loops, all_loops;
  for (int d : m.dram_order) dram_loops.emplace_back(d, m.factors[0][d]);
  all_loops = dram_loops;
  for (int d : m.glb_order) all_loops.emplace_back(d, m.factors[1][d]);
  const double pes = static_cast<double>(rows_used * cols_used);

  double dram_total = 0, glb_total = 0;
  for (int t = 0; t < 3; ++t) {
    const double glb_fills = refills(t, dram_loops, l.depthwise);
    const double rf_fills = refills(t, all_loops, l.depthwise);
    const double glb_tile = footprint(t, glb_ext, l), sp_tile = footprint(t, sp_ext, l), rf_tile = footprint(t, rf_ext, l);
    if (t != O) {
      ev.access[0][t].reads = glb_fills * glb_tile;    // DRAM -> GLB
      ev.access[1][t].writes = glb_fills * glb_tile;   // GLB fills
      ev.access[1][t].reads = rf_fills * sp_tile;      // GLB -> array, multicast once per distinct word
      ev.noc_deliveries += rf_fills * rf_tile * pes;   // words arriving at PEs
      ev.access[2][t].writes = rf_fills * rf_tile * pes;
    } else {
      // Partial sums leave the RF (reduced across PEs on the way) and the GLB
      // once per refill; the first visit of each output word needs no read.
      const double glb_writes = rf_fills * sp_tile;
      const double distinct_in_glb = glb_fills * glb_tile;
      ev.access[1][O].writes = glb_writes;
      ev.access[1][O].reads = std::max(0.0, glb_writes - distinct_in_glb);
      ev.noc_deliveries += std::max(0.0, glb_writes - distinct_in_glb) / sp_tile * rf_tile * pes;
      ev.access[0][O].writes = glb_fills * glb_tile;
      ev.access[0][O].reads = std::max(0.0, glb_fills * glb_tile - static_cast<double>(l.output_words()));
    }
    dram_total += ev.access[0][t].reads + ev.access[0][t].writes;
    glb_total += ev.access[1][t].reads + ev.access[1][t].writes;
  }
  // Each MAC reads a weight, an input and a partial sum from the RF and writes the sum back.
  const double macs = static_cast<double>(ev.macs);
  ev.access[2][W].reads = macs;
  ev.access[2][I].reads = macs;
  ev.access[2][O].reads = macs;
  ev.access[2][O].writes = macs;
  double rf_total = 0;
  for (int t = 0; t < 3; ++t) rf_total += ev.access[2][t].reads + ev.access[2][t].writes;

  double temporal = 1;
  for (int d = 0; d < kDims; ++d) temporal *= static_cast<double>(m.factors[0][d] * m.factors[1][d] * m.factors[3][d]);
  ev.compute_cycles = temporal;
  ev.glb_cycles = glb_total / a.glb_words_per_cycle;
  ev.noc_cycles = ev.noc_deliveries / a.noc_words_per_cycle;
  ev.dram_cycles = dram_total / a.dram_words_per_cycle;
  ev.cycles = std::max({ev.compute_cycles, ev.glb_cycles, ev.noc_cycles, ev.dram_cycles});
  ev.latency_ns = ev.cycles * 1000.0 / a.clock_mhz;
  ev.utilization = macs / (ev.cycles * static_cast<double>(a.rows) * static_cast<double>(a.cols));
  ev.energy_breakdown = {macs * a.e_mac, rf_total * a.e_rf, ev.noc_deliveries * a.e_noc, glb_total * a.e_glb, dram_total * a.e_dram};
  ev.energy_pj = 0;
  for (double e : ev.energy_breakdown) ev.energy_pj += e;
  ev.valid = true;
  return ev;
}

}  // namespace dsegym::accel
