#pragma once
// Analytical model of a DNN accelerator: DRAM -> global buffer (GLB) -> PE
// array, in two array families.
//
//  - "spatial" (Eyeriss, MAESTRO, Timeloop-style): every PE has a register
//    file (RF); per operand a NoC of a Y-bus along the rows and one X-bus per
//    row carries words from the GLB to the PEs, multicast by tag so that one
//    delivery feeds every PE that needs the word (Chen et al., JSSC 2017,
//    Sec. IV); partial sums of an output held by several PEs are reduced
//    spatially on the way out. A mapping splits each of the 7 loop
//    dimensions into DRAM, GLB, spatial (rows or columns) and RF factors.
//  - "systolic" (TPU, SCALE-Sim): operands move PE to PE. The layer is the
//    GEMM of its im2col form, (N P Q) x (C R S) times (C R S) x K, and a
//    dataflow decides which two of the three GEMM dimensions are unrolled
//    over the array (SCALE-Sim's Sr over rows, Sc over columns) and which is
//    streamed (T): ws (Sr = C R S, Sc = K, T = N P Q), os (Sr = N P Q,
//    Sc = K, T = C R S), is (Sr = C R S, Sc = N P Q, T = K). The layer runs
//    in ceil(Sr/rows) x ceil(Sc/cols) folds of 2 rows + cols + T - 2 cycles
//    (ws, is: the held operand is shifted in, then the stream is skewed in
//    and drained) or rows + cols + T - 2 (os: both operands stream in,
//    skewed) — SCALE-Sim v2's timing (Samajdar et al., arXiv 1811.02883 and
//    ISPASS 2020), which does not depend on the buffer's size. A mapping is
//    the dataflow, the fold order (row folds or column folds outermost) and
//    the number of chunks the stream is cut into (each runs every fold: more
//    fills, smaller working sets; 1 is SCALE-Sim's schedule); the GLB keeps
//    what it can of the operands that later folds or chunks use again, and
//    DRAM supplies the rest again.
//
// Spatial arrays: per tensor (weights W, inputs I, outputs O) and level the
// model counts how often tiles are (re)filled (a loop that does not index a
// tensor reuses its tile when it is innermost: stationarity), hence accesses
// per level. Both: energy from per-access energies (SRAM energy grows with the square
// root of the capacity); latency from the slowest of compute, GLB, NoC and
// DRAM time, which overlap (the GLB is double-buffered), plus the first load
// and the last write-back, which do not. Mappings whose tiles overflow a
// buffer or whose spatial factors exceed the array are rejected with a
// reason.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dsegym::accel {

enum Dim { N = 0, K, C, P, Q, R, S, kDims };
const char* dim_name(int d);

// Limits that keep every count exact in 64-bit arithmetic: a loop bound up to
// 2^31, a layer up to 2^62 MACs. Beyond them inputs are rejected.
inline constexpr std::int64_t kMaxDimSize = std::int64_t{1} << 31;
inline constexpr std::int64_t kMaxMacs = std::int64_t{1} << 62;

struct Layer {
  std::string name;
  std::array<std::int64_t, kDims> size{1, 1, 1, 1, 1, 1, 1};
  int stride = 1;
  bool depthwise = false;  // input channel = output channel; C must be 1

  // Throws InvalidArgument (naming `where`, the field and the valid range)
  // for sizes below 1 or above kMaxDimSize, a stride outside 1..2^20, a
  // depthwise layer with C != 1, or more than kMaxMacs MACs.
  void check(const std::string& where) const;
  std::int64_t macs() const;
  std::int64_t weight_words() const;
  std::int64_t input_words() const;  // including the halo the filter needs
  std::int64_t output_words() const;
};

enum class ArrayKind { Spatial, Systolic };
const std::vector<std::string>& array_kind_names();  // "spatial", "systolic"
ArrayKind array_kind_from_name(const std::string& name);
const char* array_kind_name(ArrayKind k);

enum class Dataflow { WeightStationary, OutputStationary, RowStationary, InputStationary };
const std::vector<std::string>& dataflow_names();  // "ws", "os", "rs", "is"
Dataflow dataflow_from_name(const std::string& name);
const char* dataflow_name(Dataflow df);

// Per-access energies of a technology node (pJ; 16-bit words unless said).
struct EnergyTable {
  std::string node;
  double nm;
  double mac;        // one 16-bit multiply-accumulate
  double add;        // one 32-bit add of a spatial reduction
  double hop;        // one word over one PE pitch of wire (bus segment or PE-to-PE register)
  double sram_8kib;  // one 64-bit access of an 8 KiB SRAM; others scale with sqrt(capacity) and linearly with width
  double dram;       // one word from or to DRAM
  std::string source;
};
const std::vector<EnergyTable>& energy_tables();

// Energy of one word_bits access of an SRAM of `bytes` (the RFs and the
// GLB), from an 8 KiB, 64-bit reference: sqrt(bytes / 8 KiB) x
// (word_bits / 64) x sram_8kib (Horowitz, ISSCC 2014: 8 KB 10 pJ, 32 KB
// 20 pJ, 1 MB 100 pJ per 64-bit access at 45 nm).
double sram_energy(const EnergyTable& t, double bytes, int word_bits);

