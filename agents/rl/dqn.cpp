// Double DQN (Mnih et al. 2015; van Hasselt et al. 2016) with a uniform
// replay buffer, a periodically copied target network, linearly decaying
// epsilon-greedy exploration and action masks. The action space must be
// discrete; several knobs form one joint action (at most 4096 values).
#include <algorithm>
#include <cmath>

#include "agents/rl/agents.hpp"
#include "agents/rl/common.hpp"
#include "base/error.hpp"

namespace dsegym::rl {

namespace {

constexpr std::int64_t kMaxJoint = 4096;

class DqnAgent final : public PolicyAgent {
public:
  DqnAgent(const AgentContext& ctx, const Params& p)
      : codec_(ctx.space), rng_(ctx.seed), seed_(ctx.seed), input_(p.get_bool("normalize_obs"), mask_size(codec_)) {
    n_actions_ = 1;
    for (const auto& h : codec_.heads()) {
      if (!h.discrete)
        throw InvalidArgument("agent 'dqn' needs a discrete action space; knob '" + codec_.space().leaves()[h.leaf].name +
                              "' is continuous (use ppo)");
      if (n_actions_ > kMaxJoint / h.n)
        throw InvalidArgument("agent 'dqn': the joint action space has more than " + std::to_string(kMaxJoint) +
                              " values; use ppo, ippo or mappo (one head per knob)");
      n_actions_ *= h.n;
    }
    lr_ = p.get_double("lr");
    hidden_ = p.get_int("hidden");
    layers_ = p.get_int("layers");
    gamma_ = p.get_double("gamma");
    threads_ = p.get_int("threads");
    capacity_ = p.get_int("buffer");
    batch_ = p.get_int("batch");
    starts_ = std::max(p.get_int("learning_starts"), batch_);
    train_every_ = p.get_int("train_every");
    target_every_ = p.get_int("target_update");
    eps_start_ = p.get_double("eps_start");
    eps_end_ = p.get_double("eps_end");
    eps_decay_ = p.get_int("eps_decay");
    double_q_ = p.get_bool("double_q");
    scale_rewards_ = p.get_bool("normalize_reward");
  }

  Value act(const Value& obs) override {
    if (pending_) throw Error("agent: act() called twice without observe()");
    std::vector<float> mask;
    std::vector<float> x = prepare(obs, mask, true, true);
    const double frac = std::min(1.0, static_cast<double>(steps_) / static_cast<double>(eps_decay_));
    const double eps = eps_start_ + frac * (eps_end_ - eps_start_);
    std::int64_t a;
    if (rng_.uniform() < eps) {
      std::vector<std::int64_t> legal;
      for (std::int64_t i = 0; i < n_actions_; ++i)
        if (mask.empty() || mask[static_cast<std::size_t>(i)] > 0.5f) legal.push_back(i);
      a = legal[rng_.below(legal.size())];
    } else {
      a = best(x, mask);
    }
    pend_obs_ = std::move(x);
    pend_action_ = a;
    pending_ = true;
    return decode(a);
  }

  Value greedy(const Value& obs) override {
    std::vector<float> mask;
    std::vector<float> x = prepare(obs, mask, false, true);
    return decode(best(x, mask));
  }

  void observe(const Transition& t) override {
    if (!pending_) throw Error("agent: observe() without a preceding act()");
    pending_ = false;
    std::vector<float> next_mask;
    std::vector<float> next = prepare(t.next_obs, next_mask, false, false);
    if (next_mask.empty()) next_mask.assign(static_cast<std::size_t>(n_actions_), 1.0f);
    if (std::none_of(next_mask.begin(), next_mask.end(), [](float m) { return m > 0.5f; })) next_mask.assign(next_mask.size(), 1.0f);
    const std::size_t slot = static_cast<std::size_t>(size_ < capacity_ ? size_ : head_);
    auto put = [&](std::vector<float>& buf, const std::vector<float>& v) {
      if (buf.size() < (slot + 1) * v.size()) buf.resize((slot + 1) * v.size());
      std::copy(v.begin(), v.end(), buf.begin() + static_cast<std::ptrdiff_t>(slot * v.size()));
    };
    put(obs_buf_, pend_obs_);
    put(next_buf_, next);
    put(next_mask_buf_, next_mask);
    if (act_buf_.size() <= slot) {
      act_buf_.resize(slot + 1);
      rew_buf_.resize(slot + 1);
      done_buf_.resize(slot + 1);
    }
    act_buf_[slot] = pend_action_;
    double r = fill_(t.reward);
    if (scale_rewards_) r = scale_(r, t.terminated || t.truncated, gamma_);
    rew_buf_[slot] = static_cast<float>(r);
    done_buf_[slot] = t.terminated ? 1.0f : 0.0f;  // a truncated episode still bootstraps
    if (size_ < capacity_) ++size_;
    else head_ = (head_ + 1) % capacity_;
    ++steps_;
    if (steps_ >= starts_ && steps_ % train_every_ == 0) train();
    if (steps_ % target_every_ == 0) copy_target();
  }

