#pragma once
// Workloads: JSON lists of layers (data/accel/workloads/*.json):
//   {"name": "...", "source": "...", "layers": [
//     {"name": "conv1", "type": "conv", "N": 1, "K": 96, "C": 3, "P": 55, "Q": 55, "R": 11, "S": 11, "stride": 4},
//     {"name": "dw", "type": "depthwise", "K": 32, "C": 1, ...},
//     {"name": "fc6", "type": "gemm", "M": 1, "N": 4096, "K": 9216, "batch": 1}]}
// A GEMM (M x K) . (K x N) maps to P = M, K = N, C = K, N = batch.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "simulators/accel/model.hpp"

namespace dsegym::accel {

struct Workload {
  std::string name, source;
  std::vector<Layer> layers;
  std::int64_t macs() const;
};

Workload load_workload(const std::string& path);
Workload parse_workload(const nlohmann::json& j, const std::string& path);  // `path` names it in messages
// A built-in name (alexnet, vgg16, resnet18, resnet50, mobilenetv2,
// bert_base_encoder) or a path.
Workload resolve_workload(const std::string& name_or_path);
std::vector<std::string> builtin_workloads();

}  // namespace dsegym::accel

namespace dsegym::accel {

// An architecture as JSON; missing keys keep the Eyeriss-like defaults of
// Arch (spatial, 12 x 14 PEs, 256-word RFs, 54k-word global buffer, 200 MHz):
//   {"array": "spatial", "rows": 16, "cols": 16, "rf_words": 256, "glb_words": 65536, "glb_words_per_cycle": 64,
//    "noc_words_per_cycle": 64, "dram_words_per_cycle": 8, "clock_mhz": 200, "node": "45nm"}
// Values out of range (Arch::check) are an InvalidArgument naming the key.
Arch parse_arch(const nlohmann::json& j, const std::string& where);
nlohmann::json arch_to_json(const Arch& a);

// A mapping as JSON (what `dsegym sim accel` prints per layer and reads with
// --mapping); factors left out are 1:
//   {"dram": {"K": 4}, "glb": {"C": 2, "P": 7}, "spatial": {"C": 3, "K": 14}, "rf": {"R": 3, "S": 3},
//    "rows": ["C"], "cols": ["K"], "dram_order": "NKCPQRS", "glb_order": "NPQRSCK"}
// Orders list the loops outermost first; "rows"/"cols" say which array axis
// each spatially unrolled dimension uses. On a systolic array a mapping is
// the dataflow, which fold loop is outermost, how many chunks the stream is
// cut into and, optionally, the sub-array the folds use:
//   {"dataflow": "ws", "fold_order": "rows", "stream_chunks": 1, "rows_used": 32, "cols_used": 32}
Mapping parse_mapping(const nlohmann::json& j, const std::string& where);
nlohmann::json mapping_to_json(const Mapping& m, ArrayKind kind);

}  // namespace dsegym::accel
