// Proxy models on a synthetic dataset with a known function.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <fstream>
#include <tuple>

#include "base/error.hpp"
#include "base/rng.hpp"
#include "experiments/dataset.hpp"
#include "proxies/models.hpp"
#include "proxies/proxy.hpp"

#include <xgboost/c_api.h>
#include "temp_dir.hpp"

using namespace dsegym;
using namespace dsegym::proxy;
namespace fs = std::filesystem;

namespace {

// f(x, y, k, n) = 10 + 3x + 2y^2 + [k = b] + 0.5 log2(n), x, y in [0,1],
// k in {a, b, c}, n in {1, 2, ..., 64}: smooth, categorical and pow2 parts.
double f(double x, double y, const std::string& k, std::int64_t n) {
  return 10 + 3 * x + 2 * y * y + (k == "b" ? 1.0 : 0.0) + 0.5 * std::log2(static_cast<double>(n));
}

// Writes rows of uniform random designs as `dsegym dataset export` would.
using TargetFn = std::function<double(double, double, const std::string&, std::int64_t)>;

fs::path write_dataset(const fs::path& dir, const std::string& stem, std::size_t rows, std::uint64_t seed, double x_high = 1.0, const TargetFn& fn = f) {
  const json cols = json::array({
      {{"name", "status"}, {"role", "meta"}},
      {{"name", "x"}, {"role", "parameter"}, {"kind", "continuous"}, {"space", {{"type", "box"}, {"low", 0.0}, {"high", x_high}}}},
      {{"name", "y"}, {"role", "parameter"}, {"kind", "continuous"}, {"space", {{"type", "box"}, {"low", 0.0}, {"high", 1.0}}}},
      {{"name", "k"}, {"role", "parameter"}, {"kind", "categorical"}, {"cardinality", 3},
       {"space", {{"type", "categorical"}, {"labels", {"a", "b", "c"}}}}},
      {{"name", "n"}, {"role", "parameter"}, {"kind", "ordinal"}, {"cardinality", 7},
       {"space", {{"type", "integer"}, {"low", 1}, {"high", 64}, {"scale", "pow2"}}}},
      {{"name", "f"}, {"role", "metric"}, {"unit", "1"}, {"goal", "min"}},
  });
  std::ofstream(dir / (stem + ".schema.json")) << json{{"format", "dsegym-dataset"}, {"version", 1}, {"env", "synthetic"}, {"columns", cols}}.dump();
  std::ofstream out(dir / (stem + ".csv"));
  out << "status,x,y,k,n,f\n";
  out.precision(17);
  Rng rng(seed);
  const char* ks[] = {"a", "b", "c"};
  for (std::size_t i = 0; i < rows; ++i) {
    const double x = rng.uniform() * x_high, y = rng.uniform();
    const std::string k = ks[rng.below(3)];
    const std::int64_t n = std::int64_t{1} << rng.below(7);
    out << "ok," << x << "," << y << "," << k << "," << n << "," << fn(x, y, k, n) << "\n";
  }
  return dir / (stem + ".csv");
}

}  // namespace

TEST_CASE("every model learns a known function to a stated test error, and reloads to identical predictions") {
  const auto dir = testing::temp_dir("proxy_synth");
  const Dataset d = load_dataset(write_dataset(dir, "train", 1500, 1).string());
  REQUIRE(d.rows() == 1500);
  // Stated test errors (RMSE relative to the mean of f, which is ~14): the
  // function is smooth, so the GP and the MLP do best; trees approximate it
  // by steps (measured: xgb 0.6%, rf 2.1%, et 1.2%).
  const std::vector<std::pair<std::string, double>> limits = {{"xgb", 3.0}, {"rf", 3.0}, {"et", 3.0}, {"gp", 0.2}, {"mlp", 1.0}};
  for (const auto& [kind, limit] : limits) {
    INFO(kind);
    TrainOptions opt;
    opt.targets = {"f"};
    opt.model = kind;
    if (kind == "gp") opt.model_options = {{"max_points", 400}, {"fit_iterations", 40}};
    json report;
    const ProxyModel m = ProxyModel::train(d, opt, &report);
    const double err = report.at("targets").at("f").at("test").at("rel_rmse_pct").get<double>();
    MESSAGE(kind, ": test RMSE ", err, " % of the mean");
    CHECK(err < limit);
    CHECK(report.at("targets").at("f").at("test").at("kendall_tau").get<double>() > 0.9);
    const std::string path = (dir / (kind + ".json")).string();
    m.save(path);
    const ProxyModel back = ProxyModel::load(path);
    const auto a = m.predict(d.cells), b = back.predict(d.cells);
    bool same = true;
    for (std::size_t i = 0; i < a.size(); ++i) same = same && a[i].mean[0] == b[i].mean[0];
    CHECK(same);
    CHECK(back.evaluate(d).at("targets").at("f").at("rmse") == m.evaluate(d).at("targets").at("f").at("rmse"));
  }
}

TEST_CASE("a GP or bagged proxy reports uncertainty that grows away from the data") {
  const auto dir = testing::temp_dir("proxy_unc");
  const Dataset d = load_dataset(write_dataset(dir, "train", 300, 2).string());
  for (const std::string kind : {"gp", "xgb"}) {
    INFO(kind);
    TrainOptions opt;
    opt.targets = {"f"};
    opt.model = kind;
    opt.model_options = kind == "gp" ? json{{"fit_iterations", 30}} : json{{"bags", 5}};
    const ProxyModel m = ProxyModel::train(d, opt, nullptr);
    CHECK(m.has_uncertainty());
    const auto p = m.predict({{0.5, 0.5, "b", 8}});
    CHECK(std::isfinite(p[0].stddev[0]));
    CHECK(p[0].stddev[0] >= 0);
  }
  TrainOptions opt;
  opt.targets = {"f"};
  CHECK_FALSE(ProxyModel::train(d, opt, nullptr).has_uncertainty());  // a single boosted ensemble has none
}

