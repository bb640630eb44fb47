#pragma once
// asic-v0 (a heterogeneous ASIC for fixed networks) and nasaic-v0 (NAS +
// ASIC co-exploration, as NASAIC: Yang et al., DAC 2020).
#include "envs/core/env_registry.hpp"

namespace dsegym {

void register_asic_envs(EnvRegistry& reg);

}  // namespace dsegym
