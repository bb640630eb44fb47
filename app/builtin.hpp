#pragma once
// Registration of everything built in, in one place above the libraries:
// the env families, the remote:// scheme, the proxy and hybrid cost models
// and the agent families. The libraries below never register themselves,
// so none of them needs a layer above it.
#include "agents/agent.hpp"
#include "envs/core/env_registry.hpp"

namespace dsegym {

// Registers the built-ins into the process-wide registries (once; thread-safe).
void register_builtins();

// The env registry with the built-ins registered.
EnvRegistry& env_registry();

}  // namespace dsegym