TEST_CASE("a proxy refuses a dataset whose parameters differ, and bad requests are named") {
  const auto dir = testing::temp_dir("proxy_schema");
  const Dataset d = load_dataset(write_dataset(dir, "a", 200, 3).string());
  TrainOptions opt;
  opt.targets = {"f"};
  const ProxyModel m = ProxyModel::train(d, opt, nullptr);
  const Dataset other = load_dataset(write_dataset(dir, "b", 50, 4, 2.0).string());  // x in [0, 2]
  CHECK_THROWS_WITH_AS(m.evaluate(other), doctest::Contains("parameter column 0 is \"x\""), InvalidArgument);
  opt.targets = {"g"};
  CHECK_THROWS_WITH_AS(ProxyModel::train(d, opt, nullptr), doctest::Contains("no metric column 'g'; metrics: f"), InvalidArgument);
  opt.targets = {"f"};
  opt.model = "svm";
  CHECK_THROWS_WITH_AS(ProxyModel::train(d, opt, nullptr), doctest::Contains("choices: xgb, rf, et, gp, mlp"), InvalidArgument);
  opt.model = "xgb";
  opt.model_options = {{"depth", 3}};
  CHECK_THROWS_WITH_AS(ProxyModel::train(d, opt, nullptr), doctest::Contains("no option 'depth'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(m.predict({{0.5, 0.5, "z", 8}}), doctest::Contains("parameter 'k'"), InvalidArgument);
}

TEST_CASE("scores, splits and folds") {
  Scores s = score({1, 2, 3, 4}, {1, 2, 3, 4});
  CHECK(s.rmse == 0);
  CHECK(s.kendall_tau == doctest::Approx(1.0));
  CHECK(s.r2 == doctest::Approx(1.0));
  s = score({1, 2, 3, 4}, {4, 3, 2, 1});
  CHECK(s.kendall_tau == doctest::Approx(-1.0));
  s = score({10, 20}, {11, 18});  // errors 1 and 2: RMSE sqrt(2.5), mean 15
  CHECK(s.rmse == doctest::Approx(std::sqrt(2.5)));
  CHECK(s.rel_rmse_pct == doctest::Approx(100 * std::sqrt(2.5) / 15));
  CHECK(s.mape_pct == doctest::Approx(100 * (0.1 + 0.1) / 2));
  const Split a = split_rows(100, 0.1, 0.2, 5), b = split_rows(100, 0.1, 0.2, 5);
  CHECK(a.train == b.train);
  CHECK(a.test.size() == 20);
  CHECK(a.validation.size() == 10);
  std::vector<int> seen(100, 0);
  for (const auto* part : {&a.train, &a.validation, &a.test})
    for (auto i : *part) ++seen[i];
  CHECK(std::count(seen.begin(), seen.end(), 1) == 100);
  const auto folds = k_folds(10, 3, 1);
  CHECK(folds.size() == 3);
  CHECK(folds[0].size() + folds[1].size() + folds[2].size() == 10);
}

// The proxy walks XGBoost's trees itself (in a compact depth-first layout);
// its predictions must be XGBoost's own, up to float summation order (a
// bootstrap forest's: the mean of its boosters').
TEST_CASE("native evaluation of boosted trees and forests equals XGBoost's prediction") {
  Rng rng(4);
  Eigen::MatrixXd X(600, 5);
  Eigen::VectorXd y(600);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index c = 0; c < X.cols(); ++c) X(i, c) = rng.uniform();
    y(i) = std::sin(6 * X(i, 0)) + X(i, 1) * X(i, 2) + (X(i, 3) > 0.5 ? 1.0 : 0.0);
  }
  std::vector<float> data;
  for (Eigen::Index i = 0; i < X.rows(); ++i)
    for (Eigen::Index c = 0; c < X.cols(); ++c) data.push_back(static_cast<float>(X(i, c)));
  DMatrixHandle d = nullptr;
  REQUIRE(XGDMatrixCreateFromMat(data.data(), static_cast<bst_ulong>(X.rows()), static_cast<bst_ulong>(X.cols()), std::nanf(""), &d) == 0);
  const std::vector<std::pair<std::string, json>> models = {{"xgb", {{"max_depth", 24}}},
                                                            {"rf", {{"max_depth", 24}, {"trees", 50}}},
                                                            {"rf", {{"max_depth", 24}, {"trees", 20}, {"bootstrap", 1}}}};
  for (const auto& [kind, options] : models) {
    INFO(kind, " ", options.dump());
    auto model = make_regressor(kind, options, 1);
    model->fit(X.topRows(500), y.head(500), X.bottomRows(100), y.tail(100));
    Eigen::VectorXd native;
    model->predict(X, native, nullptr);

    const json saved = model->save();
    const json boosters = saved.at("booster").is_array() ? saved.at("booster") : json::array({saved.at("booster")});
    CHECK(boosters.size() == (options.contains("bootstrap") ? 20u : 1u));
    std::vector<double> mean(static_cast<std::size_t>(X.rows()), 0.0);
    for (const json& one : boosters) {
      const std::string buf = one.get<std::string>();
      BoosterHandle b = nullptr;
      REQUIRE(XGBoosterCreate(nullptr, 0, &b) == 0);
      REQUIRE(XGBoosterLoadModelFromBuffer(b, buf.data(), buf.size()) == 0);
      const std::string cfg = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": )" +
                              std::to_string(saved.at("rounds").get<int>()) + R"(, "strict_shape": false})";
      bst_ulong const* shape = nullptr;
      bst_ulong dim = 0;
      float const* out = nullptr;
      REQUIRE(XGBoosterPredictFromDMatrix(b, d, cfg.c_str(), &shape, &dim, &out) == 0);
      for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += static_cast<double>(out[i]) / static_cast<double>(boosters.size());
      XGBoosterFree(b);
    }
    double worst = 0;
    for (Eigen::Index i = 0; i < X.rows(); ++i) worst = std::max(worst, std::abs(native(i) - mean[static_cast<std::size_t>(i)]));
    CHECK(worst < 1e-4);
  }
  XGDMatrixFree(d);
  CHECK_THROWS_WITH_AS(make_regressor("xgb", json{{"max_depth", 25}}, 1), doctest::Contains("expected an integer in [1, 24], got 25"),
                       InvalidArgument);
}