  json save() const override {
    json j = {{"kind", "dqn"}, {"input", input_.save()}, {"rng", rng_to_json(rng_)}, {"steps", steps_},
              {"size", size_}, {"head", head_}, {"worst_reward", fill_.worst()}, {"any_reward", fill_.any()},
              {"reward_scale", scale_.save()}};
    if (q_) {
      j["networks"] = archive_to_base64([&](torch::serialize::OutputArchive& a) {
        q_->save(a);
        torch::serialize::OutputArchive target, opt;
        target_->save(target);
        optimizer_->save(opt);
        a.write("target", target);
        a.write("optimizer", opt);
        auto f = [](const std::vector<float>& v) { return torch::from_blob(const_cast<float*>(v.data()), {static_cast<std::int64_t>(v.size())}).clone(); };
        a.write("buf_obs", f(obs_buf_));
        a.write("buf_next", f(next_buf_));
        a.write("buf_next_mask", f(next_mask_buf_));
        a.write("buf_rew", f(rew_buf_));
        a.write("buf_done", f(done_buf_));
        a.write("buf_act", torch::from_blob(const_cast<std::int64_t*>(act_buf_.data()), {static_cast<std::int64_t>(act_buf_.size())}, torch::kLong).clone());
      });
    }
    return j;
  }

  void load(const json& j) override {
    if (j.value("kind", "") != "dqn") throw InvalidArgument("checkpoint: not a DQN checkpoint");
    rng_from_json(rng_, j.at("rng"));
    input_.load(j.at("input"));
    steps_ = j.at("steps").get<std::int64_t>();
    size_ = j.at("size").get<std::int64_t>();
    head_ = j.at("head").get<std::int64_t>();
    fill_.set_worst(j.at("worst_reward").get<double>(), j.at("any_reward").get<bool>());
    scale_.load(j.at("reward_scale"));
    pending_ = false;
    if (input_.dim() > 0) {
      build(input_.dim());
      archive_from_base64(j.at("networks").get<std::string>(), [&](torch::serialize::InputArchive& a) {
        q_->load(a);
        torch::serialize::InputArchive target, opt;
        a.read("target", target);
        a.read("optimizer", opt);
        target_->load(target);
        optimizer_->load(opt);
        auto f = [&](const char* key, std::vector<float>& v) {
          torch::Tensor t;
          a.read(key, t);
          v.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        };
        f("buf_obs", obs_buf_);
        f("buf_next", next_buf_);
        f("buf_next_mask", next_mask_buf_);
        f("buf_rew", rew_buf_);
        f("buf_done", done_buf_);
        torch::Tensor t;
        a.read("buf_act", t);
        act_buf_.assign(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
      });
    }
  }

private:
  Value decode(std::int64_t a) const {
    std::vector<double> per_leaf(codec_.heads().size());
    for (std::size_t h = codec_.heads().size(); h-- > 0;) {  // mixed radix, last knob fastest
      per_leaf[codec_.heads()[h].leaf] = static_cast<double>(a % codec_.heads()[h].n);
      a /= codec_.heads()[h].n;
    }
    return codec_.decode(per_leaf);
  }

  void build(std::int64_t dim) {
    obs_dim_ = dim;
    input_.set_dim(dim);
    auto lock = seed_torch(threads_, derive_seed(seed_, 0xD09));
    q_ = mlp(dim, hidden_, layers_, n_actions_, 1.0);
    target_ = mlp(dim, hidden_, layers_, n_actions_, 1.0);
    copy_target();
    optimizer_ = std::make_unique<torch::optim::Adam>(q_->parameters(), torch::optim::AdamOptions(lr_));
  }

  void copy_target() {
    if (!q_) return;
    torch::NoGradGuard ng;
    auto src = q_->parameters();
    auto dst = target_->parameters();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i].copy_(src[i]);
  }

