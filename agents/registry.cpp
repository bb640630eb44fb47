#include <mutex>

#include "agents/agent.hpp"
#include "agents/builtin_agents.hpp"
#include "envs/core/error.hpp"

namespace dsegym {

AgentRegistry& agent_registry() {
  static AgentRegistry reg("agent");
  static std::once_flag once;
  std::call_once(once, [] {
    register_random_agent(reg);
    register_grid_agents(reg);
    register_evolutionary_agents(reg);
    register_nsga2_agent(reg);
    register_bo_agent(reg);
    register_tpe_agent(reg);
    register_cmaes_agent(reg);
    register_swarm_agents(reg);
    register_rl_agents(reg);
  });
  return reg;
}

AgentPtr make_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters) {
  const AgentEntry& e = agent_registry().get(id);
  if (!e.factory) throw InvalidArgument("agent '" + id + "' is a policy agent (it acts on observations); the runner drives it with act/observe");
  Params p(e.hyperparameters, hyperparameters, "agent '" + id + "' hyperparameter");
  return e.factory(ctx, p);
}

PolicyAgentPtr make_policy_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters) {
  const AgentEntry& e = agent_registry().get(id);
  if (!e.policy_factory) throw InvalidArgument("agent '" + id + "' is a black-box (ask/tell) agent, not a policy agent");
  Params p(e.hyperparameters, hyperparameters, "agent '" + id + "' hyperparameter");
  return e.policy_factory(ctx, p);
}

}  // namespace dsegym
