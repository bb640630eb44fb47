#include "envs/builtin.hpp"

#include <mutex>

#include "envs/toy/toy_env.hpp"

namespace dsegym {

EnvRegistry& env_registry() {
  static std::once_flag once;
  std::call_once(once, [] { register_toy_env(env_registry_core()); });
  return env_registry_core();
}

}  // namespace dsegym
