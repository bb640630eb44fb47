// The RL agents (loaded from the RL library on first use) on small MDPs
// whose optimal return is known.
#include <doctest/doctest.h>

#include <cmath>

#include "agents/agent.hpp"
#include "base/error.hpp"
#include "base/rng.hpp"

using namespace dsegym;

namespace {

std::shared_ptr<Box> vec_box(std::size_t n, double lo, double hi) {
  return std::make_shared<Box>(std::vector<double>(n, lo), std::vector<double>(n, hi), std::vector<std::int64_t>{static_cast<std::int64_t>(n)});
}

// A deterministic chain: states 0..5, action 1 moves right, 0 moves left;
// every move costs 0.01 except the one reaching state 5, which pays 1 and
// ends the episode; at most 20 steps. Observation: one-hot state. Optimal
// return: 4 x -0.01 + 1 = 0.96.
class Chain {
public:
  static constexpr int kN = 6;
  Value reset() {
    s_ = 0;
    t_ = 0;
    return obs();
  }
  // (reward, terminated, truncated)
  std::tuple<double, bool, bool> step(std::int64_t a) {
    s_ = a == 1 ? s_ + 1 : std::max(0, s_ - 1);
    ++t_;
    const bool end = s_ == kN - 1;
    return {end ? 1.0 : -0.01, end, !end && t_ >= 20};
  }
  Value obs() const {
    std::vector<double> o(kN, 0.0);
    o[static_cast<std::size_t>(s_)] = 1.0;
    return Value(o);
  }

private:
  int s_ = 0, t_ = 0;
};

// n entries of 0/1, each 1 with probability p, never all 0.
std::vector<double> random_mask(Rng& rng, int n, double p) {
  std::vector<double> mask(static_cast<std::size_t>(n));
  do
    for (auto& m : mask) m = rng.bernoulli(p) ? 1.0 : 0.0;
  while (mask == std::vector<double>(static_cast<std::size_t>(n), 0.0));
  return mask;
}

AgentContext chain_context(std::uint64_t seed) {
  return {std::make_shared<Discrete>(2), {}, seed, vec_box(Chain::kN, 0, 1), 20};
}

// Trains for `steps` env steps; returns the greedy policy's return.
double train_chain(PolicyAgent& agent, std::int64_t steps) {
  Chain env;
  Value obs = env.reset();
  for (std::int64_t i = 0; i < steps; ++i) {
    const Value a = agent.act(obs);
    const auto [r, term, trunc] = env.step(a.as_int());
    const Value next = env.obs();
    agent.observe({obs, a, r, next, term, trunc, {}});
    obs = term || trunc ? env.reset() : next;
  }
  Value o = env.reset();
  double ret = 0;
  for (int t = 0; t < 20; ++t) {
    const auto [r, term, trunc] = env.step(agent.greedy(o).as_int());
    ret += r;
    o = env.obs();
    if (term || trunc) break;
  }
  return ret;
}

}  // namespace

TEST_CASE("PPO and DQN solve a 6-state chain (optimal return 0.96) within a fixed budget, 3 seeds each") {
  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed ", seed);
    auto ppo = make_policy_agent("ppo", chain_context(seed), {{"batch", 128}, {"minibatch", 32}, {"lr", 3e-3}});
    CHECK(train_chain(*ppo, 6000) == doctest::Approx(0.96));
    auto dqn = make_policy_agent("dqn", chain_context(seed), {{"learning_starts", 200}, {"eps_decay", 2000}, {"target_update", 100}});
    CHECK(train_chain(*dqn, 4000) == doctest::Approx(0.96));
  }
}

