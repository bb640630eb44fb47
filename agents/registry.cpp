#include "agents/agent.hpp"
#include "base/error.hpp"

namespace dsegym {

AgentRegistry& agent_registry() {
  static AgentRegistry reg("agent");
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
