// Extremely randomized trees (Geurts, Ernst & Wehenkel 2006, "Extremely
// randomized trees", Machine Learning 63:3-42): each tree fits all the
// rows; at a node, K features are drawn at random among those that vary
// there, each gets one cut drawn uniformly between its smallest and
// largest value at the node, and the cut that reduces the squared error
// most splits the node. Nodes with fewer than n_min rows, or one target
// value, are leaves (their rows' mean). The forest predicts the trees'
// mean. Random cuts make the trees more different from each other than a
// bootstrap forest's, so averaging removes more variance.
#include "proxies/extra_trees.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/error.hpp"
#include "base/rng.hpp"
#include "base/thread_pool.hpp"

namespace dsegym::proxy {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxTrees = 10000;           // bounds of a loaded model
constexpr std::size_t kMaxNodes = 200u << 20;      // over all trees
constexpr std::int64_t kMaxFeatures = 100000;

class ExtraTrees final : public Regressor {
public:
  ExtraTrees(json opt, std::uint64_t seed) : opt_(std::move(opt)), seed_(seed) {}

  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd&, const Eigen::VectorXd&) override {
    if (X.rows() < 1 || X.cols() < 1) throw InvalidArgument("extra trees: nothing to fit (" + std::to_string(X.rows()) + " rows, " + std::to_string(X.cols()) + " columns)");
    features_ = static_cast<std::size_t>(X.cols());
    const auto n_trees = static_cast<std::size_t>(std::max(1, opt_.at("trees").get<int>()));
    std::vector<Tree> trees(n_trees);
    ThreadPool pool(static_cast<std::size_t>(std::max(1, opt_.at("threads").get<int>())) - 1);
    pool.parallel_for(n_trees, [&](std::size_t t) { trees[t] = grow(X, y, derive_seed(seed_, t)); });
    trees_ = std::move(trees);
  }

  void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const override {
    if (static_cast<std::size_t>(X.cols()) < features_)
      throw InvalidArgument("extra trees: inputs have " + std::to_string(X.cols()) + " columns, the model reads " + std::to_string(features_));
    mean.setZero(X.rows());
    for (const Tree& tree : trees_)
      for (Eigen::Index i = 0; i < X.rows(); ++i) {
        std::size_t k = 0;
        while (tree.feature[k] != kLeaf) k += X(i, tree.feature[k]) < tree.value[k] ? 1 : tree.right[k];
        mean(i) += tree.value[k];
      }
    mean /= static_cast<double>(std::max<std::size_t>(1, trees_.size()));
    if (stddev) stddev->setConstant(X.rows(), std::numeric_limits<double>::quiet_NaN());
  }

  bool has_uncertainty() const override { return false; }

  // Each tree's nodes depth-first (a split's left child follows it, its
  // right child is `right` nodes further on): feature (-1 at a leaf),
  // value (the cut, or the leaf's mean) and right.
  json save() const override {
    json trees = json::array();
    for (const Tree& t : trees_) {
      std::vector<std::int64_t> feature(t.feature.size());
      for (std::size_t k = 0; k < feature.size(); ++k) feature[k] = t.feature[k] == kLeaf ? -1 : static_cast<std::int64_t>(t.feature[k]);
      trees.push_back({{"feature", feature}, {"value", t.value}, {"right", t.right}});
    }
    return {{"kind", "et"}, {"options", opt_}, {"seed", seed_}, {"features", features_}, {"trees", trees}};
  }

  static std::unique_ptr<ExtraTrees> load(const json& j) {
    auto m = std::make_unique<ExtraTrees>(j.at("options"), j.at("seed").get<std::uint64_t>());
    const auto features = j.at("features").get<std::int64_t>();
    if (features < 1 || features > kMaxFeatures) throw InvalidArgument("extra trees: features " + std::to_string(features) + " is out of range");
    m->features_ = static_cast<std::size_t>(features);
    const json& trees = j.at("trees");
    if (!trees.is_array() || trees.empty() || trees.size() > kMaxTrees)
      throw InvalidArgument("extra trees: 'trees' must be a list of 1 to " + std::to_string(kMaxTrees) + " trees");
    std::size_t nodes = 0;
    for (std::size_t t = 0; t < trees.size(); ++t) {
      const std::string where = "extra trees: tree " + std::to_string(t);
      Tree tree;
      const auto feature = trees[t].at("feature").get<std::vector<std::int64_t>>();
      tree.value = trees[t].at("value").get<std::vector<double>>();
      tree.right = trees[t].at("right").get<std::vector<std::uint32_t>>();
      nodes += feature.size();
      if (feature.empty() || tree.value.size() != feature.size() || tree.right.size() != feature.size() || nodes > kMaxNodes)
        throw InvalidArgument(where + ": its node arrays are empty, of different lengths or too long");
      // Every walk moves forward and stays inside the tree: a split reads a
      // feature the model has, its left child (the next node) and its right
      // child (right > 1 nodes on) exist; the last node is a leaf.
      for (std::size_t k = 0; k < feature.size(); ++k) {
        if (!std::isfinite(tree.value[k])) throw InvalidArgument(where + ": node " + std::to_string(k) + " has a value that is not finite");
        if (feature[k] == -1) {
          tree.feature.push_back(kLeaf);
          continue;
        }
        if (feature[k] < 0 || feature[k] >= features)
          throw InvalidArgument(where + ": node " + std::to_string(k) + " splits on feature " + std::to_string(feature[k]) + " of " + std::to_string(features));
        if (tree.right[k] < 2 || k + tree.right[k] >= feature.size())
          throw InvalidArgument(where + ": node " + std::to_string(k) + " has its right child " + std::to_string(tree.right[k]) + " nodes on, outside its " +
                                std::to_string(feature.size()));
        tree.feature.push_back(static_cast<std::uint32_t>(feature[k]));
      }
      m->trees_.push_back(std::move(tree));
    }
    return m;
  }

private:
  static constexpr std::uint32_t kLeaf = 0xFFFFFFFF;
  struct Tree {
    std::vector<std::uint32_t> feature;
    std::vector<double> value;
    std::vector<std::uint32_t> right;
  };