TEST_CASE("PPO, IPPO and MAPPO find the best arm of a two-knob bandit") {
  // Two knobs of 4 values; reward = 1 only for (2, 1), else 0.1 per knob right.
  auto space = std::make_shared<DictSpace>(DictSpace::Children{{"a", std::make_shared<Discrete>(4)}, {"b", std::make_shared<Discrete>(4)}});
  for (const char* id : {"ppo", "ippo", "mappo"}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      INFO(id, " seed ", seed);
      auto agent = make_policy_agent(id, {space, {}, seed, vec_box(1, 0, 1), 1}, {{"batch", 64}, {"minibatch", 32}, {"lr", 3e-3}});
      const Value obs(std::vector<double>{0.0});
      for (int i = 0; i < 3000; ++i) {
        const Value a = agent->act(obs);
        const auto x = a.at("a").as_int(), y = a.at("b").as_int();
        const double r = x == 2 && y == 1 ? 1.0 : 0.1 * ((x == 2 ? 1 : 0) + (y == 1 ? 1 : 0));
        agent->observe({obs, a, r, obs, true, false, {}});
      }
      const Value g = agent->greedy(obs);
      CHECK(g.at("a").as_int() == 2);
      CHECK(g.at("b").as_int() == 1);
    }
  }
}

TEST_CASE("action masks are never violated, and the agents learn the best legal action") {
  // One knob of 5 values; the observation's mask hides a random subset
  // (never all); reward = the action's index / 4 when legal. Best legal: the
  // highest unmasked index.
  for (const char* id : {"ppo", "dqn"}) {
    INFO(id);
    auto obs_space = std::make_shared<DictSpace>(DictSpace::Children{{"features", vec_box(5, 0, 1)}, {"action_mask", vec_box(5, 0, 1)}});
    const json hp = std::string(id) == "ppo" ? json{{"batch", 64}, {"minibatch", 32}, {"lr", 3e-3}}
                                             : json{{"learning_starts", 100}, {"eps_decay", 1500}};
    auto agent = make_policy_agent(id, {std::make_shared<Discrete>(5), {}, 7, obs_space, 1}, hp);
    Rng rng(3);
    auto draw = [&]() {
      const std::vector<double> mask = random_mask(rng, 5, 0.5);
      return Value(Value::Dict{{"features", Value(mask)}, {"action_mask", Value(mask)}});
    };
    int violations = 0;
    Value obs = draw();
    for (int i = 0; i < 4000; ++i) {
      const Value a = agent->act(obs);
      const auto k = static_cast<std::size_t>(a.as_int());
      const bool legal = obs.at("action_mask").as_real()[k] == 1.0;
      violations += legal ? 0 : 1;
      const Value next = draw();
      agent->observe({obs, a, legal ? static_cast<double>(k) / 4.0 : -1.0, next, true, false, {}});
      obs = next;
    }
    CHECK(violations == 0);
    int best = 0;
    for (int i = 0; i < 100; ++i) {
      const Value o = draw();
      const auto& m = o.at("action_mask").as_real();
      int top = 4;
      while (m[static_cast<std::size_t>(top)] == 0.0) --top;
      const auto g = agent->greedy(o).as_int();
      CHECK(m[static_cast<std::size_t>(g)] == 1.0);
      best += g == top ? 1 : 0;
    }
    CHECK(best >= 90);
  }
}

