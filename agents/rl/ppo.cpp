// PPO (Schulman et al. 2017) with GAE (Schulman et al. 2016), and its
// multi-agent forms: IPPO (one actor and one critic per knob group, shared
// reward; de Witt et al. 2020) and MAPPO (one actor per group, one
// centralised critic; Yu et al. 2022) as in the MARL-for-DSE setting
// (Krishnan et al. 2022: one agent per controller parameter).
#include "agents/rl/agents.hpp"

#include <algorithm>
#include <cmath>

#include "agents/rl/common.hpp"
#include "base/error.hpp"

namespace dsegym::rl {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;

struct Group {
  std::vector<std::size_t> heads;  // indices into the codec's heads
  std::int64_t out_dim = 0;
  int critic = 0;
  std::size_t n_cont = 0;
};

class PpoAgent final : public PolicyAgent {
public:
  PpoAgent(const AgentContext& ctx, const Params& p, PpoMode mode)
      : mode_(mode), codec_(ctx.space), rng_(ctx.seed), seed_(ctx.seed), input_(p.get_bool("normalize_obs"), mask_size(codec_)) {
    lr_ = p.get_double("lr");
    hidden_ = p.get_int("hidden");
    layers_ = p.get_int("layers");
    gamma_ = p.get_double("gamma");
    lambda_ = p.get_double("gae_lambda");
    clip_ = p.get_double("clip");
    ent_ = p.get_double("entropy");
    vf_ = p.get_double("value_coef");
    batch_ = p.get_int("batch");
    minibatch_ = std::min(p.get_int("minibatch"), batch_);
    epochs_ = p.get_int("epochs");
    max_grad_ = p.get_double("max_grad_norm");
    init_log_std_ = p.get_double("init_log_std");
    threads_ = p.get_int("threads");
    scale_rewards_ = p.get_bool("normalize_reward");
    make_groups(mode == PpoMode::Single ? json::array() : p.get("groups"));
    cand_f_ = p.get_int("candidate_features");
    if (cand_f_ > 0 && (mode != PpoMode::Single || codec_.heads().size() != 1 || !codec_.heads()[0].discrete))
      throw InvalidArgument("hyperparameter 'candidate_features': scoring each candidate needs ppo with a single discrete action (one choice among N)");
    if (cand_f_ > 0) input_.pool_blocks(codec_.heads()[0].n, cand_f_);
  }

  Value act(const Value& obs) override {
    if (pending_) throw Error("agent: act() called twice without observe()");
    torch::NoGradGuard ng;
    std::vector<float> mask;
    std::vector<float> x = prepare(obs, mask, true, true);
    const auto heads_out = forward(torch::from_blob(x.data(), {1, obs_dim_}).clone(), mask_tensor(mask, 1));
    std::vector<double> per_leaf(codec_.heads().size());
    pend_logp_.assign(groups_.size(), 0.0f);  // log-probability of the choice, per group
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      std::size_t cont = 0;
      for (std::size_t h : groups_[g].heads) {
        const HeadSpec& hs = codec_.heads()[h];
        const torch::Tensor& t = heads_out[g][h_index(g, h)];
        if (hs.discrete) {
          const torch::Tensor logp = torch::log_softmax(t, -1).contiguous();
          const torch::Tensor probs = logp.exp();
          const float* pr = probs.data_ptr<float>();
          const double u = rng_.uniform();
          double acc = 0;
          std::int64_t chosen = -1, last_ok = 0;
          for (std::int64_t k = 0; k < hs.n; ++k) {
            if (pr[k] <= 0) continue;  // masked out
            last_ok = k;
            acc += pr[k];
            if (chosen < 0 && u < acc) chosen = k;
          }
          const std::int64_t k = chosen >= 0 ? chosen : last_ok;
          per_leaf[hs.leaf] = static_cast<double>(k);
          pend_logp_[g] += logp.data_ptr<float>()[k];
        } else {
          const float mean = t.item<float>(), ls = log_std_[g][static_cast<std::int64_t>(cont)].item<float>();
          const float a = static_cast<float>(mean + std::exp(static_cast<double>(ls)) * rng_.normal());
          per_leaf[hs.leaf] = a;
          const float z = (a - mean) / std::exp(ls);
          pend_logp_[g] += -0.5f * z * z - ls - 0.5f * static_cast<float>(kLog2Pi);
          ++cont;
        }
      }
    }
    const torch::Tensor v = values(torch::from_blob(x.data(), {1, obs_dim_}).clone());
    pend_obs_ = std::move(x);
    pend_mask_ = std::move(mask);
    pend_act_.assign(per_leaf.begin(), per_leaf.end());
    pend_val_.assign(v.data_ptr<float>(), v.data_ptr<float>() + n_critics_);
    pending_ = true;
    return codec_.decode(per_leaf);
  }

