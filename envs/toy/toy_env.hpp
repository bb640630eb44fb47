#pragma once
#include "envs/core/env_registry.hpp"

namespace dsegym {

// toy-v0: an analytic test function with a known optimum over categorical,
// integer (linear and power-of-two) and real knobs. See toy_env.cpp.
void register_toy_env(EnvRegistry& reg);

}  // namespace dsegym
