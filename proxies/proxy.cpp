#include "proxies/proxy.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "envs/core/error.hpp"
#include "envs/core/json_io.hpp"
#include "envs/core/files.hpp"

namespace dsegym::proxy {

using nlohmann::json;

namespace {

// Rows whose evaluation succeeded and has every target.
std::vector<std::size_t> usable_rows(const Dataset& d, const std::vector<std::size_t>& target_cols) {
  std::vector<std::size_t> out;
  for (std::size_t r = 0; r < d.rows(); ++r) {
    if (d.status[r] != "ok") continue;
    bool all = true;
    for (auto c : target_cols) all = all && std::isfinite(d.values[r][c]);
    if (all) out.push_back(r);
  }
  return out;
}

bool one_hot_for(const std::string& kind) { return kind == "gp" || kind == "mlp"; }

}  // namespace

bool ProxyModel::has_uncertainty() const {
  for (const auto& t : targets_)
    if (!t.model->has_uncertainty()) return false;
  return !targets_.empty();
}

ProxyModel ProxyModel::train(const Dataset& d, const TrainOptions& opt, json* report) {
  if (opt.targets.empty()) throw InvalidArgument("proxy train: give at least one target metric");
  std::vector<std::size_t> cols;
  for (const auto& t : opt.targets) cols.push_back(d.metric_index(t));
  const auto rows = usable_rows(d, cols);
  if (rows.size() < 10) throw InvalidArgument(d.path + ": only " + std::to_string(rows.size()) + " usable rows (ok status, targets present); need at least 10");
  ProxyModel p;
  p.env_ = d.schema.value("env", "");
  p.env_options_ = d.schema.value("env_options", json::array());
  p.model_kind_ = opt.model;
  p.encoder_ = Encoder(d.params, one_hot_for(opt.model));
  p.train_rows_ = rows.size();
  const Split split = split_rows(rows.size(), opt.validation_fraction, opt.test_fraction, opt.seed);
  auto select = [&](const std::vector<std::size_t>& which) {
    std::vector<std::vector<json>> cells;
    for (auto i : which) cells.push_back(d.cells[rows[i]]);
    return p.encoder_.encode_rows(cells);
  };
  const Eigen::MatrixXd Xtr = select(split.train), Xva = select(split.validation);
  json rep = {{"rows", rows.size()}, {"train", split.train.size()}, {"validation", split.validation.size()}, {"test", split.test.size()},
              {"model", opt.model}, {"targets", json::object()}};
  for (std::size_t k = 0; k < opt.targets.size(); ++k) {
    TargetModel t;
    t.name = opt.targets[k];
    t.unit = d.metrics[cols[k]].value("unit", "");
    t.goal = d.metrics[cols[k]].value("goal", "");
    bool positive = true;
    for (auto r : rows) positive = positive && d.values[r][cols[k]] > 0;
    t.log = opt.log_targets && positive;
    auto transform = [&](const std::vector<std::size_t>& which) {
      Eigen::VectorXd y(static_cast<Eigen::Index>(which.size()));
      for (std::size_t i = 0; i < which.size(); ++i) {
        const double v = d.values[rows[which[i]]][cols[k]];
        y(static_cast<Eigen::Index>(i)) = t.log ? std::log(v) : v;
      }
      return y;
    };
    Eigen::VectorXd ytr = transform(split.train), yva = transform(split.validation);
    t.mean = ytr.mean();
    const double var = (ytr.array() - t.mean).square().mean();
    t.scale = var > 0 ? std::sqrt(var) : 1.0;
    ytr = (ytr.array() - t.mean) / t.scale;
    yva = (yva.array() - t.mean) / t.scale;
    t.model = make_regressor(opt.model, opt.model_options, derive_seed(opt.seed, k));
    t.model->fit(Xtr, ytr, Xva, yva);
    p.targets_.push_back(std::move(t));
  }
  // Scores on the held-out rows, on the metrics' own scale.
  for (const auto& [part, which] : {std::pair<const char*, const std::vector<std::size_t>*>{"validation", &split.validation},
                                    std::pair<const char*, const std::vector<std::size_t>*>{"test", &split.test}}) {
    if (which->empty()) continue;
    std::vector<std::vector<json>> cells;
    for (auto i : *which) cells.push_back(d.cells[rows[i]]);
    const auto preds = p.predict(cells);
    for (std::size_t k = 0; k < opt.targets.size(); ++k) {
      std::vector<double> truth, pred;
      for (std::size_t i = 0; i < which->size(); ++i) {
        truth.push_back(d.values[rows[(*which)[i]]][cols[k]]);
        pred.push_back(preds[i].mean[k]);
      }
      rep["targets"][opt.targets[k]][part] = score(truth, pred).to_json();
    }
  }
  if (report) *report = std::move(rep);
  return p;
}

std::vector<Prediction> ProxyModel::predict(const std::vector<std::vector<json>>& rows) const {
  const Eigen::MatrixXd X = encoder_.encode_rows(rows);
  std::vector<Prediction> out(rows.size());
  for (auto& o : out) {
    o.mean.resize(targets_.size());
    o.stddev.resize(targets_.size());
  }
  for (std::size_t k = 0; k < targets_.size(); ++k) {
    const TargetModel& t = targets_[k];
    Eigen::VectorXd mean, sd;
    t.model->predict(X, mean, &sd);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const double z = t.mean + t.scale * mean(static_cast<Eigen::Index>(i));
      const double s = t.scale * sd(static_cast<Eigen::Index>(i));
      // Log targets: the median of the log-normal, and its spread to first order.
      out[i].mean[k] = t.log ? std::exp(z) : z;
      out[i].stddev[k] = t.log ? std::exp(z) * s : s;
    }
  }
  return out;
}

