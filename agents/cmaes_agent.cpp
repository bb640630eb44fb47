// cmaes: the covariance matrix adaptation evolution strategy (Hansen, "The
// CMA Evolution Strategy: A Tutorial", arXiv:1604.00772, 2016: the default
// population size, weights, learning rates and damping of its Table 1) on
// the [0,1]^d encoding, with the margin of CMA-ES with margin (Hamano,
// Saito, Nomura, Shirakawa, GECCO 2022) for discrete knobs: after each
// update, every discrete coordinate keeps at least margin / 2 probability of
// leaving its current value on each side (margin on the one side of an end
// value), by moving the mean towards the value's border or widening that
// coordinate's scale, so that an integer knob never freezes. Categorical
// knobs are not coordinates: as in CatCMA (Hamano et al., GECCO 2024) each
// has a categorical distribution, moved towards the weighted choices of the
// best mu designs of a generation and kept above CatCMA's margin
// (1 - 0.73^(1/c)) / (K - 1) per value for c categorical knobs of K values.
// Samples outside [0,1] are evaluated at the nearest point of the box and
// updated as drawn; the update waits for a whole generation (lambda designs).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_set>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/normal.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"

namespace dsegym {

namespace {

class CmaEsAgent final : public ReplayAgent {
public:
  CmaEsAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), sigma_(p.get_double("sigma")), eta_(p.get_double("category_rate")) {
    for (std::size_t i = 0; i < space_.dim(); ++i) {
      if (space_.leaf(i).kind == LeafKind::Categorical && space_.cardinality(i) >= 2) {
        cat_.push_back(i);
        q_.push_back(std::vector<double>(static_cast<std::size_t>(space_.cardinality(i)), 1.0 / static_cast<double>(space_.cardinality(i))));
      } else {
        num_.push_back(i);
      }
    }
    n_ = static_cast<Eigen::Index>(num_.size());
    const auto pop = p.get_int("population");
    lambda_ = pop > 0 ? static_cast<std::size_t>(pop) : 4 + static_cast<std::size_t>(std::floor(3 * std::log(static_cast<double>(space_.dim()))));
    const double N = std::max<double>(1.0, static_cast<double>(n_));
    lambda_ = std::max<std::size_t>(lambda_, 2);
    mu_ = lambda_ / 2;
    w_.resize(static_cast<Eigen::Index>(mu_));
    for (std::size_t i = 0; i < mu_; ++i) w_(static_cast<Eigen::Index>(i)) = std::log((static_cast<double>(lambda_) + 1) / 2) - std::log(static_cast<double>(i + 1));
    w_ /= w_.sum();
    mueff_ = 1.0 / w_.squaredNorm();
    cc_ = (4 + mueff_ / N) / (N + 4 + 2 * mueff_ / N);
    cs_ = (mueff_ + 2) / (N + mueff_ + 5);
    c1_ = 2 / ((N + 1.3) * (N + 1.3) + mueff_);
    cmu_ = std::min(1 - c1_, 2 * (mueff_ - 2 + 1 / mueff_) / ((N + 2) * (N + 2) + mueff_));
    damps_ = 1 + 2 * std::max(0.0, std::sqrt((mueff_ - 1) / (N + 1)) - 1) + cs_;
    chin_ = std::sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N * N));
    const double m = p.get_double("margin");
    margin_ = m > 0 ? m : 1.0 / (static_cast<double>(space_.dim()) * static_cast<double>(lambda_));
    // The mean starts at a random design (the centre of the box is a poor
    // start for a knob whose middle value is not special).
    const auto start = space_.random_point(rng_);
    mean_.resize(n_);
    for (Eigen::Index j = 0; j < n_; ++j) mean_(j) = start[num_[static_cast<std::size_t>(j)]];
    pc_ = ps_ = Eigen::VectorXd::Zero(n_);
    C_ = B_ = Eigen::MatrixXd::Identity(n_, n_);
    D_ = Eigen::VectorXd::Ones(n_);
    A_ = Eigen::VectorXd::Ones(n_);
    apply_margin();
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      // A new design where it can be found in a few draws.
      Sample s;
      std::vector<double> x(space_.dim());
      for (int tries = 0; tries < 10; ++tries) {
        s.z = Eigen::VectorXd(n_);
        for (Eigen::Index j = 0; j < n_; ++j) s.z(j) = rng_.normal();
        s.y = B_ * D_.cwiseProduct(s.z);
        const Eigen::VectorXd raw = mean_ + sigma_ * A_.cwiseProduct(s.y);
        for (Eigen::Index j = 0; j < n_; ++j) x[num_[static_cast<std::size_t>(j)]] = raw(j);
        s.cats.clear();
        for (std::size_t c = 0; c < cat_.size(); ++c) {
          double r = rng_.uniform();
          std::size_t k = 0;
          while (k + 1 < q_[c].size() && (r -= q_[c][k]) > 0) ++k;
          s.cats.push_back(k);
          space_.set_index(x, cat_[c], static_cast<std::int64_t>(k));
        }
        space_.snap(x);
        if (!seen_.count(space_.key(x))) break;
      }
      seen_.insert(space_.key(x));
      const auto id = next_id();
      pending_[id] = gen_.size();
      gen_.push_back(std::move(s));
      out.push_back({id, space_.decode(x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      auto& s = gen_[it->second];
      s.f = fitness_of(t);
      s.told = true;
      pending_.erase(it);
    }
    std::size_t told = 0;
    for (const auto& s : gen_) told += s.told ? 1 : 0;
    if (told >= lambda_ && pending_.empty()) update();
  }

private:
  struct Sample {
    Eigen::VectorXd z, y;
    std::vector<std::size_t> cats;  // the value of each categorical knob
    double f = kWorstFitness;
    bool told = false;
  };

  void update() {
    std::vector<std::size_t> order(gen_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return gen_[a].f > gen_[b].f; });
    update_categories(order);
    if (n_ == 0) {
      gen_.clear();
      return;
    }
    // Recombination in the scaled coordinates y (the margin's A applies on top).
    Eigen::VectorXd yw = Eigen::VectorXd::Zero(n_), zw = Eigen::VectorXd::Zero(n_);
    for (std::size_t i = 0; i < mu_; ++i) {
      yw += w_(static_cast<Eigen::Index>(i)) * gen_[order[i]].y;
      zw += w_(static_cast<Eigen::Index>(i)) * gen_[order[i]].z;
    }
    mean_ += sigma_ * A_.cwiseProduct(yw);
    const double N = static_cast<double>(n_);
    ps_ = (1 - cs_) * ps_ + std::sqrt(cs_ * (2 - cs_) * mueff_) * (B_ * zw);
    ++generation_;
    const double psn = ps_.norm() / std::sqrt(1 - std::pow(1 - cs_, 2.0 * static_cast<double>(generation_)));
    const bool hsig = psn / chin_ < 1.4 + 2 / (N + 1);
    pc_ = (1 - cc_) * pc_ + (hsig ? std::sqrt(cc_ * (2 - cc_) * mueff_) : 0.0) * yw;
    Eigen::MatrixXd rank_mu = Eigen::MatrixXd::Zero(n_, n_);
    for (std::size_t i = 0; i < mu_; ++i) rank_mu += w_(static_cast<Eigen::Index>(i)) * gen_[order[i]].y * gen_[order[i]].y.transpose();
    C_ = (1 - c1_ - cmu_) * C_ + c1_ * (pc_ * pc_.transpose() + (hsig ? 0.0 : cc_ * (2 - cc_)) * C_) + cmu_ * rank_mu;
    sigma_ *= std::exp((cs_ / damps_) * (ps_.norm() / chin_ - 1));
    sigma_ = std::clamp(sigma_, 1e-12, 1e3);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (C_ + C_.transpose()));
    B_ = eig.eigenvectors();
    D_ = eig.eigenvalues().cwiseMax(1e-20).cwiseSqrt();
    C_ = B_ * D_.cwiseAbs2().asDiagonal() * B_.transpose();
    apply_margin();
    gen_.clear();
  }

  // q <- (1 - eta) q + eta sum_i w_i onehot(choice of the i-th best), then
  // every value at least the margin (and q renormalised).
  void update_categories(const std::vector<std::size_t>& order) {
    const double floor_q = 1 - std::pow(0.73, 1.0 / std::max<double>(1.0, static_cast<double>(cat_.size())));
    for (std::size_t c = 0; c < cat_.size(); ++c) {
      auto& q = q_[c];
      for (auto& v : q) v *= 1 - eta_;
      for (std::size_t i = 0; i < mu_; ++i) q[gen_[order[i]].cats[c]] += eta_ * w_(static_cast<Eigen::Index>(i));
      const double qmin = floor_q / static_cast<double>(q.size() - 1);
      double sum = 0;
      for (auto& v : q) sum += (v = std::max(v, qmin));
      for (auto& v : q) v /= sum;
    }
  }

  // The margin: a discrete coordinate whose current value (the bin of the
  // mean) is an end value keeps probability `margin` of the neighbouring
  // one, by moving the mean to the quantile's distance from the border; an
  // inner value keeps margin / 2 on each side, by widening A for it.
  void apply_margin() {
    for (Eigen::Index i = 0; i < n_; ++i) {
      const auto card = space_.cardinality(num_[static_cast<std::size_t>(i)]);
      if (card == 0) mean_(i) = std::clamp(mean_(i), 0.0, 1.0);  // a real knob's mean stays in its range
      if (card < 2) continue;
      const double width = 1.0 / static_cast<double>(card);
      const double m = std::clamp(mean_(i), 0.0, 1.0);
      const auto k = std::min<std::int64_t>(card - 1, static_cast<std::int64_t>(m / width));
      const double lo = static_cast<double>(k) * width, hi = lo + width;
      const double s = sigma_ * A_(i) * std::sqrt(C_(i, i));
      if (k == 0 || k == card - 1) {
        const double border = k == 0 ? hi : lo;
        const double need = s * normal_quantile(1 - margin_);  // distance at which P(beyond the border) = margin
        if (std::fabs(border - mean_(i)) > need) mean_(i) = border + (k == 0 ? -need : need);
      } else {
        mean_(i) = m;
        const double nearest = std::max(std::min(m - lo, hi - m), 1e-12);
        const double need = nearest / normal_quantile(1 - margin_ / 2);  // scale giving margin / 2 past the nearer border
        if (s < need) A_(i) *= need / std::max(s, 1e-300);
      }
    }
  }

  SearchSpace space_;
  Rng rng_;
  std::vector<std::size_t> num_, cat_;  // knobs with a coordinate; categorical knobs
  std::vector<std::vector<double>> q_;  // each categorical knob's distribution
  Eigen::Index n_ = 0;
  double sigma_, eta_;
  std::size_t lambda_ = 0, mu_ = 0;
  Eigen::VectorXd w_;
  double mueff_ = 0, cc_ = 0, cs_ = 0, c1_ = 0, cmu_ = 0, damps_ = 0, chin_ = 0, margin_ = 0;
  Eigen::VectorXd mean_, pc_, ps_, D_, A_;
  Eigen::MatrixXd C_, B_;
  std::int64_t generation_ = 0;
  std::vector<Sample> gen_;
  std::map<std::int64_t, std::size_t> pending_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

void register_cmaes_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{
      "cmaes",
      "CMA-ES (Hansen 2016) with margin for ordered discrete knobs (Hamano et al. 2022) and CatCMA-style distributions for categorical ones",
      {{"sigma", "initial step size on the unit scale", 0.3, std::make_shared<Box>(1e-6, 10.0)},
       {"population", "designs per generation (0: 4 + floor(3 ln d))", 0, std::make_shared<Integer>(0, 100000)},
       {"margin", "least probability of leaving an ordered discrete knob's value (0: 1 / (d x population))", 0.0, std::make_shared<Box>(0.0, 0.5)},
       {"category_rate", "learning rate of the categorical knobs' distributions per generation", 0.2, std::make_shared<Box>(0.0, 1.0)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<CmaEsAgent>(ctx, p); }});
}

}  // namespace dsegym