  Value greedy(const Value& obs) override {
    torch::NoGradGuard ng;
    std::vector<float> mask;
    std::vector<float> x = prepare(obs, mask, false, true);
    const auto heads_out = forward(torch::from_blob(x.data(), {1, obs_dim_}).clone(), mask_tensor(mask, 1));
    std::vector<double> per_leaf(codec_.heads().size());
    for (std::size_t g = 0; g < groups_.size(); ++g)
      for (std::size_t h : groups_[g].heads) {
        const HeadSpec& hs = codec_.heads()[h];
        const torch::Tensor& t = heads_out[g][h_index(g, h)];
        per_leaf[hs.leaf] = hs.discrete ? static_cast<double>(t.argmax(-1).item<std::int64_t>()) : t.item<double>();
      }
    return codec_.decode(per_leaf);
  }

  void observe(const Transition& t) override {
    if (!pending_) throw Error("agent: observe() without a preceding act()");
    pending_ = false;
    obs_buf_.insert(obs_buf_.end(), pend_obs_.begin(), pend_obs_.end());
    if (masked_) mask_buf_.insert(mask_buf_.end(), pend_mask_.begin(), pend_mask_.end());
    act_buf_.insert(act_buf_.end(), pend_act_.begin(), pend_act_.end());
    logp_buf_.insert(logp_buf_.end(), pend_logp_.begin(), pend_logp_.end());
    val_buf_.insert(val_buf_.end(), pend_val_.begin(), pend_val_.end());
    double r = fill_(t.reward);
    if (scale_rewards_) r = scale_(r, t.terminated || t.truncated, gamma_);
    std::vector<float> boot(static_cast<std::size_t>(n_critics_), 0.0f);
    std::vector<float> mask;
    next_obs_ = prepare(t.next_obs, mask, false, false);
    if (t.truncated && !t.terminated) {  // the episode was cut, not ended: bootstrap its value
      torch::NoGradGuard ng;
      const torch::Tensor v = values(torch::from_blob(next_obs_.data(), {1, obs_dim_}).clone());
      for (std::int64_t c = 0; c < n_critics_; ++c) boot[static_cast<std::size_t>(c)] = static_cast<float>(gamma_) * v[0][c].item<float>();
    }
    for (std::int64_t c = 0; c < n_critics_; ++c) rew_buf_.push_back(static_cast<float>(r) + boot[static_cast<std::size_t>(c)]);
    done_buf_.push_back(t.terminated || t.truncated ? 1.0f : 0.0f);
    if (static_cast<std::int64_t>(done_buf_.size()) >= batch_) update();
  }

  json save() const override {
    json j = {{"kind", "ppo"},
              {"input", input_.save()},
              {"rng", rng_to_json(rng_)},
              {"worst_reward", fill_.worst()},
              {"any_reward", fill_.any()},
              {"updates", updates_},
              {"reward_scale", scale_.save()},
              {"buffer", {{"obs", obs_buf_}, {"mask", mask_buf_}, {"act", act_buf_}, {"logp", logp_buf_}, {"val", val_buf_},
                          {"rew", rew_buf_}, {"done", done_buf_}, {"next_obs", next_obs_}}}};
    if (root_) {
      j["networks"] = archive_to_base64([&](torch::serialize::OutputArchive& a) {
        root_->save(a);
        torch::serialize::OutputArchive opt;
        optimizer_->save(opt);
        a.write("optimizer", opt);
      });
    }
    return j;
  }

