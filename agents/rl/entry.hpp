#pragma once
// The C entry point of the RL agents in the torch library, free of
// libtorch: the host looks it up with torch_symbol().
//   int dsegym_rl_make(const char* id, const AgentContext*, const Params*, PolicyAgent** out, std::string* error);
// dsegym_rl_make returns 0 on success, 1 for bad input (error holds the
// message of an InvalidArgument), 2 for any other failure.
#include <string>

#include "agents/agent.hpp"

namespace dsegym::rl {

using MakeFn = int (*)(const char* id, const AgentContext* ctx, const Params* params, PolicyAgent** out, std::string* error);

}  // namespace dsegym::rl
