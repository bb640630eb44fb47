#pragma once
// The built-in mapper.
//
// Spatial arrays: a dataflow names the dimensions that may be unrolled over
// the rows and over the columns (either way round, or all on one axis):
//   ws  weight stationary (NVDLA, MAESTRO's KC-P): C, R, S | K
//   os  output stationary (ShiDianNao, MAESTRO's YK-P): P, N | Q, K
//   rs  row stationary (Eyeriss): R, C | P, K
//   is  input stationary: C | Q, P, N
// Candidates: for each axis, each PE budget b in {L, L/2, L/4, ..., 1} and
// {1, 2, 4, ..., <= L} (L the axis length) and each order of the axis's
// dimensions, the dimensions take in turn the largest factor that fits in b,
// balanced (the smallest factor with the same number of folds). The array
// need not be filled. Each candidate gets a temporal mapping by greedy
// descent (below); candidates are visited in order of a lower bound on the
// objective (compute cycles, the minimum DRAM traffic) and the search stops
// when the bound passes the best found: the result is the best temporal
// descent over all candidates. A candidate's result does not depend on the
// array's size, so an array with twice the rows or columns (whose candidates
// include all of the smaller one's) is never worse.
//
// Temporal descent: from the smallest tiles (RF and GLB factors 1, always
// valid when any mapping is), repeatedly take the move that improves the
// objective most: double, halve (balanced) or complete a dimension's RF or
// GLB factor, or switch the DRAM or GLB loop order among three (weights,
// inputs or outputs stay innermost); stop when no move improves.
//
// Systolic arrays: the dataflow fixes the array's use (SCALE-Sim's); the
// mapper tries both fold orders, the stream in 1, 2, 4, ... chunks, and folds
// on the whole array or on 1/2, 1/4, ... of its rows or columns.
#include <map>
#include <string>
#include <vector>

#include "simulators/accel/model.hpp"
#include "simulators/accel/workload.hpp"

namespace dsegym::accel {

// What the mapper minimises: latency (ties broken by energy), energy (ties by
// latency) or their product.
enum class Objective { Latency, Energy, Edp };
const std::vector<std::string>& objective_names();  // "latency", "energy", "edp"
Objective objective_from_name(const std::string& name);

// The three loop orders the mapper and accel-mapping-v0 use at the DRAM and
// GLB levels, outermost first: 0 keeps weights (P, Q, N innermost), 1 inputs
// (K innermost), 2 outputs (C, R, S innermost).
const std::vector<std::array<int, kDims>>& loop_orders();

struct MappedLayer {
  Mapping mapping;
  Evaluation eval;
  std::int64_t evaluated = 0;  // mappings the search evaluated
};

// A systolic array with the row-stationary dataflow, and a layer no mapping
// fits (a PE's RF under 3 words, a GLB under 6), give an invalid evaluation
// with the reason.
MappedLayer map_layer(const Layer& layer, const Arch& arch, Dataflow df, Objective objective = Objective::Latency);

struct WorkloadResult {
  std::vector<MappedLayer> layers;
  bool valid = true;
  std::string reason;
  double cycles = 0, latency_ns = 0, energy_pj = 0, utilization = 0;
  std::int64_t macs = 0;
};

// Maps every layer (layers run one after another; layers of the same shape
// are mapped once). Layers named in `fixed` use that mapping instead of the
// mapper's; a name that is not a layer of the workload is an
// InvalidArgument listing the layers.
WorkloadResult run_workload(const Workload& w, const Arch& arch, Dataflow df, const std::map<std::string, Mapping>& fixed = {},
                            Objective objective = Objective::Latency);

}  // namespace dsegym::accel
