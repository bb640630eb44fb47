#include "proxies/models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "agents/gp.hpp"
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "envs/core/params.hpp"
#include "base/rng.hpp"
#include "proxies/extra_trees.hpp"
#include "proxies/model_modules.hpp"

namespace dsegym::proxy {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Bounds of a loaded model.
constexpr std::int64_t kMaxColumns = 100000;
constexpr std::size_t kMaxRows = 1000000;

json defaults(const std::string& kind) {
  if (kind == "xgb")
    // Tuned on dram-v0 (cloud-1): sampling features (colsample < 1) costs
    // accuracy there; a large step size keeps the ensemble small, hence fast.
    return {{"rounds", 2000}, {"eta", 0.3}, {"max_depth", 12}, {"subsample", 0.9}, {"colsample", 1.0}, {"min_child_weight", 1.0},
            {"lambda", 0.1}, {"early_stopping", 30}, {"threads", 2}, {"bags", 1}};
  if (kind == "rf")
    // bootstrap 1: each tree fits n rows drawn with replacement, as
    // Breiman's (and scikit-learn's) forest, instead of a subsample.
    return {{"trees", 300},           {"max_depth", 12}, {"subsample", 0.632}, {"bootstrap", 0},
            {"colsample", 0.6},       {"min_child_weight", 1.0}, {"threads", 2}, {"bags", 1}};
  if (kind == "et")
    // Geurts et al. (2006)'s defaults for regression, but for n_min: K =
    // every feature, and nodes split down to 2 rows (as scikit-learn's
    // ExtraTreesRegressor; n_min = 5 in the paper).
    return {{"trees", 100}, {"colsample", 1.0}, {"min_samples_split", 2}, {"threads", 1}, {"bags", 1}};
  if (kind == "gp") return {{"max_points", 1000}, {"fit_iterations", 60}};
  if (kind == "mlp")
    return {{"hidden", 128}, {"layers", 3}, {"epochs", 400}, {"lr", 3e-3}, {"batch", 128}, {"weight_decay", 1e-5}, {"early_stopping", 50},
            {"threads", 1}, {"bags", 1}};
  throw InvalidArgument("model '" + kind + "' is not valid; choices: xgb, rf, et, gp, mlp");
}

}  // namespace

json scaled_options(const std::string& kind, const json& options, std::size_t rows) {
  json o = options.is_object() ? options : json::object();
  if (kind != "xgb") return o;
  // Measured on ArchGym's AstraSim data (1,400 training rows: depth 4, eta
  // 0.05, min_child_weight 5 beat depth 12, eta 0.3, min_child_weight 1 by
  // 0.15-0.2 in R^2) and on dram-v0 (20,000 rows: the deep setting is best).
  const json by_rows = rows <= 2000    ? json{{"max_depth", 4}, {"eta", 0.05}, {"min_child_weight", 5.0}}
                       : rows <= 8000  ? json{{"max_depth", 6}, {"eta", 0.1}, {"min_child_weight", 3.0}}
                       : rows <= 15000 ? json{{"max_depth", 8}, {"eta", 0.2}, {"min_child_weight", 2.0}}
                                       : json{{"max_depth", 12}, {"eta", 0.3}, {"min_child_weight", 1.0}};
  for (const auto& [k, v] : by_rows.items())
    if (!o.contains(k)) o[k] = v;
  return o;
}

namespace {

// User options over the defaults; unknown keys are errors naming the valid ones.
json merged(const std::string& kind, const json& options) {
  json o = defaults(kind);
  if (!options.is_object()) throw InvalidArgument("model options: expected a JSON object, got " + options.dump());
  for (const auto& [k, v] : options.items()) {
    if (!o.contains(k)) {
      std::string valid;
      for (const auto& [name, d] : o.items()) valid += (valid.empty() ? "" : ", ") + name;
      throw InvalidArgument("model '" + kind + "' has no option '" + k + "'; options: " + valid);
    }
    if (!v.is_number() || v.get<double>() < 0) throw InvalidArgument("model option '" + k + "': expected a non-negative number, got " + v.dump());
    if (k == "max_depth" && (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 24))
      throw InvalidArgument("model option 'max_depth': expected an integer in [1, 24], got " + v.dump());
    if (k == "bootstrap" && v != 0 && v != 1) throw InvalidArgument("model option 'bootstrap': expected 0 or 1, got " + v.dump());
    o[k] = v;
  }
  return o;
}

// ------------------------------------------------------------------ Gaussian process

class GpModel final : public Regressor {
public:
  GpModel(json opt, std::uint64_t seed) : opt_(std::move(opt)), seed_(seed) {}

  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd&, const Eigen::VectorXd&) override {
    // O(n^3): beyond max_points, a seeded random subset.
    const auto cap = opt_.at("max_points").get<Eigen::Index>();
    Eigen::MatrixXd Xs = X;
    Eigen::VectorXd ys = y;
    if (X.rows() > cap) {
      std::vector<Eigen::Index> idx(static_cast<std::size_t>(X.rows()));
      for (Eigen::Index i = 0; i < X.rows(); ++i) idx[static_cast<std::size_t>(i)] = i;
      Rng rng(seed_);
      for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
      Xs.resize(cap, X.cols());
      ys.resize(cap);
      for (Eigen::Index i = 0; i < cap; ++i) {
        Xs.row(i) = X.row(idx[static_cast<std::size_t>(i)]);
        ys(i) = y(idx[static_cast<std::size_t>(i)]);
      }
    }
    gp_.set_data(std::move(Xs), ys);
    gp_.fit(opt_.at("fit_iterations").get<int>());
  }

