#pragma once
#include <memory>

#include "agents/agent.hpp"

namespace dsegym {

// Ranges of hyperparameters.
inline SpacePtr unit_range() { return std::make_shared<Box>(0.0, 1.0); }
inline SpacePtr int_range(std::int64_t lo, std::int64_t hi) { return std::make_shared<Integer>(lo, hi); }

// One function per agent family, called by register_builtins() (app/builtin.hpp).
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
