// Boosted trees and random forests with XGBoost's C API: the xgb module
// (libdsegym_xgb.so, loaded on first use; base/module.hpp). Prediction
// walks the compiled trees natively.
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/rng.hpp"
#include "proxies/model_modules.hpp"

namespace dsegym::proxy {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kMaxColumns = 100000;  // bounds of a loaded model
constexpr std::size_t kMaxBoosters = 10000;

void xgb_check(int rc, const char* what) {
  if (rc == 0) return;
  // XGBoost's messages carry a stack trace: keep the first line.
  std::string msg = XGBGetLastError();
  if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
  throw InvalidArgument(std::string("XGBoost ") + what + ": " + excerpt(msg, 300));
}

class XgbModel final : public Regressor {
public:
  XgbModel(std::string kind, json opt, std::uint64_t seed) : kind_(std::move(kind)), opt_(std::move(opt)), seed_(seed) {}
  ~XgbModel() override { free_boosters(); }
  XgbModel(const XgbModel&) = delete;
  XgbModel& operator=(const XgbModel&) = delete;

  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd& Xv, const Eigen::VectorXd& yv) override {
    const Matrix dtrain = matrix(X, &y), dval = Xv.rows() > 0 ? matrix(Xv, &yv) : Matrix(nullptr, XGDMatrixFree);
    free_boosters();
    oob_.resize(0);
    best_rounds_ = 1;
    if (kind_ == "rf" && opt_.value("bootstrap", 0.0) != 0) {
      fit_bootstrap_forest(dtrain.get(), static_cast<std::size_t>(X.rows()));
    } else {
      boosters_.push_back(create(dtrain.get(), dval.get(), seed_));
      boost(boosters_[0], dtrain.get(), dval.get());
    }
    compile();
  }

  // A booster with this model's parameters, caching `dtrain` (and `dval`);
  // one_tree: a single tree on every row (a bootstrap forest's member).
  BoosterHandle create(DMatrixHandle dtrain, DMatrixHandle dval, std::uint64_t seed, bool one_tree = false) const {
    BoosterHandle b = nullptr;
    DMatrixHandle cache[2] = {dtrain, dval};
    xgb_check(XGBoosterCreate(cache, dval ? 2 : 1, &b), "create");
    auto set = [&](const char* k, const std::string& v) {
      const int rc = XGBoosterSetParam(b, k, v.c_str());
      if (rc != 0) XGBoosterFree(b);
      xgb_check(rc, k);
    };
    auto num = [&](const char* k) { return opt_.at(k).dump(); };
    set("objective", "reg:squarederror");
    set("tree_method", "hist");
    set("seed", std::to_string(seed % 2147483647));
    set("nthread", num("threads"));
    set("max_depth", num("max_depth"));
    set("subsample", one_tree ? "1" : num("subsample"));
    set("min_child_weight", num("min_child_weight"));
    set("eval_metric", "rmse");
    if (kind_ == "xgb") {
      set("eta", num("eta"));
      set("colsample_bytree", num("colsample"));
      set("lambda", num("lambda"));
    } else {  // a random forest: one round of parallel, bagged trees
      set("eta", "1");
      set("num_parallel_tree", one_tree ? "1" : num("trees"));
      set("colsample_bynode", num("colsample"));
      set("lambda", "0");
    }
    return b;
  }

