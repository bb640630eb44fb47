// The RL agents' registry entries: hyperparameters are declared here, free
// of libtorch; the agents themselves live in the torch library (agents/rl),
// loaded the first time one is created (base/torch_bridge.hpp).
#include <memory>

#include "agents/builtin_agents.hpp"
#include "agents/rl/entry.hpp"
#include "base/torch_bridge.hpp"
#include "base/error.hpp"

namespace dsegym {

namespace {

PolicyAgentPtr make_from_library(const std::string& id, const AgentContext& ctx, const Params& p) {
  auto make = reinterpret_cast<rl::MakeFn>(torch_symbol("dsegym_rl_make"));
  PolicyAgent* out = nullptr;
  std::string error;
  const int rc = make(id.c_str(), &ctx, &p, &out, &error);
  if (rc == 1) throw InvalidArgument(error);
  if (rc != 0 || !out) throw Error("agent '" + id + "': " + error);
  return PolicyAgentPtr(out);
}

SpacePtr box(double lo, double hi, bool log = false) { return std::make_shared<Box>(lo, hi, log); }

std::vector<ParamSpec> common_net() {
  return {{"lr", "Adam learning rate", 3e-4, box(1e-6, 1.0, true)},
          {"hidden", "units per hidden layer", 64, int_range(4, 4096)},
          {"layers", "hidden layers (tanh)", 2, int_range(1, 8)},
          {"gamma", "discount factor", 0.99, box(0.0, 1.0)},
          {"normalize_obs", "normalise observations by running mean and std", true, nullptr},
          {"normalize_reward", "scale rewards by the running std of the discounted return", true, nullptr},
          {"threads", "libtorch intra-op threads (1 keeps runs reproducible)", 1, int_range(1, 256)}};
}

std::vector<ParamSpec> ppo_params(bool marl) {
  auto v = common_net();
  v.push_back({"gae_lambda", "GAE lambda", 0.95, box(0.0, 1.0)});
  v.push_back({"clip", "PPO clipping range of the probability ratio", 0.2, box(0.01, 1.0)});
  v.push_back({"entropy", "entropy bonus coefficient", 0.01, box(0.0, 1.0)});
  v.push_back({"value_coef", "value loss coefficient", 0.5, box(0.0, 10.0)});
  v.push_back({"batch", "env steps per update (rollout length)", 256, int_range(2, 1000000)});
  v.push_back({"minibatch", "samples per gradient step", 64, int_range(1, 1000000)});
  v.push_back({"epochs", "passes over each rollout", 4, int_range(1, 100)});
  v.push_back({"max_grad_norm", "gradient norm clipping", 0.5, box(1e-3, 1e3)});
  v.push_back({"init_log_std", "initial log standard deviation of Gaussian heads (continuous knobs, in [0,1] units)", -1.0, box(-5.0, 2.0)});
  v.push_back({"candidate_features",
               "ppo with one discrete action among N: the observation ends with N blocks of this many features, one per candidate, and one "
               "network scores each candidate from the shared features and its block (softmax over the legal ones; independent of N); 0: one "
               "MLP head",
               0, int_range(0, 4096)});
  if (marl)
    v.push_back({"groups", "knob groups, one agent each, e.g. [[\"PagePolicy\", \"Scheduler\"], [\"RefreshPolicy\"]]; [] = one agent per knob",
                 json::array(), nullptr});
  return v;
}

std::vector<ParamSpec> dqn_params() {
  auto v = common_net();
  for (auto& spec : v) {
    if (spec.name == "lr") spec.default_value = 1e-3;
    if (spec.name == "normalize_reward") spec.default_value = false;  // moving targets hurt Q-learning
  }
  v.push_back({"buffer", "replay buffer capacity (transitions)", 50000, int_range(10, 10000000)});
  v.push_back({"batch", "transitions per gradient step", 64, int_range(1, 100000)});
  v.push_back({"learning_starts", "steps collected before learning starts", 500, int_range(1, 10000000)});
  v.push_back({"train_every", "env steps per gradient step", 1, int_range(1, 1000)});
  v.push_back({"target_update", "steps between target-network copies", 500, int_range(1, 10000000)});
  v.push_back({"eps_start", "initial exploration rate", 1.0, box(0.0, 1.0)});
  v.push_back({"eps_end", "final exploration rate", 0.05, box(0.0, 1.0)});
  v.push_back({"eps_decay", "steps over which exploration decays linearly", 5000, int_range(1, 100000000)});
  v.push_back({"double_q", "double DQN targets (online net chooses, target net values)", true, nullptr});
  return v;
}

}  // namespace

void register_rl_agents(AgentRegistry& reg) {
  auto add = [&](const char* id, const char* description, std::vector<ParamSpec> hp) {
    const std::string name = id;
    reg.add(AgentEntry{name, description, std::move(hp), nullptr,
                       [name](const AgentContext& ctx, const Params& p) { return make_from_library(name, ctx, p); }});
  };
  add("ppo", "proximal policy optimisation (actor-critic MLPs; categorical heads per discrete knob, Gaussian per continuous; masks)",
      ppo_params(false));
  add("dqn", "double DQN with a replay buffer, for discrete actions (single knob or a small joint space; masks)", dqn_params());
  add("ippo", "multi-agent RL: one PPO agent per knob (or knob group) sharing the reward, each with its own critic", ppo_params(true));
  add("mappo", "multi-agent RL: one PPO actor per knob (or knob group) and one centralised critic", ppo_params(true));
}

}  // namespace dsegym
