// The torch library's C entry points: its ABI version and the RL agents
// (see agents/rl/entry.hpp); the MLP proxy's are in proxies/mlp.cpp.
#include "agents/rl/entry.hpp"

#include "agents/rl/agents.hpp"
#include "base/torch_bridge.hpp"
#include "base/error.hpp"

extern "C" __attribute__((visibility("default"))) int dsegym_torch_abi_version() { return dsegym::kTorchLibraryAbi; }

extern "C" __attribute__((visibility("default"))) int dsegym_rl_make(const char* id, const dsegym::AgentContext* ctx,
                                                                     const dsegym::Params* params, dsegym::PolicyAgent** out,
                                                                     std::string* error) {
  using namespace dsegym;
  try {
    const std::string name = id;
    PolicyAgentPtr a;
    if (name == "ppo") a = rl::make_ppo(*ctx, *params, rl::PpoMode::Single);
    else if (name == "ippo") a = rl::make_ppo(*ctx, *params, rl::PpoMode::Independent);
    else if (name == "mappo") a = rl::make_ppo(*ctx, *params, rl::PpoMode::Centralised);
    else if (name == "dqn") a = rl::make_dqn(*ctx, *params);
    else throw InvalidArgument("the RL library has no agent '" + name + "'; it has ppo, ippo, mappo, dqn");
    *out = a.release();
    return 0;
  } catch (const InvalidArgument& e) {
    *error = e.what();
    return 1;
  } catch (const std::exception& e) {
    *error = e.what();
    return 2;
  }
}