// Breiman's bootstrap (2001): a tree fits n rows drawn with replacement,
// each as often as it was drawn. It sees 1 - (1 - 1/n)^n of the distinct
// rows (63.4 % for n = 200; 1 - 1/e in the limit), and the draws of one row
// follow Binomial(n, 1/n) (mean 1, P(0) = 0.366, P(2 or more) = 0.264).
TEST_CASE("a bootstrap forest's trees each fit n rows drawn with replacement") {
  const Eigen::Index n = 200;  // fewer rows than XGBoost's 256 bins: a leaf per distinct x
  Eigen::MatrixXd X(n, 1);
  Eigen::VectorXd y(n);
  Rng rng(11);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = static_cast<double>(i);
    y(i) = rng.uniform();
  }
  const json one_tree = {{"trees", 1}, {"max_depth", 24}, {"colsample", 1.0}, {"min_child_weight", 0.5}, {"bootstrap", 1}};
  int reproduced = 0;
  Eigen::VectorXd p;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    auto tree = make_regressor("rf", one_tree, seed);
    tree->fit(X, y, Eigen::MatrixXd(0, 1), Eigen::VectorXd(0));
    tree->predict(X, p, nullptr);
    for (Eigen::Index i = 0; i < n; ++i) reproduced += std::abs(p(i) - y(i)) < 1e-6;
  }
  // A fully grown tree on distinct inputs reproduces exactly the rows it saw.
  const double share = reproduced / (20.0 * static_cast<double>(n));  // sd 0.0076
  MESSAGE("rows a bootstrapped tree reproduces: ", share, " (expected 0.634)");
  CHECK(share == doctest::Approx(0.634).epsilon(0.04));

  // One input value: the tree is a single leaf, the draw-weighted mean of y.
  // With y = 1 on row 0 and 0 elsewhere it is (draws of row 0) / n.
  Eigen::MatrixXd X1 = Eigen::MatrixXd::Zero(n, 1);
  Eigen::VectorXd y1 = Eigen::VectorXd::Zero(n);
  y1(0) = 1.0;
  std::map<long, int> draws;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    auto tree = make_regressor("rf", one_tree, seed);
    tree->fit(X1, y1, Eigen::MatrixXd(0, 1), Eigen::VectorXd(0));
    tree->predict(X1.topRows(1), p, nullptr);
    const double k = p(0) * static_cast<double>(n);
    CHECK(std::abs(k - std::round(k)) < 1e-3);  // a whole number of draws
    ++draws[std::lround(k)];
  }
  MESSAGE("draws of one row in 200 trees: 0 x", draws[0], ", 1 x", draws[1], ", 2+ x", 200 - draws[0] - draws[1]);
  CHECK(draws[0] == doctest::Approx(73).epsilon(0.35));              // 200 x 0.366, sd 6.8
  CHECK(200 - draws[0] - draws[1] == doctest::Approx(53).epsilon(0.4));  // 200 x 0.264, sd 6.2
}

// Breiman (2001): a row's out-of-bag prediction comes from the trees whose
// sample left it out, so their error estimates the error on new rows (as
// a test set of the same size would), while the forest's error on the
// rows it fitted is far smaller. y = sin(6x) + N(0, 0.3^2): the error on
// new rows is the noise's 0.09 plus the forest's own.
TEST_CASE("a bootstrap forest's out-of-bag predictions estimate its error on new rows") {
  auto draw = [](Eigen::Index n, std::uint64_t seed, Eigen::MatrixXd& X, Eigen::VectorXd& y) {
    Rng rng(seed);
    X.resize(n, 2);
    y.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      X(i, 0) = rng.uniform();
      X(i, 1) = rng.uniform();  // no effect
      y(i) = std::sin(6 * X(i, 0)) + 0.3 * rng.normal();
    }
  };
  Eigen::MatrixXd X, Xt;
  Eigen::VectorXd y, yt, oob, fitted, test;
  draw(1000, 3, X, y);
  draw(4000, 4, Xt, yt);
  auto forest = make_regressor("rf", json{{"trees", 100}, {"max_depth", 24}, {"colsample", 1.0}, {"bootstrap", 1}}, 5);
  CHECK_FALSE(forest->out_of_bag(oob));  // nothing fitted yet
  forest->fit(X, y, Eigen::MatrixXd(0, 2), Eigen::VectorXd(0));
  REQUIRE(forest->out_of_bag(oob));
  REQUIRE(oob.size() == X.rows());
  CHECK(oob.array().isFinite().all());  // P(a row in all 100 samples) = 0.634^100
  forest->predict(X, fitted, nullptr);
  forest->predict(Xt, test, nullptr);
  const double mse_oob = (oob - y).squaredNorm() / 1000.0, mse_fit = (fitted - y).squaredNorm() / 1000.0,
               mse_new = (test - yt).squaredNorm() / 4000.0;
  MESSAGE("MSE out of bag ", mse_oob, ", on new rows ", mse_new, ", on the fitted rows ", mse_fit);
  CHECK(mse_new > 0.09);
  CHECK(mse_oob == doctest::Approx(mse_new).epsilon(0.15));
  CHECK(mse_fit < 0.5 * mse_new);
  // Other models have none.
  auto boosted = make_regressor("xgb", json{{"rounds", 10}}, 5);
  boosted->fit(X, y, Eigen::MatrixXd(0, 2), Eigen::VectorXd(0));
  CHECK_FALSE(boosted->out_of_bag(oob));
}

