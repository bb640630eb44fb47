#include "envs/core/wrappers.hpp"

#include <algorithm>
#include <cmath>

#include "base/error.hpp"

namespace dsegym {

TimeLimit::TimeLimit(EnvPtr inner, std::int64_t max_steps) : Wrapper(std::move(inner)), max_steps_(max_steps) {
  if (max_steps < 1) throw InvalidArgument("TimeLimit: max_steps must be at least 1, got " + std::to_string(max_steps));
}

std::pair<Value, Value> TimeLimit::do_reset(std::optional<std::uint64_t> seed, const Value& options) {
  steps_ = 0;
  return inner_->reset(seed, options);
}

StepResult TimeLimit::do_step(const Value& action) {
  StepResult r = inner_->step(action);
  if (++steps_ >= max_steps_ && !r.terminated) r.truncated = true;
  return r;
}

RewardWrapper::RewardWrapper(EnvPtr inner, const json& reward_spec)
    : Wrapper(std::move(inner)), reward_(reward_spec, inner_->spec()) {}

StepResult RewardWrapper::do_step(const Value& action) {
  StepResult r = inner_->step(action);
  r.reward = reward_(r.metrics, r.status);
  return r;
}

StepResult RewardWrapper::do_evaluate(std::uint64_t seed, const Value& action) {
  StepResult r = inner_->evaluate(seed, action);
  r.reward = reward_(r.metrics, r.status);
  return r;
}

std::vector<StepResult> RewardWrapper::do_evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions) {
  std::vector<StepResult> out = inner_->evaluate_batch(seeds, actions);
  for (auto& r : out) r.reward = reward_(r.metrics, r.status);
  return out;
}

NormalizeObservation::NormalizeObservation(EnvPtr inner, double clip, double epsilon)
    : Wrapper(std::move(inner)), clip_(clip), eps_(epsilon) {
  const auto* box = dynamic_cast<const Box*>(&inner_->observation_space());
  if (!box)
    throw InvalidArgument("NormalizeObservation: env '" + inner_->spec().id + "' has a " +
                          inner_->observation_space().kind() + " observation space; only box observations can be normalised");
  if (!(clip > 0)) throw InvalidArgument("NormalizeObservation: clip must be positive");
  scalar_ = box->is_scalar();
  mean_.assign(box->size(), 0.0);
  m2_.assign(box->size(), 0.0);
  auto spec = std::make_shared<EnvSpec>(inner_->spec());
  if (scalar_)
    spec->observation_space = std::make_shared<Box>(-clip, clip);
  else
    spec->observation_space = std::make_shared<Box>(std::vector<double>(box->size(), -clip),
                                                    std::vector<double>(box->size(), clip), box->shape());
  set_spec(std::move(spec));
}

std::vector<double> NormalizeObservation::variance() const {
  std::vector<double> v(m2_.size(), 1.0);
  if (count_ > 1)
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = m2_[i] / static_cast<double>(count_);
  return v;
}

Value NormalizeObservation::normalize(const Value& obs) {
  std::vector<double> x = scalar_ ? std::vector<double>{obs.as_double()} : obs.as_real();
  ++count_;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) continue;  // keep the statistics finite
    const double d = x[i] - mean_[i];
    mean_[i] += d / static_cast<double>(count_);
    m2_[i] += d * (x[i] - mean_[i]);
  }
  const auto var = variance();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double z = std::isfinite(x[i]) ? (x[i] - mean_[i]) / std::sqrt(var[i] + eps_) : (x[i] > 0 ? clip_ : -clip_);
    x[i] = std::clamp(z, -clip_, clip_);
  }
  if (scalar_) return Value(x[0]);
  return Value(std::move(x));
}

std::pair<Value, Value> NormalizeObservation::do_reset(std::optional<std::uint64_t> seed, const Value& options) {
  auto [obs, info] = inner_->reset(seed, options);
  return {normalize(obs), std::move(info)};
}

StepResult NormalizeObservation::do_step(const Value& action) {
  StepResult r = inner_->step(action);
  if (!r.obs.is_null()) r.obs = normalize(r.obs);
  return r;
}

}  // namespace dsegym