  // As scikit-learn's forest: each tree is fitted on its own bootstrap
  // sample, n rows drawn with replacement (Breiman 2001), given to XGBoost
  // as row weights (how often a row was drawn). XGBoost's parallel trees
  // share one set of row weights and subsample without replacement, so each
  // tree is a booster of its own; their mean is the forest's prediction.
  // A row a tree's sample left out (about 37 % of them) is out of bag for
  // that tree: the mean of those trees' predictions is the row's
  // out-of-bag prediction (Breiman 2001).
  void fit_bootstrap_forest(DMatrixHandle dtrain, std::size_t rows) {
    const auto trees = static_cast<std::size_t>(std::max(1, opt_.at("trees").get<int>()));
    Rng rng(seed_);
    std::vector<float> drawn(rows);
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(rows)), count = sum;
    for (std::size_t t = 0; t < trees; ++t) {
      std::fill(drawn.begin(), drawn.end(), 0.0f);
      for (std::size_t i = 0; i < rows; ++i) drawn[rng.below(rows)] += 1.0f;
      xgb_check(XGDMatrixSetFloatInfo(dtrain, "weight", drawn.data(), static_cast<bst_ulong>(rows)), "weights");
      boosters_.push_back(create(dtrain, nullptr, seed_ + t, true));
      xgb_check(XGBoosterUpdateOneIter(boosters_.back(), 0, dtrain), "update");
      const bst_ulong* shape = nullptr;
      bst_ulong dim = 0;
      const float* pred = nullptr;
      xgb_check(XGBoosterPredictFromDMatrix(boosters_.back(), dtrain, R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})",
                                            &shape, &dim, &pred),
                "predict");
      for (std::size_t i = 0; i < rows; ++i)
        if (drawn[i] == 0.0f) {
          sum(static_cast<Eigen::Index>(i)) += pred[i];
          count(static_cast<Eigen::Index>(i)) += 1;
        }
    }
    oob_ = (count.array() > 0).select(sum.array() / count.array().max(1.0), kNaN);
  }

  bool out_of_bag(Eigen::VectorXd& pred) const override {
    if (oob_.size() == 0) return false;
    pred = oob_;
    return true;
  }

  // Boosting rounds on `b`; with a validation set and early stopping, the
  // rounds kept are those up to the best validation score.
  void boost(BoosterHandle b, DMatrixHandle dtrain, DMatrixHandle dval) {
    const int rounds = kind_ == "xgb" ? opt_.at("rounds").get<int>() : 1;
    const int patience = kind_ == "xgb" ? opt_.at("early_stopping").get<int>() : 0;
    double best = std::numeric_limits<double>::infinity();
    best_rounds_ = rounds;
    const char* names[1] = {"val"};
    for (int it = 0; it < rounds; ++it) {
      xgb_check(XGBoosterUpdateOneIter(b, it, dtrain), "update");
      if (!dval || patience == 0) continue;
      const char* out = nullptr;
      DMatrixHandle evals[1] = {dval};
      xgb_check(XGBoosterEvalOneIter(b, it, evals, names, 1, &out), "eval");
      const std::string s = out;  // "[it]\tval-rmse:0.1234"
      const double rmse = std::stod(s.substr(s.find(':') + 1));
      if (rmse < best) {
        best = rmse;
        best_rounds_ = it + 1;
      } else if (it + 1 - best_rounds_ >= patience) {
        break;
      }
    }
  }

  // Native evaluation of the compiled trees (XGBoost's own prediction costs
  // ~60 us per call in set-up alone); equal to XGBoost's up to float
  // summation order.
  void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const override {
    if (static_cast<std::size_t>(X.cols()) < features_)
      throw InvalidArgument("boosted trees: inputs have " + std::to_string(X.cols()) + " columns, the model reads " + std::to_string(features_));
    mean.resize(X.rows());
    std::vector<float> x(static_cast<std::size_t>(X.cols()));
    for (Eigen::Index i = 0; i < X.rows(); ++i) {
      for (Eigen::Index c = 0; c < X.cols(); ++c) x[static_cast<std::size_t>(c)] = static_cast<float>(X(i, c));
      // Eight trees at a time in lockstep: their independent node walks
      // overlap in the pipeline instead of waiting on each other's loads.
      float sum = base_score_;
      constexpr std::size_t kLanes = 8;
      for (std::size_t t0 = 0; t0 < roots_.size(); t0 += kLanes) {
        const std::size_t lanes = std::min(kLanes, roots_.size() - t0);
        const Node* at[kLanes];
        for (std::size_t k = 0; k < lanes; ++k) at[k] = nodes_.data() + roots_[t0 + k];
        for (bool moving = true; moving;) {
          moving = false;
          for (std::size_t k = 0; k < lanes; ++k) {
            const Node& nd = *at[k];
            if (nd.feature == kLeaf) continue;
            moving = true;
            at[k] += x[nd.feature] < nd.value ? 1 : nd.right;
          }
        }
        for (std::size_t k = 0; k < lanes; ++k) sum += at[k]->value;
      }
      mean(i) = sum;
    }
    if (stddev) stddev->setConstant(X.rows(), kNaN);
  }

  bool has_uncertainty() const override { return false; }

  // "booster": XGBoost's JSON model; a bootstrap forest's is a list of
  // them, one per tree.
  json save() const override {
    json boosters = json::array();
    for (BoosterHandle b : boosters_) boosters.push_back(model_json(b));
    return {{"kind", kind_},
            {"options", opt_},
            {"seed", seed_},
            {"rounds", best_rounds_},
            {"booster", boosters.size() == 1 ? boosters[0] : boosters}};
  }

  static std::unique_ptr<XgbModel> load(const json& j) {
    auto m = std::make_unique<XgbModel>(j.at("kind").get<std::string>(), j.at("options"), j.at("seed").get<std::uint64_t>());
    m->best_rounds_ = j.at("rounds").get<int>();
    const json& saved = j.at("booster");
    if (saved.is_array() && (saved.empty() || saved.size() > kMaxBoosters))
      throw InvalidArgument("boosted trees: a forest of " + std::to_string(saved.size()) + " boosters; expected 1 to " + std::to_string(kMaxBoosters));
    for (const json& one : saved.is_array() ? saved : json::array({saved})) {
      const std::string b = one.get<std::string>();
      // Only XGBoost's JSON format, as saved here, checked by the bounded JSON
      // parser first: anything else would reach XGBoost's binary reader, which
      // trusts the lengths it reads (a crafted length asks for exabytes).
      if (!parse_json(b, "boosted trees: booster", kMaxJsonFileBytes).is_object())
        throw InvalidArgument("boosted trees: the booster is not an XGBoost JSON model (other formats are refused)");
      m->boosters_.push_back(nullptr);
      xgb_check(XGBoosterCreate(nullptr, 0, &m->boosters_.back()), "create");
      xgb_check(XGBoosterLoadModelFromBuffer(m->boosters_.back(), b.data(), b.size()), "load");
    }
    m->compile();
    return m;
  }