// Issue: crafted model files crashed (out-of-bounds reads, segfaults),
// hung (a tree whose child points back to its root) or allocated without
// bound. Each is now an error naming the file and the field.
TEST_CASE("crafted proxy model files are refused with a reason, never a crash or a hang") {
  const auto dir = testing::temp_dir("proxy_crafted");
  const Dataset d = load_dataset(write_dataset(dir, "a", 200, 3).string());
  TrainOptions opt;
  opt.targets = {"f"};
  auto saved = [&](const std::string& kind) {
    opt.model = kind;
    opt.model_options = kind == "xgb" ? json{{"rounds", 5}, {"max_depth", 3}} : json::object();
    const fs::path p = dir / (kind + ".json");
    ProxyModel::train(d, opt, nullptr).save(p.string());
    std::ifstream f(p);
    return json::parse(f);
  };
  auto refused = [&](const json& model, const std::string& why) {
    INFO(why);
    const fs::path p = dir / "crafted.json";
    std::ofstream(p) << model.dump();
    CHECK_THROWS_WITH_AS(ProxyModel::load(p.string()), doctest::Contains(why.c_str()), InvalidArgument);
  };
  const json gp = saved("gp");
  json g = gp;
  auto& gm = g["targets"][0]["model"];
  gm["x"] = json::array({0.1, 0.2});  // shorter than rows x cols
  refused(g, "'x' has 2 values, expected rows x cols");
  for (const json& cols : {json(0), json(1000000), json(-5)}) {
    g = gp;
    g["targets"][0]["model"]["cols"] = cols;
    refused(g, "'cols' must be in 1..100000");
  }
  g = gp;
  g["targets"][0]["model"]["lengthscales"] = json::array({1.0});
  refused(g, "'lengthscales' has 1 values");
  g = gp;
  g["targets"][0]["model"]["noise"] = -1;
  refused(g, "'signal' and 'noise' must be positive");
  g = gp;
  g["targets"][0]["scale"] = 0;
  refused(g, "'scale' positive");

  const json xgb = saved("xgb");
  auto with_tree = [&](const std::function<void(json&)>& edit) {
    json m = xgb;
    json booster = json::parse(m["targets"][0]["model"]["booster"].get<std::string>());
    edit(booster["learner"]["gradient_booster"]["model"]["trees"][0]);
    m["targets"][0]["model"]["booster"] = booster.dump();
    return m;
  };
  refused(with_tree([](json& t) { t["left_children"][0] = 100000; }), "not a later node");
  refused(with_tree([](json& t) { t["right_children"][0] = 0; }), "not a later node");  // a cycle back to the root: hung before
  refused(with_tree([](json& t) { t["split_indices"][0] = 4000; }), "splits on feature 4000");
  refused(with_tree([](json& t) { t["split_conditions"].erase(0); }), "XGBoost load");  // XGBoost checks the lengths itself
  json garbage = xgb;
  garbage["targets"][0]["model"]["booster"] = "not a booster";
  const fs::path p = dir / "garbage.json";
  std::ofstream(p) << garbage.dump();
  try {
    ProxyModel::load(p.string());
    FAIL("a garbage booster loaded");
  } catch (const InvalidArgument& e) {
    const std::string msg = e.what();
    // Only XGBoost's JSON format reaches XGBoost (its binary reader trusts
    // the lengths it reads).
    CHECK(msg.find("boosted trees: booster") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
  const json et = saved("et");
  auto with_et_tree = [&](const std::function<void(json&)>& edit) {
    json m = et;
    edit(m["targets"][0]["model"]["trees"][0]);
    return m;
  };
  refused(with_et_tree([](json& t) { t["right"][0] = 100000; }), "outside its");
  refused(with_et_tree([](json& t) { t["right"][0] = 0; }), "outside its");  // would loop on the root
  refused(with_et_tree([](json& t) { t["feature"][0] = 4000; }), "splits on feature 4000");
  refused(with_et_tree([](json& t) { t["value"].erase(0); }), "different lengths");
  refused(with_et_tree([](json& t) { t["feature"].back() = 0; }), "outside its");  // the last node must be a leaf
  {
    json m = et;
    m["targets"][0]["model"]["features"] = 0;
    refused(m, "features 0 is out of range");
  }
  // Not JSON, or nested too deep: named.
  std::ofstream(dir / "deep.json") << std::string(10000, '[') << std::string(10000, ']');
  CHECK_THROWS_WITH_AS(ProxyModel::load((dir / "deep.json").string()), doctest::Contains("nested deeper than 64"), InvalidArgument);
}

namespace {

// The selection a model file records for a target, and its best tried candidate's index.
std::size_t best_tried(const json& selection) {
  std::size_t best = 0;
  const json& tried = selection.at("tried");
  for (std::size_t i = 1; i < tried.size(); ++i)
    if (tried[i].at("cv_r2").get<double>() > tried[best].at("cv_r2").get<double>()) best = i;
  return best;
}

}  // namespace

TEST_CASE("a fixed test set is never fitted on: a poisoned one changes the test scores, not the model") {
  const auto dir = testing::temp_dir("proxy_testset");
  const Dataset train = load_dataset(write_dataset(dir, "train", 600, 11).string());
  const Dataset clean = load_dataset(write_dataset(dir, "clean", 200, 12).string());
  // The same designs with targets that have nothing to do with them.
  const Dataset poisoned = load_dataset(write_dataset(dir, "poisoned", 200, 12, 1.0, [](double x, double, const std::string&, std::int64_t) {
                                          return 1e6 * std::sin(1e3 * x);
                                        }).string());
  TrainOptions opt;
  opt.targets = {"f"};
  opt.test_fraction = 0.3;  // ignored with a test set: every row of train.csv is fitted or validates
  json rc, rp;
  opt.test_set = &clean;
  const ProxyModel a = ProxyModel::train(train, opt, &rc);
  opt.test_set = &poisoned;
  const ProxyModel b = ProxyModel::train(train, opt, &rp);
  const auto pa = a.predict(clean.cells), pb = b.predict(clean.cells);
  bool same = true;
  for (std::size_t i = 0; i < pa.size(); ++i) same = same && pa[i].mean[0] == pb[i].mean[0];
  CHECK(same);
  CHECK(rc.at("test") == 200);
  CHECK(rc.at("train").get<std::size_t>() + rc.at("validation").get<std::size_t>() == 600);
  CHECK(rc.at("targets").at("f").at("test").at("r2").get<double>() > 0.95);
  CHECK(rp.at("targets").at("f").at("test").at("r2").get<double>() < 0.1);
  CHECK(rc.at("targets").at("f").at("validation") == rp.at("targets").at("f").at("validation"));
  // A test set with other parameters is refused.
  const Dataset other = load_dataset(write_dataset(dir, "other", 50, 4, 2.0).string());
  opt.test_set = &other;
  CHECK_THROWS_WITH_AS(ProxyModel::train(train, opt, nullptr), doctest::Contains("parameter column 0"), InvalidArgument);
}

TEST_CASE("a forest's final model learns from the validation rows too") {
  // Trees grown until every leaf holds one design, each seeing every row
  // and every knob, reproduce the targets they were fitted on, noise
  // included; a row they were not fitted on gets its neighbours' values.
  const auto dir = testing::temp_dir("proxy_rf_refit");
  const Dataset data = load_dataset(write_dataset(dir, "d", 400, 21, 1.0, [](double x, double y, const std::string& k, std::int64_t n) {
                                      return f(x, y, k, n) + 0.5 * std::sin(1e4 * x);  // deterministic noise
                                    }).string());
  TrainOptions opt;
  opt.targets = {"f"};
  opt.target_transform = "none";
  opt.test_fraction = 0;
  // A random forest (float thresholds and leaves) and extremely randomized trees.
  for (const auto& [kind, options, tolerance] : {std::tuple{"rf", json{{"trees", 3}, {"max_depth", 24}, {"subsample", 1.0}, {"colsample", 1.0}}, 1e-3},
                                                 std::tuple{"et", json{{"trees", 3}}, 1e-9}}) {
    INFO(kind);
    opt.model = kind;
    opt.model_options = options;
    json report;
    const ProxyModel m = ProxyModel::train(data, opt, &report);
    REQUIRE(report.at("validation").get<std::size_t>() > 0);
    CHECK(report.at("targets").at("f").at("refit").at("rows") == 400);
    const auto pred = m.predict(data.cells);
    double worst = 0;
    for (std::size_t i = 0; i < pred.size(); ++i) worst = std::max(worst, std::abs(pred[i].mean[0] - data.values[i][data.metric_index("f")]));
    CHECK(worst < tolerance);  // a row left out would be off by up to the noise's 1.0
  }
}

TEST_CASE("a Gaussian process's final model learns from the validation rows too") {
  // A smooth function without noise: once the validation rows are among
  // the GP's points its mean nearly interpolates them, far closer than
  // when they were held out (the held-out score stays in the report).
  const auto dir = testing::temp_dir("proxy_gp_refit");
  const Dataset data = load_dataset(write_dataset(dir, "d", 200, 22).string());
  TrainOptions opt;
  opt.targets = {"f"};
  opt.target_transform = "none";
  opt.test_fraction = 0;
  opt.model = "gp";
  json report;
  const ProxyModel m = ProxyModel::train(data, opt, &report);
  CHECK(report.at("targets").at("f").at("refit").at("rows") == 200);
  const Split split = split_rows(200, opt.validation_fraction, 0.0, opt.seed);
  REQUIRE(!split.validation.empty());
  const auto pred = m.predict(data.cells);
  double se = 0;
  for (const auto i : split.validation) se += std::pow(pred[i].mean[0] - data.values[i][data.metric_index("f")], 2);
  const double refit_rmse = std::sqrt(se / static_cast<double>(split.validation.size()));
  const double held_out_rmse = report.at("targets").at("f").at("validation").at("rmse").get<double>();
  INFO(held_out_rmse, " -> ", refit_rmse);
  CHECK(refit_rmse < 0.5 * held_out_rmse);
  // The file keeps its points' targets as given (it once kept them
  // standardised and back, an ulp off for many), so a reloaded GP predicts
  // bit for bit the same.
  m.save((dir / "gp.json").string());
  const auto back = ProxyModel::load((dir / "gp.json").string()).predict(data.cells);
  for (std::size_t i = 0; i < pred.size(); ++i) CHECK(back[i].mean[0] == pred[i].mean[0]);
  Rng rng(3);
  Eigen::MatrixXd X(60, 2);
  Eigen::VectorXd y(60);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    X(i, 0) = rng.uniform();
    X(i, 1) = rng.uniform();
    y(i) = 7.3 * std::sin(5 * X(i, 0)) + X(i, 1) / 3;
  }
  auto gp = make_regressor("gp", json{{"fit_iterations", 3}}, 1);
  gp->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  CHECK(gp->save().at("y").get<std::vector<double>>() == std::vector<double>(y.data(), y.data() + y.size()));
}

// Extremely randomized trees (Geurts, Ernst & Wehenkel 2006) cut a node at
// a point drawn uniformly between the smallest and largest value of a
// feature there. Two rows, (x=0, y=0) and (x=1, y=1): every tree cuts
// once at c ~ U(0, 1) and predicts 1 where x >= c, so the forest predicts
// at x the share of cuts below x, which tends to x itself (a straight line
// between the rows, where a tree with the best cut jumps at 0.5).
TEST_CASE("extremely randomized trees: uniform cuts, fully grown trees, n_min, seeds and threads") {
  Eigen::MatrixXd X2(2, 1);
  X2 << 0.0, 1.0;
  Eigen::VectorXd y2(2);
  y2 << 0.0, 1.0;
  auto forest = make_regressor("et", json{{"trees", 4000}}, 3);
  forest->fit(X2, y2, Eigen::MatrixXd(), Eigen::VectorXd());
  Eigen::MatrixXd grid(9, 1);
  for (Eigen::Index i = 0; i < 9; ++i) grid(i, 0) = 0.1 * static_cast<double>(i + 1);
  Eigen::VectorXd p;
  forest->predict(grid, p, nullptr);
  for (Eigen::Index i = 0; i < 9; ++i) CHECK(std::abs(p(i) - grid(i, 0)) < 0.03);  // sd <= 0.008
  forest->predict(X2, p, nullptr);
  CHECK(p(0) == 0.0);
  CHECK(p(1) == 1.0);

  // Fully grown (n_min = 2): a tree reproduces the rows it fitted; a node
  // with fewer than n_min rows is a leaf (their mean).
  Rng rng(8);
  Eigen::MatrixXd X(300, 3);
  Eigen::VectorXd y(300);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index c = 0; c < X.cols(); ++c) X(i, c) = rng.uniform();
    y(i) = std::sin(6 * X(i, 0)) + X(i, 1) * X(i, 2) + 0.1 * rng.normal();
  }
  auto one = make_regressor("et", json{{"trees", 1}}, 5);
  one->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  one->predict(X, p, nullptr);
  CHECK((p - y).cwiseAbs().maxCoeff() < 1e-12);
  auto stump = make_regressor("et", json{{"trees", 1}, {"min_samples_split", 301}}, 5);  // the root has fewer rows than n_min
  stump->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  stump->predict(X, p, nullptr);
  CHECK((p.array() - y.mean()).abs().maxCoeff() < 1e-12);

  // Averaging removes variance: on new rows, 100 trees err less than one.
  Eigen::MatrixXd Xt(2000, 3);
  Eigen::VectorXd yt(2000);
  for (Eigen::Index i = 0; i < Xt.rows(); ++i) {
    for (Eigen::Index c = 0; c < Xt.cols(); ++c) Xt(i, c) = rng.uniform();
    yt(i) = std::sin(6 * Xt(i, 0)) + Xt(i, 1) * Xt(i, 2);
  }
  auto many = make_regressor("et", json{{"trees", 100}, {"threads", 2}}, 5);
  many->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  Eigen::VectorXd p1, p100;
  one->predict(Xt, p1, nullptr);
  many->predict(Xt, p100, nullptr);
  const double mse1 = (p1 - yt).squaredNorm() / 2000.0, mse100 = (p100 - yt).squaredNorm() / 2000.0;
  MESSAGE("extra trees, MSE on new rows: 1 tree ", mse1, ", 100 trees ", mse100);
  CHECK(mse100 < 0.5 * mse1);

  // Seeded: the same seed gives the same forest on any number of threads,
  // another seed another one; a reloaded forest predicts the same.
  auto again = make_regressor("et", json{{"trees", 100}, {"threads", 1}}, 5);
  again->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  Eigen::VectorXd q;
  again->predict(Xt, q, nullptr);
  CHECK(q == p100);
  auto other = make_regressor("et", json{{"trees", 100}}, 6);
  other->fit(X, y, Eigen::MatrixXd(), Eigen::VectorXd());
  other->predict(Xt, q, nullptr);
  CHECK(q != p100);
  load_regressor(many->save())->predict(Xt, q, nullptr);
  CHECK(q == p100);
}

