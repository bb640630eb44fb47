// toy-v0: a known-optimum test function for exercising agents and the runner.
//
//   loss = (x - 1.5)^2 + (y + 0.5)^2 + 0.25 (log2 n - 3)^2 + 0.02 (m - 7)^2 + offset(kind)
//   offset = {a: 0.8, b: 0, c: 0.3, d: 1.5}
//   cost   = |x| + |y| + n / 8 + m / 7        (a second, conflicting objective)
//
// The unique minimum loss = 0 is at kind = b, n = 8, m = 7, x = 1.5, y = -0.5.
// With constrained = true, designs with x + y > 6 are infeasible (a status,
// not a number). With noise > 0, loss gets Gaussian noise of that standard
// deviation drawn from the episode's seeded stream.
#include "envs/toy/toy_env.hpp"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/rng.hpp"

namespace dsegym {

namespace {

constexpr const char* kKinds[] = {"a", "b", "c", "d"};
constexpr double kOffset[] = {0.8, 0.0, 0.3, 1.5};

class ToyEnv final : public Env {
public:
  ToyEnv(std::shared_ptr<const EnvSpec> spec, double noise, bool constrained, std::int64_t episode_length)
      : Env(std::move(spec)), noise_(noise), constrained_(constrained), episode_length_(episode_length) {
    const auto& dict = dynamic_cast<const DictSpace&>(action_space());
    kind_space_ = dynamic_cast<const Categorical*>(dict.child("kind").get());
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value&) override {
    if (seed) rng_.reseed(*seed);
    steps_ = 0;
    return {Value(std::vector<double>{0.0, 0.0}), Value()};
  }

  StepResult do_step(const Value& a) override {
    const auto kind = kind_space_->index_of(a.at("kind").as_string());
    const double n = static_cast<double>(a.at("n").as_int());
    const double m = static_cast<double>(a.at("m").as_int());
    const double x = a.at("x").as_double();
    const double y = a.at("y").as_double();
    StepResult r;
    r.terminated = ++steps_ >= episode_length_;
    if (constrained_ && x + y > 6.0) {
      r.status = EvalStatus::infeasible("x + y = " + std::to_string(x + y) + " exceeds 6");
      r.obs = Value(std::vector<double>{0.0, 0.0});
      return r;
    }
    const double l2n = std::log2(n) - 3.0;
    double loss = (x - 1.5) * (x - 1.5) + (y + 0.5) * (y + 0.5) + 0.25 * l2n * l2n + 0.02 * (m - 7.0) * (m - 7.0) +
                  kOffset[kind];
    if (noise_ > 0) loss += noise_ * rng_.normal();
    const double cost = std::fabs(x) + std::fabs(y) + n / 8.0 + m / 7.0;
    r.metrics.set("loss", loss);
    r.metrics.set("cost", cost);
    r.obs = Value(std::vector<double>{loss, cost});
    return r;
  }

private:
  double noise_;
  bool constrained_;
  std::int64_t episode_length_;
  std::int64_t steps_ = 0;
  const Categorical* kind_space_;
  Rng rng_{0};
};

std::vector<ParamSpec> toy_options() {
  return {
      {"noise", "standard deviation of Gaussian noise added to loss", 0.0, std::make_shared<Box>(0.0, 1e6)},
      {"constrained", "designs with x + y > 6 are infeasible", true, nullptr},
      {"episode_length", "steps per episode (1 = one-shot design evaluation)", 1, std::make_shared<Integer>(1, 1000000)},
  };
}

}  // namespace

void register_toy_env(EnvRegistry& reg) {
  reg.add(EnvEntry{
      "toy-v0",
      "analytic test function with a known optimum (categorical, integer and real knobs)",
      toy_options(),
      [](const Params& p) -> EnvPtr {
        auto spec = std::make_shared<EnvSpec>();
        spec->id = "toy-v0";
        spec->description = "loss = (x-1.5)^2 + (y+0.5)^2 + 0.25(log2 n - 3)^2 + 0.02(m-7)^2 + offset(kind); optimum 0";
        spec->action_space = std::make_shared<DictSpace>(DictSpace::Children{
            {"kind", std::make_shared<Categorical>(std::vector<std::string>(std::begin(kKinds), std::end(kKinds)))},
            {"n", Integer::pow2(1, 64)},
            {"m", std::make_shared<Integer>(0, 20)},
            {"x", std::make_shared<Box>(-5.0, 5.0)},
            {"y", std::make_shared<Box>(-5.0, 5.0)},
        });
        const double inf = std::numeric_limits<double>::infinity();
        spec->observation_space = std::make_shared<Box>(std::vector<double>{-inf, 0.0}, std::vector<double>{inf, inf},
                                                        std::vector<std::int64_t>{2});
        spec->metrics = {{"loss", "1", Goal::Minimize, "test-function value; 0 at the optimum"},
                         {"cost", "1", Goal::Minimize, "|x| + |y| + n/8 + m/7, conflicts with loss"}};
        spec->options = toy_options();
        spec->max_episode_steps = p.get_int("episode_length");
        spec->default_reward = {{"type", "metric"}, {"metric", "loss"}};
        spec->resolved_options = p.resolved();
        return std::make_unique<ToyEnv>(std::move(spec), p.get_double("noise"), p.get_bool("constrained"),
                                        p.get_int("episode_length"));
      }});
}

}  // namespace dsegym
