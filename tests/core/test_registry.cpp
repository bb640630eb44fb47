#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"

using namespace dsegym;

// The full list of built-in envs and agents. A family whose registration is
// lost (a file left out of the build, a call removed) fails here.
TEST_CASE("the registries list every built-in env and agent") {
  CHECK(env_registry().ids() == std::vector<std::string>{"accel-mapping-v0", "accel-v0", "asic-v0", "dram-v0", "nas-v0", "nasaic-v0", "soc-design-v0", "soc-sched-v0", "toy-v0"});
  CHECK(agent_registry().ids() == std::vector<std::string>{"aco", "bo", "cmaes", "de", "dqn", "ga", "grid", "ippo", "mappo", "nsga2", "ppo", "pso", "quasirandom", "random", "sa", "tpe"});
  for (const auto& id : env_registry().ids()) CHECK(!env_registry().get(id).description.empty());
  for (const auto& id : agent_registry().ids()) CHECK(!agent_registry().get(id).description.empty());
}

TEST_CASE("an unknown env id names it, suggests the closest and lists the valid ones") {
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "toy-v1"),
                       doctest::Contains("unknown env 'toy-v1' (did you mean 'toy-v0'?); valid: accel-mapping-v0, accel-v0, asic-v0, dram-v0, nas-v0, nasaic-v0, soc-design-v0, soc-sched-v0, toy-v0"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "zzzzzzzz"), doctest::Contains("valid: accel-mapping-v0, accel-v0, asic-v0, dram-v0, nas-v0, nasaic-v0, soc-design-v0, soc-sched-v0, toy-v0"), InvalidArgument);
}

TEST_CASE("env options are checked by name, type and range") {
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "toy-v0", json{{"nosie", 0.1}}),
                       doctest::Contains("unknown env 'toy-v0' option 'nosie'; valid: noise, constrained, episode_length"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "toy-v0", json{{"constrained", "yes"}}),
                       doctest::Contains("expected boolean"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "toy-v0", json{{"noise", -1.0}}), doctest::Contains("noise"),
                       InvalidArgument);
  auto env = make_env(env_registry(), "toy-v0", json{{"episode_length", 3.0}});
  CHECK(env->spec().resolved_options.at("episode_length") == 3);
  CHECK(env->spec().resolved_options.at("noise") == 0.0);
}

TEST_CASE("a registry refuses a duplicate id") {
  EnvRegistry reg("env");
  reg.add({"a-v0", "first", {}, nullptr});
  CHECK_THROWS_AS(reg.add({"a-v0", "second", {}, nullptr}), Error);
}

TEST_CASE("an unknown agent or hyperparameter is an error") {
  auto env = make_env(env_registry(), "toy-v0");
  AgentContext ctx{env->spec().action_space, env->spec().metrics, 1};
  CHECK_THROWS_WITH_AS(make_agent("randon", ctx), doctest::Contains("did you mean 'random'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_agent("random", ctx, json{{"population", 4}}),
                       doctest::Contains("unknown agent 'random' hyperparameter 'population'"), InvalidArgument);
}