TEST_CASE("the target transform: log for a heavy-tailed target, none for one with negative values, as asked otherwise") {
  const auto dir = testing::temp_dir("proxy_transform");
  const Dataset heavy = load_dataset(write_dataset(dir, "heavy", 800, 5, 1.0, [](double x, double y, const std::string& k, std::int64_t n) {
                                       return std::exp(8 * x + 2 * y + (k == "b" ? 1.0 : 0.0)) * std::sqrt(static_cast<double>(n));
                                     }).string());
  const Dataset signed_ = load_dataset(write_dataset(dir, "signed", 400, 6, 1.0, [](double x, double y, const std::string&, std::int64_t) {
                                         return x - 0.5 + y;
                                       }).string());
  TrainOptions opt;
  opt.targets = {"f"};
  json rep;
  const ProxyModel h = ProxyModel::train(heavy, opt, &rep);
  CHECK(h.targets()[0].log);
  CHECK(rep.at("targets").at("f").at("selection").at("tried").size() == 2);  // both transforms, judged on the validation rows
  CHECK(h.targets()[0].smearing > 1.0);  // exp(mean log) is the median: the mean lies above it
  CHECK_FALSE(ProxyModel::train(signed_, opt, nullptr).targets()[0].log);
  opt.target_transform = "none";
  CHECK_FALSE(ProxyModel::train(heavy, opt, nullptr).targets()[0].log);
  opt.target_transform = "log";
  CHECK(ProxyModel::train(heavy, opt, nullptr).targets()[0].log);
  opt.target_transform = "sqrt";
  CHECK_THROWS_WITH_AS(ProxyModel::train(heavy, opt, nullptr), doctest::Contains("choices: auto, none, log"), InvalidArgument);
}

