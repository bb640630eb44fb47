#pragma once
// Regression models for proxies: gradient-boosted trees and random forests
// (XGBoost's C API), a Gaussian process (Eigen, agents/gp) and an MLP
// (libtorch, in the torch library loaded on first use). Inputs are encoded
// parameters; targets are standardised (and log-transformed when positive)
// by the caller.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

namespace dsegym::proxy {

class Regressor {
public:
  virtual ~Regressor() = default;
  // Xval/yval (may be empty) serve early stopping where a model has it.
  virtual void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd& Xval, const Eigen::VectorXd& yval) = 0;
  // `stddev` (when non-null) gets the predictive standard deviation; models
  // without one (single trees, MLP) fill NaN.
  virtual void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const = 0;
  virtual bool has_uncertainty() const = 0;
  // Out-of-bag predictions for the rows the last fit() was given: each
  // row's mean over the trees whose bootstrap sample left it out (NaN for a
  // row that every tree drew); false for models without them (everything
  // but a bootstrap forest just fitted).
  virtual bool out_of_bag(Eigen::VectorXd& pred) const {
    (void)pred;
    return false;
  }
  virtual nlohmann::json save() const = 0;
};

// Kinds: "xgb" (boosted trees), "rf" (random forest), "et" (extremely
// randomized trees), "gp", "mlp". Options
// are per kind (see model_options()); `bags` > 1 trains that many models on
// bootstrap resamples and reports their spread as the uncertainty.
const std::vector<std::string>& model_kinds();
// The options of a kind with their defaults (for --help and validation).
nlohmann::json model_options(const std::string& kind);
// `options` with the defaults that depend on the training rows filled in
// where it does not set them: xgb's max_depth, eta and min_child_weight go
// from deep and greedy (20,000 rows: 12, 0.3, 1) to shallow and cautious
// (2,000 rows or fewer: 4, 0.05, 5), so that small data is not overfitted.
nlohmann::json scaled_options(const std::string& kind, const nlohmann::json& options, std::size_t rows);
// Models that hold rows out of a fit to stop early (boosted trees, the
// MLP); the others fit every row they are given.
bool stops_early(const std::string& kind);
std::unique_ptr<Regressor> make_regressor(const std::string& kind, const nlohmann::json& options, std::uint64_t seed);
std::unique_ptr<Regressor> load_regressor(const nlohmann::json& j);

}  // namespace dsegym::proxy
