#include "app/builtin.hpp"

#include <mutex>

#include "agents/builtin_agents.hpp"
#include "envs/accel/accel_env.hpp"
#include "envs/asic/asic_env.hpp"
#include "envs/dram/dram_env.hpp"
#include "envs/nas/nas_env.hpp"
#include "envs/remote/remote_env.hpp"
#include "envs/soc/soc_env.hpp"
#include "envs/toy/toy_env.hpp"
#include "proxies/proxy_env.hpp"

namespace dsegym {

void register_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    EnvRegistry& envs = env_registry_core();
    register_accel_envs(envs);
    register_dram_env(envs);
    register_soc_envs(envs);
    register_nas_envs(envs);
    register_asic_envs(envs);
    register_toy_env(envs);
    register_remote_scheme();
    register_proxy_cost_models();
    AgentRegistry& agents = agent_registry();
    register_random_agent(agents);
    register_grid_agents(agents);
    register_evolutionary_agents(agents);
    register_nsga2_agent(agents);
    register_bo_agent(agents);
    register_tpe_agent(agents);
    register_cmaes_agent(agents);
    register_swarm_agents(agents);
    register_rl_agents(agents);
  });
}

EnvRegistry& env_registry() {
  register_builtins();
  return env_registry_core();
}

}  // namespace dsegym