// Duan's smearing factor for a log target is the mean of exp(residual):
// for f = exp(2x + 0.5 e), e ~ N(0, 1), it is E[exp(0.5 e)] = exp(0.125) =
// 1.133 plus the model's own error. A bootstrap forest takes the residuals
// out of bag, so it needs no held-out rows (the residuals on rows it
// fitted would give about 1).
TEST_CASE("a bootstrap forest's smearing factor comes from its out-of-bag residuals") {
  const auto dir = testing::temp_dir("proxy_oob_smearing");
  const Dataset d = load_dataset(write_dataset(dir, "lognormal", 1000, 7, 1.0, [rng = Rng(9)](double x, double, const std::string&, std::int64_t) mutable {
                                   return std::exp(2 * x + 0.5 * rng.normal());
                                 }).string());
  TrainOptions opt;
  opt.targets = {"f"};
  opt.model = "rf";
  opt.model_options = {{"trees", 100}, {"max_depth", 24}, {"colsample", 1.0}, {"bootstrap", 1}};
  opt.target_transform = "log";
  opt.validation_fraction = 0;  // no held-out rows
  const ProxyModel m = ProxyModel::train(d, opt, nullptr);
  MESSAGE("smearing factor ", m.targets()[0].smearing, " (noise alone: 1.133)");
  CHECK(m.targets()[0].smearing > 1.10);
  CHECK(m.targets()[0].smearing < 1.25);
}

