#pragma once
// nas-v0: neural architecture search over NAS-Bench-201 cells, evaluated on
// Fashion-MNIST (trained, or zero-cost scores) and on an accelerator.
#include "envs/core/env_registry.hpp"

namespace dsegym {

void register_nas_envs(EnvRegistry& reg);

}  // namespace dsegym
