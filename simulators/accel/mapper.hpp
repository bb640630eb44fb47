#pragma once
// A built-in mapper: for a dataflow template (which dimensions are unrolled
// over the PE array's rows and columns), it places the remaining factors of
// each dimension at the RF, GLB or DRAM level by greedy descent on
// energy x delay, from several loop orders, and keeps the best valid mapping.
#include <map>
#include <string>
#include <vector>

#include "simulators/accel/model.hpp"
#include "simulators/accel/workload.hpp"

namespace dsegym::accel {

enum class Dataflow { WeightStationary, OutputStationary, RowStationary, InputStationary };
const std::vector<std::string>& dataflow_names();  // "ws", "os", "rs", "is"
Dataflow dataflow_from_name(const std::string& name);

struct MappedLayer {
  Mapping mapping;
  Evaluation eval;
  std::int64_t evaluated = 0;  // mappings the search evaluated
};

MappedLayer map_layer(const Layer& layer, const Arch& arch, Dataflow df);

struct WorkloadResult {
  std::vector<MappedLayer> layers;
  bool valid = true;
  std::string reason;
  double latency_ns = 0, energy_pj = 0, utilization = 0;
  std::int64_t macs = 0;
};

// Maps every layer (layers run one after another). Layers named in `fixed`
// use that mapping instead of the mapper's; a name that is not a layer of
// the workload is an InvalidArgument listing the layers.
WorkloadResult run_workload(const Workload& w, const Arch& arch, Dataflow df, const std::map<std::string, Mapping>& fixed = {});

}  // namespace dsegym::accel
