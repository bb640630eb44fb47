#pragma once
// Workloads: JSON lists of layers (data/accel/workloads/*.json):
//   {"name": "...", "source": "...", "layers": [
//     {"name": "conv1", "type": "conv", "N": 1, "K": 96, "C": 3, "P": 55, "Q": 55, "R": 11, "S": 11, "stride": 4},
//     {"name": "dw", "type": "depthwise", "K": 32, "C": 1, ...},
//     {"name": "fc6", "type": "gemm", "M": 1, "N": 4096, "K": 9216, "batch": 1}]}
// A GEMM (M x K) . (K x N) maps to P = M, K = N, C = K, N = batch.
#include <string>
#include <vector>

#include "simulators/accel/model.hpp"

namespace dsegym::accel {

struct Workload {
  std::string name, source;
  std::vector<Layer> layers;
  std::int64_t macs() const;
};

Workload load_workload(const std::string& path);
// A built-in name (alexnet, vgg16, resnet18, resnet50, mobilenetv2,
// bert_base_encoder) or a path.
Workload resolve_workload(const std::string& name_or_path);
std::vector<std::string> builtin_workloads();

}  // namespace dsegym::accel
