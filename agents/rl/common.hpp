#pragma once
// Shared pieces of the RL agents (libtorch): observation flattening and
// normalisation, the action codec (one head per knob of the action space),
// MLPs, and checkpoint encoding.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "agents/agent.hpp"
#include "base/rng.hpp"

namespace dsegym::rl {

// Numbers of an observation in order (dict entries in their order, lists
// element by element, bools as 0/1, strings skipped); a dict's
// "action_mask" goes to `mask` instead.
void flatten_obs(const Value& v, std::vector<float>& out, std::vector<float>* mask);

// Running mean and variance (Welford) per dimension; apply() standardises
// and clips to [-10, 10].
class RunningNorm {
public:
  void update(const std::vector<float>& x);
  void apply(std::vector<float>& x) const;
  json save() const;
  void load(const json& j);

private:
  std::vector<double> mean_, m2_;
  double count_ = 0;
};

// Observation -> network input: flattened, checked against the first
// observation's size, normalised (optionally); the action mask is checked
// against the maskable action (`mask_n` values; 0: no mask allowed).
class ObsInput {
public:
  ObsInput(bool normalize, std::int64_t mask_n) : normalize_(normalize), mask_n_(mask_n) {}
  // `check_mask`: an ended episode's last observation may allow nothing.
  std::vector<float> operator()(const Value& obs, std::vector<float>& mask, bool update_norm, bool check_mask);
  std::int64_t dim() const { return dim_; }
  void set_dim(std::int64_t d) { dim_ = d; }
  // The observation ends with n blocks of f features, one per candidate:
  // they share one set of statistics (feature k of every block), so that a
  // network scoring each candidate sees them on one scale.
  void pool_blocks(std::int64_t n, std::int64_t f) {
    blocks_n_ = n;
    blocks_f_ = f;
  }
  json save() const { return {{"dim", dim_}, {"norm", norm_.save()}}; }
  void load(const json& j) {
    dim_ = j.at("dim").get<std::int64_t>();
    norm_.load(j.at("norm"));
  }

private:
  bool normalize_;
  std::int64_t mask_n_;
  std::int64_t dim_ = 0;
  std::int64_t blocks_n_ = 0, blocks_f_ = 0;
  RunningNorm norm_;
};

// One head per leaf of the action space: categorical over a discrete
// leaf's values, or a Gaussian (in the leaf's [0,1] encoding) for a
// continuous one.
struct HeadSpec {
  std::size_t leaf;
  bool discrete;
  std::int64_t n;  // values of a discrete leaf; 1 for continuous
};

class ActionCodec {
public:
  explicit ActionCodec(SpacePtr space);
  const Space& space() const { return *space_; }
  const std::vector<HeadSpec>& heads() const { return heads_; }
  // The leaf a mask applies to: the single discrete leaf, else -1.
  int maskable_leaf() const { return maskable_; }
  // Per leaf: a value index (discrete) or a real sample (continuous, in
  // [0,1] units, clamped when decoding).
  Value decode(const std::vector<double>& per_leaf) const;
  std::vector<double> encode(const Value& action) const;  // inverse of decode up to clamping

private:
  SpacePtr space_;
  std::vector<HeadSpec> heads_;
  int maskable_ = -1;
};

// Values of the maskable leaf, or 0 when the action space takes no mask.
inline std::int64_t mask_size(const ActionCodec& c) {
  return c.maskable_leaf() < 0 ? 0 : c.heads()[static_cast<std::size_t>(c.maskable_leaf())].n;
}

// in -> [hidden x layers, tanh] -> out, orthogonal init (gain sqrt 2 for
// hidden layers, `out_gain` for the last).
torch::nn::Sequential mlp(std::int64_t in, std::int64_t hidden, std::int64_t layers, std::int64_t out, double out_gain);

// Modules and optimiser state <-> a base64 string inside a JSON checkpoint.
std::string archive_to_base64(const std::function<void(torch::serialize::OutputArchive&)>& write);
void archive_from_base64(const std::string& b64, const std::function<void(torch::serialize::InputArchive&)>& read);

json rng_to_json(const Rng& r);
void rng_from_json(Rng& r, const json& j);

// Reward used for learning: a failed step (NaN reward) gets the worst
// finite reward seen so far, or 0 before any.
class RewardFill {
public:
  double operator()(double r);
  double worst() const { return worst_; }
  void set_worst(double w, bool any) {
    worst_ = w;
    any_ = any;
  }
  bool any() const { return any_; }

private:
  double worst_ = 0;
  bool any_ = false;
};

// Reward scaling by the running standard deviation of the discounted
// return (as in common PPO implementations), so that the value targets
// have unit scale whatever the env's reward units.
class ReturnScale {
public:
  double operator()(double r, bool episode_end, double gamma);
  json save() const { return {{"ret", ret_}, {"n", n_}, {"mean", mean_}, {"m2", m2_}}; }
  void load(const json& j) {
    ret_ = j.at("ret").get<double>();
    n_ = j.at("n").get<double>();
    mean_ = j.at("mean").get<double>();
    m2_ = j.at("m2").get<double>();
  }

private:
  double ret_ = 0, n_ = 0, mean_ = 0, m2_ = 0;
};

// Sets libtorch's thread count and seeds its global generator for weight
// initialisation; hold the lock while the networks are built.
std::unique_lock<std::mutex> seed_torch(std::int64_t threads, std::uint64_t seed);

}  // namespace dsegym::rl
