#pragma once
// A tiny env for tests of the core machinery: action x in 0..9 (Discrete),
// metrics a = x and b = 10 - x; x == 7 throws (a crashing simulator), x == 8
// is infeasible.
#include <stdexcept>

#include "envs/core/env.hpp"

namespace dsegym::testing {

inline std::shared_ptr<const EnvSpec> fake_spec() {
  auto s = std::make_shared<EnvSpec>();
  s->id = "fake-v0";
  s->action_space = std::make_shared<Discrete>(10);
  s->observation_space = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{10, 10}, std::vector<std::int64_t>{2});
  s->metrics = {{"a", "ns", Goal::Minimize, ""}, {"b", "mW", Goal::Maximize, ""}};
  s->max_episode_steps = 0;
  s->default_reward = {{"type", "metric"}, {"metric", "a"}};
  return s;
}

class FakeEnv final : public Env {
public:
  FakeEnv() : Env(fake_spec()) {}
  int resets = 0;

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    ++resets;
    return {Value(std::vector<double>{0, 0}), Value()};
  }
  StepResult do_step(const Value& action) override {
    const auto x = action.as_int();
    if (x == 7) throw std::runtime_error("simulator crashed on x = 7");
    StepResult r;
    if (x == 8) {
      r.status = EvalStatus::infeasible("x = 8 is infeasible");
      return r;
    }
    r.metrics.set("a", static_cast<double>(x));
    r.metrics.set("b", 10.0 - static_cast<double>(x));
    r.obs = Value(std::vector<double>{static_cast<double>(x), 10.0 - static_cast<double>(x)});
    return r;
  }
};

}  // namespace dsegym::testing
