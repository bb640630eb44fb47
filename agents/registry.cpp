#include <mutex>

#include "agents/agent.hpp"
#include "agents/builtin_agents.hpp"

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
  });
  return reg;
}

AgentPtr make_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters) {
  const AgentEntry& e = agent_registry().get(id);
  Params p(e.hyperparameters, hyperparameters, "agent '" + id + "' hyperparameter");
  return e.factory(ctx, p);
}

}  // namespace dsegym
