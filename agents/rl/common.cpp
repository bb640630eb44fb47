#include "agents/rl/common.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/error.hpp"

namespace dsegym::rl {

void flatten_obs(const Value& v, std::vector<float>& out, std::vector<float>* mask) {
  switch (v.type()) {
    case Value::Type::Null:
    case Value::Type::String: return;
    case Value::Type::Bool: out.push_back(v.as_bool() ? 1.0f : 0.0f); return;
    case Value::Type::Int: out.push_back(static_cast<float>(v.as_int())); return;
    case Value::Type::Double: out.push_back(static_cast<float>(v.as_double())); return;
    case Value::Type::Real:
      for (double x : v.as_real()) out.push_back(static_cast<float>(x));
      return;
    case Value::Type::List:
      for (const auto& x : v.as_list()) flatten_obs(x, out, mask);
      return;
    case Value::Type::Dict:
      for (const auto& [k, x] : v.as_dict()) {
        if (k == "action_mask" && mask) {
          mask->clear();
          flatten_obs(x, *mask, nullptr);
        } else {
          flatten_obs(x, out, mask);
        }
      }
      return;
  }
}

void RunningNorm::update(const std::vector<float>& x) {
  if (mean_.size() != x.size()) {
    mean_.assign(x.size(), 0.0);
    m2_.assign(x.size(), 0.0);
    count_ = 0;
  }
  count_ += 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double d = x[i] - mean_[i];
    mean_[i] += d / count_;
    m2_[i] += d * (x[i] - mean_[i]);
  }
}

void RunningNorm::apply(std::vector<float>& x) const {
  if (mean_.size() != x.size() || count_ < 2) return;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double sd = std::sqrt(m2_[i] / count_ + 1e-8);
    x[i] = static_cast<float>(std::clamp((x[i] - mean_[i]) / sd, -10.0, 10.0));
  }
}

json RunningNorm::save() const { return {{"mean", mean_}, {"m2", m2_}, {"count", count_}}; }

void RunningNorm::load(const json& j) {
  mean_ = j.at("mean").get<std::vector<double>>();
  m2_ = j.at("m2").get<std::vector<double>>();
  count_ = j.at("count").get<double>();
}

std::vector<float> ObsInput::operator()(const Value& obs, std::vector<float>& mask, bool update_norm, bool check_mask) {
  std::vector<float> x;
  flatten_obs(obs, x, &mask);
  if (x.empty()) x.push_back(0.0f);  // an env without observations: a bias-only policy
  if (dim_ == 0) dim_ = static_cast<std::int64_t>(x.size());
  if (static_cast<std::int64_t>(x.size()) != dim_)
    throw InvalidArgument("agent: the observation has " + std::to_string(x.size()) + " numbers, earlier ones had " + std::to_string(dim_));
  if (!mask.empty()) {
    if (static_cast<std::int64_t>(mask.size()) != mask_n_)
      throw InvalidArgument("agent: the observation's action_mask has " + std::to_string(mask.size()) +
                            " entries; a mask needs a single discrete action of that many values");
    if (check_mask && std::none_of(mask.begin(), mask.end(), [](float m) { return m > 0.5f; }))
      throw InvalidArgument("agent: the action_mask allows no action");
  }
  if (normalize_ && blocks_n_ > 0 && dim_ >= blocks_n_ * blocks_f_) {
    // Each (shared part, block b) is one sample of the pooled statistics.
    const auto shared = static_cast<std::size_t>(dim_ - blocks_n_ * blocks_f_), f = static_cast<std::size_t>(blocks_f_);
    std::vector<std::vector<float>> views(static_cast<std::size_t>(blocks_n_));
    for (std::size_t b = 0; b < views.size(); ++b) {
      views[b].assign(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(shared));
      views[b].insert(views[b].end(), x.begin() + static_cast<std::ptrdiff_t>(shared + b * f), x.begin() + static_cast<std::ptrdiff_t>(shared + (b + 1) * f));
      if (update_norm) norm_.update(views[b]);
    }
    for (std::size_t b = 0; b < views.size(); ++b) {
      norm_.apply(views[b]);
      std::copy(views[b].begin(), views[b].begin() + static_cast<std::ptrdiff_t>(shared), x.begin());
      std::copy(views[b].begin() + static_cast<std::ptrdiff_t>(shared), views[b].end(), x.begin() + static_cast<std::ptrdiff_t>(shared + b * f));
    }
  } else if (normalize_) {
    if (update_norm) norm_.update(x);
    norm_.apply(x);
  }
  return x;
}

