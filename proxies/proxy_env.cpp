#include "proxies/proxy_env.hpp"

#include <cmath>
#include <deque>
#include <limits>

#include "envs/core/columns.hpp"
#include "envs/core/env_registry.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "envs/core/params.hpp"
#include "proxies/proxy.hpp"

namespace dsegym {

namespace {

using proxy::ProxyModel;

constexpr double kInf = std::numeric_limits<double>::infinity();

bool contains(const std::vector<std::string>& names, const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); }

// A metric the env declares as a product of predicted ones (edp from energy and latency).
bool derivable(const MetricSpec& m, const std::vector<std::string>& predicted) {
  if (m.product_of.empty() || contains(predicted, m.name)) return false;
  for (const auto& f : m.product_of)
    if (!contains(predicted, f)) return false;
  return true;
}

// The wrapped env's spec with only `targets` as metrics, and those derived
// from them (in the env's order).
std::shared_ptr<EnvSpec> spec_with(const EnvSpec& inner, const std::vector<std::string>& targets, const std::string& cost_model) {
  auto s = std::make_shared<EnvSpec>(inner);
  s->metrics.clear();
  for (const auto& m : inner.metrics)
    if (contains(targets, m.name) || derivable(m, targets)) s->metrics.push_back(m);
  const auto n = static_cast<std::int64_t>(s->metrics.size());
  s->observation_space = std::make_shared<Box>(std::vector<double>(static_cast<std::size_t>(n), -kInf),
                                               std::vector<double>(static_cast<std::size_t>(n), kInf), std::vector<std::int64_t>{n});
  s->resolved_options["cost_model"] = cost_model;
  return s;
}

// Env options without the cost model's (data from a hybrid run is simulator data).
json sim_options(json o) {
  if (o.is_object()) {
    o.erase("cost_model");
    o.erase("cost_model_options");
  }
  return o;
}

void require_one_shot(const EnvSpec& spec, const std::string& cost_model) {
  if (spec.max_episode_steps != 1)
    throw InvalidArgument("env '" + spec.id + "': cost model '" + cost_model +
                          "' replaces one-shot evaluations (a whole design per step); this env is sequential");
}

std::vector<json> param_schemas(const Space& s) {
  std::vector<json> out;
  for (auto& c : param_columns(s)) out.push_back(std::move(c.schema));
  return out;
}

StepResult proxy_step(const EnvSpec& spec, const proxy::Prediction& p, const std::vector<std::string>& names) {
  StepResult r;
  r.terminated = true;
  for (const auto& m : spec.metrics) {
    const auto k = static_cast<std::size_t>(std::find(names.begin(), names.end(), m.name) - names.begin());
    if (k < names.size()) {
      r.metrics.set(m.name, p.mean[k]);
      continue;
    }
    double v = m.product_scale;  // derived: every factor is predicted (spec_with)
    for (const auto& f : m.product_of) v *= p.mean[static_cast<std::size_t>(std::find(names.begin(), names.end(), f) - names.begin())];
    r.metrics.set(m.name, v);
  }
  r.obs = spec.metric_observation(r.metrics);
  r.info = Value(Value::Dict{{"cost_model", "proxy"}});
  return r;
}

// ------------------------------------------------------------------ proxy:PATH

class ProxyEnv final : public Env {
public:
  ProxyEnv(const EnvSpec& inner, const std::string& path) : Env(nullptr), model_(ProxyModel::load(user_file(path, "cost_model 'proxy:'"))) {
    const std::string cm = "proxy:" + path;
    require_one_shot(inner, cm);
    if (model_.env() != inner.id)
      throw InvalidArgument("proxy " + path + " was trained on env '" + model_.env() + "', not '" + inner.id + "'");
    const json mine = sim_options(inner.resolved_options);
    bool known = model_.env_options().empty();
    for (const auto& o : model_.env_options()) known = known || sim_options(o) == mine;
    if (!known)
      throw InvalidArgument("proxy " + path + " was trained with env options " + model_.env_options().dump() + "; this env has " + mine.dump());
    const auto params = param_schemas(*inner.action_space);
    if (params != model_.params()) throw InvalidArgument("proxy " + path + ": its parameters differ from env '" + inner.id + "''s action space");
    for (const auto& t : model_.targets()) names_.push_back(t.name);
    set_spec(spec_with(inner, names_, cm));
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override {
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }
  StepResult do_step(const Value& action) override {
    std::vector<json> cells;
    param_values(*spec().action_space, action, cells);
    return proxy_step(spec(), model_.predict({cells})[0], names_);
  }

private:
  ProxyModel model_;
  std::vector<std::string> names_;
};

// ------------------------------------------------------------------ hybrid

struct HybridOptions {
  std::string model = "gp";
  json model_options = json::object();
  std::int64_t warmup = 64, retrain_every = 32;
  double z = 1.0;          // standard deviations of optimism
  double min_gain = 0.01;  // relative improvement on the best worth simulating
  double fraction = 0.08;  // share of the recent proposals that may be simulated
  std::int64_t window = 100;
  std::vector<std::string> targets, verify;
  std::uint64_t seed = 0;
};

class HybridEnv final : public Env {
public:
  HybridEnv(EnvPtr sim, const json& options) : Env(nullptr), sim_(std::move(sim)) {
    const EnvSpec& inner = sim_->spec();
    require_one_shot(inner, "hybrid");
    parse(options, inner);
    auto s = spec_with(inner, opt_.targets, "hybrid");
    s->resolved_options["cost_model_options"] = options;
    set_spec(std::move(s));
    data_.path = "hybrid data of " + inner.id;
    data_.schema = {{"env", inner.id}, {"env_options", json::array({sim_options(inner.resolved_options)})}};
    data_.params = param_schemas(*inner.action_space);
    for (const auto& t : opt_.targets) {
      const MetricSpec* m = inner.find_metric(t);
      data_.metrics.push_back({{"name", t}, {"unit", m->unit}, {"goal", goal_name(m->goal)}});
    }
    for (const auto& v : opt_.verify) best_.emplace_back(v, std::numeric_limits<double>::quiet_NaN());
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value& options) override { return sim_->reset(seed, options); }

