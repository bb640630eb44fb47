// NAS-Bench-201 networks in libtorch: training on Fashion-MNIST and
// zero-cost proxies. Part of the torch library (libdsegym_torch.so); the
// rest of dsegym reaches it through dsegym_nas_evaluate (envs/nas/nas_eval.hpp).
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <cmath>
#include <mutex>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/rng.hpp"
#include "simulators/nn/cell_space.hpp"
#include "simulators/nn/fashion_mnist.hpp"
#include "simulators/nn/macro_space.hpp"

namespace dsegym::nn {

namespace {

using nlohmann::json;
namespace F = torch::nn::functional;

// When set, sees the input of every ReLU of the network (for NASWOT's codes).
thread_local std::function<void(const torch::Tensor&)>* relu_probe = nullptr;

torch::Tensor probed_relu(const torch::Tensor& x) {
  if (relu_probe) (*relu_probe)(x);
  return torch::relu(x);
}

// ReLU -> conv (no bias) -> batch norm, NAS-Bench-201's ReLUConvBN.
struct ReluConvBnImpl : torch::nn::Module {
  ReluConvBnImpl(std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, k).stride(stride).padding(k / 2).bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(cout))) {}
  torch::Tensor forward(const torch::Tensor& x) { return bn(conv(probed_relu(x))); }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
};
TORCH_MODULE(ReluConvBn);

