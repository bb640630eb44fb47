#pragma once
#include "agents/agent.hpp"

namespace dsegym {

// One function per agent family, called by agent_registry().
void register_random_agent(AgentRegistry& reg);
void register_grid_agents(AgentRegistry& reg);
void register_evolutionary_agents(AgentRegistry& reg);  // ga, sa, aco
void register_nsga2_agent(AgentRegistry& reg);
void register_bo_agent(AgentRegistry& reg);
void register_tpe_agent(AgentRegistry& reg);
void register_cmaes_agent(AgentRegistry& reg);
void register_swarm_agents(AgentRegistry& reg);  // de, pso
void register_rl_agents(AgentRegistry& reg);  // ppo, dqn, ippo, mappo (agents/rl, loaded on first use)

}  // namespace dsegym