  void load(const json& j) override {
    if (j.value("kind", "") != "ppo") throw InvalidArgument("checkpoint: not a PPO checkpoint");
    rng_from_json(rng_, j.at("rng"));
    input_.load(j.at("input"));
    fill_.set_worst(j.at("worst_reward").get<double>(), j.at("any_reward").get<bool>());
    updates_ = j.at("updates").get<std::int64_t>();
    scale_.load(j.at("reward_scale"));
    const json& b = j.at("buffer");
    obs_buf_ = b.at("obs").get<std::vector<float>>();
    mask_buf_ = b.at("mask").get<std::vector<float>>();
    act_buf_ = b.at("act").get<std::vector<float>>();
    logp_buf_ = b.at("logp").get<std::vector<float>>();
    val_buf_ = b.at("val").get<std::vector<float>>();
    rew_buf_ = b.at("rew").get<std::vector<float>>();
    done_buf_ = b.at("done").get<std::vector<float>>();
    next_obs_ = b.at("next_obs").get<std::vector<float>>();
    pending_ = false;
    masked_ = !mask_buf_.empty();
    if (input_.dim() > 0) {
      build(input_.dim());
      archive_from_base64(j.at("networks").get<std::string>(), [&](torch::serialize::InputArchive& a) {
        root_->load(a);
        torch::serialize::InputArchive opt;
        a.read("optimizer", opt);
        optimizer_->load(opt);
      });
    }
  }

private:
  void make_groups(const json& spec) {
    const auto& leaves = codec_.space().leaves();
    std::vector<int> owner(leaves.size(), -1);
    if (mode_ == PpoMode::Single) {
      groups_.emplace_back();
      for (std::size_t h = 0; h < codec_.heads().size(); ++h) groups_[0].heads.push_back(h);
    } else {
      if (!spec.is_array()) throw InvalidArgument("hyperparameter 'groups': expected a list of lists of knob names, got " + spec.dump());
      for (const auto& g : spec) {
        if (!g.is_array() || g.empty()) throw InvalidArgument("hyperparameter 'groups': each group is a non-empty list of knob names, got " + g.dump());
        groups_.emplace_back();
        for (const auto& name : g) {
          std::size_t k = 0;
          while (k < leaves.size() && !(name.is_string() && leaves[k].name == name.get<std::string>())) ++k;
          if (k == leaves.size()) {
            std::string valid;
            for (const auto& l : leaves) valid += (valid.empty() ? "" : ", ") + l.name;
            throw InvalidArgument("hyperparameter 'groups': " + name.dump() + " is not a knob; knobs: " + valid);
          }
          if (owner[k] >= 0) throw InvalidArgument("hyperparameter 'groups': knob " + name.dump() + " is in two groups");
          owner[k] = static_cast<int>(groups_.size() - 1);
          groups_.back().heads.push_back(k);
        }
      }
      for (std::size_t k = 0; k < leaves.size(); ++k)  // every other knob is its own agent
        if (owner[k] < 0) groups_.push_back(Group{{k}, 0, 0, 0});
    }
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      for (std::size_t h : groups_[g].heads) {
        const HeadSpec& hs = codec_.heads()[h];
        groups_[g].out_dim += hs.discrete ? hs.n : 1;
        groups_[g].n_cont += hs.discrete ? 0 : 1;
      }
      groups_[g].critic = mode_ == PpoMode::Independent ? static_cast<int>(g) : 0;
    }
    n_critics_ = mode_ == PpoMode::Independent ? static_cast<std::int64_t>(groups_.size()) : 1;
  }

  // Position of head h among its group's heads.
  std::size_t h_index(std::size_t g, std::size_t h) const {
    const auto& hs = groups_[g].heads;
    return static_cast<std::size_t>(std::find(hs.begin(), hs.end(), h) - hs.begin());
  }

  void build(std::int64_t obs_dim) {
    obs_dim_ = obs_dim;
    input_.set_dim(obs_dim);
    auto lock = seed_torch(threads_, derive_seed(seed_, 0x7045));
    root_ = std::make_shared<torch::nn::Module>();
    actors_.clear();
    critics_.clear();
    log_std_.clear();
    if (cand_f_ > 0 && obs_dim < codec_.heads()[0].n * cand_f_)
      throw InvalidArgument("hyperparameter 'candidate_features' " + std::to_string(cand_f_) + ": the observation has " + std::to_string(obs_dim) +
                            " numbers, fewer than " + std::to_string(codec_.heads()[0].n) + " candidates x " + std::to_string(cand_f_));
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      // Scoring: one network maps (shared features, a candidate's features) to its logit.
      const std::int64_t in = cand_f_ > 0 ? obs_dim - codec_.heads()[0].n * cand_f_ + cand_f_ : obs_dim;
      const std::int64_t out = cand_f_ > 0 ? 1 : groups_[g].out_dim;
      actors_.push_back(root_->register_module("actor" + std::to_string(g), mlp(in, hidden_, layers_, out, 0.01)));
      log_std_.push_back(root_->register_parameter("log_std" + std::to_string(g),
                                                   torch::full({static_cast<std::int64_t>(groups_[g].n_cont)}, init_log_std_)));
    }
    for (std::int64_t c = 0; c < n_critics_; ++c)
      critics_.push_back(root_->register_module("critic" + std::to_string(c), mlp(obs_dim, hidden_, layers_, 1, 1.0)));
    optimizer_ = std::make_unique<torch::optim::Adam>(root_->parameters(), torch::optim::AdamOptions(lr_).eps(1e-5));
  }

  std::vector<float> prepare(const Value& obs, std::vector<float>& mask, bool update_norm, bool check_mask) {
    std::vector<float> x = input_(obs, mask, update_norm, check_mask);
    if (!root_) build(input_.dim());
    if (!mask.empty() && !masked_) {  // steps stored before the first mask allowed everything
      mask_buf_.insert(mask_buf_.begin(), done_buf_.size() * mask.size(), 1.0f);
      masked_ = true;
    } else if (mask.empty() && masked_) {
      mask.assign(static_cast<std::size_t>(codec_.heads()[static_cast<std::size_t>(codec_.maskable_leaf())].n), 1.0f);
    }
    return x;
  }

  torch::Tensor mask_tensor(std::vector<float>& mask, std::int64_t rows) const {
    if (mask.empty()) return torch::Tensor();
    return torch::from_blob(mask.data(), {rows, static_cast<std::int64_t>(mask.size()) / rows}).clone();
  }

  // Per group, per head: logits (discrete, masked) or the mean (continuous).
  std::vector<std::vector<torch::Tensor>> forward(const torch::Tensor& obs, const torch::Tensor& mask) {
    std::vector<std::vector<torch::Tensor>> out(groups_.size());
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      torch::Tensor y;
      if (cand_f_ > 0) {
        // [B, shared | N x F] -> [B, N, shared + F] -> one logit per candidate.
        const std::int64_t n = codec_.heads()[0].n, shared = obs_dim_ - n * cand_f_, b = obs.size(0);
        const torch::Tensor common = obs.narrow(1, 0, shared).unsqueeze(1).expand({b, n, shared});
        const torch::Tensor cands = obs.narrow(1, shared, n * cand_f_).reshape({b, n, cand_f_});
        y = actors_[g]->forward(torch::cat({common, cands}, 2)).squeeze(-1);
      } else {
        y = actors_[g]->forward(obs);
      }
      std::int64_t col = 0;
      for (std::size_t h : groups_[g].heads) {
        const HeadSpec& hs = codec_.heads()[h];
        torch::Tensor t = y.narrow(1, col, hs.n);
        if (hs.discrete && mask.defined() && static_cast<int>(hs.leaf) == codec_.maskable_leaf()) t = t.masked_fill(mask < 0.5, -1e9);
        if (!hs.discrete) t = t.squeeze(1) + 0.5;  // centre the Gaussian in the knob's [0,1] range
        out[g].push_back(t);
        col += hs.n;
      }
    }
    return out;
  }

  // Log-probability [B, groups] of the actions and entropy [B, groups].
  std::pair<torch::Tensor, torch::Tensor> evaluate(const torch::Tensor& obs, const torch::Tensor& mask, const torch::Tensor& act) {
    const auto out = forward(obs, mask);
    std::vector<torch::Tensor> logps, ents;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      torch::Tensor lp = torch::zeros({obs.size(0)}), en = torch::zeros({obs.size(0)});
      std::int64_t cont = 0;
      for (std::size_t k = 0; k < groups_[g].heads.size(); ++k) {
        const HeadSpec& hs = codec_.heads()[groups_[g].heads[k]];
        const torch::Tensor a = act.select(1, static_cast<std::int64_t>(hs.leaf));
        if (hs.discrete) {
          const torch::Tensor logsm = torch::log_softmax(out[g][k], -1);
          lp = lp + logsm.gather(1, a.to(torch::kLong).unsqueeze(1)).squeeze(1);
          en = en - (logsm.exp() * logsm).sum(-1);
        } else {
          const torch::Tensor ls = log_std_[g][cont];
          lp = lp - 0.5 * ((a - out[g][k]) / ls.exp()).pow(2) - ls - 0.5 * kLog2Pi;
          en = en + 0.5 + 0.5 * kLog2Pi + ls;
          ++cont;
        }
      }
      logps.push_back(lp);
      ents.push_back(en);
    }
    return {torch::stack(logps, 1), torch::stack(ents, 1)};
  }

  torch::Tensor values(const torch::Tensor& obs) {
    std::vector<torch::Tensor> v;
    for (auto& c : critics_) v.push_back(c->forward(obs).squeeze(1));
    return torch::stack(v, 1);  // [B, critics]
  }

  void update() {
    const auto n = static_cast<std::int64_t>(done_buf_.size());
    const torch::Tensor obs = torch::from_blob(obs_buf_.data(), {n, obs_dim_}).clone();
    const torch::Tensor mask = masked_ ? torch::from_blob(mask_buf_.data(), {n, static_cast<std::int64_t>(mask_buf_.size()) / n}).clone() : torch::Tensor();
    const torch::Tensor act = torch::from_blob(act_buf_.data(), {n, static_cast<std::int64_t>(act_buf_.size()) / n}).clone();
    const torch::Tensor old_logp = torch::from_blob(logp_buf_.data(), {n, static_cast<std::int64_t>(groups_.size())}).clone();
    // GAE per critic.
    torch::Tensor last;
    {
      torch::NoGradGuard ng;
      last = values(torch::from_blob(next_obs_.data(), {1, obs_dim_}).clone())[0];
    }
    std::vector<float> adv(static_cast<std::size_t>(n * n_critics_)), ret(adv.size());
    for (std::int64_t c = 0; c < n_critics_; ++c) {
      double gae = 0, next_v = last[c].item<double>();
      for (std::int64_t t = n - 1; t >= 0; --t) {
        const double nonterminal = 1.0 - done_buf_[static_cast<std::size_t>(t)];
        const double v = val_buf_[static_cast<std::size_t>(t * n_critics_ + c)];
        const double delta = rew_buf_[static_cast<std::size_t>(t * n_critics_ + c)] + gamma_ * next_v * nonterminal - v;
        gae = delta + gamma_ * lambda_ * nonterminal * gae;
        adv[static_cast<std::size_t>(t * n_critics_ + c)] = static_cast<float>(gae);
        ret[static_cast<std::size_t>(t * n_critics_ + c)] = static_cast<float>(gae + v);
        next_v = v;
      }
    }
    const torch::Tensor adv_t = torch::from_blob(adv.data(), {n, n_critics_}).clone();
    const torch::Tensor ret_t = torch::from_blob(ret.data(), {n, n_critics_}).clone();
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) idx[static_cast<std::size_t>(i)] = i;
    for (std::int64_t e = 0; e < epochs_; ++e) {
      for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng_.below(i)]);
      for (std::int64_t s = 0; s < n; s += minibatch_) {
        const std::int64_t m = std::min(minibatch_, n - s);
        const torch::Tensor b = torch::from_blob(idx.data() + s, {m}, torch::kLong).clone();
        const torch::Tensor bmask = mask.defined() ? mask.index_select(0, b) : torch::Tensor();
        const auto [logp, ent] = evaluate(obs.index_select(0, b), bmask, act.index_select(0, b));
        const torch::Tensor ratio = (logp - old_logp.index_select(0, b)).exp();
        torch::Tensor a = adv_t.index_select(0, b);
        if (m > 1) a = (a - a.mean(0)) / (a.std(0) + 1e-8);
        torch::Tensor loss = torch::zeros({});
        for (std::size_t g = 0; g < groups_.size(); ++g) {
          const torch::Tensor ag = a.select(1, groups_[g].critic), rg = ratio.select(1, static_cast<std::int64_t>(g));
          loss = loss - torch::min(rg * ag, rg.clamp(1 - clip_, 1 + clip_) * ag).mean() - ent_ * ent.select(1, static_cast<std::int64_t>(g)).mean();
        }
        loss = loss + vf_ * (values(obs.index_select(0, b)) - ret_t.index_select(0, b)).pow(2).mean(0).sum();
        optimizer_->zero_grad();
        loss.backward();
        for (std::size_t g = 0; g < groups_.size(); ++g) {
          auto params = actors_[g]->parameters();
          params.push_back(log_std_[g]);
          torch::nn::utils::clip_grad_norm_(params, max_grad_);
        }
        for (auto& c : critics_) torch::nn::utils::clip_grad_norm_(c->parameters(), max_grad_);
        optimizer_->step();
      }
    }
    ++updates_;
    obs_buf_.clear();
    mask_buf_.clear();
    act_buf_.clear();
    logp_buf_.clear();
    val_buf_.clear();
    rew_buf_.clear();
    done_buf_.clear();
  }

  PpoMode mode_;
  ActionCodec codec_;
  Rng rng_;
  std::uint64_t seed_;
  double lr_, gamma_, lambda_, clip_, ent_, vf_, max_grad_, init_log_std_;
  std::int64_t hidden_, layers_, batch_, minibatch_, epochs_, threads_;
  std::int64_t cand_f_ = 0;  // features per candidate at the end of the observation (per-candidate scoring); 0: one MLP head
  ObsInput input_;
  std::vector<Group> groups_;
  std::int64_t n_critics_ = 1;
  std::int64_t obs_dim_ = 0;
  bool masked_ = false;
  std::shared_ptr<torch::nn::Module> root_;
  std::vector<torch::nn::Sequential> actors_, critics_;
  std::vector<torch::Tensor> log_std_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  RewardFill fill_;
  bool scale_rewards_ = true;
  ReturnScale scale_;
  std::int64_t updates_ = 0;
  bool pending_ = false;
  std::vector<float> pend_obs_, pend_mask_, pend_act_, pend_logp_, pend_val_;
  std::vector<float> obs_buf_, mask_buf_, act_buf_, logp_buf_, val_buf_, rew_buf_, done_buf_, next_obs_;
};

}  // namespace

PolicyAgentPtr make_ppo(const AgentContext& ctx, const Params& p, PpoMode mode) { return std::make_unique<PpoAgent>(ctx, p, mode); }

}  // namespace dsegym::rl
