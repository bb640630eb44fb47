#pragma once
// Loading plugins (`dsegym --plugin lib.so`, a sweep's "plugins"). What a
// plugin writes is in agents/plugin.hpp.
#include <string>

#include "agents/plugin.hpp"

namespace dsegym {

// Loads a plugin: checks its ABI version, then lets it register. Errors
// (missing file, missing entry point, version mismatch, a registration that
// throws) name the library.
void load_plugin(const std::string& path);

}  // namespace dsegym
