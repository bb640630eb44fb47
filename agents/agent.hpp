#pragma once
// Black-box agents use ask/tell over any Space through its encodings:
//   ask(n)  -> n suggestions (actions in the env's action space)
//   tell()  -> completed trials, including failed and infeasible ones
//   save()/load() -> the agent's whole state as JSON, for resuming a run.
// Agents maximise the reward; multi-objective agents read the metrics.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "envs/core/env.hpp"
#include "envs/core/registry.hpp"

namespace dsegym {

struct Suggestion {
  std::int64_t id = 0;  // unique within the agent, in ask order
  Value action;
};

struct Trial {
  std::int64_t id = 0;  // the suggestion's id
  Value action;
  Metrics metrics;
  double reward = 0;  // NaN when the evaluation failed
  EvalStatus status;
};

// What an agent learns of the problem when it is created.
struct AgentContext {
  SpacePtr space;  // the action space
  std::vector<MetricSpec> metrics;
  std::uint64_t seed = 0;
  SpacePtr observation_space = {};     // for policy agents
  std::int64_t max_episode_steps = 1;  // 1: one-shot DSE; 0: unlimited
  // The run's objectives (metric names with a goal), for multi-objective
  // agents: --objectives, or the env's declared trade-off.
  std::vector<std::string> objectives = {};
};

class Agent {
public:
  virtual ~Agent() = default;
  virtual std::vector<Suggestion> ask(std::size_t n) = 0;
  virtual void tell(const std::vector<Trial>& trials) = 0;
  virtual json save() const = 0;
  virtual void load(const json& state) = 0;
  // Whether save() will be called (on by default). Off, an agent may drop
  // what only save() needs (a replayed agent's call log), so that its memory
  // is what the search itself keeps; save() then throws.
  virtual void set_checkpointing(bool on) { (void)on; }
};

using AgentPtr = std::unique_ptr<Agent>;

// Policy agents (PPO, DQN, multi-agent PPO) act on observations and learn
// from transitions, one env step at a time:
//   act(obs)      -> an action of the action space (exploring)
//   greedy(obs)   -> the policy's most likely action (no exploration, no state change)
//   observe(t)    -> the outcome of the last act(); learning happens here
//   save()/load() -> a checkpoint (networks, optimiser, RNG, pending data)
// An observation that is a dict with an "action_mask" entry (1 = legal) on
// a single discrete action restricts the choices to the legal ones. On a
// one-shot env (episode length 1) the runner passes the previous step's
// observation (its metrics), as ArchGym's RL envs do.
struct Transition {
  Value obs, action;
  double reward = 0;  // NaN when the evaluation failed
  Value next_obs;
  bool terminated = false, truncated = false;
  EvalStatus status;
};

class PolicyAgent {
public:
  virtual ~PolicyAgent() = default;
  virtual Value act(const Value& obs) = 0;
  virtual Value greedy(const Value& obs) = 0;
  virtual void observe(const Transition& t) = 0;
  virtual json save() const = 0;
  virtual void load(const json& state) = 0;
};

using PolicyAgentPtr = std::unique_ptr<PolicyAgent>;

// At least one of the factories is set. An agent with both (random) is a
// policy on sequential envs (it plays whole episodes) and a black-box agent
// on one-shot envs.
struct AgentEntry {
  std::string id;
  std::string description;
  std::vector<ParamSpec> hyperparameters;
  std::function<AgentPtr(const AgentContext&, const Params&)> factory = {};
  std::function<PolicyAgentPtr(const AgentContext&, const Params&)> policy_factory = {};
  bool is_policy() const { return static_cast<bool>(policy_factory) && !factory; }
  // Whether this agent acts step by step on `spec`'s env.
  bool acts_in_episodes(const EnvSpec& spec) const { return policy_factory && (!factory || spec.max_episode_steps != 1); }
};

using AgentRegistry = Registry<AgentEntry>;

// The process-wide agent registry: the built-in families are added by
// register_builtins() (app/builtin.hpp), plugins by their loader.
AgentRegistry& agent_registry();

// Throw InvalidArgument when the id is of the other kind.
AgentPtr make_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters = json::object());
PolicyAgentPtr make_policy_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters = json::object());

}  // namespace dsegym
