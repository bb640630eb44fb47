#pragma once
#include "envs/core/env_registry.hpp"

namespace dsegym {

// accel-v0 (architecture design, TimeloopGym-style) and accel-mapping-v0
// (mapping of one layer on a fixed architecture, MaestroGym/GAMMA-style) on
// the analytical accelerator model of simulators/accel.
void register_accel_envs(EnvRegistry& reg);

}  // namespace dsegym
