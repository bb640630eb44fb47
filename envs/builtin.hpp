#pragma once
#include "envs/core/env_registry.hpp"

namespace dsegym {

// The registry with every built-in env family registered (once).
EnvRegistry& env_registry();

}  // namespace dsegym
