#pragma once
// Training and zero-cost scoring of NAS-Bench-201 networks, done by the
// torch library (simulators/nn/nas_torch.cpp) and loaded on first use.
#include <nlohmann/json.hpp>

namespace dsegym::nn {

// request: {"task": "train" | "zero_cost", "cell": "|...|", "net": {"channels": 8, "cells_per_stage": 1},
//           "options": {...}, "seed": 0, "threads": 1}
// train options: images (10000), epochs (2), batch (128), lr (0.1), test_images (10000);
//   result: accuracy_pct, train_loss, params, seconds.
// zero_cost options: batch (64); result: naswot, synflow, grad_norm, params, seconds.
// Throws InvalidArgument for a bad request, Error for other failures.
nlohmann::json nas_evaluate(const nlohmann::json& request);

}  // namespace dsegym::nn