  StepResult do_step(const Value& action) override {
    std::vector<json> cells;
    param_values(*spec().action_space, action, cells);
    if (model_) {
      const proxy::Prediction p = model_->predict({cells})[0];
      const std::vector<double> score = optimism(p);
      remember(cells, score);
      if (!worth_simulating(score)) {
        // Never better than the best simulated value: the proxy answers only
        // designs it believes do not improve on it.
        proxy::Prediction clamped = p;
        for (const auto& [name, best] : best_) {
          const auto k = index_of(name);
          clamped.mean[k] = minimise(name) ? std::max(p.mean[k], best) : std::min(p.mean[k], best);
        }
        return proxy_step(spec(), clamped, opt_.targets);
      }
    } else {
      remember(cells, {});
    }
    StepResult r = sim_->step(action);
    Metrics kept;
    bool all = true;
    for (const auto& m : spec().metrics) {
      const double* v = r.metrics.find(m.name);
      all = all && v && std::isfinite(*v);
      if (v) kept.set(m.name, *v);
    }
    r.metrics = std::move(kept);
    r.info = Value(Value::Dict{{"cost_model", "simulator"}});
    if (r.status.ok() && all) {
      std::vector<double> vals;
      for (const auto& t : opt_.targets) vals.push_back(r.metrics.at(t));
      for (auto& [name, best] : best_) {
        const double v = r.metrics.at(name);
        if (std::isnan(best) || (minimise(name) ? v < best : v > best)) best = v;
      }
      data_.cells.push_back(std::move(cells));
      data_.values.push_back(std::move(vals));
      data_.status.push_back("ok");
      ++since_;
      if (static_cast<std::int64_t>(data_.rows()) >= opt_.warmup && (!model_ || since_ >= opt_.retrain_every)) retrain();
    }
    return r;
  }

private:
  bool minimise(const std::string& metric) const { return spec().find_metric(metric)->goal != Goal::Maximize; }

  // Per watched metric, the prediction's optimistic bound (mean -/+ z std),
  // sign-flipped so that lower is better.
  std::vector<double> optimism(const proxy::Prediction& p) const {
    std::vector<double> out;
    for (const auto& [name, best] : best_) {
      const auto k = index_of(name);
      const double sd = std::isfinite(p.stddev[k]) ? p.stddev[k] : 0.0;
      out.push_back(minimise(name) ? p.mean[k] - opt_.z * sd : -(p.mean[k] + opt_.z * sd));
    }
    return out;
  }

  // The last `window` proposals, scored by the current model.
  void remember(const std::vector<json>& cells, std::vector<double> score) {
    recent_.push_back(cells);
    recent_score_.push_back(std::move(score));
    if (static_cast<std::int64_t>(recent_.size()) > opt_.window) {
      recent_.pop_front();
      recent_score_.pop_front();
    }
  }

  // A design goes to the simulator when, on some watched metric, its
  // optimistic bound beats the best simulated value by min_gain and ranks
  // among the best `fraction` of the recent proposals.
  bool worth_simulating(const std::vector<double>& score) const {
    for (std::size_t i = 0; i < best_.size(); ++i) {
      const double best = minimise(best_[i].first) ? best_[i].second : -best_[i].second;
      if (!(score[i] < best - opt_.min_gain * std::abs(best))) continue;
      std::size_t better = 0;
      for (const auto& r : recent_score_) better += r[i] < score[i];
      if (static_cast<double>(better) < opt_.fraction * static_cast<double>(recent_score_.size())) return true;
    }
    return false;
  }

  std::size_t index_of(const std::string& name) const {
    return static_cast<std::size_t>(std::find(opt_.targets.begin(), opt_.targets.end(), name) - opt_.targets.begin());
  }

