#pragma once
#include "envs/core/env_registry.hpp"

namespace dsegym {

// dram-v0: DRAM memory-controller design (ArchGym's DRAMGym) on the
// in-process simulator of simulators/dram. See dram_env.cpp.
void register_dram_env(EnvRegistry& reg);

}  // namespace dsegym
