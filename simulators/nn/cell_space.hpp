#pragma once
// The NAS-Bench-201 cell search space (Dong & Yang, ICLR 2020): a cell is a
// DAG of 4 nodes whose 6 edges (j -> i for j < i) each carry one of 5
// operations, 5^6 = 15,625 cells. Cells are stacked into a small CNN (stem,
// three stages of cells joined by residual reduction blocks, global pooling,
// a linear classifier), here sized for 28 x 28 grayscale images.
//
// Two cells are isomorphic when they compute the same function up to the
// order of summed terms, with skip connections and zero (none) edges
// resolved; canonical() gives a string that is equal for isomorphic cells,
// the convention under which NAS-Bench-201 counts 6,466 unique cells.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "simulators/accel/model.hpp"

namespace dsegym::nn {

enum class Op { None = 0, Skip, Conv1x1, Conv3x3, AvgPool3x3 };
constexpr int kOps = 5, kEdges = 6;
constexpr std::int64_t kCells = 15625;  // 5^6
// NAS-Bench-201's operation names: none, skip_connect, nor_conv_1x1,
// nor_conv_3x3, avg_pool_3x3.
const std::array<std::string, kOps>& op_names();
Op op_from_name(const std::string& name);  // InvalidArgument listing the names

// Edge e joins node edge_from(e) to node edge_to(e): 0->1, 0->2, 1->2, 0->3, 1->3, 2->3.
int edge_from(int e);
int edge_to(int e);

struct Cell {
  std::array<Op, kEdges> ops{};

  static Cell from_index(std::int64_t index);  // 0 .. 15,624; edge 0 is the most significant digit
  std::int64_t index() const;
  // "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|..~0|..~1|..~2|" (NAS-Bench-201's format)
  std::string str() const;
  static Cell parse(const std::string& s);  // InvalidArgument naming the part that is wrong
  std::string canonical() const;
  // Edges whose result reaches the output (an op after a zero node, or into
  // a node that feeds nothing, computes nothing that matters).
  std::array<bool, kEdges> live() const;
  bool operator==(const Cell& o) const { return ops == o.ops; }
};

// The network around the cells.
struct NetConfig {
  int channels = 8;          // of the first stage (NAS-Bench-201: 16); doubled per stage
  int cells_per_stage = 1;   // NAS-Bench-201: 5
  int image = 28, in_channels = 1, classes = 10;
};

// Trainable parameters of the network as built in libtorch (bias-free
// convolutions, affine batch norms, a linear classifier with bias); every
// op counts, live or not.
std::int64_t parameter_count(const Cell& cell, const NetConfig& net);
// Multiply-accumulates of one image through the live ops, convolutions and
// the classifier (pooling, batch norm and additions not counted).
std::int64_t mac_count(const Cell& cell, const NetConfig& net);
// The convolutions and the classifier of live ops as accelerator layers.
std::vector<accel::Layer> accel_layers(const Cell& cell, const NetConfig& net);

}  // namespace dsegym::nn
