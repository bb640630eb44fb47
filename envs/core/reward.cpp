#include "envs/core/reward.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym {

namespace {

std::string metric_list(const EnvSpec& env) {
  std::string s;
  for (const auto& m : env.metrics) s += (s.empty() ? "" : ", ") + m.name;
  return s;
}

const MetricSpec& metric(const EnvSpec& env, const std::string& name, const std::string& where) {
  if (const MetricSpec* m = env.find_metric(name)) return *m;
  throw InvalidArgument(where + ": env '" + env.id + "' has no metric '" + name + "'; valid: " + metric_list(env));
}

// Numbers of a reward spec: finite and at most 1e100 in magnitude, so that
// no reward of finite metrics overflows.
double number(const json& j, const std::string& where) {
  if (!j.is_number()) throw InvalidArgument(where + ": expected a number, got " + excerpt(j));
  const double x = j.get<double>();
  if (!(std::fabs(x) <= 1e100)) throw InvalidArgument(where + ": " + excerpt(j) + " is out of range; give a number within +-1e100");
  return x;
}

}  // namespace

Reward::Reward(const json& spec, const EnvSpec& env) : spec_(spec), failure_reward_(std::numeric_limits<double>::quiet_NaN()) {
  const std::string where = "reward";
  if (!spec.is_object()) throw InvalidArgument(where + ": expected a JSON object, got " + spec.dump());
  if (!spec.contains("type") || !spec["type"].is_string())
    throw InvalidArgument(where + ": missing 'type'; choices: metric, weighted, product, target");
  const auto type = spec["type"].get<std::string>();
  auto map_of = [&](const char* key) -> const json& {
    if (!spec.contains(key) || !spec[key].is_object() || spec[key].empty())
      throw InvalidArgument(where + "." + key + ": expected a non-empty object of metric -> number");
    return spec[key];
  };
  if (type == "metric") {
    check_keys(spec, {"type", "metric", "constraints", "failure_reward"}, where);
    if (!spec.contains("metric") || !spec["metric"].is_string()) throw InvalidArgument(where + ".metric: expected a metric name; valid: " + metric_list(env));
    const auto& m = metric(env, spec["metric"].get<std::string>(), where + ".metric");
    kind_ = Kind::Metric;
    terms_.push_back({m.name, m.goal == Goal::Maximize ? 1.0 : -1.0, 1.0, m.goal});
  } else if (type == "weighted") {
    check_keys(spec, {"type", "weights", "constraints", "failure_reward"}, where);
    kind_ = Kind::Weighted;
    const json& w = map_of("weights");
    for (auto it = w.begin(); it != w.end(); ++it)
      terms_.push_back({metric(env, it.key(), where + ".weights").name, number(it.value(), where + ".weights." + it.key()), 1.0, Goal::None});
  } else if (type == "product") {
    check_keys(spec, {"type", "exponents", "sign", "constraints", "failure_reward"}, where);
    kind_ = Kind::Product;
    const json& e = map_of("exponents");
    for (auto it = e.begin(); it != e.end(); ++it)
      terms_.push_back({metric(env, it.key(), where + ".exponents").name, number(it.value(), where + ".exponents." + it.key()), 1.0, Goal::None});
    if (spec.contains("sign")) {
      sign_ = number(spec["sign"], where + ".sign");
      if (sign_ != 1.0 && sign_ != -1.0) throw InvalidArgument(where + ".sign: must be 1 or -1");
    }
  } else if (type == "target") {
    check_keys(spec, {"type", "targets", "form", "weights", "cap", "constraints", "failure_reward"}, where);
    kind_ = Kind::Target;
    const std::string form = spec.contains("form") ? spec["form"].get<std::string>() : "inverse";
    if (form == "inverse")
      form_ = Form::Inverse;
    else if (form == "distance")
      form_ = Form::Distance;
    else if (form == "one_sided")
      form_ = Form::OneSided;
    else
      throw InvalidArgument(where + ".form: '" + form + "' is not valid; choices: inverse, distance, one_sided");
    const json& t = map_of("targets");
    for (auto it = t.begin(); it != t.end(); ++it) {
      const auto& m = metric(env, it.key(), where + ".targets");
      const double target = number(it.value(), where + ".targets." + it.key());
      if (target == 0.0) throw InvalidArgument(where + ".targets." + it.key() + ": a target must be non-zero (distances are relative to it)");
      double w = 1.0;
      if (spec.contains("weights") && spec["weights"].contains(it.key())) w = number(spec["weights"][it.key()], where + ".weights." + it.key());
      terms_.push_back({m.name, target, w, m.goal});
    }
    if (spec.contains("weights"))
      for (auto it = spec["weights"].begin(); it != spec["weights"].end(); ++it)
        if (!t.contains(it.key())) throw InvalidArgument(where + ".weights." + it.key() + ": not one of the targets");
    if (spec.contains("cap")) {
      cap_ = number(spec["cap"], where + ".cap");
      if (!(cap_ > 0)) throw InvalidArgument(where + ".cap: must be positive");
    }
  } else {
    throw InvalidArgument(where + ".type: '" + type + "' is not valid; choices: metric, weighted, product, target");
  }
  if (spec.contains("constraints")) {
    if (!spec["constraints"].is_array()) throw InvalidArgument(where + ".constraints: expected an array");
    for (std::size_t i = 0; i < spec["constraints"].size(); ++i) {
      const json& c = spec["constraints"][i];
      const std::string cw = where + ".constraints[" + std::to_string(i) + "]";
      if (!c.is_object()) throw InvalidArgument(cw + ": expected an object");
      check_keys(c, {"metric", "max", "min", "penalty"}, cw);
      if (!c.contains("metric") || !c["metric"].is_string()) throw InvalidArgument(cw + ".metric: expected a metric name; valid: " + metric_list(env));
      if (c.contains("max") == c.contains("min")) throw InvalidArgument(cw + ": give exactly one of 'max' or 'min'");
      const bool is_max = c.contains("max");
      const double bound = number(c[is_max ? "max" : "min"], cw);
      if (bound == 0.0) throw InvalidArgument(cw + ": the bound must be non-zero (violations are relative to it)");
      constraints_.push_back({metric(env, c["metric"].get<std::string>(), cw + ".metric").name, bound, is_max,
                              c.contains("penalty") ? number(c["penalty"], cw + ".penalty") : 1.0});
    }
  }
  if (spec.contains("failure_reward") && !spec["failure_reward"].is_null())
    failure_reward_ = number(spec["failure_reward"], where + ".failure_reward");
}