ActionCodec::ActionCodec(SpacePtr space) : space_(std::move(space)) {
  const auto& leaves = space_->leaves();
  int discrete = 0;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const bool d = leaves[i].kind != LeafKind::Continuous;
    heads_.push_back({i, d, d ? leaves[i].cardinality : 1});
    discrete += d ? 1 : 0;
  }
  if (leaves.size() == 1 && discrete == 1) maskable_ = 0;
}

Value ActionCodec::decode(const std::vector<double>& per_leaf) const {
  std::vector<double> unit(heads_.size());
  for (const auto& h : heads_) {
    const double x = per_leaf[h.leaf];
    unit[h.leaf] = h.discrete ? (x + 0.5) / static_cast<double>(h.n) : std::clamp(x, 0.0, 1.0);
  }
  return space_->decode(unit);
}

std::vector<double> ActionCodec::encode(const Value& action) const {
  std::vector<double> unit = space_->encode(action);
  for (const auto& h : heads_)
    if (h.discrete) unit[h.leaf] = std::min<double>(static_cast<double>(h.n - 1), std::floor(unit[h.leaf] * static_cast<double>(h.n)));
  return unit;
}

torch::nn::Sequential mlp(std::int64_t in, std::int64_t hidden, std::int64_t layers, std::int64_t out, double out_gain) {
  torch::nn::Sequential net;
  std::int64_t width = in;
  for (std::int64_t l = 0; l < layers; ++l) {
    torch::nn::Linear lin(width, hidden);
    torch::nn::init::orthogonal_(lin->weight, std::sqrt(2.0));
    torch::nn::init::zeros_(lin->bias);
    net->push_back(lin);
    net->push_back(torch::nn::Tanh());
    width = hidden;
  }
  torch::nn::Linear last(width, out);
  torch::nn::init::orthogonal_(last->weight, out_gain);
  torch::nn::init::zeros_(last->bias);
  net->push_back(last);
  return net;
}

namespace {
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64_encode(const std::string& in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string b64_decode(const std::string& in) {
  int table[256];
  std::fill(std::begin(table), std::end(table), -1);
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kB64[i])] = i;
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int d = table[static_cast<unsigned char>(c)];
    if (d < 0) throw InvalidArgument("checkpoint: the network data is not base64");
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xFF));
    }
  }
  return out;
}
}  // namespace

std::string archive_to_base64(const std::function<void(torch::serialize::OutputArchive&)>& write) {
  torch::serialize::OutputArchive a;
  write(a);
  std::ostringstream os;
  a.save_to(os);
  return b64_encode(os.str());
}

void archive_from_base64(const std::string& b64, const std::function<void(torch::serialize::InputArchive&)>& read) {
  std::istringstream is(b64_decode(b64));
  torch::serialize::InputArchive a;
  a.load_from(is);
  read(a);
}

json rng_to_json(const Rng& r) {
  json j = json::array();
  for (auto x : r.state()) j.push_back(std::to_string(x));  // as text: JSON numbers lose 64-bit precision in some readers
  return j;
}

void rng_from_json(Rng& r, const json& j) {
  std::array<std::uint64_t, 4> s{};
  for (std::size_t i = 0; i < 4; ++i) s[i] = std::stoull(j.at(i).get<std::string>());
  r.set_state(s);
}

double RewardFill::operator()(double r) {
  if (std::isfinite(r)) {
    worst_ = any_ ? std::min(worst_, r) : r;
    any_ = true;
    return r;
  }
  return any_ ? worst_ : 0.0;
}

double ReturnScale::operator()(double r, bool episode_end, double gamma) {
  ret_ = ret_ * gamma + r;
  n_ += 1;
  const double d = ret_ - mean_;
  mean_ += d / n_;
  m2_ += d * (ret_ - mean_);
  if (episode_end) ret_ = 0;
  const double sd = n_ > 1 ? std::sqrt(m2_ / n_) : 0.0;
  return sd > 1e-8 ? r / sd : r;
}

std::unique_lock<std::mutex> seed_torch(std::int64_t threads, std::uint64_t seed) {
  static std::mutex m;
  std::unique_lock<std::mutex> lock(m);
  torch::set_num_threads(static_cast<int>(threads));
  torch::manual_seed(seed);
  return lock;
}

}  // namespace dsegym::rl