// Defaults: Eyeriss (Chen et al., JSSC 2017): 12 x 14 PEs with 0.5 kB RFs
// (256 16-bit words), a 108 kB global buffer, 200 MHz, a 64-bit DRAM
// interface (4 words per cycle).
struct Arch {
  ArrayKind array = ArrayKind::Spatial;
  int rows = 12, cols = 14;          // PE array
  std::int64_t rf_words = 256;       // per PE (spatial arrays; systolic PEs hold one operand)
  std::int64_t glb_words = 55296;    // shared global buffer (108 kB of 16-bit words)
  double glb_words_per_cycle = 64;   // GLB read + write bandwidth
  double noc_words_per_cycle = 64;   // per operand network, distinct words per cycle (spatial arrays)
  double dram_words_per_cycle = 4;   // DRAM bandwidth
  double clock_mhz = 200;
  int word_bits = 16;
  EnergyTable energy = energy_tables().front();  // 45 nm

  std::int64_t pes() const { return std::int64_t{rows} * cols; }
  double e_rf() const;   // per RF word access
  double e_glb() const;  // per GLB word access
  // Throws InvalidArgument naming `where` and the field for values outside
  // their ranges (rows, cols 1..65536 and at most 2^26 PEs; buffers up to
  // 2^40 words; bandwidths and clock positive and finite).
  void check(const std::string& where) const;
};

void apply_energy_table(Arch& a, const std::string& node);

// Silicon area of the PE array and the buffers, in mm^2 (no NoC, control or
// I/O). From 28 nm figures scaled by (node / 28 nm)^2:
//  - a MAC: 4,470.9 um^2 at 16 bits (MAESTRO's cost database,
//    DSE_cost-database.hpp, 28 nm), times (bits / 16)^1.8, the exponent of
//    Horowitz's (ISSCC 2014) 45 nm multiplier areas, 282 um^2 at 8 bits to
//    3,495 um^2 at 32 bits;
//  - SRAM (the RFs and the global buffer): 3.814 um^2 per byte, TPU v1's
//    24 MiB unified buffer taking 29 % of its < 331 mm^2 28 nm die
//    (Jouppi et al., ISCA 2017, floorplan). Systolic PEs have no RF.
struct Area {
  double mac_mm2 = 0, rf_mm2 = 0, glb_mm2 = 0, total_mm2 = 0;
};
Area area(const Arch& a);

enum class Level { DRAM = 0, GLB = 1, Spatial = 2, RF = 3 };

struct Mapping {
  // Spatial arrays: factors[level][dim]; the product over levels must cover
  // the dim's size. (Systolic arrays have none: all stay 1.)
  std::array<std::array<std::int64_t, kDims>, 4> factors{};
  std::array<int, kDims> dram_order{N, K, C, P, Q, R, S};  // outermost first
  std::array<int, kDims> glb_order{N, K, C, P, Q, R, S};
  // Spatial arrays: which array dimension each spatial dim uses: 0 rows, 1 cols.
  std::array<int, kDims> spatial_axis{};
  // Systolic arrays: which operand the array holds (ws, os or is), whether
  // the row folds are the outer loop (else the column folds), and into how
  // many chunks the stream is cut (each chunk runs every fold; 1 is
  // SCALE-Sim's schedule).
  // rows_used / cols_used (0: all) let folds use a sub-array; the
  // operands still cross the whole array, so fills stay the array's.
  Dataflow dataflow = Dataflow::WeightStationary;
  bool fold_rows_outer = true;
  std::int64_t stream_chunks = 1;
  std::int64_t rows_used = 0, cols_used = 0;
  Mapping();
};

struct Accesses {
  double reads = 0, writes = 0;
};

struct Evaluation {
  bool valid = false;
  std::string reason;  // why a mapping is rejected
  // What rejected it: the factors themselves (below 1, not covering a
  // dimension, levels a systolic mapping does not have), the array (spatial
  // factors beyond it), the RF or the GLB (a tile that does not fit), or the
  // dataflow (row stationary on a systolic array).
  enum class Reject { None, Factors, Array, Rf, Glb, Dataflow } rejected = Reject::None;
  std::int64_t macs = 0;
  // Cycles: compute (systolic: the folds' fill, stream and drain), GLB port,
  // NoC (the busiest operand network), DRAM in the steady state; the first
  // load and last write-back that nothing hides; the total.
  double compute_cycles = 0, glb_cycles = 0, noc_cycles = 0, dram_cycles = 0, exposed_cycles = 0, cycles = 0;
  double latency_ns = 0;
  double energy_pj = 0;
  double utilization = 0;  // MACs / (cycles x PEs of the array)
  std::int64_t pes_used = 0;
  // Per tensor (W, I, O) and level (DRAM, GLB, RF): accesses in words.
  std::array<std::array<Accesses, 3>, 3> access{};
  double noc_words = 0;       // distinct words the operand networks carried (spatial)
  double reduction_adds = 0;  // adds of the spatial reduction (spatial)
  double hops = 0;            // word-hops of wire: buses (spatial) or PE-to-PE forwarding (systolic)
  std::array<double, 5> energy_breakdown{};  // mac (and adds), rf, noc (wires), glb, dram
  const char* bound() const;  // "compute", "glb", "noc" or "dram": the slowest overlapped term
};

// A layer on a systolic array as SCALE-Sim sees it: per group (depthwise:
// one per channel) the GEMM's output pixels m = N P Q, window kw = C R S (or
// R S) and filters f = K (or 1); the dataflow's Sr (over the rows), Sc (over
// the columns) and T (streamed).
struct SystolicShape {
  double groups, m, kw, f, sr, sc, t;
};
SystolicShape systolic_shape(const Layer& l, Dataflow df);

// Evaluates one mapping of a layer on an architecture. The layer and the
// architecture are assumed checked (Layer::check, Arch::check).
Evaluation evaluate(const Layer& layer, const Arch& arch, const Mapping& m);

}  // namespace dsegym::accel