  Tree grow(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, std::uint64_t seed) const {
    Rng rng(seed);
    const std::size_t n_min = static_cast<std::size_t>(std::max(2, opt_.at("min_samples_split").get<int>()));
    const std::size_t k_features =
        std::clamp<std::size_t>(static_cast<std::size_t>(std::lround(opt_.at("colsample").get<double>() * static_cast<double>(features_))), 1, features_);
    std::vector<Eigen::Index> rows(static_cast<std::size_t>(X.rows()));
    std::iota(rows.begin(), rows.end(), 0);
    std::vector<std::uint32_t> order(features_);
    std::iota(order.begin(), order.end(), 0u);
    Tree tree;
    struct Pending {
      std::size_t begin, end, parent;  // rows[begin, end); the split whose right child this is (or none)
    };
    constexpr std::size_t kNone = static_cast<std::size_t>(-1);
    std::vector<Pending> stack = {{0, rows.size(), kNone}};
    while (!stack.empty()) {
      const Pending p = stack.back();
      stack.pop_back();
      const std::size_t at = tree.feature.size();
      if (p.parent != kNone) tree.right[p.parent] = static_cast<std::uint32_t>(at - p.parent);
      const std::size_t n = p.end - p.begin;
      double sum = 0, lo_y = std::numeric_limits<double>::infinity(), hi_y = -lo_y;
      for (std::size_t i = p.begin; i < p.end; ++i) {
        const double v = y(rows[i]);
        sum += v;
        lo_y = std::min(lo_y, v);
        hi_y = std::max(hi_y, v);
      }
      // The best of up to K random cuts, by the squared error they remove:
      // maximise sL^2/nL + sR^2/nR (the rest of the error does not depend
      // on the cut).
      std::uint32_t best_f = kLeaf;
      double best_cut = 0, best_gain = -std::numeric_limits<double>::infinity();
      if (n >= n_min && lo_y < hi_y) {
        std::size_t drawn = 0, varied = 0;
        while (varied < k_features && drawn < features_) {
          std::swap(order[drawn], order[drawn + rng.below(features_ - drawn)]);
          const std::uint32_t f = order[drawn++];
          double lo = std::numeric_limits<double>::infinity(), hi = -lo;
          for (std::size_t i = p.begin; i < p.end; ++i) {
            lo = std::min(lo, X(rows[i], f));
            hi = std::max(hi, X(rows[i], f));
          }
          if (!(lo < hi)) continue;  // constant here: draws no cut
          ++varied;
          double cut = rng.uniform(lo, hi);
          if (!(cut > lo && cut <= hi)) cut = hi;  // rounding: x < cut must hold for some rows and fail for others
          double s_left = 0;
          std::size_t n_left = 0;
          for (std::size_t i = p.begin; i < p.end; ++i)
            if (X(rows[i], f) < cut) {
              s_left += y(rows[i]);
              ++n_left;
            }
          const double s_right = sum - s_left;
          const double gain = s_left * s_left / static_cast<double>(n_left) + s_right * s_right / static_cast<double>(n - n_left);
          if (gain > best_gain) {
            best_gain = gain;
            best_f = f;
            best_cut = cut;
          }
        }
      }
      tree.feature.push_back(best_f);
      tree.value.push_back(best_f == kLeaf ? sum / static_cast<double>(n) : best_cut);
      tree.right.push_back(0);
      if (best_f == kLeaf) continue;
      const auto mid = static_cast<std::size_t>(
          std::partition(rows.begin() + static_cast<std::ptrdiff_t>(p.begin), rows.begin() + static_cast<std::ptrdiff_t>(p.end),
                         [&](Eigen::Index r) { return X(r, best_f) < best_cut; }) -
          rows.begin());
      stack.push_back({mid, p.end, at});      // taken after the left subtree
      stack.push_back({p.begin, mid, kNone});  // next: the left child at at + 1
    }
    return tree;
  }

  json opt_;
  std::uint64_t seed_;
  std::size_t features_ = 0;
  std::vector<Tree> trees_;
};

}  // namespace

std::unique_ptr<Regressor> make_extra_trees(const json& options, std::uint64_t seed) { return std::make_unique<ExtraTrees>(options, seed); }

std::unique_ptr<Regressor> load_extra_trees(const json& saved) { return ExtraTrees::load(saved); }

}  // namespace dsegym::proxy
