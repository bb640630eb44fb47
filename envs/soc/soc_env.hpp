#pragma once
#include "envs/core/env_registry.hpp"

namespace dsegym {

// soc-sched-v0 (DeepSoCS-style sequential scheduling: one step assigns one
// ready task to a PE) and soc-design-v0 (one-shot choice of the SoC's PE
// counts and frequencies under a power budget, scheduled by a reference
// list scheduler) on the emulator of simulators/soc.
void register_soc_envs(EnvRegistry& reg);

}  // namespace dsegym