void ProxyModel::check(const Dataset& d) const {
  if (d.params.size() != params().size())
    throw InvalidArgument(d.path + ": " + std::to_string(d.params.size()) + " parameter columns, the proxy was trained on " +
                          std::to_string(params().size()));
  for (std::size_t i = 0; i < d.params.size(); ++i) {
    const json& a = d.params[i];
    const json& b = params()[i];
    if (a.at("name") != b.at("name") || a.at("space") != b.at("space"))
      throw InvalidArgument(d.path + ": parameter column " + std::to_string(i) + " is " + a.at("name").dump() + " " + a.at("space").dump() +
                            "; the proxy was trained on " + b.at("name").dump() + " " + b.at("space").dump());
  }
  for (const auto& t : targets_) d.metric_index(t.name);
}

json ProxyModel::evaluate(const Dataset& d, const std::string& predictions_csv) const {
  check(d);
  std::vector<std::size_t> cols;
  for (const auto& t : targets_) cols.push_back(d.metric_index(t.name));
  const auto rows = usable_rows(d, cols);
  std::vector<std::vector<json>> cells;
  for (auto r : rows) cells.push_back(d.cells[r]);
  const auto preds = predict(cells);
  json out = {{"rows", rows.size()}, {"targets", json::object()}};
  for (std::size_t k = 0; k < targets_.size(); ++k) {
    std::vector<double> truth, pred;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      truth.push_back(d.values[rows[i]][cols[k]]);
      pred.push_back(preds[i].mean[k]);
    }
    out["targets"][targets_[k].name] = score(truth, pred).to_json();
  }
  if (!predictions_csv.empty()) {
    std::ofstream f(predictions_csv);
    if (!f) throw InvalidArgument("cannot write " + predictions_csv);
    f << "row";
    for (const auto& t : targets_) f << "," << t.name << "," << t.name << "_pred," << t.name << "_std";
    f << "\n";
    f.precision(17);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      f << rows[i];
      for (std::size_t k = 0; k < targets_.size(); ++k) {
        f << "," << d.values[rows[i]][cols[k]] << "," << preds[i].mean[k] << ",";
        if (std::isfinite(preds[i].stddev[k])) f << preds[i].stddev[k];
      }
      f << "\n";
    }
    check_written(f, predictions_csv);
  }
  return out;
}

void ProxyModel::save(const std::string& path) const {
  json ts = json::array();
  for (const auto& t : targets_)
    ts.push_back({{"name", t.name}, {"unit", t.unit}, {"goal", t.goal}, {"log", t.log}, {"mean", t.mean}, {"scale", t.scale}, {"model", t.model->save()}});
  const json j = {{"format", "dsegym-proxy"}, {"version", 1}, {"env", env_}, {"env_options", env_options_}, {"model", model_kind_},
                  {"one_hot", encoder_.one_hot()}, {"parameters", encoder_.params()}, {"train_rows", train_rows_}, {"targets", ts}};
  write_file_atomically(path, j.dump() + "\n");
}

ProxyModel ProxyModel::load(const std::string& path) { return parse(read_json_file(path, "proxy model"), path); }

ProxyModel ProxyModel::parse(const json& j, const std::string& path) {
  if (!j.is_object() || j.value("format", "") != "dsegym-proxy") throw InvalidArgument(path + ": not a dsegym proxy model");
  try {
    ProxyModel p = from_json(j);
    // The models must read the encoder's columns: one prediction of a row of
    // zeros checks it before the model is used.
    const Eigen::MatrixXd probe = Eigen::MatrixXd::Zero(1, static_cast<Eigen::Index>(p.encoder_.width()));
    for (const auto& t : p.targets_) {
      Eigen::VectorXd mean;
      t.model->predict(probe, mean, nullptr);
    }
    return p;
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("proxy model " + path + ": " + e.what());
  } catch (const json::exception& e) {
    throw InvalidArgument("proxy model " + path + ": a field is missing or of the wrong type (" + excerpt(std::string_view(e.what()), 200) + ")");
  }
}

ProxyModel ProxyModel::from_json(const json& j) {
  ProxyModel p;
  p.env_ = j.at("env").get<std::string>();
  p.env_options_ = j.at("env_options");
  p.model_kind_ = j.at("model").get<std::string>();
  p.encoder_ = Encoder(j.at("parameters").get<std::vector<json>>(), j.at("one_hot").get<bool>());
  p.train_rows_ = j.at("train_rows").get<std::size_t>();
  for (const auto& t : j.at("targets")) {
    TargetModel m;
    m.name = t.at("name").get<std::string>();
    m.unit = t.at("unit").get<std::string>();
    m.goal = t.at("goal").get<std::string>();
    m.log = t.at("log").get<bool>();
    m.mean = t.at("mean").get<double>();
    m.scale = t.at("scale").get<double>();
    if (!std::isfinite(m.mean) || !(m.scale > 0) || !std::isfinite(m.scale))
      throw InvalidArgument("target '" + excerpt(m.name, 80) + "': 'mean' must be finite and 'scale' positive");
    m.model = load_regressor(t.at("model"));
    p.targets_.push_back(std::move(m));
  }
  if (p.targets_.empty()) throw InvalidArgument("no targets");
  return p;
}

}  // namespace dsegym::proxy