private:
  // 12 bytes, depth-first: a split's left child follows it, its right
  // child is `right` nodes further on.
  struct Node {
    float value;            // split threshold, or the leaf's value
    std::uint32_t feature;  // kLeaf at a leaf
    std::uint32_t right;
  };
  static constexpr std::uint32_t kLeaf = 0xFFFFFFFF;

  static std::string model_json(BoosterHandle b) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    xgb_check(XGBoosterSaveModelToBuffer(b, R"({"format": "json"})", &len, &buf), "save");
    return std::string(buf, len);
  }

  // The first best_rounds x num_parallel_tree trees of each booster's JSON
  // model (a split sends x[feature] < threshold left); several boosters (a
  // bootstrap forest) predict their mean.
  void compile() {
    nodes_.clear();
    roots_.clear();
    base_score_ = 0;
    features_ = 0;
    const float share = 1.0f / static_cast<float>(boosters_.size());
    for (std::size_t b = 0; b < boosters_.size(); ++b) {
      const json j = json::parse(model_json(boosters_[b]));
      const json& learner = j.at("learner");
      base_score_ += share * std::stof(learner.at("learner_model_param").at("base_score").get<std::string>());
      const json& model = learner.at("gradient_booster").at("model");
      const int parallel = std::stoi(model.at("gbtree_model_param").at("num_parallel_tree").get<std::string>());
      const auto features = std::stoll(learner.at("learner_model_param").at("num_feature").get<std::string>());
      if (features < 1 || features > kMaxColumns) throw InvalidArgument("boosted trees: num_feature " + std::to_string(features) + " is out of range");
      if (b > 0 && static_cast<std::size_t>(features) != features_)
        throw InvalidArgument("boosted trees: booster " + std::to_string(b) + " reads " + std::to_string(features) + " features, booster 0 " +
                              std::to_string(features_));
      features_ = static_cast<std::size_t>(features);
      const auto& trees = model.at("trees");
      const std::size_t use = std::min(trees.size(), static_cast<std::size_t>(std::max(best_rounds_, 0)) * static_cast<std::size_t>(std::max(parallel, 0)));
      compile_trees(trees, use, share);
    }
  }

  // Appends trees [0, use) of an XGBoost JSON model, leaves scaled by `share`.
  void compile_trees(const json& trees, std::size_t use, float share) {
    for (std::size_t t = 0; t < use; ++t) {
      const json& tr = trees[t];
      const auto left = tr.at("left_children").get<std::vector<std::int32_t>>();
      const auto right = tr.at("right_children").get<std::vector<std::int32_t>>();
      const auto feat = tr.at("split_indices").get<std::vector<std::int32_t>>();
      const auto cond = tr.at("split_conditions").get<std::vector<float>>();
      const std::string where = "boosted tree " + std::to_string(t);
      if (left.empty() || right.size() != left.size() || feat.size() != left.size() || cond.size() != left.size())
        throw InvalidArgument(where + ": its node arrays are empty or of different lengths");
      // XGBoost numbers a node's children after it: each split's children
      // are later nodes (so the tree has no cycle), leaves have none, and a
      // split reads a feature the model has.
      for (std::size_t k = 0; k < left.size(); ++k) {
        const bool leaf = left[k] < 0;
        if (leaf != (right[k] < 0)) throw InvalidArgument(where + ": node " + std::to_string(k) + " has one child");
        if (!std::isfinite(cond[k])) throw InvalidArgument(where + ": node " + std::to_string(k) + " has a value that is not finite");
        if (leaf) continue;
        for (const std::int32_t c : {left[k], right[k]})
          if (c <= static_cast<std::int32_t>(k) || c >= static_cast<std::int32_t>(left.size()))
            throw InvalidArgument(where + ": node " + std::to_string(k) + " has child " + std::to_string(c) + ", not a later node of its " +
                                  std::to_string(left.size()));
        if (feat[k] < 0 || static_cast<std::size_t>(feat[k]) >= features_)
          throw InvalidArgument(where + ": node " + std::to_string(k) + " splits on feature " + std::to_string(feat[k]) + " of " + std::to_string(features_));
      }
      roots_.push_back(nodes_.size());
      // Depth-first: emit a node, its left subtree, then its right one.
      std::vector<std::pair<std::int32_t, std::size_t>> stack = {{0, kNoParent}};
      while (!stack.empty()) {
        const auto [k, parent] = stack.back();
        stack.pop_back();
        const std::size_t at = nodes_.size();
        if (parent != kNoParent) nodes_[parent].right = static_cast<std::uint32_t>(at - parent);
        const auto ku = static_cast<std::size_t>(k);
        const bool leaf = left[ku] < 0;
        nodes_.push_back({leaf ? share * cond[ku] : cond[ku], leaf ? kLeaf : static_cast<std::uint32_t>(feat[ku]), 0});
        if (leaf) continue;
        stack.push_back({right[ku], at});        // taken after the left subtree
        stack.push_back({left[ku], kNoParent});  // next: the left child at at + 1
      }
    }
  }
  static constexpr std::size_t kNoParent = static_cast<std::size_t>(-1);
  std::size_t features_ = 0;

