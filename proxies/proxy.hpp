#pragma once
// A proxy cost model: one regressor per target metric over the encoded
// parameters, with the dataset schema it was trained on (env, env options,
// parameter columns) so that it refuses data or envs that do not match.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proxies/dataset.hpp"
#include "proxies/models.hpp"

namespace dsegym::proxy {

struct TrainOptions {
  std::vector<std::string> targets;  // metric names
  // "xgb", "rf", "et", "gp", "mlp", or "auto": per target, the model, its
  // hyperparameters and the target transform with the best k-fold
  // cross-validated R^2 on the training rows, within auto_budget_s.
  std::string model = "xgb";
  nlohmann::json model_options = nlohmann::json::object();  // unset xgb options scale with the rows (scaled_options)
  double validation_fraction = 0.15, test_fraction = 0.15;
  std::uint64_t seed = 0;
  // "log": log of a target whose values are all positive; "none"; "auto":
  // whichever of the two scores the better R^2 on the validation rows (or
  // in the cross-validation of --model auto).
  std::string target_transform = "auto";
  bool smearing = true;  // log targets predict the mean (Duan's smearing); false: the median
  const Dataset* test_set = nullptr;  // a fixed test set (never fitted on); test_fraction is then ignored
  // --model auto: cross-validation seconds for all targets together; 0:
  // auto_budget_for(training rows).
  double auto_budget_s = 0;
  int folds = 0;                      // --model auto: 0 is 5, or 3 above 10,000 training rows
};

// --model auto's default budget: 30 s, and 30 s per 8,000 training rows
// beyond (a candidate's cross-validation costs about in proportion to the
// rows, so larger data still reaches the same candidates: 16,000 rows of
// dram-v0 reach 4-6 of 24 in 30 s, a forest's 3 folds taking 4-9 s).
double auto_budget_for(std::size_t rows);

struct TargetModel {
  std::string name, unit, goal;
  bool log = false;
  bool one_hot = false;        // its encoding of categorical knobs (gp, mlp) or their index (trees)
  double mean = 0, scale = 1;  // of the (transformed) target
  double smearing = 1;         // log targets: exp(prediction) x this is the mean (Duan's smearing)
  std::unique_ptr<Regressor> model;
  nlohmann::json selection;    // how --model auto or the transform was chosen (null: as given)
  // More models whose predictions (on the metric's scale) are averaged
  // with this one's, weighted by `weight`: --model auto's ensemble
  // selection. Each has its own encoding, transform and scaling; their
  // names are unused.
  std::vector<TargetModel> ensemble;
  double weight = 1;

  // A standardised model output on the metric's scale.
  double transform_back(double z) const {
    const double v = mean + scale * z;
    return log ? std::exp(v) * smearing : v;
  }
};

struct Prediction {
  std::vector<double> mean, stddev;  // per target; stddev NaN when the model has none
};

class ProxyModel {
public:
  // Trains on the dataset's ok rows; `report` gets validation and test scores per target.
  static ProxyModel train(const Dataset& d, const TrainOptions& opt, nlohmann::json* report);
  // Every size, index and value is checked before use (a crafted file is
  // an InvalidArgument naming the file and field, never a crash or a hang).
  static ProxyModel load(const std::string& path);
  static ProxyModel parse(const nlohmann::json& j, const std::string& path);  // `path` names it in messages
  void save(const std::string& path) const;

  const std::string& env() const { return env_; }
  const nlohmann::json& env_options() const { return env_options_; }
  const std::vector<nlohmann::json>& params() const { return index_encoder_.params(); }
  const std::vector<TargetModel>& targets() const { return targets_; }
  bool has_uncertainty() const;

  // Throws InvalidArgument when the dataset's parameters differ from the
  // model's or it lacks a target metric.
  void check(const Dataset& d) const;
  // Rows of parameter cells (as Encoder::encode takes them).
  std::vector<Prediction> predict(const std::vector<std::vector<nlohmann::json>>& rows) const;
  // Scores per target on the dataset's ok rows; `predictions_csv` (if not
  // empty) gets one row per scored dataset row: its index, and per target
  // the truth, the prediction and the standard deviation.
  nlohmann::json evaluate(const Dataset& d, const std::string& predictions_csv = "") const;

private:
  static ProxyModel from_json(const nlohmann::json& j);
  std::string env_, model_kind_;
  nlohmann::json env_options_ = nlohmann::json::array();
  Encoder index_encoder_, one_hot_encoder_;
  std::vector<TargetModel> targets_;
  std::size_t train_rows_ = 0;
};

}  // namespace dsegym::proxy
