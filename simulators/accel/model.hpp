#pragma once
// Analytical model of a spatial DNN accelerator (Timeloop-style reuse
// analysis on a three-level hierarchy: DRAM -> global buffer (GLB) -> per-PE
// register file (RF), with a PE array between GLB and RF).
//
// A layer is a 7-D loop nest over N (batch), K (output channels), C (input
// channels), P, Q (output rows, columns), R, S (filter rows, columns);
// depthwise layers have one input channel per output channel. A mapping
// splits each dimension into four factors: DRAM-level temporal, GLB-level
// temporal, spatial (over the PE array) and RF-level temporal, with a loop
// order at the DRAM and GLB levels. From it the model counts, per tensor and
// level, how often tiles are (re)filled, hence accesses per level, energy
// from per-access energies, latency as the slowest of compute, GLB, NoC and
// DRAM time (double-buffered, so they overlap), and utilisation. Mappings
// whose tiles overflow a buffer or whose spatial factors exceed the array
// are rejected with a reason.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dsegym::accel {

enum Dim { N = 0, K, C, P, Q, R, S, kDims };
const char* dim_name(int d);

struct Layer {
  std::string name;
  std::array<std::int64_t, kDims> size{1, 1, 1, 1, 1, 1, 1};
  int stride = 1;
  bool depthwise = false;  // input channel = output channel; C must be 1

  std::int64_t macs() const;
  std::int64_t weight_words() const;
  std::int64_t input_words() const;   // including the halo the filter needs
  std::int64_t output_words() const;
};

// Defaults: Eyeriss-like (Chen et al., JSSC 2017): 12 x 14 PEs, ~0.5 kB of
// 16-bit RF per PE, a 108 kB global buffer, 200 MHz.
struct Arch {
  int rows = 12, cols = 14;          // PE array
  std::int64_t rf_words = 256;       // per PE
  std::int64_t glb_words = 55296;    // shared global buffer (108 kB of 16-bit words)
  double glb_words_per_cycle = 64;   // GLB bandwidth
  double noc_words_per_cycle = 64;   // GLB -> PE deliveries per cycle (multicast counts once per PE)
  double dram_words_per_cycle = 4;   // DRAM bandwidth (a 64-bit interface)
  double clock_mhz = 200;
  int word_bits = 16;
  // Energy per MAC and per word accessed at each level (pJ); the default is
  // the 45 nm table below.
  double e_mac = 1.0, e_rf = 1.0, e_noc = 2.0, e_glb = 6.0, e_dram = 200.0;
  double node_nm = 45;  // technology node of the energy table, and of the area
};

// Per-access energies of a technology node, in pJ per 16-bit word.
struct EnergyTable {
  std::string node;
  double nm;
  double mac, rf, noc, glb, dram;
  std::string source;
};
const std::vector<EnergyTable>& energy_tables();
void apply_energy_table(Arch& a, const std::string& node);

// Silicon area of the PE array and the buffers, in mm^2 (no NoC, control or
// I/O). From 28 nm figures scaled by (node / 28 nm)^2:
//  - a MAC: 4,470.9 um^2 at 16 bits (MAESTRO's cost database,
//    DSE_cost-database.hpp, 28 nm), times (bits / 16)^1.8, the exponent of
//    Horowitz's (ISSCC 2014) 45 nm multiplier areas, 282 um^2 at 8 bits to
//    3,495 um^2 at 32 bits;
//  - SRAM (the RFs and the global buffer): 3.814 um^2 per byte, TPU v1's
//    24 MiB unified buffer taking 29 % of its < 331 mm^2 28 nm die
//    (Jouppi et al., ISCA 2017, floorplan).
struct Area {
  double mac_mm2 = 0, rf_mm2 = 0, glb_mm2 = 0, total_mm2 = 0;
};
Area area(const Arch& a);

enum class Level { DRAM = 0, GLB = 1, Spatial = 2, RF = 3 };

struct Mapping {
  // factors[level][dim]; the product over levels must cover the dim's size.
  std::array<std::array<std::int64_t, kDims>, 4> factors{};
  std::array<int, kDims> dram_order{N, K, C, P, Q, R, S};  // outermost first
  std::array<int, kDims> glb_order{N, K, C, P, Q, R, S};
  // Which array dimension each spatial dim uses: 0 rows, 1 cols.
  std::array<int, kDims> spatial_axis{};
  Mapping();
};

struct Accesses {
  double reads = 0, writes = 0;
};

struct Evaluation {
  bool valid = false;
  std::string reason;  // why a mapping is rejected
  std::int64_t macs = 0;
  double compute_cycles = 0, glb_cycles = 0, noc_cycles = 0, dram_cycles = 0, cycles = 0;
  double latency_ns = 0;
  double energy_pj = 0;
  double utilization = 0;  // MACs / (cycles x PEs)
  // Per tensor (W, I, O) and level (DRAM, GLB, RF): accesses in words.
  std::array<std::array<Accesses, 3>, 3> access{};
  double noc_deliveries = 0;
  std::array<double, 5> energy_breakdown{};  // mac, rf, noc, glb, dram
};

// Evaluates one mapping of a layer on an architecture.
Evaluation evaluate(const Layer& layer, const Arch& arch, const Mapping& m);

}  // namespace dsegym::accel
