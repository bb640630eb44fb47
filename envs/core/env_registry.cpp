#include "envs/core/env_registry.hpp"

namespace dsegym {

EnvRegistry& env_registry_core() {
  static EnvRegistry reg("env");
  return reg;
}

EnvPtr make_env(const EnvRegistry& reg, const std::string& id, const json& options) {
  const EnvEntry& e = reg.get(id);
  Params p(e.options, options, "env '" + id + "' option");
  return e.factory(p);
}

}  // namespace dsegym