double Reward::operator()(const Metrics& m, const EvalStatus& status) const {
  if (!status.ok()) return failure_reward_;
  double r = 0.0;
  switch (kind_) {
    case Kind::Metric: r = terms_[0].a * m.at(terms_[0].metric); break;
    case Kind::Weighted:
      for (const auto& t : terms_) r += t.a * m.at(t.metric);
      break;
    case Kind::Product:
      r = sign_;
      for (const auto& t : terms_) r *= std::pow(m.at(t.metric), t.a);
      break;
    case Kind::Target:
      if (form_ == Form::Inverse) {
        r = 1.0;
        for (const auto& t : terms_) {
          const double d = std::fabs(m.at(t.metric) - t.a);
          r *= d > 0 ? std::min(cap_, std::fabs(t.a) / d) : cap_;
        }
      } else {
        for (const auto& t : terms_) {
          double rel = (m.at(t.metric) - t.a) / std::fabs(t.a);
          if (form_ == Form::OneSided) rel = t.goal == Goal::Maximize ? std::max(0.0, -rel) : std::max(0.0, rel);
          r -= t.w * std::fabs(rel);
        }
      }
      break;
  }
  for (const auto& c : constraints_) {
    const double v = m.at(c.metric);
    const double excess = c.is_max ? v - c.bound : c.bound - v;
    if (excess > 0) r -= c.penalty * excess / std::fabs(c.bound);
  }
  return r;
}

}  // namespace dsegym
