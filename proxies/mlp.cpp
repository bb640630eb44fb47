// The MLP proxy (libtorch; built into the torch library): fully connected
// layers with SiLU, Adam with weight decay, minibatches of a seeded
// permutation, early stopping on the validation loss (best weights kept).
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "agents/rl/common.hpp"
#include "base/error.hpp"
#include "base/rng.hpp"
#include "proxies/model_modules.hpp"

namespace dsegym::proxy {

namespace {

using nlohmann::json;

torch::nn::Sequential net(std::int64_t in, std::int64_t hidden, std::int64_t layers) {
  torch::nn::Sequential s;
  std::int64_t w = in;
  for (std::int64_t l = 0; l < layers; ++l) {
    s->push_back(torch::nn::Linear(w, hidden));
    s->push_back(torch::nn::SiLU());
    w = hidden;
  }
  s->push_back(torch::nn::Linear(w, 1));
  return s;
}

torch::Tensor to_tensor(const Eigen::MatrixXd& X) {
  torch::Tensor t = torch::empty({X.rows(), X.cols()});
  auto a = t.accessor<float, 2>();
  for (Eigen::Index r = 0; r < X.rows(); ++r)
    for (Eigen::Index c = 0; c < X.cols(); ++c) a[r][c] = static_cast<float>(X(r, c));
  return t;
}

class Mlp final : public Regressor {
public:
  Mlp(json opt, std::uint64_t seed) : opt_(std::move(opt)), seed_(seed) {}

  void fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::MatrixXd& Xv, const Eigen::VectorXd& yv) override {
    in_ = X.cols();
    {
      auto lock = rl::seed_torch(opt_.at("threads").get<std::int64_t>(), derive_seed(seed_, 0x31F));
      net_ = net(in_, opt_.at("hidden").get<std::int64_t>(), opt_.at("layers").get<std::int64_t>());
    }
    const torch::Tensor xt = to_tensor(X), yt = to_tensor(y);
    const bool has_val = Xv.rows() > 0;
    const torch::Tensor xv = has_val ? to_tensor(Xv) : torch::Tensor(), yvt = has_val ? to_tensor(yv) : torch::Tensor();
    torch::optim::Adam opt(net_->parameters(),
                           torch::optim::AdamOptions(opt_.at("lr").get<double>()).weight_decay(opt_.at("weight_decay").get<double>()));
    const auto n = X.rows();
    const auto batch = std::max<std::int64_t>(1, opt_.at("batch").get<std::int64_t>());
    const int epochs = opt_.at("epochs").get<int>(), patience = opt_.at("early_stopping").get<int>();
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    Rng rng(derive_seed(seed_, 0xE90C));
    double best = std::numeric_limits<double>::infinity();
    int since = 0;
    std::vector<torch::Tensor> best_params;
    for (int e = 0; e < epochs; ++e) {
      for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng.below(i)]);
      for (std::int64_t s = 0; s < n; s += batch) {
        const std::int64_t m = std::min(batch, n - s);
        const torch::Tensor b = torch::from_blob(idx.data() + s, {m}, torch::kLong).clone();
        const torch::Tensor loss = torch::mse_loss(net_->forward(xt.index_select(0, b)), yt.index_select(0, b));
        opt.zero_grad();
        loss.backward();
        opt.step();
      }
      if (!has_val) continue;
      torch::NoGradGuard ng;
      const double vl = torch::mse_loss(net_->forward(xv), yvt).item<double>();
      if (vl < best) {
        best = vl;
        since = 0;
        best_params.clear();
        for (const auto& p : net_->parameters()) best_params.push_back(p.detach().clone());
      } else if (++since >= patience) {
        break;
      }
    }
    if (!best_params.empty()) {
      torch::NoGradGuard ng;
      auto params = net_->parameters();
      for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best_params[i]);
    }
  }

  void predict(const Eigen::MatrixXd& X, Eigen::VectorXd& mean, Eigen::VectorXd* stddev) const override {
    if (X.cols() != in_) throw InvalidArgument("mlp: inputs have " + std::to_string(X.cols()) + " columns, the network takes " + std::to_string(in_));
    torch::NoGradGuard ng;
    const torch::Tensor out = net_->forward(to_tensor(X)).contiguous();
    mean.resize(X.rows());
    for (Eigen::Index i = 0; i < X.rows(); ++i) mean(i) = out.data_ptr<float>()[i];
    if (stddev) stddev->setConstant(X.rows(), std::numeric_limits<double>::quiet_NaN());
  }

  bool has_uncertainty() const override { return false; }

  json save() const override {
    return {{"kind", "mlp"}, {"options", opt_}, {"seed", seed_}, {"inputs", in_},
            {"weights", rl::archive_to_base64([&](torch::serialize::OutputArchive& a) { net_->save(a); })}};
  }

  static std::unique_ptr<Mlp> load(const json& j) {
    auto m = std::make_unique<Mlp>(j.at("options"), j.at("seed").get<std::uint64_t>());
    m->in_ = j.at("inputs").get<std::int64_t>();
    const auto hidden = m->opt_.at("hidden").get<std::int64_t>(), layers = m->opt_.at("layers").get<std::int64_t>();
    if (m->in_ < 1 || m->in_ > 100000 || hidden < 1 || hidden > 65536 || layers < 1 || layers > 64)
      throw InvalidArgument("mlp: inputs, hidden or layers out of range (1..100000, 1..65536, 1..64)");
    m->net_ = net(m->in_, hidden, layers);
    rl::archive_from_base64(j.at("weights").get<std::string>(), [&](torch::serialize::InputArchive& a) { m->net_->load(a); });
    return m;
  }

private:
  json opt_;
  std::uint64_t seed_;
  std::int64_t in_ = 0;
  mutable torch::nn::Sequential net_{nullptr};  // forward() is not const
};


}  // namespace

}  // namespace dsegym::proxy

extern "C" __attribute__((visibility("default"))) int dsegym_mlp_make(const nlohmann::json* options, std::uint64_t seed,
                                                                      dsegym::proxy::Regressor** out, std::string* error) {
  return dsegym::module_call(error, [&] { *out = std::make_unique<dsegym::proxy::Mlp>(*options, seed).release(); });
}

extern "C" __attribute__((visibility("default"))) int dsegym_mlp_load(const nlohmann::json* saved, dsegym::proxy::Regressor** out,
                                                                      std::string* error) {
  return dsegym::module_call(error, [&] { *out = dsegym::proxy::Mlp::load(*saved).release(); });
}
