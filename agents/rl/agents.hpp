#pragma once
// Factories of the RL agents inside the RL library.
#include "agents/agent.hpp"

namespace dsegym::rl {

enum class PpoMode { Single, Independent, Centralised };  // ppo, ippo, mappo
PolicyAgentPtr make_ppo(const AgentContext& ctx, const Params& p, PpoMode mode);
PolicyAgentPtr make_dqn(const AgentContext& ctx, const Params& p);

}  // namespace dsegym::rl