  void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const override {
    if (X.cols() != gp_.inputs().cols())
      throw InvalidArgument("gp: inputs have " + std::to_string(X.cols()) + " columns, the model was fitted on " + std::to_string(gp_.inputs().cols()));
    Eigen::VectorXd var;
    gp_.predict(X, mean, var);
    if (stddev) *stddev = var.cwiseMax(0.0).cwiseSqrt();
  }

  bool has_uncertainty() const override { return true; }

  json save() const override {
    const auto& X = gp_.inputs();
    std::vector<double> xs(static_cast<std::size_t>(X.size()));
    for (Eigen::Index r = 0; r < X.rows(); ++r)
      for (Eigen::Index c = 0; c < X.cols(); ++c) xs[static_cast<std::size_t>(r * X.cols() + c)] = X(r, c);
    const Eigen::VectorXd& y = gp_.targets();
    const auto& ls = gp_.lengthscales();
    return {{"kind", "gp"}, {"options", opt_}, {"seed", seed_}, {"cols", X.cols()}, {"x", xs},
            {"y", std::vector<double>(y.data(), y.data() + y.size())}, {"lengthscales", std::vector<double>(ls.data(), ls.data() + ls.size())},
            {"signal", gp_.signal()}, {"noise", gp_.noise()}};
  }

  static std::unique_ptr<GpModel> load(const json& j) {
    auto m = std::make_unique<GpModel>(j.at("options"), j.at("seed").get<std::uint64_t>());
    const auto xs = j.at("x").get<std::vector<double>>();
    const auto y = j.at("y").get<std::vector<double>>();
    const auto cols_signed = j.at("cols").get<std::int64_t>();
    const auto ls = j.at("lengthscales").get<std::vector<double>>();
    // Sizes and values are checked before anything is built from them.
    if (cols_signed < 1 || cols_signed > kMaxColumns)
      throw InvalidArgument("gp: 'cols' must be in 1.." + std::to_string(kMaxColumns) + ", got " + std::to_string(cols_signed));
    const auto cols = static_cast<Eigen::Index>(cols_signed);
    if (y.empty() || y.size() > kMaxRows) throw InvalidArgument("gp: 'y' must hold 1.." + std::to_string(kMaxRows) + " targets, got " + std::to_string(y.size()));
    if (xs.size() != y.size() * static_cast<std::size_t>(cols))
      throw InvalidArgument("gp: 'x' has " + std::to_string(xs.size()) + " values, expected rows x cols = " + std::to_string(y.size()) + " x " +
                            std::to_string(cols));
    if (ls.size() != static_cast<std::size_t>(cols))
      throw InvalidArgument("gp: 'lengthscales' has " + std::to_string(ls.size()) + " values, expected one per column (" + std::to_string(cols) + ")");
    const double signal = j.at("signal").get<double>(), noise = j.at("noise").get<double>();
    for (const auto* v : {&xs, &y})
      for (double x : *v)
        if (!std::isfinite(x)) throw InvalidArgument("gp: 'x' and 'y' must be finite");
    for (double l : ls)
      if (!(l > 0) || !std::isfinite(l)) throw InvalidArgument("gp: 'lengthscales' must be positive and finite");
    if (!(signal > 0) || !std::isfinite(signal) || !(noise > 0) || !std::isfinite(noise))
      throw InvalidArgument("gp: 'signal' and 'noise' must be positive and finite");
    Eigen::MatrixXd X(static_cast<Eigen::Index>(y.size()), cols);
    for (Eigen::Index r = 0; r < X.rows(); ++r)
      for (Eigen::Index c = 0; c < cols; ++c) X(r, c) = xs[static_cast<std::size_t>(r * cols + c)];
    m->gp_.set_data(std::move(X), Eigen::Map<const Eigen::VectorXd>(y.data(), static_cast<Eigen::Index>(y.size())));
    m->gp_.set_hyperparameters(Eigen::Map<const Eigen::VectorXd>(ls.data(), static_cast<Eigen::Index>(ls.size())), signal, noise);
    m->gp_.factorize();
    return m;
  }

private:
  json opt_;
  std::uint64_t seed_;
  GaussianProcess gp_;
};