TEST_CASE("--model auto picks the model by cross-validation within its budget, on 200 and 20,000 rows of a known function") {
  const auto dir = testing::temp_dir("proxy_auto");
  TrainOptions opt;
  opt.targets = {"f"};
  opt.model = "auto";
  {
    const Dataset small = load_dataset(write_dataset(dir, "small", 200, 21).string());
    opt.auto_budget_s = 1e6;  // every candidate, whatever the machine's load
    opt.folds = 3;
    json rep;
    const ProxyModel m = ProxyModel::train(small, opt, &rep);
    const json& sel = rep.at("targets").at("f").at("selection");
    CHECK(sel.at("tried").size() == sel.at("candidates").get<std::size_t>());
    const json& top = sel.at("tried")[best_tried(sel)];
    const json best = {{"model", top.at("model")}, {"options", top.at("options")}, {"encoding", top.at("encoding")}, {"transform", top.at("transform")}};
    // The best candidate, alone or first in an ensemble. The ensemble's
    // weights are bagged over resamples of the rows, not fitted to all of
    // them: its out-of-fold R^2 is near the best single model's, not
    // necessarily above it.
    json first = sel.at("chosen");
    if (first.contains("ensemble")) {
      CHECK(sel.at("chosen").at("cv_r2").get<double>() > top.at("cv_r2").get<double>() - 0.005);
      first = first.at("ensemble")[0];
      first.erase("weight");
    }
    CHECK(first == best);
    // f is smooth: the GP (tried on small data) wins, far ahead of the trees' steps (measured test R^2 0.9995).
    CHECK(first.at("model") == "gp");
    CHECK(rep.at("targets").at("f").at("test").at("r2").get<double>() > 0.99);
    // The model file keeps the selection; it reloads to the same predictions.
    m.save((dir / "auto.json").string());
    const ProxyModel back = ProxyModel::load((dir / "auto.json").string());
    CHECK(back.targets()[0].selection == m.targets()[0].selection);
    CHECK(back.predict({small.cells[0]})[0].mean[0] == m.predict({small.cells[0]})[0].mean[0]);
  }
  {
    const Dataset large = load_dataset(write_dataset(dir, "large", 20000, 22).string());
    // A budget far below what one candidate needs: the first one (the
    // row-scaled default) is cross-validated and chosen, and the search stops.
    opt.auto_budget_s = 1e-3;
    opt.folds = 3;
    json rep;
    ProxyModel::train(large, opt, &rep);
    const json& sel = rep.at("targets").at("f").at("selection");
    CHECK(sel.at("tried").size() == 1);
    CHECK(sel.at("candidates").get<std::size_t>() > 10);
    CHECK(sel.at("chosen").at("options").at("max_depth") == 8);  // scaled_options for 14,000 training rows
    CHECK(sel.at("method") == "3-fold cross-validation on the training rows");
    CHECK(rep.at("targets").at("f").at("test").at("r2").get<double>() > 0.99);
  }
  // Without --budget, the budget grows with the rows: 30 s up to 8,000, in proportion beyond.
  CHECK(auto_budget_for(1500) == 30.0);
  CHECK(auto_budget_for(16000) == doctest::Approx(60.0));
}

TEST_CASE("an ensemble predicts the weighted mean of its members, reloads to the same predictions, and a bad weight is refused") {
  const auto dir = testing::temp_dir("proxy_ensemble");
  const Dataset d = load_dataset(write_dataset(dir, "d", 300, 31).string());
  TrainOptions opt;
  opt.targets = {"f"};
  opt.target_transform = "none";
  ProxyModel::train(d, opt, nullptr).save((dir / "single.json").string());
  const ProxyModel single = ProxyModel::load((dir / "single.json").string());
  // A second member: the same trees with the mean shifted by 10, weight 3;
  // the first keeps weight 1. Every prediction moves by 10 x 3/4.
  json j = json::parse(std::ifstream(dir / "single.json"));
  json member = j.at("targets")[0];
  for (const char* k : {"name", "unit", "goal", "selection"}) member.erase(k);
  member["mean"] = member.at("mean").get<double>() + 10.0;
  member["weight"] = 3;
  j["targets"][0]["ensemble"] = json::array({member});
  std::ofstream(dir / "ensemble.json") << j.dump();
  const ProxyModel ens = ProxyModel::load((dir / "ensemble.json").string());
  for (std::size_t r = 0; r < 20; ++r)
    CHECK(ens.predict({d.cells[r]})[0].mean[0] == doctest::Approx(single.predict({d.cells[r]})[0].mean[0] + 7.5).epsilon(1e-12));
  ens.save((dir / "again.json").string());
  CHECK(ProxyModel::load((dir / "again.json").string()).predict({d.cells[3]})[0].mean[0] == ens.predict({d.cells[3]})[0].mean[0]);
  j["targets"][0]["ensemble"][0]["weight"] = 0;
  std::ofstream(dir / "bad.json") << j.dump();
  CHECK_THROWS_WITH_AS(ProxyModel::load((dir / "bad.json").string()), doctest::Contains("'weight' must be positive"), InvalidArgument);
  j["targets"][0]["ensemble"] = json::object();
  std::ofstream(dir / "bad2.json") << j.dump();
  CHECK_THROWS_WITH_AS(ProxyModel::load((dir / "bad2.json").string()), doctest::Contains("'ensemble' must be a list"), InvalidArgument);
}

