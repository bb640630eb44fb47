// The contract every registered env must keep. It runs over the whole
// registry, so a new env is checked the moment it is registered.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "app/builtin.hpp"
#include "base/error.hpp"

using namespace dsegym;

namespace {

// Runs `n` sampled actions (reset per episode) and returns a textual trace.
std::string run_trace(Env& env, std::uint64_t seed, int n) {
  Rng rng(seed);
  std::string out;
  env.reset(seed);
  for (int i = 0; i < n; ++i) {
    if (!env.in_episode()) env.reset();
    const Value a = env.action_space().sample(rng);
    const StepResult r = env.step(a);
    json m = json::object();
    for (const auto& [k, v] : r.metrics.items()) m[k] = v;
    out += a.dump() + m.dump() + status_name(r.status.code) + r.status.reason + r.obs.dump() + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("every registered env keeps the contract") {
  for (const auto& id : env_registry().ids()) {
    INFO("env ", id);
    auto env = make_env(env_registry(), id);
    const EnvSpec& spec = env->spec();
    CHECK(spec.id == id);

    // Spaces round-trip through JSON.
    CHECK(Space::from_json(spec.action_space->to_json())->to_json() == spec.action_space->to_json());
    CHECK(Space::from_json(spec.observation_space->to_json())->to_json() == spec.observation_space->to_json());
    // Black-box agents need a finite encoding of the action space.
    REQUIRE(spec.action_space->dim() > 0);

    // Metrics have units; the default reward is valid for the env.
    REQUIRE(!spec.metrics.empty());
    for (const auto& m : spec.metrics) CHECK(!m.unit.empty());

    // step() outside an episode is an error.
    CHECK_THROWS_AS(env->step(spec.action_space->sample(*std::make_unique<Rng>(1))), Error);

    auto [obs0, info0] = env->reset(1);
    CHECK(env->observation_space().contains(obs0));

    // Sampled actions are accepted; observations lie in their space; metrics
    // are the declared ones; failures carry a reason.
    Rng rng(42);
    int ok = 0;
    for (int i = 0; i < 200; ++i) {
      if (!env->in_episode()) env->reset();
      const Value a = spec.action_space->sample(rng);
      const StepResult r = env->step(a);
      if (!r.obs.is_null()) CHECK(env->observation_space().contains(r.obs));
      if (r.status.ok()) {
        ++ok;
        CHECK(r.metrics.items().size() == spec.metrics.size());
        for (const auto& m : spec.metrics) {
          const double* v = r.metrics.find(m.name);
          REQUIRE(v != nullptr);
          CHECK(std::isfinite(*v));
        }
      } else {
        CHECK(!r.status.reason.empty());
      }
    }
    CHECK(ok > 0);

    // Same seed, same trace.
    auto a = make_env(env_registry(), id);
    auto b = make_env(env_registry(), id);
    CHECK(run_trace(*a, 5, 30) == run_trace(*b, 5, 30));

    // Out-of-space actions give a clear error naming the action.
    env->reset(1);
    CHECK_THROWS_WITH_AS(env->step(Value("not an action")), doctest::Contains("action"), InvalidArgument);
    Value bad = spec.action_space->sample(rng);
    if (bad.is_dict()) {
      bad.set("no_such_knob", Value(1));
      CHECK_THROWS_WITH_AS(env->step(bad), doctest::Contains("unknown key 'no_such_knob'"), InvalidArgument);
    }
  }
}

TEST_CASE("toy-v0 has its optimum where documented and reports infeasible designs as a status") {
  auto env = make_env(env_registry(), "toy-v0");
  env->reset(0);
  Value best(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}});
  StepResult r = env->step(best);
  CHECK(r.status.ok());
  CHECK(r.metrics.at("loss") == doctest::Approx(0.0));
  // Hand computation: |1.5| + |-0.5| + 8/8 + 7/7 = 4.
  CHECK(r.metrics.at("cost") == doctest::Approx(4.0));
  // Keys in another order are the same design.
  env->reset(0);
  r = env->step(Value(Value::Dict{{"y", -0.5}, {"x", 1.5}, {"m", 7}, {"n", 8}, {"kind", "b"}}));
  CHECK(r.metrics.at("loss") == doctest::Approx(0.0));
  // kind a: offset 0.8; n = 32: 0.25 * (5 - 3)^2 = 1.
  env->reset(0);
  r = env->step(Value(Value::Dict{{"kind", "a"}, {"n", 32}, {"m", 7}, {"x", 1.5}, {"y", -0.5}}));
  CHECK(r.metrics.at("loss") == doctest::Approx(1.8));
  env->reset(0);
  r = env->step(Value(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 4.0}, {"y", 4.0}}));
  CHECK(r.status.code == Status::Infeasible);
  CHECK(r.status.reason.find("exceeds 6") != std::string::npos);
  CHECK(r.metrics.empty());
}

TEST_CASE("toy-v0 noise follows the reset seed") {
  auto env = make_env(env_registry(), "toy-v0", json{{"noise", 0.5}});
  Value a(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}});
  env->reset(3);
  const double l1 = env->step(a).metrics.at("loss");
  env->reset(3);
  const double l2 = env->step(a).metrics.at("loss");
  env->reset(4);
  const double l3 = env->step(a).metrics.at("loss");
  CHECK(l1 == l2);
  CHECK(l1 != l3);
}