// ------------------------------------------------------------------ bagging

// `bags` models on bootstrap resamples; mean and spread of their predictions.
class Bagged final : public Regressor {
public:
  Bagged(std::string kind, json opt, std::uint64_t seed) : kind_(std::move(kind)), opt_(std::move(opt)), seed_(seed) {}
  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd& Xv, const Eigen::VectorXd& yv) override {
    const int bags = opt_.at("bags").get<int>();
    json one = opt_;
    one["bags"] = 1;
    models_.clear();
    Rng rng(derive_seed(seed_, 0xBA6));
    for (int b = 0; b < bags; ++b) {
      Eigen::MatrixXd Xb(X.rows(), X.cols());
      Eigen::VectorXd yb(X.rows());
      for (Eigen::Index i = 0; i < X.rows(); ++i) {
        const auto k = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(X.rows())));
        Xb.row(i) = X.row(k);
        yb(i) = y(k);
      }
      models_.push_back(make_regressor(kind_, one, derive_seed(seed_, static_cast<std::uint64_t>(b))));
      models_.back()->fit(Xb, yb, Xv, yv);
    }
  }
  void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const override {
    Eigen::MatrixXd all(X.rows(), static_cast<Eigen::Index>(models_.size()));
    for (std::size_t b = 0; b < models_.size(); ++b) {
      Eigen::VectorXd m;
      models_[b]->predict(X, m, nullptr);
      all.col(static_cast<Eigen::Index>(b)) = m;
    }
    mean = all.rowwise().mean();
    if (stddev) *stddev = ((all.colwise() - mean).array().square().rowwise().sum() / static_cast<double>(std::max<std::size_t>(1, models_.size() - 1))).sqrt();
  }
  bool has_uncertainty() const override { return true; }
  json save() const override {
    json ms = json::array();
    for (const auto& m : models_) ms.push_back(m->save());
    return {{"kind", "bagged"}, {"base", kind_}, {"options", opt_}, {"seed", seed_}, {"models", ms}};
  }
  static std::unique_ptr<Bagged> load(const json& j) {
    auto m = std::make_unique<Bagged>(j.at("base").get<std::string>(), j.at("options"), j.at("seed").get<std::uint64_t>());
    if (!j.at("models").is_array() || j.at("models").empty() || j.at("models").size() > 1000)
      throw InvalidArgument("bagged: 'models' must be a list of 1..1000 models");
    for (const auto& one : j.at("models")) {
      if (one.value("kind", "") == "bagged") throw InvalidArgument("bagged: a bag cannot hold bags");
      m->models_.push_back(load_regressor(one));
    }
    return m;
  }

private:
  std::string kind_;
  json opt_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<Regressor>> models_;
};

}  // namespace

const std::vector<std::string>& model_kinds() {
  static const std::vector<std::string> k = {"xgb", "rf", "et", "gp", "mlp"};
  return k;
}

json model_options(const std::string& kind) { return defaults(kind); }

bool stops_early(const std::string& kind) { return kind == "xgb" || kind == "mlp"; }

std::unique_ptr<Regressor> make_regressor(const std::string& kind, const json& options, std::uint64_t seed) {
  const json opt = merged(kind, options);
  if (opt.value("bags", 1) > 1) return std::make_unique<Bagged>(kind, opt, seed);
  if (kind == "xgb" || kind == "rf") return make_trees(kind, opt, seed);
  if (kind == "et") return make_extra_trees(opt, seed);
  if (kind == "gp") return std::make_unique<GpModel>(opt, seed);
  return make_mlp(opt, seed);
}

std::unique_ptr<Regressor> load_regressor(const json& j) {
  const std::string kind = j.value("kind", "");
  if (kind == "xgb" || kind == "rf") return load_trees(j);
  if (kind == "et") return load_extra_trees(j);
  if (kind == "gp") return GpModel::load(j);
  if (kind == "bagged") return Bagged::load(j);
  if (kind == "mlp") return load_mlp(j);
  throw InvalidArgument("proxy model: unknown regressor kind '" + kind + "'");
}

}  // namespace dsegym::proxy
