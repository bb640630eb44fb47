#include "simulators/accel/model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.hpp"

namespace dsegym::accel {

const char* dim_name(int d) {
  static const char* names[] = {"N", "K", "C", "P", "Q", "R", "S"};
  return names[d];
}

void Layer::check(const std::string& where) const {
  std::int64_t m = 1;
  for (int d = 0; d < kDims; ++d) {
    if (size[d] < 1 || size[d] > kMaxDimSize)
      throw InvalidArgument(where + "." + dim_name(d) + ": " + std::to_string(size[d]) + " is outside 1.." + std::to_string(kMaxDimSize));
    if (__builtin_mul_overflow(m, size[d], &m) || m > kMaxMacs)
      throw InvalidArgument(where + ": the layer has more than 2^62 MACs (N K C P Q R S overflows); split it");
  }
  if (stride < 1 || stride > (1 << 20)) throw InvalidArgument(where + ".stride: " + std::to_string(stride) + " is outside 1..1048576");
  if (depthwise && size[C] != 1)
    throw InvalidArgument(where + ".C: a depthwise layer has C = 1 (one input channel per output channel), got " + std::to_string(size[C]));
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

const std::vector<std::string>& array_kind_names() {
  static const std::vector<std::string> v = {"spatial", "systolic"};
  return v;
}
ArrayKind array_kind_from_name(const std::string& name) {
  if (name == "spatial") return ArrayKind::Spatial;
  if (name == "systolic") return ArrayKind::Systolic;
  throw InvalidArgument("array '" + name + "' is not valid; choices: spatial, systolic");
}
const char* array_kind_name(ArrayKind k) { return k == ArrayKind::Spatial ? "spatial" : "systolic"; }

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
const char* dataflow_name(Dataflow df) { return dataflow_names()[static_cast<std::size_t>(df)].c_str(); }

const std::vector<EnergyTable>& energy_tables() {
  // 45 nm, 16-bit words:
  //  - MAC ~1 pJ (Horowitz, "Computing's energy problem", ISSCC 2014:
  //    16-bit FP multiply 1.1 pJ, 8-bit integer multiply 0.2 pJ);
  //  - a 32-bit integer add 0.1 pJ (same table), for spatial reductions;
  //  - wire: Eyeriss' NoC costs 2x a MAC per word delivered across its
  //    12 x 14 array (Chen et al., ISCA 2016, Table IV), a Y-bus plus an
  //    X-bus spanning 12 + 14 = 26 PE pitches: 2 / 26 pJ per word and pitch,
  //    also the cost of one PE-to-PE forward in a systolic array;
  //  - SRAM: 10 pJ per 64-bit access of an 8 KiB array (Horowitz ISSCC 2014;
  //    32 KiB 20 pJ, 1 MiB 100 pJ: ~sqrt(capacity)); see sram_energy;
  //  - DRAM 200x a MAC (Chen et al., ISCA 2016, Table IV).
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
  constexpr double hop = 2.0 / 26;
  static const std::vector<EnergyTable> t = {
      {"45nm", 45, 1.0, 0.1, hop, 10.0, 200.0, "Horowitz ISSCC 2014 (MAC, add, SRAM); Chen et al. ISCA 2016 (NoC, DRAM)"},
      {"16nm", 16, k16, 0.1 * k16, hop * k16, 10.0 * k16, 200.0,
       "the 45 nm table scaled by Stillmaker and Baas, Integration 2017 (1.0 V -> 0.8 V); DRAM unchanged"},
  };
  return t;
}

double sram_energy(const EnergyTable& t, double bytes, int word_bits) {
  return t.sram_8kib * std::sqrt(std::max(bytes, 1.0) / 8192.0) * word_bits / 64.0;
}

double Arch::e_rf() const { return sram_energy(energy, static_cast<double>(rf_words) * word_bits / 8, word_bits); }
double Arch::e_glb() const { return sram_energy(energy, static_cast<double>(glb_words) * word_bits / 8, word_bits); }

void Arch::check(const std::string& where) const {
  auto range = [&](const char* key, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
      throw InvalidArgument(where + "." + key + ": " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  };
  range("rows", rows, 1, 65536);
  range("cols", cols, 1, 65536);
  if (pes() > (std::int64_t{1} << 26))
    throw InvalidArgument(where + ": " + std::to_string(rows) + " x " + std::to_string(cols) + " PEs is more than the 2^26 the model takes");
  range("rf_words", static_cast<double>(rf_words), 1, 1ULL << 40);
  range("glb_words", static_cast<double>(glb_words), 1, 1ULL << 40);
  range("glb_words_per_cycle", glb_words_per_cycle, 1e-6, 1e12);
  range("noc_words_per_cycle", noc_words_per_cycle, 1e-6, 1e12);
  range("dram_words_per_cycle", dram_words_per_cycle, 1e-6, 1e12);
  range("clock_mhz", clock_mhz, 1e-6, 1e6);
}

void apply_energy_table(Arch& a, const std::string& node) {
  for (const auto& t : energy_tables())
    if (t.node == node) {
      a.energy = t;
      return;
    }
  std::string valid;
  for (const auto& t : energy_tables()) valid += (valid.empty() ? "" : ", ") + t.node;
  throw InvalidArgument("technology node '" + node + "' is not valid; choices: " + valid);
}

Area area(const Arch& a) {
  constexpr double kMacUm2 = 4470.9;                                   // 16-bit MAC, 28 nm (MAESTRO)
  constexpr double kSramUm2PerByte = 0.29 * 331e6 / (24.0 * 1048576);  // TPU v1 unified buffer, 28 nm
  const double scale = (a.energy.nm / 28.0) * (a.energy.nm / 28.0);
  const double pes = static_cast<double>(a.pes()), bytes_per_word = a.word_bits / 8.0;
  Area r;
  r.mac_mm2 = pes * kMacUm2 * std::pow(a.word_bits / 16.0, 1.8) * scale / 1e6;
  if (a.array == ArrayKind::Spatial) r.rf_mm2 = pes * static_cast<double>(a.rf_words) * bytes_per_word * kSramUm2PerByte * scale / 1e6;
  r.glb_mm2 = static_cast<double>(a.glb_words) * bytes_per_word * kSramUm2PerByte * scale / 1e6;
  r.total_mm2 = r.mac_mm2 + r.rf_mm2 + r.glb_mm2;
  return r;
}

Mapping::Mapping() {
  for (auto& lvl : factors) lvl.fill(1);
  spatial_axis.fill(0);
}

SystolicShape systolic_shape(const Layer& l, Dataflow df) {
  const auto& e = l.size;
  const double m = static_cast<double>(e[N] * e[P] * e[Q]);
  const double groups = l.depthwise ? static_cast<double>(e[K]) : 1;
  const double kw = static_cast<double>((l.depthwise ? 1 : e[C]) * e[R] * e[S]), f = l.depthwise ? 1 : static_cast<double>(e[K]);
  switch (df) {
    case Dataflow::OutputStationary: return {groups, m, kw, f, m, f, kw};
    case Dataflow::InputStationary: return {groups, m, kw, f, kw, m, f};
    default: return {groups, m, kw, f, kw, f, m};
  }
}

const char* Evaluation::bound() const {
  const double m = std::max({compute_cycles, glb_cycles, noc_cycles, dram_cycles});
  return m == compute_cycles ? "compute" : m == dram_cycles ? "dram" : m == glb_cycles ? "glb" : "noc";
}

namespace {

enum Tensor { W = 0, I = 1, O = 2 };
using Ext = std::array<double, kDims>;

bool relevant(int t, int d, bool depthwise) {
  switch (t) {
    case W: return d == K || (d == C && !depthwise) || d == R || d == S;
    case I: return d == N || (depthwise ? d == K : d == C) || d == P || d == Q || d == R || d == S;
    case O: return d == N || d == K || d == P || d == Q;
  }
  return false;
}

// Words of tensor t in a tile with extents e (averages may be fractional).
double footprint(int t, const Ext& e, const Layer& l) {
  switch (t) {
    case W: return e[K] * (l.depthwise ? 1 : e[C]) * e[R] * e[S];
    case I: {
      const double h = (e[P] - 1) * l.stride + e[R], w = (e[Q] - 1) * l.stride + e[S];
      return e[N] * (l.depthwise ? e[K] : e[C]) * std::max(h, 1.0) * std::max(w, 1.0);
    }
    case O: return e[N] * e[K] * e[P] * e[Q];
  }
  return 0;
}

// How often a tile of tensor t below the given temporal loops (outermost
// first, with their trip counts) is filled: scanning from the innermost loop
// outward, loops that do not index t reuse the tile (stationarity) until the
// first loop that does; from there on every iteration refills it.
using Loops = std::vector<std::pair<int, double>>;
double refills(int t, const Loops& loops_outer_first, bool depthwise) {
  double n = 1;
  bool moving = false;
  for (auto it = loops_outer_first.rbegin(); it != loops_outer_first.rend(); ++it) {
    if (it->second <= 1) continue;
    if (!moving && relevant(t, it->first, depthwise)) moving = true;
    if (moving) n *= it->second;
  }
  return n;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::string str(std::int64_t v) { return std::to_string(v); }

std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::int64_t>::max() : r;
}

}  // namespace

namespace {

// Fills the timing, utilisation and energy of an evaluation from its
// accesses: the first load and last write-back are exposed, the rest overlaps.
void finish(Evaluation& ev, const Arch& a, double first, double last, double exposed_array, double noc_busiest, double rf_total,
            double adds) {
  double glb_total = 0, dram_total = 0;
  for (int t = 0; t < 3; ++t) {
    glb_total += ev.access[1][t].reads + ev.access[1][t].writes;
    dram_total += ev.access[0][t].reads + ev.access[0][t].writes;
  }
  ev.glb_cycles = glb_total / a.glb_words_per_cycle;
  ev.noc_cycles = noc_busiest / a.noc_words_per_cycle;
  ev.dram_cycles = std::max(0.0, dram_total / a.dram_words_per_cycle - first - last);
  ev.exposed_cycles = first + last + exposed_array;
  ev.cycles = ev.exposed_cycles + std::max({ev.compute_cycles, ev.glb_cycles, ev.noc_cycles, ev.dram_cycles});
  ev.latency_ns = ev.cycles * 1000.0 / a.clock_mhz;
  const double macs = static_cast<double>(ev.macs);
  ev.utilization = macs / (ev.cycles * static_cast<double>(a.pes()));
  ev.energy_breakdown = {macs * a.energy.mac + adds * a.energy.add, rf_total * a.e_rf(), ev.hops * a.energy.hop, glb_total * a.e_glb(),
                         dram_total * a.energy.dram};
  ev.energy_pj = 0;
  for (double e : ev.energy_breakdown) ev.energy_pj += e;
  ev.valid = true;
}

// A systolic array (SCALE-Sim's method): the layer's GEMM runs fold by fold
// over the whole layer, independent of the buffer's size; the buffer decides
// how much of the re-streamed operands is kept between the folds that reuse
// them and how much comes again from DRAM.
Evaluation evaluate_systolic(const Layer& l, const Arch& a, const Mapping& m) {
  Evaluation ev;
  ev.macs = l.macs();
  for (int d = 0; d < kDims; ++d)
    for (int lvl = 0; lvl < 4; ++lvl)
      if (m.factors[lvl][d] != 1) {
        ev.reason = std::string("a systolic array's mapping is its dataflow and fold order; it has no tiling factors (") + dim_name(d) +
                    " has " + str(m.factors[lvl][d]) + ")";
        ev.rejected = Evaluation::Reject::Factors;
        return ev;
      }
  const Dataflow df = m.dataflow;
  const SystolicShape g = systolic_shape(l, df);
  const double sr = g.sr, sc = g.sc, t = g.t;
  // A fold may use a sub-array (fewer rows or columns than the array has);
  // its operands still cross the whole array: fills are the array's.
  const std::int64_t ru = m.rows_used > 0 ? m.rows_used : a.rows, cu = m.cols_used > 0 ? m.cols_used : a.cols;
  if (ru > a.rows || cu > a.cols) {
    ev.reason = "the mapping uses " + str(ru) + " x " + str(cu) + " PEs, the array is " + str(a.rows) + " x " + str(a.cols);
    ev.rejected = Evaluation::Reject::Array;
    return ev;
  }
  const double rows = a.rows, cols = a.cols, r = static_cast<double>(ru), c = static_cast<double>(cu);
  const double fr = std::ceil(sr / r), fc = std::ceil(sc / c);
  // The stream may be cut into chunks, each running every fold (the held
  // operand reloaded per chunk): more fills and drains, smaller working sets.
  if (static_cast<double>(m.stream_chunks) > t) {
    ev.reason = "stream_chunks " + str(m.stream_chunks) + " is more than the " + str(static_cast<std::int64_t>(t)) + " streamed rows";
    ev.rejected = Evaluation::Reject::Factors;
    return ev;
  }
  const double chunks = std::ceil(t / std::ceil(t / static_cast<double>(m.stream_chunks)));
  const double fill = df == Dataflow::OutputStationary ? rows + cols - 2 : 2 * rows + cols - 2;
  ev.compute_cycles = g.groups * fr * fc * (chunks * fill + t);
  const double held = std::min(sr, r) * std::min(sc, c);  // one fold's held block
  ev.pes_used = static_cast<std::int64_t>(held);

  // GLB reads and writes of the array, as SCALE-Sim counts them (inputs as
  // im2col entries), per group.
  const double ifmap = g.m * g.kw, filter = g.kw * g.f, ofmap = g.m * g.f;
  double in_reads = ifmap * fc, w_reads = filter * chunks, out_writes = ofmap * fr, stationary_words = filter * chunks;  // ws
  if (df == Dataflow::OutputStationary) in_reads = ifmap * fc, w_reads = filter * fr, out_writes = ofmap, stationary_words = ofmap;
  if (df == Dataflow::InputStationary) in_reads = ifmap * chunks, w_reads = filter * fc, out_writes = ofmap * fr, stationary_words = ifmap * chunks;

  // DRAM: the held operand's blocks are each used by one fold of a chunk
  // (fetched once, or once per chunk unless kept); a streamed operand is swept
  // again by every fold along the axis it does not depend on. With that axis
  // innermost the folds that reuse a slice come one after another (the
  // slice, 1/folds of the chunk's operand, must stay); outermost, the chunk's
  // whole operand comes round again. The buffer, less one held block, keeps
  // what it can, the operand that saves the most DRAM words per word kept
  // first; the rest is fetched again (partial sums: written and read back).
  const double U[3] = {static_cast<double>(l.weight_words()) / g.groups, static_cast<double>(l.input_words()) / g.groups,
                       static_cast<double>(l.output_words()) / g.groups};
  enum Reuse { AcrossRows, AcrossCols, AcrossChunks };
  struct Stream {
    int tensor;
    Reuse reuse;  // the loop whose iterations use it again
    double kept = 0, extra = 0;
  };
  std::vector<Stream> streams;
  if (df == Dataflow::WeightStationary) streams = {{I, AcrossCols}, {O, AcrossRows}, {W, AcrossChunks}};
  if (df == Dataflow::OutputStationary) streams = {{I, AcrossCols}, {W, AcrossRows}};
  if (df == Dataflow::InputStationary) streams = {{W, AcrossCols}, {O, AcrossRows}, {I, AcrossChunks}};
  const bool rows_outer = m.fold_rows_outer;
  double room = std::max(0.0, static_cast<double>(a.glb_words) - held);
  struct Need {
    double set, sweeps, total, rate;  // working set, times it is used, words it stands for, DRAM words saved per word kept
  };
  auto need = [&](const Stream& st) {
    if (st.reuse == AcrossChunks) return Need{U[st.tensor], chunks, U[st.tensor], chunks - 1};
    const double along = st.reuse == AcrossRows ? fr : fc, other = st.reuse == AcrossRows ? fc : fr;
    const bool inner = (st.reuse == AcrossRows) != rows_outer;  // the reusing axis is the inner fold loop
    const double per_chunk = U[st.tensor] / chunks;
    const double set = inner ? per_chunk / other : per_chunk;
    return Need{set, along, U[st.tensor], (along - 1) * U[st.tensor] / set * (st.tensor == O ? 2 : 1)};
  };
  std::sort(streams.begin(), streams.end(), [&](const Stream& x, const Stream& y) { return need(x).rate > need(y).rate; });
  for (Stream& st : streams) {
    const Need n = need(st);
    st.kept = std::min(n.set, room);
    room -= st.kept;
    st.extra = (n.sweeps - 1) * (n.total / n.set) * std::max(0.0, n.set - st.kept);
  }
  double extra[3] = {0, 0, 0};
  for (const Stream& st : streams) extra[st.tensor] = st.extra * g.groups;
  ev.access[0][W].reads = g.groups * U[W] + extra[W];
  ev.access[0][I].reads = g.groups * U[I] + extra[I];
  ev.access[0][O].writes = g.groups * U[O] + extra[O];
  ev.access[0][O].reads = extra[O];
  // GLB: the array's accesses, DRAM fills written, write-backs read.
  ev.access[1][W].reads = g.groups * w_reads;
  ev.access[1][I].reads = g.groups * in_reads;
  ev.access[1][W].writes = ev.access[0][W].reads;
  ev.access[1][I].writes = ev.access[0][I].reads;
  ev.access[1][O].writes = g.groups * out_writes + ev.access[0][O].reads;
  ev.access[1][O].reads = g.groups * (out_writes - ofmap) + ev.access[0][O].writes;
  // Each MAC forwards its two moving operands one PE on; held operands are
  // shifted in from the edge (r / 2 hops on average), outputs of an
  // output-stationary array drained out the same way.
  ev.hops = 2 * static_cast<double>(ev.macs) + g.groups * stationary_words * r / 2.0;
  // Exposed: the first fold's held block (and first stream words) before
  // anything runs; the last fold's outputs after.
  const double first = (held + r + c) / a.dram_words_per_cycle;
  const double last = (df == Dataflow::OutputStationary ? held : ofmap / fc / chunks) / a.dram_words_per_cycle;
  finish(ev, a, first, last, 0, 0, 0, 0);
  return ev;
}

}  // namespace

Evaluation evaluate(const Layer& l, const Arch& a, const Mapping& m) {
  if (a.array == ArrayKind::Systolic && m.dataflow == Dataflow::RowStationary) {
    Evaluation ev;
    ev.macs = l.macs();
    ev.reason = "row stationary needs a spatial array; a systolic array runs ws, os or is";
    ev.rejected = Evaluation::Reject::Dataflow;
    return ev;
  }
  if (a.array == ArrayKind::Systolic) return evaluate_systolic(l, a, m);
  Evaluation ev;
  ev.macs = l.macs();
  const auto& f = m.factors;
  for (int d = 0; d < kDims; ++d)
    for (int lvl = 0; lvl < 4; ++lvl)
      if (f[lvl][d] < 1 || f[lvl][d] > kMaxDimSize) {
        ev.reason = std::string("factor of ") + dim_name(d) + " outside 1.." + str(kMaxDimSize);
        ev.rejected = Evaluation::Reject::Factors;
        return ev;
      }

  // Tile extents: padded (for capacities) and the number of tiles per
  // dimension at each level (for traffic, with the average tile).
  std::array<std::int64_t, kDims> glb_ext{}, sp_ext{}, rf_ext{};
  std::int64_t rows_used = 1, cols_used = 1;
  for (int d = 0; d < kDims; ++d) {
    const std::int64_t inner = sat_mul(f[3][d], f[2][d]), reach = sat_mul(inner, f[1][d]);
    if (sat_mul(reach, f[0][d]) < l.size[d]) {
      ev.reason = std::string("the factors of ") + dim_name(d) + " cover " + str(sat_mul(reach, f[0][d])) + " of its " + str(l.size[d]);
      ev.rejected = Evaluation::Reject::Factors;
      return ev;
    }
    rf_ext[d] = std::min(f[3][d], l.size[d]);
    sp_ext[d] = std::min(inner, l.size[d]);
    glb_ext[d] = std::min(reach, l.size[d]);
    if (f[2][d] > 1) {
      std::int64_t& used = m.spatial_axis[d] == 0 ? rows_used : cols_used;
      used = sat_mul(used, f[2][d]);
    }
  }
  if (rows_used > a.rows || cols_used > a.cols) {
    ev.reason = "the spatial factors need a " + str(rows_used) + " x " + str(cols_used) + " array, the array is " + str(a.rows) + " x " + str(a.cols);
    ev.rejected = Evaluation::Reject::Array;
    return ev;
  }

  // Trip counts of the DRAM-level and GLB-level loops (GLB: per GLB tile, on average).
  std::array<double, kDims> n_glb{}, n_sp{};
  Ext glb_avg{}, sp_avg{}, pe_avg{};
  double active = 1;  // PEs busy on average (spatial)
  for (int d = 0; d < kDims; ++d) {
    const double size = static_cast<double>(l.size[d]);
    n_glb[d] = static_cast<double>(ceil_div(l.size[d], glb_ext[d]));
    n_sp[d] = static_cast<double>(ceil_div(l.size[d], sp_ext[d]));
    glb_avg[d] = size / n_glb[d];
    sp_avg[d] = size / n_sp[d];
    const double busy = std::min(static_cast<double>(f[2][d]), sp_avg[d]);
    pe_avg[d] = sp_avg[d] / busy;
    active *= busy;
  }
  Loops dram_loops, all_loops;
  for (int d : m.dram_order) dram_loops.emplace_back(d, n_glb[d]);
  all_loops = dram_loops;
  for (int d : m.glb_order) all_loops.emplace_back(d, n_sp[d] / n_glb[d]);

  // Capacities: the GLB holds a tile of each tensor, two where the tile is
  // refilled (double buffering); an RF holds one tile of each.
  std::array<double, 3> glb_fills{}, glb_tile{};
  Ext glb_full{};
  for (int d = 0; d < kDims; ++d) glb_full[d] = static_cast<double>(glb_ext[d]);
  double glb_need = 0;
  for (int t = 0; t < 3; ++t) {
    glb_fills[t] = refills(t, dram_loops, l.depthwise);
    glb_tile[t] = footprint(t, glb_avg, l);
    glb_need += footprint(t, glb_full, l) * (glb_fills[t] > 1 ? 2 : 1);
  }
  Ext rf_full{};
  for (int d = 0; d < kDims; ++d) rf_full[d] = static_cast<double>(rf_ext[d]);
  double rf_need = 0;
  for (int t = 0; t < 3; ++t) rf_need += footprint(t, rf_full, l);
  if (rf_need > static_cast<double>(a.rf_words)) {
    ev.reason = "the RF tile needs " + str(static_cast<std::int64_t>(rf_need)) + " words, a PE has " + str(a.rf_words);
    ev.rejected = Evaluation::Reject::Rf;
    return ev;
  }
  if (glb_need > static_cast<double>(a.glb_words)) {
    ev.reason = "the global buffer tiles need " + str(static_cast<std::int64_t>(glb_need)) + " words (double-buffered where refilled), the buffer has " +
                str(a.glb_words);
    ev.rejected = Evaluation::Reject::Glb;
    return ev;
  }

  // DRAM <-> GLB.
  const double macs = static_cast<double>(ev.macs), outputs = static_cast<double>(l.output_words());
  for (int t : {W, I}) {
    ev.access[0][t].reads = glb_fills[t] * glb_tile[t];
    ev.access[1][t].writes = glb_fills[t] * glb_tile[t];
  }
  ev.access[0][O].writes = glb_fills[O] * glb_tile[O];
  ev.access[0][O].reads = std::max(0.0, ev.access[0][O].writes - outputs);  // partial sums brought back

  // GLB <-> array.
  double out_words = 0;  // output words the array writes into the GLB (after any spatial reduction)
  // Partial sums the GLB must hand back for accumulation: array output
  // words beyond the distinct outputs the GLB tiles hold.
  auto returned_of = [&](double out) { return std::max(0.0, out - glb_fills[O] * glb_tile[O]); };
  double noc_busiest = 0, exposed_array = 0;
  double rf_total = 0, adds = 0;
  {
    // Spatial: compute steps per dimension, the last block spread evenly over the PEs.
    double compute = 1;
    for (int d = 0; d < kDims; ++d) {
      const std::int64_t block = sp_ext[d], nb = ceil_div(l.size[d], block), rem = l.size[d] - (nb - 1) * block;
      compute *= static_cast<double>((nb - 1) * rf_ext[d] + ceil_div(rem, f[2][d]));
    }
    ev.compute_cycles = compute;
    ev.pes_used = rows_used * cols_used;
    const double pes = active;
    // Multicast fan-out along the rows of each tensor: rows whose PEs differ
    // only in dimensions the tensor does not depend on get the same words.
    std::array<double, 3> fan_rows{1, 1, 1};
    double share_out = 1;  // PEs holding partial sums of one output
    for (int d = 0; d < kDims; ++d) {
      if (f[2][d] <= 1) continue;
      for (int t = 0; t < 3; ++t)
        if (!relevant(t, d, l.depthwise) && m.spatial_axis[d] == 0) fan_rows[t] *= static_cast<double>(f[2][d]);
      if (!relevant(O, d, l.depthwise)) share_out *= static_cast<double>(f[2][d]);
    }
    const double bus = static_cast<double>(rows_used), xbus = static_cast<double>(cols_used);
    std::array<double, 3> noc{};
    for (int t : {W, I}) {
      const double rf_fills = refills(t, all_loops, l.depthwise);
      ev.access[1][t].reads = rf_fills * footprint(t, sp_avg, l);  // distinct words, multicast
      ev.access[2][t].writes = rf_fills * footprint(t, pe_avg, l) * pes;
      noc[t] = ev.access[1][t].reads;
      ev.hops += noc[t] * (bus + fan_rows[t] * xbus);
      exposed_array += footprint(t, sp_avg, l) / a.noc_words_per_cycle;  // the first delivery
    }
    const double o_fills = refills(O, all_loops, l.depthwise);
    const double from_pes = o_fills * footprint(O, pe_avg, l) * pes;
    out_words = o_fills * footprint(O, sp_avg, l);
    adds = std::max(0.0, from_pes - out_words);
    const double back = returned_of(out_words);
    ev.access[2][O].writes = back / std::max(out_words, 1.0) * from_pes;
    noc[O] = out_words + back;
    ev.hops += adds + noc[O] * (bus + xbus);
    noc_busiest = std::max({noc[W], noc[I], noc[O]});
    ev.noc_words = noc[W] + noc[I] + noc[O];
    ev.reduction_adds = adds;
    // A reduction tree over share_out PEs adds its depth once (then pipelined).
    exposed_array += share_out > 1 ? std::ceil(std::log2(share_out)) : 0;
    // Each MAC reads a weight, an input and a partial sum from the RF and
    // writes the sum back; fills are written, outputs leaving are read.
    ev.access[2][W].reads = macs;
    ev.access[2][I].reads = macs;
    ev.access[2][O].reads = macs + from_pes;
    ev.access[2][O].writes += macs;
    for (int t = 0; t < 3; ++t) rf_total += ev.access[2][t].reads + ev.access[2][t].writes;
  }
  // Outputs: the array's writes, read-modify-write where a partial sum
  // comes back, and the traffic to and from DRAM.
  const double returned = returned_of(out_words);
  ev.access[1][O].writes = out_words + ev.access[0][O].reads;
  ev.access[1][O].reads = returned + ev.access[0][O].writes;

  // Time: the first tiles must arrive and the last outputs leave before and
  // after everything else; in between, compute, GLB port, NoC and DRAM overlap.
  const double first = (footprint(W, glb_full, l) + footprint(I, glb_full, l)) / a.dram_words_per_cycle;
  const double last = footprint(O, glb_full, l) / a.dram_words_per_cycle;
  finish(ev, a, first, last, exposed_array, noc_busiest, rf_total, adds);
  return ev;
}

}  // namespace dsegym::accel
