#pragma once
// Analytic test problems with known optima, as envs, for agent tests.
#include <cmath>
#include <memory>

#include "envs/core/env.hpp"

namespace dsegym::testing {

// f(x) = sum_i cos(w (x_i - c_i)) - 0.5 sum_i (x_i - c_i)^2 on [-2, 2]^4:
// maximum 4 at x = c (every cosine 1, the quadratic 0). With w = 2 the other
// cosine peaks lie outside the box (unimodal); with w = 3 each knob has a
// second, deceptive peak 2.09 away worth -1.19 instead of 1 (multimodal).
// With tail > 0 the reward is -exp(tail (4 - f)) instead: the same optimum
// (reward -1 at x = c), reached through a heavy tail of very bad values.
class CosineBowl final : public Env {
public:
  static constexpr double kC[4] = {0.3, -0.7, 1.1, -0.2};
  static std::shared_ptr<const EnvSpec> make_spec() {
    auto s = std::make_shared<EnvSpec>();
    s->id = "cosine-bowl";
    s->action_space = std::make_shared<Box>(std::vector<double>(4, -2.0), std::vector<double>(4, 2.0), std::vector<std::int64_t>{4});
    s->observation_space = std::make_shared<Box>(-1e9, 1e9);
    s->metrics = {{"value", "1", Goal::Maximize, ""}};
    return s;
  }
  explicit CosineBowl(double w, double tail = 0) : Env(make_spec()), w_(w), tail_(tail) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value& a) override {
    double f = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const double d = a.as_real()[i] - kC[i];
      f += std::cos(w_ * d) - 0.5 * d * d;
    }
    StepResult r;
    r.metrics.set("value", f);
    r.reward = tail_ > 0 ? -std::exp(tail_ * (4 - f)) : f;
    r.obs = Value(f);
    r.terminated = true;
    return r;
  }

private:
  double w_, tail_;
};

// ZDT1 (Zitzler, Deb, Thiele 2000), 30 variables in [0,1]:
// f1 = x1, g = 1 + 9/(n-1) sum_{i>1} x_i, f2 = g (1 - sqrt(f1 / g)).
// The Pareto front is f2 = 1 - sqrt(f1), f1 in [0,1], at g = 1; its
// hypervolume with reference point (1,1) is 1 - int_0^1 (1 - sqrt(t)) dt = 2/3.
class Zdt1 final : public Env {
public:
  static std::shared_ptr<const EnvSpec> make_spec() {
    auto s = std::make_shared<EnvSpec>();
    s->id = "zdt1";
    s->action_space = std::make_shared<Box>(std::vector<double>(30, 0.0), std::vector<double>(30, 1.0), std::vector<std::int64_t>{30});
    s->observation_space = std::make_shared<Box>(-1e9, 1e9);
    s->metrics = {{"f1", "1", Goal::Minimize, ""}, {"f2", "1", Goal::Minimize, ""}};
    return s;
  }
  Zdt1() : Env(make_spec()) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value& a) override {
    const auto& x = a.as_real();
    double g = 0;
    for (std::size_t i = 1; i < x.size(); ++i) g += x[i];
    g = 1 + 9 * g / static_cast<double>(x.size() - 1);
    StepResult r;
    r.metrics.set("f1", x[0]);
    r.metrics.set("f2", g * (1 - std::sqrt(x[0] / g)));
    r.reward = 0;
    r.obs = Value(0.0);
    r.terminated = true;
    return r;
  }
};

// Two ordered knobs a, b in 0..99 (integers): distance = |a - 70| + |b - 30|,
// minimised (reward -distance, 0 at the optimum); cost = a + b, minimised
// (a second objective). An agent that treats the knobs as ordered follows
// the slope; one that treats them as categories searches 10,000 designs
// blind.
class OrderedValley final : public Env {
public:
  static std::shared_ptr<const EnvSpec> make_spec() {
    auto s = std::make_shared<EnvSpec>();
    s->id = "ordered-valley";
    s->action_space = std::make_shared<DictSpace>(DictSpace::Children{{"a", std::make_shared<Integer>(0, 99)}, {"b", std::make_shared<Integer>(0, 99)}});
    s->observation_space = std::make_shared<Box>(-1e9, 1e9);
    s->metrics = {{"distance", "1", Goal::Minimize, ""}, {"cost", "1", Goal::Minimize, ""}};
    return s;
  }
  OrderedValley() : Env(make_spec()) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value& v) override {
    const auto a = v.at("a").as_int(), b = v.at("b").as_int();
    const double d = static_cast<double>(std::llabs(a - 70) + std::llabs(b - 30));
    StepResult r;
    r.metrics.set("distance", d);
    r.metrics.set("cost", static_cast<double>(a + b));
    r.reward = -d;
    r.obs = Value(0.0);
    r.terminated = true;
    return r;
  }
};

}  // namespace dsegym::testing