struct CellModuleImpl : torch::nn::Module {
  CellModuleImpl(const Cell& cell, std::int64_t c) : cell_(cell) {
    for (int e = 0; e < kEdges; ++e) {
      const Op op = cell.ops[static_cast<std::size_t>(e)];
      if (op == Op::Conv1x1) convs_[static_cast<std::size_t>(e)] = register_module("e" + std::to_string(e), ReluConvBn(c, c, 1, 1));
      if (op == Op::Conv3x3) convs_[static_cast<std::size_t>(e)] = register_module("e" + std::to_string(e), ReluConvBn(c, c, 3, 1));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    std::array<torch::Tensor, 4> node{x, {}, {}, {}};
    for (int n = 1; n <= 3; ++n) {
      torch::Tensor sum = torch::zeros_like(x);
      for (int e = 0; e < kEdges; ++e) {
        if (edge_to(e) != n) continue;
        const torch::Tensor& in = node[static_cast<std::size_t>(edge_from(e))];
        switch (cell_.ops[static_cast<std::size_t>(e)]) {
          case Op::None: break;
          case Op::Skip: sum = sum + in; break;
          case Op::Conv1x1:
          case Op::Conv3x3: sum = sum + convs_[static_cast<std::size_t>(e)]->forward(in); break;
          case Op::AvgPool3x3: sum = sum + F::avg_pool2d(in, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false)); break;
        }
      }
      node[static_cast<std::size_t>(n)] = sum;
    }
    return node[3];
  }
  Cell cell_;
  std::array<ReluConvBn, kEdges> convs_{nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
};
TORCH_MODULE(CellModule);

// NAS-Bench-201's residual reduction block: two ReLUConvBN (the first with
// stride 2) plus a shortcut of 2x2 average pooling and a 1x1 convolution.
struct ReduceImpl : torch::nn::Module {
  ReduceImpl(std::int64_t cin, std::int64_t cout)
      : a(register_module("a", ReluConvBn(cin, cout, 3, 2))),
        b(register_module("b", ReluConvBn(cout, cout, 3, 1))),
        shortcut(register_module("shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, 1).bias(false)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return b(a(x)) + shortcut(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2))); }
  ReluConvBn a, b;
  torch::nn::Conv2d shortcut;
};
TORCH_MODULE(Reduce);

// What training and the zero-cost scores need of a network.
struct NasNet : torch::nn::Module {
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
};
using NetFactory = std::function<std::shared_ptr<NasNet>()>;

struct NetImpl : NasNet {
  NetImpl(const Cell& cell, const NetConfig& net) {
    std::int64_t c = net.channels;
    stem_conv = register_module("stem_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(net.in_channels, c, 3).padding(1).bias(false)));
    stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(c));
    body = register_module("body", torch::nn::Sequential());
    for (int stage = 0; stage < 3; ++stage) {
      if (stage > 0) {
        body->push_back(Reduce(c, 2 * c));
        c *= 2;
      }
      for (int k = 0; k < net.cells_per_stage; ++k) body->push_back(CellModule(cell, c));
    }
    head_bn = register_module("head_bn", torch::nn::BatchNorm2d(c));
    classifier = register_module("classifier", torch::nn::Linear(c, net.classes));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor h = body->forward(stem_bn(stem_conv(x)));
    h = probed_relu(head_bn(h));
    return classifier(F::adaptive_avg_pool2d(h, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
  }
  torch::nn::Conv2d stem_conv{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr}, head_bn{nullptr};
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(Net);

torch::Tensor probed_relu6(const torch::Tensor& x) {
  if (relu_probe) (*relu_probe)(x);
  return torch::clamp(x, 0, 6);
}

// MobileNetV2's inverted residual: 1x1 expansion, k x k depthwise (with the
// stride), 1x1 projection; batch norm after each, ReLU6 after the first two;
// a residual connection when the shape allows.
struct MbConvImpl : torch::nn::Module {
  MbConvImpl(std::int64_t cin, std::int64_t cout, std::int64_t k, std::int64_t stride, std::int64_t expand)
      : residual(stride == 1 && cin == cout) {
    const std::int64_t mid = cin * expand;
    expand_conv = register_module("expand", torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, mid, 1).bias(false)));
    bn1 = register_module("bn1", torch::nn::BatchNorm2d(mid));
    dw = register_module("dw", torch::nn::Conv2d(torch::nn::Conv2dOptions(mid, mid, k).stride(stride).padding(k / 2).groups(mid).bias(false)));
    bn2 = register_module("bn2", torch::nn::BatchNorm2d(mid));
    project = register_module("project", torch::nn::Conv2d(torch::nn::Conv2dOptions(mid, cout, 1).bias(false)));
    bn3 = register_module("bn3", torch::nn::BatchNorm2d(cout));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = probed_relu6(bn1(expand_conv(x)));
    h = probed_relu6(bn2(dw(h)));
    h = bn3(project(h));
    return residual ? x + h : h;
  }
  bool residual;
  torch::nn::Conv2d expand_conv{nullptr}, dw{nullptr}, project{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
};
TORCH_MODULE(MbConv);

struct MacroNetImpl : NasNet {
  MacroNetImpl(const MacroArch& a, const MacroNetConfig& net) {
    std::int64_t c = kStemChannels;
    stem_conv = register_module("stem_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(net.in_channels, c, 3).padding(1).bias(false)));
    stem_bn = register_module("stem_bn", torch::nn::BatchNorm2d(c));
    body = register_module("body", torch::nn::Sequential());
    for (int s = 0; s < kStages; ++s) {
      const Stage& st = a.stages[static_cast<std::size_t>(s)];
      const std::int64_t cout = stage_channels(s, st.width);
      for (int b = 0; b < st.depth; ++b) {
        body->push_back(MbConv(c, cout, st.kernel, b == 0 ? kStrides[static_cast<std::size_t>(s)] : 1, st.expand));
        c = cout;
      }
    }
    classifier = register_module("classifier", torch::nn::Linear(c, net.classes));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    const torch::Tensor h = body->forward(probed_relu6(stem_bn(stem_conv(x))));
    return classifier(F::adaptive_avg_pool2d(h, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
  }
  torch::nn::Conv2d stem_conv{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  torch::nn::Sequential body{nullptr};
  torch::nn::Linear classifier{nullptr};
};

// Fashion-MNIST as normalised float tensors, loaded once per process.
struct Data {
  torch::Tensor train_x, train_y, test_x, test_y;
};

const Data& data() {
  static std::once_flag once;
  static Data d;
  static std::string error;
  std::call_once(once, [] {
    try {
      auto to_tensor = [](const ImageSet& s, torch::Tensor& x, torch::Tensor& y) {
        x = torch::from_blob(const_cast<std::uint8_t*>(s.pixels.data()), {s.count, 1, s.rows, s.cols}, torch::kUInt8).to(torch::kFloat32).div(255.0);
        y = torch::from_blob(const_cast<std::uint8_t*>(s.labels.data()), {s.count}, torch::kUInt8).to(torch::kInt64);
      };
      to_tensor(load_fashion_mnist("train"), d.train_x, d.train_y);
      to_tensor(load_fashion_mnist("test"), d.test_x, d.test_y);
      // Standardise with the training set's pixel mean and deviation.
      const auto mean = d.train_x.mean(), sd = d.train_x.std();
      d.train_x = (d.train_x - mean) / sd;
      d.test_x = (d.test_x - mean) / sd;
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  if (!error.empty()) throw InvalidArgument(error);
  return d;
}

// The images of `classes` (all ten when empty), labels renumbered 0..n-1 in
// the order given: a task of its own (e.g. the five upper-body garments).
std::pair<torch::Tensor, torch::Tensor> task_subset(const torch::Tensor& x, const torch::Tensor& y, const std::vector<std::int64_t>& classes) {
  if (classes.empty()) return {x, y};
  torch::Tensor map = torch::full({10}, -1, torch::kInt64);
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] < 0 || classes[i] > 9) throw InvalidArgument("NAS task class " + std::to_string(classes[i]) + " is not in 0-9");
    map[classes[i]] = static_cast<std::int64_t>(i);
  }
  const torch::Tensor label = map.index_select(0, y), keep = label.ge(0).nonzero().flatten();
  return {x.index_select(0, keep), label.index_select(0, keep)};
}

NetConfig net_config(const json& j) {
  NetConfig n;
  n.channels = j.value("channels", n.channels);
  n.cells_per_stage = j.value("cells_per_stage", n.cells_per_stage);
  n.classes = j.value("classes", n.classes);
  return n;
}

std::int64_t count_params(torch::nn::Module& net) {
  std::int64_t p = 0;
  for (const auto& t : net.parameters()) p += t.numel();
  return p;
}

// A seeded permutation of 0..n-1 (our RNG, so the order is the same on every platform).
torch::Tensor permutation(std::int64_t n, Rng& rng) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = n - 1; i > 0; --i) std::swap(idx[static_cast<std::size_t>(i)], idx[rng.below(static_cast<std::uint64_t>(i + 1))]);
  return torch::tensor(idx, torch::kInt64);
}

// SGD with Nesterov momentum and a cosine learning rate, as NAS-Bench-201
// trains (there: 200 epochs on CIFAR; here a small budget on Fashion-MNIST).
json train(const NetFactory& make, const json& opt, std::uint64_t seed) {
  const auto t0 = std::chrono::steady_clock::now();
  const Data& d = data();
  const auto classes = opt.value("classes", std::vector<std::int64_t>{});
  const auto [train_x, train_y] = task_subset(d.train_x, d.train_y, classes);
  const auto [test_x, test_y] = task_subset(d.test_x, d.test_y, classes);
  const std::int64_t images = std::min<std::int64_t>(opt.value("images", 10000), train_x.size(0));
  const std::int64_t test_images = std::min<std::int64_t>(opt.value("test_images", 10000), test_x.size(0));
  const int epochs = opt.value("epochs", 2);
  const std::int64_t batch = opt.value("batch", 128);
  const double lr = opt.value("lr", 0.1);
  const std::shared_ptr<NasNet> net = make();
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(lr).momentum(0.9).nesterov(true).weight_decay(5e-4));
  Rng rng(seed);
  // The training subset: the first `images` of a seeded shuffle (same subset for every cell with this seed).
  Rng subset_rng(seed ^ 0x5eedULL);
  const torch::Tensor subset = permutation(train_x.size(0), subset_rng).slice(0, 0, images);
  const torch::Tensor x_all = train_x.index_select(0, subset), y_all = train_y.index_select(0, subset);
  const std::int64_t steps_per_epoch = (images + batch - 1) / batch, total = steps_per_epoch * epochs;
  std::int64_t step = 0;
  double last_loss = 0;
  net->train();
  for (int ep = 0; ep < epochs; ++ep) {
    const torch::Tensor order = permutation(images, rng);
    double loss_sum = 0;
    for (std::int64_t b = 0; b < images; b += batch, ++step) {
      const torch::Tensor idx = order.slice(0, b, std::min(images, b + batch));
      const double cur = 0.5 * lr * (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(total)));
      for (auto& g : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(g.options()).lr(cur);
      sgd.zero_grad();
      const torch::Tensor loss = F::cross_entropy(net->forward(x_all.index_select(0, idx)), y_all.index_select(0, idx));
      loss.backward();
      sgd.step();
      loss_sum += loss.item<double>();
    }
    last_loss = loss_sum / static_cast<double>(steps_per_epoch);
  }
  net->eval();
  torch::NoGradGuard no_grad;
  std::int64_t correct = 0;
  for (std::int64_t b = 0; b < test_images; b += 500) {
    const std::int64_t e = std::min(test_images, b + 500);
    correct += net->forward(test_x.slice(0, b, e)).argmax(1).eq(test_y.slice(0, b, e)).sum().item<std::int64_t>();
  }
  return {{"accuracy_pct", 100.0 * static_cast<double>(correct) / static_cast<double>(test_images)},
          {"train_loss", last_loss},
          {"params", count_params(*net)},
          {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
}

// Zero-cost proxies at initialisation, on one seeded batch of training images:
//  synflow (Tanaka et al., NeurIPS 2020; as a NAS proxy, Abdelfattah et al.,
//    ICLR 2021): sum |theta * dR/dtheta| with every parameter replaced by its
//    absolute value, an all-ones input, R the sum of the output; batch norm
//    in eval mode (identity at initialisation), double precision.
//  naswot (Mellor et al., ICML 2021): log|det(K + I)| with K_ij the number
//    of ReLU units on which inputs i and j agree (both active or both
//    inactive), over every ReLU of the network.
//  grad_norm (Abdelfattah et al., ICLR 2021): sum over parameters of the L2
//    norm of the cross-entropy gradient.
json zero_cost(const NetFactory& make, const json& opt, std::uint64_t seed) {
  const auto t0 = std::chrono::steady_clock::now();
  const Data& d = data();
  const std::int64_t batch = opt.value("batch", 64);
  const auto [task_x, task_y] = task_subset(d.train_x, d.train_y, opt.value("classes", std::vector<std::int64_t>{}));
  Rng rng(seed);
  const torch::Tensor idx = permutation(task_x.size(0), rng).slice(0, 0, batch);
  const torch::Tensor x = task_x.index_select(0, idx), y = task_y.index_select(0, idx);
  json out;

  {  // grad_norm
    torch::manual_seed(seed);
    const std::shared_ptr<NasNet> net = make();
    net->train();
    F::cross_entropy(net->forward(x), y).backward();
    double g = 0;
    for (const auto& p : net->parameters())
      if (p.grad().defined()) g += p.grad().norm().item<double>();
    out["grad_norm"] = g;
    out["params"] = count_params(*net);
  }
  {  // naswot: ReLU codes from every ReLUConvBN input and the head's ReLU
    torch::manual_seed(seed);
    const std::shared_ptr<NasNet> net = make();
    net->train();
    torch::NoGradGuard no_grad;
    torch::Tensor k = torch::zeros({batch, batch}, torch::kFloat64);
    auto add_codes = [&](const torch::Tensor& pre) {
      const torch::Tensor c = (pre.flatten(1) > 0).to(torch::kFloat64);
      k += c.mm(c.t()) + (1 - c).mm((1 - c).t());
    };
    std::function<void(const torch::Tensor&)> probe = add_codes;
    relu_probe = &probe;
    try {
      net->forward(x);
    } catch (...) {
      relu_probe = nullptr;
      throw;
    }
    relu_probe = nullptr;
    // K + I rather than K: a network that ignores its input (a cell whose
    // output is zero) has identical codes for every image, K is singular and
    // log|det K| = -inf; with I it is finite and still the lowest score, and
    // nonsingular K (entries in the thousands) barely change.
    const auto [sign, logdet] = torch::linalg_slogdet(k + torch::eye(batch, torch::kFloat64));
    out["naswot"] = logdet.item<double>();
  }
  {  // synflow
    torch::manual_seed(seed);
    const std::shared_ptr<NasNet> net = make();
    net->to(torch::kFloat64);
    net->eval();
    {
      torch::NoGradGuard no_grad;
      for (auto& p : net->parameters()) p.abs_();
    }
    const torch::Tensor ones = torch::ones({1, x.size(1), x.size(2), x.size(3)}, torch::kFloat64);
    net->forward(ones).sum().backward();
    double s = 0;
    for (const auto& p : net->parameters())
      if (p.grad().defined()) s += (p * p.grad()).abs().sum().item<double>();
    out["synflow"] = s;
  }
  out["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace

}  // namespace dsegym::nn

// request: {"task": "train" | "zero_cost", "cell": "|...|", "net": {"channels", "cells_per_stage"},
//           "options": {...}, "seed": N, "threads": T}
extern "C" __attribute__((visibility("default"))) int dsegym_nas_evaluate(const nlohmann::json* request, nlohmann::json* result,
                                                                          std::string* error) {
  using namespace dsegym;
  try {
    const auto& r = *request;
    nn::NetConfig cfg = nn::net_config(r.value("net", nlohmann::json::object()));
    const std::uint64_t seed = r.value("seed", std::uint64_t{0});
    torch::set_num_threads(r.value("threads", 1));
    torch::manual_seed(seed);
    const std::string task = r.at("task").get<std::string>();
    const nlohmann::json opt = r.value("options", nlohmann::json::object());
    if (opt.contains("classes")) cfg.classes = static_cast<int>(opt.at("classes").size());
    nn::NetFactory make;
    if (r.contains("macro")) {
      const nn::MacroArch arch = nn::MacroArch::parse(r.at("macro").get<std::string>());
      nn::MacroNetConfig mcfg;
      mcfg.classes = cfg.classes;
      make = [arch, mcfg] { return std::static_pointer_cast<nn::NasNet>(std::make_shared<nn::MacroNetImpl>(arch, mcfg)); };
    } else {
      const nn::Cell cell = nn::Cell::parse(r.at("cell").get<std::string>());
      make = [cell, cfg] { return std::static_pointer_cast<nn::NasNet>(std::make_shared<nn::NetImpl>(cell, cfg)); };
    }
    if (task == "train") *result = nn::train(make, opt, seed);
    else if (task == "zero_cost") *result = nn::zero_cost(make, opt, seed);
    else throw InvalidArgument("NAS task '" + task + "' is not valid; choices: train, zero_cost");
    return 0;
  } catch (const InvalidArgument& e) {
    *error = e.what();
    return 1;
  } catch (const std::exception& e) {
    *error = e.what();
    return 2;
  }
}
