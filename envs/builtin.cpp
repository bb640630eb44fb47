#include "envs/builtin.hpp"

#include <mutex>

#include "envs/accel/accel_env.hpp"
#include "envs/dram/dram_env.hpp"
#include "envs/remote/remote_env.hpp"
#include "envs/asic/asic_env.hpp"
#include "envs/nas/nas_env.hpp"
#include "envs/soc/soc_env.hpp"
#include "envs/toy/toy_env.hpp"
#include "proxies/proxy_env.hpp"

namespace dsegym {

EnvRegistry& env_registry() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_accel_envs(env_registry_core());
    register_dram_env(env_registry_core());
    register_soc_envs(env_registry_core());
    register_nas_envs(env_registry_core());
    register_asic_envs(env_registry_core());
    register_toy_env(env_registry_core());
    register_remote_scheme();
    register_proxy_cost_models();
  });
  return env_registry_core();
}

}  // namespace dsegym