public:
  std::size_t trees() const { return roots_.size(); }

private:
  using Matrix = std::unique_ptr<void, int (*)(DMatrixHandle)>;
  static Matrix matrix(const Eigen::MatrixXd& X, const Eigen::VectorXd* y) {
    std::vector<float> data(static_cast<std::size_t>(X.size()));
    for (Eigen::Index r = 0; r < X.rows(); ++r)
      for (Eigen::Index c = 0; c < X.cols(); ++c) data[static_cast<std::size_t>(r * X.cols() + c)] = static_cast<float>(X(r, c));
    DMatrixHandle d = nullptr;
    xgb_check(XGDMatrixCreateFromMat(data.data(), static_cast<bst_ulong>(X.rows()), static_cast<bst_ulong>(X.cols()), std::nanf(""), &d), "matrix");
    Matrix m(d, XGDMatrixFree);
    if (y) {
      std::vector<float> labels(static_cast<std::size_t>(y->size()));
      for (Eigen::Index i = 0; i < y->size(); ++i) labels[static_cast<std::size_t>(i)] = static_cast<float>((*y)(i));
      xgb_check(XGDMatrixSetFloatInfo(d, "label", labels.data(), static_cast<bst_ulong>(labels.size())), "labels");
    }
    return m;
  }

  void free_boosters() {
    for (BoosterHandle b : boosters_) XGBoosterFree(b);
    boosters_.clear();
  }

  std::string kind_;
  json opt_;
  std::uint64_t seed_;
  std::vector<BoosterHandle> boosters_;
  Eigen::VectorXd oob_;  // a bootstrap forest's out-of-bag predictions (empty otherwise)
  int best_rounds_ = 0;
  float base_score_ = 0;
  std::vector<Node> nodes_;
  std::vector<std::size_t> roots_;
};

}  // namespace

}  // namespace dsegym::proxy

extern "C" __attribute__((visibility("default"))) int dsegym_xgb_abi_version() { return dsegym::proxy::kXgbModuleAbi; }

extern "C" __attribute__((visibility("default"))) int dsegym_xgb_make(const std::string* kind, const nlohmann::json* options, std::uint64_t seed,
                                                                      dsegym::proxy::Regressor** out, std::string* error) {
  return dsegym::module_call(error, [&] { *out = std::make_unique<dsegym::proxy::XgbModel>(*kind, *options, seed).release(); });
}

extern "C" __attribute__((visibility("default"))) int dsegym_xgb_load(const nlohmann::json* saved, dsegym::proxy::Regressor** out,
                                                                      std::string* error) {
  return dsegym::module_call(error, [&] { *out = dsegym::proxy::XgbModel::load(*saved).release(); });
}
