#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "envs/core/wrappers.hpp"
#include "fake_env.hpp"

using namespace dsegym;
using dsegym::testing::FakeEnv;

namespace {
double reward_of(const json& spec, int x) {
  RewardWrapper env(std::make_unique<FakeEnv>(), spec);
  env.reset(0);
  return env.step(Value(x)).reward;
}
}  // namespace

TEST_CASE("TimeLimit truncates after max_steps") {
  TimeLimit env(std::make_unique<FakeEnv>(), 3);
  env.reset(0);
  CHECK(!env.step(Value(1)).truncated);
  CHECK(!env.step(Value(1)).truncated);
  CHECK(env.step(Value(1)).truncated);
  CHECK(!env.in_episode());
  CHECK_THROWS_AS(env.step(Value(1)), Error);
  env.reset();
  CHECK(!env.step(Value(1)).truncated);
}

TEST_CASE("reward kinds match hand computations") {
  // a = x [ns, min], b = 10 - x [mW, max]; x = 4: a = 4, b = 6.
  CHECK(reward_of({{"type", "metric"}, {"metric", "a"}}, 4) == doctest::Approx(-4.0));
  CHECK(reward_of({{"type", "metric"}, {"metric", "b"}}, 4) == doctest::Approx(6.0));
  CHECK(reward_of({{"type", "weighted"}, {"weights", {{"a", -2.0}, {"b", 0.5}}}}, 4) == doctest::Approx(-8.0 + 3.0));
  CHECK(reward_of({{"type", "product"}, {"exponents", {{"a", 1.0}, {"b", 2.0}}}, {"sign", -1}}, 4) ==
        doctest::Approx(-4.0 * 36.0));
  // ArchGym's target reward: prod t / |m - t|: 2/|4-2| * 3/|6-3| = 1 * 1.
  CHECK(reward_of({{"type", "target"}, {"targets", {{"a", 2.0}, {"b", 3.0}}}}, 4) == doctest::Approx(1.0));
  CHECK(reward_of({{"type", "target"}, {"targets", {{"a", 1.0}}}}, 4) == doctest::Approx(1.0 / 3.0));
  // Exactly on target: capped.
  CHECK(reward_of({{"type", "target"}, {"targets", {{"a", 4.0}}}, {"cap", 50}}, 4) == doctest::Approx(50.0));
  // distance: -(|4-2|/2 + 2 * |6-3|/3) = -3
  CHECK(reward_of({{"type", "target"}, {"targets", {{"a", 2.0}, {"b", 3.0}}}, {"form", "distance"}, {"weights", {{"b", 2.0}}}},
                  4) == doctest::Approx(-3.0));
  // one_sided: a = 4 under its target 5 (min goal) costs nothing; b = 6 under
  // its target 8 (max goal) costs 2/8.
  CHECK(reward_of({{"type", "target"}, {"targets", {{"a", 5.0}, {"b", 8.0}}}, {"form", "one_sided"}}, 4) ==
        doctest::Approx(-0.25));
  // Constraint a <= 2 violated by 2 (relative 1) with penalty 10.
  CHECK(reward_of({{"type", "metric"}, {"metric", "b"}, {"constraints", {{{"metric", "a"}, {"max", 2.0}, {"penalty", 10}}}}},
                  4) == doctest::Approx(6.0 - 10.0));
  CHECK(reward_of({{"type", "metric"}, {"metric", "b"}, {"constraints", {{{"metric", "a"}, {"max", 5.0}}}}}, 4) ==
        doctest::Approx(6.0));
}

TEST_CASE("a failed evaluation gets the failure reward, NaN by default") {
  CHECK(std::isnan(reward_of({{"type", "metric"}, {"metric", "a"}}, 8)));
  CHECK(reward_of({{"type", "metric"}, {"metric", "a"}, {"failure_reward", -100}}, 8) == -100.0);
}

TEST_CASE("reward spec errors name the key and what is valid") {
  FakeEnv env;
  CHECK_THROWS_WITH_AS(Reward(json{{"type", "metric"}, {"metric", "latency"}}, env.spec()),
                       doctest::Contains("has no metric 'latency'; valid: a, b"), InvalidArgument);
  CHECK_THROWS_WITH_AS(Reward(json{{"type", "sum"}}, env.spec()), doctest::Contains("choices: metric, weighted"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(Reward(json{{"type", "metric"}, {"metric", "a"}, {"wieghts", 1}}, env.spec()),
                       doctest::Contains("unknown key 'wieghts'"), InvalidArgument);
  CHECK_THROWS_AS(Reward(json{{"type", "target"}, {"targets", {{"a", 0.0}}}}, env.spec()), InvalidArgument);
}

TEST_CASE("NormalizeObservation tracks running statistics and clips") {
  NormalizeObservation env(std::make_unique<FakeEnv>(), 5.0);
  const auto& box = dynamic_cast<const Box&>(env.observation_space());
  CHECK(box.lo()[0] == -5.0);
  CHECK(box.hi()[1] == 5.0);
  env.reset(0);  // observes (0, 0)
  std::vector<double> xs = {0};
  for (int x : {1, 2, 3, 4, 5, 6}) {
    const StepResult r = env.step(Value(x));
    xs.push_back(x);
    CHECK(env.observation_space().contains(r.obs));
    double mean = 0;
    for (double v : xs) mean += v;
    mean /= static_cast<double>(xs.size());
    double var = 0;
    for (double v : xs) var += (v - mean) * (v - mean);
    var /= static_cast<double>(xs.size());
    CHECK(env.mean()[0] == doctest::Approx(mean));
    CHECK(r.obs.as_real()[0] == doctest::Approx((x - mean) / std::sqrt(var + 1e-8)));
  }
}