TEST_CASE("PPO's per-candidate scoring learns to pick the cheapest legal candidate") {
  // Five candidates, each with one feature, its cost in [0, 1]; a random
  // legal subset; reward 1 - cost of the choice. The scorer sees (shared
  // features, one candidate's features) and ranks candidates by one rule.
  constexpr int kN = 5;
  auto obs_space = std::make_shared<DictSpace>(
      DictSpace::Children{{"action_mask", vec_box(kN, 0, 1)}, {"features", vec_box(1 + kN, 0, 1)}});
  auto agent = make_policy_agent("ppo", {std::make_shared<Discrete>(kN), {}, 5, obs_space, 1},
                                 {{"batch", 64}, {"minibatch", 32}, {"lr", 3e-3}, {"candidate_features", 1}});
  Rng rng(11);
  auto draw = [&]() {
    const std::vector<double> mask = random_mask(rng, kN, 0.6);
    std::vector<double> feat(1 + kN);
    feat[0] = 0.5;  // a shared feature
    for (int i = 0; i < kN; ++i) feat[static_cast<std::size_t>(1 + i)] = rng.uniform();
    return Value(Value::Dict{{"action_mask", Value(mask)}, {"features", Value(feat)}});
  };
  int violations = 0;
  Value obs = draw();
  for (int i = 0; i < 4000; ++i) {
    const Value a = agent->act(obs);
    const auto k = static_cast<std::size_t>(a.as_int());
    violations += obs.at("action_mask").as_real()[k] == 1.0 ? 0 : 1;
    const Value next = draw();
    agent->observe({obs, a, 1.0 - obs.at("features").as_real()[1 + k], next, true, false, {}});
    obs = next;
  }
  CHECK(violations == 0);
  int best = 0;
  for (int i = 0; i < 200; ++i) {
    const Value o = draw();
    const auto& m = o.at("action_mask").as_real();
    const auto& f = o.at("features").as_real();
    int cheapest = -1;
    for (int c = 0; c < kN; ++c)
      if (m[static_cast<std::size_t>(c)] == 1.0 && (cheapest < 0 || f[static_cast<std::size_t>(1 + c)] < f[static_cast<std::size_t>(1 + cheapest)])) cheapest = c;
    best += agent->greedy(o).as_int() == cheapest ? 1 : 0;
  }
  MESSAGE("per-candidate scoring picked the cheapest legal candidate in " << best << " of 200");
  CHECK(best >= 170);
  // Scoring needs a single discrete action and enough features.
  CHECK_THROWS_WITH_AS(make_policy_agent("ippo", {std::make_shared<Discrete>(kN), {}, 5, obs_space, 1}, {{"candidate_features", 1}}),
                       doctest::Contains("candidate_features"), InvalidArgument);
  auto too_many = make_policy_agent("ppo", {std::make_shared<Discrete>(kN), {}, 5, obs_space, 1}, {{"candidate_features", 3}});
  CHECK_THROWS_WITH_AS(too_many->act(draw()), doctest::Contains("fewer than 5 candidates x 3"), InvalidArgument);
}

TEST_CASE("a checkpoint restores the policy exactly: same greedy and sampled actions, same learning") {
  for (const char* id : {"ppo", "dqn", "mappo"}) {
    INFO(id);
    const json hp = std::string(id) == "dqn" ? json{{"batch", 16}, {"learning_starts", 50}} : json{{"batch", 64}, {"minibatch", 16}};
    auto a = make_policy_agent(id, chain_context(4), hp);
    train_chain(*a, 300);
    const json ckpt = a->save();
    auto b = make_policy_agent(id, chain_context(99), hp);  // another seed: everything must come from the checkpoint
    b->load(json::parse(ckpt.dump()));
    Chain env;
    Value obs = env.reset();
    for (int i = 0; i < 200; ++i) {
      CHECK(a->greedy(obs) == b->greedy(obs));
      const Value x = a->act(obs), y = b->act(obs);
      REQUIRE(x == y);
      const auto [r, term, trunc] = env.step(x.as_int());
      const Value next = env.obs();
      a->observe({obs, x, r, next, term, trunc, {}});
      b->observe({obs, y, r, next, term, trunc, {}});
      obs = term || trunc ? env.reset() : next;
    }
    CHECK(a->save().at("rng") == b->save().at("rng"));
  }
}

TEST_CASE("RL agents reject what they cannot handle with named errors") {
  auto box = std::make_shared<Box>(0.0, 1.0);
  CHECK_THROWS_WITH_AS(make_policy_agent("dqn", {box, {}, 1, vec_box(1, 0, 1), 1}), doctest::Contains("needs a discrete action space"), InvalidArgument);
  auto space = std::make_shared<DictSpace>(DictSpace::Children{{"a", std::make_shared<Discrete>(4)}, {"b", std::make_shared<Discrete>(4)}});
  CHECK_THROWS_WITH_AS(make_policy_agent("ippo", {space, {}, 1, vec_box(1, 0, 1), 1}, {{"groups", json::array({json::array({"a", "c"})})}}),
                       doctest::Contains("\"c\" is not a knob; knobs: a, b"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_policy_agent("ppo", {space, {}, 1, vec_box(1, 0, 1), 1}, {{"clip", 5}}), doctest::Contains("clip"), InvalidArgument);
  CHECK_THROWS_WITH_AS(make_agent("ppo", {space, {}, 1}), doctest::Contains("policy agent"), InvalidArgument);
}