  std::vector<float> prepare(const Value& obs, std::vector<float>& mask, bool update_norm, bool check_mask) {
    std::vector<float> x = input_(obs, mask, update_norm, check_mask);
    if (!q_) build(input_.dim());
    return x;
  }

  std::int64_t best(std::vector<float>& x, const std::vector<float>& mask) {
    torch::NoGradGuard ng;
    const torch::Tensor q = q_->forward(torch::from_blob(x.data(), {1, obs_dim_}).clone())[0].contiguous();
    const float* qp = q.data_ptr<float>();
    std::int64_t a = -1;
    for (std::int64_t i = 0; i < n_actions_; ++i)
      if ((mask.empty() || mask[static_cast<std::size_t>(i)] > 0.5f) && (a < 0 || qp[i] > qp[a])) a = i;
    return a;
  }

  void train() {
    const std::int64_t d = obs_dim_, n = n_actions_;
    std::vector<float> o(static_cast<std::size_t>(batch_ * d)), nx(o.size()), nm(static_cast<std::size_t>(batch_ * n)), r(static_cast<std::size_t>(batch_)),
        dn(r.size());
    std::vector<std::int64_t> a(r.size());
    for (std::int64_t b = 0; b < batch_; ++b) {
      const auto i = static_cast<std::size_t>(rng_.below(static_cast<std::uint64_t>(size_)));
      std::copy_n(obs_buf_.begin() + static_cast<std::ptrdiff_t>(i * d), d, o.begin() + b * d);
      std::copy_n(next_buf_.begin() + static_cast<std::ptrdiff_t>(i * d), d, nx.begin() + b * d);
      std::copy_n(next_mask_buf_.begin() + static_cast<std::ptrdiff_t>(i * n), n, nm.begin() + b * n);
      r[static_cast<std::size_t>(b)] = rew_buf_[i];
      dn[static_cast<std::size_t>(b)] = done_buf_[i];
      a[static_cast<std::size_t>(b)] = act_buf_[i];
    }
    const torch::Tensor obs = torch::from_blob(o.data(), {batch_, d}).clone(), next = torch::from_blob(nx.data(), {batch_, d}).clone();
    const torch::Tensor next_mask = torch::from_blob(nm.data(), {batch_, n}).clone();
    const torch::Tensor rew = torch::from_blob(r.data(), {batch_}).clone(), done = torch::from_blob(dn.data(), {batch_}).clone();
    const torch::Tensor act = torch::from_blob(a.data(), {batch_}, torch::kLong).clone();
    torch::Tensor target;
    {
      torch::NoGradGuard ng;
      const torch::Tensor tq = target_->forward(next).masked_fill(next_mask < 0.5, -1e9);
      torch::Tensor next_v;
      if (double_q_) {
        const torch::Tensor choice = q_->forward(next).masked_fill(next_mask < 0.5, -1e9).argmax(1, true);
        next_v = tq.gather(1, choice).squeeze(1);
      } else {
        next_v = std::get<0>(tq.max(1));
      }
      target = rew + gamma_ * (1 - done) * next_v;
    }
    const torch::Tensor q = q_->forward(obs).gather(1, act.unsqueeze(1)).squeeze(1);
    const torch::Tensor loss = torch::smooth_l1_loss(q, target);
    optimizer_->zero_grad();
    loss.backward();
    torch::nn::utils::clip_grad_norm_(q_->parameters(), 10.0);
    optimizer_->step();
  }

  ActionCodec codec_;
  Rng rng_;
  std::uint64_t seed_;
  std::int64_t n_actions_ = 1;
  double lr_, gamma_, eps_start_, eps_end_;
  std::int64_t hidden_, layers_, threads_, capacity_, batch_, starts_, train_every_, target_every_, eps_decay_;
  bool double_q_;
  ObsInput input_;
  std::int64_t obs_dim_ = 0;
  torch::nn::Sequential q_{nullptr}, target_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  RewardFill fill_;
  bool scale_rewards_ = true;
  ReturnScale scale_;
  std::int64_t steps_ = 0, size_ = 0, head_ = 0;
  bool pending_ = false;
  std::vector<float> pend_obs_;
  std::int64_t pend_action_ = 0;
  std::vector<float> obs_buf_, next_buf_, next_mask_buf_, rew_buf_, done_buf_;
  std::vector<std::int64_t> act_buf_;
};

}  // namespace

PolicyAgentPtr make_dqn(const AgentContext& ctx, const Params& p) { return std::make_unique<DqnAgent>(ctx, p); }

}  // namespace dsegym::rl