  void parse(const json& o, const EnvSpec& inner) {
    if (!o.is_object()) throw InvalidArgument("cost_model_options: expected a JSON object, got " + o.dump());
    check_keys(o, {"model", "model_options", "warmup", "retrain_every", "z", "min_gain", "fraction", "window", "targets", "watch", "seed"}, "cost_model_options");
    opt_.model = o.value("model", opt_.model);
    if (o.contains("model_options")) opt_.model_options = o.at("model_options");
    auto count = [&](const char* key, std::int64_t& out) {
      if (!o.contains(key)) return;
      if (!o.at(key).is_number_integer() || o.at(key).get<std::int64_t>() < 1)
        throw InvalidArgument(std::string("cost_model_options.") + key + ": expected a positive integer, got " + o.at(key).dump());
      out = o.at(key).get<std::int64_t>();
    };
    count("warmup", opt_.warmup);
    count("retrain_every", opt_.retrain_every);
    count("window", opt_.window);
    opt_.warmup = std::max<std::int64_t>(opt_.warmup, 10);
    if (o.contains("z")) {
      if (!o.at("z").is_number() || o.at("z").get<double>() < 0) throw InvalidArgument("cost_model_options.z: expected a number >= 0, got " + o.at("z").dump());
      opt_.z = o.at("z").get<double>();
    }
    if (o.contains("min_gain")) {
      if (!o.at("min_gain").is_number() || o.at("min_gain").get<double>() < 0 || o.at("min_gain").get<double>() >= 1)
        throw InvalidArgument("cost_model_options.min_gain: expected a number in [0, 1), got " + o.at("min_gain").dump());
      opt_.min_gain = o.at("min_gain").get<double>();
    }
    if (o.contains("fraction")) {
      if (!o.at("fraction").is_number() || o.at("fraction").get<double>() <= 0 || o.at("fraction").get<double>() > 1)
        throw InvalidArgument("cost_model_options.fraction: expected a number in (0, 1], got " + o.at("fraction").dump());
      opt_.fraction = o.at("fraction").get<double>();
    }
    opt_.seed = o.value("seed", std::uint64_t{0});
    auto metric_list = [&](const char* key) {
      std::vector<std::string> names = o.value(key, std::vector<std::string>{});
      for (const auto& n : names)
        if (!inner.find_metric(n)) throw InvalidArgument(std::string("cost_model_options.") + key + ": env '" + inner.id + "' has no metric '" + n + "'");
      return names;
    };
    opt_.targets = metric_list("targets");
    if (opt_.targets.empty())
      for (const auto& m : inner.metrics)
        if (m.goal != Goal::None) opt_.targets.push_back(m.name);
    // Watched metrics: the proxy answers only when it is confident about
    // them and predicts no improvement on the best simulated value (a
    // predicted improvement is simulated before it is believed). Default:
    // the default reward's metric, else every target.
    opt_.verify = metric_list("watch");
    if (!o.contains("watch"))
      opt_.verify = inner.default_reward.value("type", "") == "metric" ? std::vector<std::string>{inner.default_reward.at("metric").get<std::string>()}
                                                                      : opt_.targets;
    for (const auto& v : opt_.verify)
      if (std::find(opt_.targets.begin(), opt_.targets.end(), v) == opt_.targets.end())
        throw InvalidArgument("cost_model_options.watch: '" + v + "' is not one of the targets");
  }

  void retrain() {
    proxy::TrainOptions t;
    t.targets = opt_.targets;
    t.model = opt_.model;
    t.model_options = opt_.model_options;
    t.validation_fraction = 0.15;
    t.test_fraction = 0;
    t.target_transform = "log";  // retrained often: one fit per target
    t.smearing = false;          // the median: its optimism is compared with the best simulated value
    t.seed = derive_seed(opt_.seed, data_.rows());
    model_ = std::make_unique<ProxyModel>(ProxyModel::train(data_, t, nullptr));
    if (!model_->has_uncertainty())
      throw InvalidArgument("cost model hybrid: model '" + opt_.model + "' gives no uncertainty; use gp, or xgb, rf, et or mlp with \"bags\" > 1 in model_options");
    since_ = 0;
    std::vector<std::vector<json>> rows(recent_.begin(), recent_.end());
    const auto preds = model_->predict(rows);
    for (std::size_t i = 0; i < preds.size(); ++i) recent_score_[i] = optimism(preds[i]);
  }

  EnvPtr sim_;
  HybridOptions opt_;
  proxy::Dataset data_;
  std::unique_ptr<ProxyModel> model_;
  std::int64_t since_ = 0;
  std::vector<std::pair<std::string, double>> best_;
  std::deque<std::vector<json>> recent_;
  std::deque<std::vector<double>> recent_score_;
};

}  // namespace

void register_proxy_cost_models() {
  register_cost_model_handler([](EnvPtr sim, const std::string& cm, const json& options) -> EnvPtr {
    if (cm.rfind("proxy:", 0) == 0) {
      if (!options.empty()) throw InvalidArgument("cost model proxy:PATH takes no cost_model_options");
      return std::make_unique<ProxyEnv>(sim->spec(), cm.substr(6));
    }
    if (cm == "hybrid") return std::make_unique<HybridEnv>(std::move(sim), options);
    throw InvalidArgument("cost_model '" + cm + "' is not valid; choices: simulator, proxy:PATH, hybrid");
  });
}

}  // namespace dsegym
