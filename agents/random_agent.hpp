#pragma once
#include "agents/agent.hpp"

namespace dsegym {

// random: independent uniform samples of the action space.
void register_random_agent(AgentRegistry& reg);

}  // namespace dsegym