TEST_CASE("dataset import: a mixed CSV with a joined one becomes a dataset with inferred kinds, and bad rows are named, never dropped") {
  const auto dir = testing::temp_dir("proxy_import");
  std::ofstream(dir / "a.csv") << "topology,\"lat, ns\",bw,scale,fixed,links\n"
                                  "Ring,10,4,0.5,7,1\n"
                                  "Switch,250,16,1.25,7,3\n"
                                  "\"Fully, Connected\",40,1,2.5e3,7,2\n"
                                  "Ring,490,64,3,7,2\n";
  std::ofstream(dir / "b.csv") << "runtime,junk\n1e6,x\n2.5e7,y\n3e6,z\n4e8,w\n";
  ImportOptions opt;
  opt.join = {(dir / "b.csv").string()};
  opt.targets = {"runtime"};
  opt.drop = {"junk"};
  const ImportResult r = import_dataset((dir / "a.csv").string(), opt, (dir / "out.csv").string());
  CHECK(r.rows == 4);
  CHECK(r.kinds == json({{"topology", "categorical"}, {"lat, ns", "integer"}, {"bw", "ordinal"}, {"scale", "real"}, {"links", "integer"}}));
  CHECK(r.constant == std::vector<std::string>{"fixed"});
  const Dataset d = load_dataset((dir / "out.csv").string());
  REQUIRE(d.params.size() == 5);
  CHECK(d.params[0].at("space") == json({{"type", "categorical"}, {"labels", {"Fully, Connected", "Ring", "Switch"}}}));
  CHECK(d.params[1].at("space") == json({{"type", "integer"}, {"low", 10}, {"high", 490}, {"step", 30}}));  // gcd of 240, 30, 480
  CHECK(d.params[2].at("space") == json({{"type", "integer"}, {"low", 1}, {"high", 64}, {"scale", "pow2"}}));
  CHECK(d.params[3].at("space") == json({{"type", "box"}, {"low", 0.5}, {"high", 2500.0}, {"log", true}}));
  CHECK(d.metrics.at(0).at("name") == "runtime");
  CHECK(d.values[3][0] == 4e8);
  CHECK(d.cells[2][0] == "Fully, Connected");
  // Forced kinds.
  opt.kinds = {{"links", "categorical"}, {"bw", "integer"}};
  const ImportResult f = import_dataset((dir / "a.csv").string(), opt, (dir / "forced.csv").string());
  CHECK(f.kinds.at("links") == "categorical");
  CHECK(load_dataset((dir / "forced.csv").string()).params[2].at("space").value("scale", "") == "pow2");  // powers of two stay ordered
  opt.kinds = {{"scale", "integer"}};
  CHECK_THROWS_WITH_AS(import_dataset((dir / "a.csv").string(), opt, (dir / "x.csv").string()),
                       doctest::Contains("a.csv:2: column 'scale' is --kind integer but holds '0.5'"), InvalidArgument);
  opt.kinds = {{"scale", "float"}};
  CHECK_THROWS_WITH_AS(import_dataset((dir / "a.csv").string(), opt, (dir / "x.csv").string()), doctest::Contains("valid kinds are real"),
                       InvalidArgument);
  opt.kinds.clear();
  // A missing value, a short row, a text target, a join of another length, an unknown column.
  std::ofstream(dir / "missing.csv") << "topology,bw,runtime\nRing,4,1\nSwitch,,2\n";
  CHECK_THROWS_WITH_AS(import_dataset((dir / "missing.csv").string(), {{}, {"runtime"}, {}, {}}, (dir / "x.csv").string()),
                       doctest::Contains("missing.csv:3: column 'bw' is empty"), InvalidArgument);
  std::ofstream(dir / "short.csv") << "topology,bw,runtime\nRing,4,1\nSwitch,8\n";
  CHECK_THROWS_WITH_AS(import_dataset((dir / "short.csv").string(), {{}, {"runtime"}, {}, {}}, (dir / "x.csv").string()),
                       doctest::Contains("short.csv:3: 2 cells, the header has 3"), InvalidArgument);
  std::ofstream(dir / "text.csv") << "topology,bw,runtime\nRing,4,1\nSwitch,8,fast\n";
  CHECK_THROWS_WITH_AS(import_dataset((dir / "text.csv").string(), {{}, {"runtime"}, {}, {}}, (dir / "x.csv").string()),
                       doctest::Contains("text.csv:3: target 'runtime' holds 'fast'"), InvalidArgument);
  std::ofstream(dir / "three.csv") << "runtime\n1\n2\n3\n";
  CHECK_THROWS_WITH_AS(import_dataset((dir / "a.csv").string(), {{(dir / "three.csv").string()}, {"runtime"}, {}, {}}, (dir / "x.csv").string()),
                       doctest::Contains("has 3 data rows"), InvalidArgument);
  CHECK_THROWS_WITH_AS(import_dataset((dir / "a.csv").string(), {{}, {"latency"}, {}, {}}, (dir / "x.csv").string()),
                       doctest::Contains("--targets 'latency' is not a column; columns: topology, lat, ns, bw"), InvalidArgument);
  // The imported data trains a proxy.
  std::ofstream big(dir / "big.csv");
  big << "k,n,y\n";
  Rng rng(3);
  for (int i = 0; i < 300; ++i) {
    const std::int64_t n = std::int64_t{1} << rng.below(6);
    const char* k = rng.below(2) ? "p" : "q";
    big << k << "," << n << "," << (k[0] == 'p' ? 2.0 : 1.0) * static_cast<double>(n) << "\n";
  }
  big.close();
  import_dataset((dir / "big.csv").string(), {{}, {"y"}, {}, {}}, (dir / "big_ds.csv").string());
  TrainOptions t;
  t.targets = {"y"};
  json rep;
  ProxyModel::train(load_dataset((dir / "big_ds.csv").string()), t, &rep);
  CHECK(rep.at("targets").at("y").at("test").at("r2").get<double>() > 0.99);
}
