// A test plugin: "faulty-v0", an env whose simulator misbehaves on purpose
// when x > threshold: it aborts the process, hangs, or throws.
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "agents/plugin.hpp"

namespace {

using namespace dsegym;

class FaultyEnv final : public Env {
public:
  FaultyEnv(std::shared_ptr<const EnvSpec> spec, std::string mode, double threshold)
      : Env(std::move(spec)), mode_(std::move(mode)), threshold_(threshold) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value& a) override {
    const double x = a.as_double();
    if (x > threshold_) {
      if (mode_ == "abort") std::abort();
      if (mode_ == "hang")
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      throw std::runtime_error("simulator failed at x = " + std::to_string(x));
    }
    StepResult r;
    r.metrics.set("value", x);
    r.obs = Value(x);
    r.terminated = true;
    return r;
  }

private:
  std::string mode_;
  double threshold_;
};

std::vector<ParamSpec> options() {
  return {{"mode", "what happens above the threshold", "abort",
           std::make_shared<Categorical>(std::vector<std::string>{"abort", "hang", "throw"})},
          {"threshold", "x above which the simulator fails", 0.5, std::make_shared<Box>(0.0, 2.0)}};
}

}  // namespace

DSEGYM_PLUGIN(registrar) {
  registrar.envs.add(EnvEntry{"faulty-v0", "test env whose simulator aborts, hangs or throws above a threshold", options(),
                              [](const Params& p) -> EnvPtr {
                                auto s = std::make_shared<EnvSpec>();
                                s->id = "faulty-v0";
                                s->action_space = std::make_shared<Box>(0.0, 1.0);
                                s->observation_space = std::make_shared<Box>(0.0, 1.0);
                                s->metrics = {{"value", "1", Goal::Maximize, ""}};
                                s->options = options();
                                s->default_reward = {{"type", "metric"}, {"metric", "value"}};
                                s->resolved_options = p.resolved();
                                return std::make_unique<FaultyEnv>(s, p.get_string("mode"), p.get_double("threshold"));
                              }});
}
