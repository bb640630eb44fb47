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
  SpacePtr space;
  std::vector<MetricSpec> metrics;
  std::uint64_t seed = 0;
};

class Agent {
public:
  virtual ~Agent() = default;
  virtual std::vector<Suggestion> ask(std::size_t n) = 0;
  virtual void tell(const std::vector<Trial>& trials) = 0;
  virtual json save() const = 0;
  virtual void load(const json& state) = 0;
};

using AgentPtr = std::unique_ptr<Agent>;

struct AgentEntry {
  std::string id;
  std::string description;
  std::vector<ParamSpec> hyperparameters;
  std::function<AgentPtr(const AgentContext&, const Params&)> factory;
};

using AgentRegistry = Registry<AgentEntry>;

// The registry with every built-in agent registered (once).
AgentRegistry& agent_registry();

AgentPtr make_agent(const std::string& id, const AgentContext& ctx, const json& hyperparameters = json::object());

}  // namespace dsegym
