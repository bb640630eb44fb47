#pragma once
// Reward: turns an evaluation's raw metrics into one scalar, configured by a
// JSON spec. Kinds:
//   {"type": "metric", "metric": "latency_ns"}          -m for min goals, +m for max
//   {"type": "weighted", "weights": {"energy_nj": -1, "latency_ns": -0.5}}
//   {"type": "product", "exponents": {"energy_nj": 1, "latency_ns": 1}, "sign": -1}
//   {"type": "target", "targets": {"power_mw": 1, "latency_ns": 0.1},
//    "form": "inverse" | "distance" | "one_sided", "weights": {...}, "cap": 1e6}
// "inverse" is ArchGym's target-spec reward: the product over metrics of
// t / |m - t| (each factor capped at `cap`); "distance" is -sum w |m - t| / |t|;
// "one_sided" only penalises the side of the target that the metric's goal
// dislikes. Any kind may add
//   "constraints": [{"metric": "power_mw", "max": 500, "penalty": 10}]
// which subtracts penalty * relative violation, and "failure_reward": x,
// the reward of an evaluation whose status is not ok (default: none, NaN).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/core/env.hpp"

namespace dsegym {

class Reward {
public:
  // Validates the spec against the env's metrics: unknown metric names, kinds
  // or keys are errors that list what is valid.
  Reward(const json& spec, const EnvSpec& env);

  double operator()(const Metrics& m, const EvalStatus& status) const;
  const json& spec() const { return spec_; }

private:
  enum class Kind { Metric, Weighted, Product, Target };
  enum class Form { Inverse, Distance, OneSided };
  struct Term {
    std::string metric;
    double a = 1.0;  // weight, exponent or target
    double w = 1.0;  // weight of a target term
    Goal goal = Goal::Minimize;
  };
  struct Constraint {
    std::string metric;
    double bound;
    bool is_max;
    double penalty;
  };
  json spec_;
  Kind kind_ = Kind::Metric;
  Form form_ = Form::Inverse;
  double sign_ = 1.0;
  double cap_ = 1e6;
  std::vector<Term> terms_;
  std::vector<Constraint> constraints_;
  double failure_reward_;
};

}  // namespace dsegym
