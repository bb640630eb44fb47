// bo: Bayesian optimisation with a Gaussian process (Matern 5/2, ARD,
// hyperparameters by marginal likelihood) on features of the encoding:
// continuous and ordinal knobs as one coordinate in [0,1], categorical knobs
// with more than two values one-hot. Acquisitions EI, UCB, PI are maximised
// over valid designs (random ones and mutations of the best), batches use the
// kriging believer, and no design is proposed twice. Infeasible or failed
// designs stay out of the objective's GP: a second GP on feasibility labels
// (+1 / -1, the objective's hyperparameters) gives each candidate a
// probability of being feasible, Phi(mean / sd), that weights its
// acquisition (constrained EI: Gardner et al., ICML 2014; Gelbart, Snoek &
// Adams, UAI 2014). A metric the env declares with an upper limit (a power
// budget) and reports on the designs that exceed it is a known constraint:
// a GP of its own (own hyperparameters) on its values gives
// P(value <= limit), so the agent learns where the boundary lies from how
// far each design was from it, not only from which side; such designs then
// count as feasible for the label GP, which is left to the other failures.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/gp.hpp"
#include "agents/normal.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"

namespace dsegym {

namespace {

class BayesOptAgent final : public ReplayAgent {
public:
  BayesOptAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), kappa_(p.get_double("kappa")), xi_(p.get_double("xi")),
        init_(static_cast<std::size_t>(p.get_int("init_points"))), n_candidates_(static_cast<std::size_t>(p.get_int("candidates"))),
        max_points_(static_cast<std::size_t>(p.get_int("max_points"))), fit_iterations_(static_cast<int>(p.get_int("fit_iterations"))) {
    const auto a = p.get_string("acquisition");
    acq_ = a == "ei" ? 0 : a == "ucb" ? 1 : 2;
    warp_ = p.get_string("warp") == "power";
    for (std::size_t i = 0; i < space_.dim(); ++i) {
      const bool onehot = space_.leaf(i).kind == LeafKind::Categorical && space_.cardinality(i) > 2;
      feature_offset_.push_back(n_features_);
      n_features_ += onehot ? static_cast<std::size_t>(space_.cardinality(i)) : 1;
      onehot_.push_back(onehot);
    }
    for (const auto& m : ctx.metrics)
      if (std::isfinite(m.upper_limit)) constraints_.push_back({m.name, m.upper_limit});
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    std::size_t finite = 0;
    for (const auto& o : obs_) finite += std::isfinite(o.second) ? 1 : 0;
    if (finite >= 2 && obs_.size() >= init_) {
      build_gp();
    }
    // A batch's believed outcomes go into a copy of the GP.
    std::optional<GaussianProcess> base;
    if (gp_ready_ && n > 1) base = gp_;
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<double> x;
      if (finite >= 2 && obs_.size() + pending_.size() >= init_) {
        x = maximise_acquisition();
      } else {
        x = fresh_random();
      }
      if (gp_ready_ && k + 1 < n) {
        // Kriging believer: pretend the proposal returns the predicted mean.
        Eigen::VectorXd mu, var;
        gp_.predict(features(x).transpose(), mu, var);
        gp_.append(features(x), mu(0));
      }
      seen_.insert(space_.key(x));
      const auto id = next_id();
      pending_[id] = x;
      out.push_back({id, space_.decode(x)});
    }
    if (base) gp_ = std::move(*base);
    gp_ready_ = false;  // rebuilt (incrementally) with the next observations
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      const double f = fitness_of(t);
      auto it = pending_.find(t.id);
      if (it != pending_.end()) {
        obs_.emplace_back(it->second, f);
        pending_.erase(it);
      } else {
        // A design it did not propose (e.g. from an earlier dataset) is data too.
        auto x = space_.encode(t.action);
        space_.snap(x);
        seen_.insert(space_.key(x));
        obs_.emplace_back(std::move(x), f);
      }
      bool violated = false;
      for (auto& c : constraints_) {
        const double* v = t.metrics.find(c.metric);
        c.values.push_back(v && std::isfinite(*v) ? *v : std::numeric_limits<double>::quiet_NaN());
        violated = violated || (v && *v > c.limit);
      }
      // A failure the constraints explain is theirs to model.
      explained_.push_back(!std::isfinite(f) && violated);
    }
  }

private:
  struct Constraint {
    Constraint(std::string m, double l) : metric(std::move(m)), limit(l) {}
    std::string metric;
    double limit;
    std::vector<double> values;     // per observation (NaN: not reported)
    GaussianProcess gp, hyper;      // the model, and the GP its hyperparameters are fitted on
    std::vector<std::size_t> rows;  // the observations in gp (empty: not modelled yet)
    std::size_t upto = 0;           // observations before this index were considered
    bool fitted = false;
  };

  Eigen::VectorXd features(const std::vector<double>& x) const {
    Eigen::VectorXd f = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(n_features_));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto o = static_cast<Eigen::Index>(feature_offset_[i]);
      if (onehot_[i])
        f(o + space_.index(x, i)) = 1.0;
      else
        f(o) = x[i];
    }
    return f;
  }

  std::vector<double> fresh_random() {
    std::vector<double> x = space_.random_point(rng_);
    for (int tries = 0; tries < 64 && seen_.count(space_.key(x)); ++tries) x = space_.random_point(rng_);
    return x;
  }

  // Brings the GP up to date with every observation: new ones are added to
  // the factor in O(n^2) each; the hyperparameters are refitted (warm
  // started) while data is scarce and then whenever the observations grew by
  // 10 %, and only then is the factor recomputed in full.
  void build_gp() {
    const bool refit = obs_.size() < 40 || static_cast<double>(obs_.size()) >= 1.1 * static_cast<double>(last_fit_);
    warp(refit);
    best_ = -std::numeric_limits<double>::infinity();
    worst_ = std::numeric_limits<double>::infinity();
    bool any_failed = false;
    for (std::size_t k = 0; k < y_.size(); ++k) {
      const double v = y_[k];
      if (std::isfinite(v)) {
        worst_ = std::min(worst_, v);
        best_ = std::max(best_, v);
      }
      any_failed = any_failed || (!std::isfinite(v) && !explained_[k]);
    }
    if (refit || gp_rows_.empty() || gp_rows_.size() + (obs_.size() - gp_upto_) > max_points_) {
      select_rows();
      if (refit) fit_hyperparameters();
      refactor(gp_, gp_rows_);
      if (any_failed) refactor_feasibility();
    } else {
      for (std::size_t k = gp_upto_; k < obs_.size(); ++k) {
        if (std::isfinite(obs_[k].second)) {
          gp_.add_input(features(obs_[k].first));
          gp_rows_.push_back(k);
        }
        if (!feas_rows_.empty()) {
          feas_.add_input(features(obs_[k].first));
          feas_rows_.push_back(k);
        }
      }
      if (any_failed && feas_rows_.empty()) refactor_feasibility();  // the first failure
    }
    gp_upto_ = obs_.size();
    Eigen::VectorXd y(static_cast<Eigen::Index>(gp_rows_.size()));
    for (std::size_t r = 0; r < gp_rows_.size(); ++r) y(static_cast<Eigen::Index>(r)) = y_[gp_rows_[r]];
    gp_.set_targets(y);
    if (!feas_rows_.empty()) {
      Eigen::VectorXd labels(static_cast<Eigen::Index>(feas_rows_.size()));
      for (std::size_t r = 0; r < feas_rows_.size(); ++r) {
        const std::size_t k = feas_rows_[r];
        labels(static_cast<Eigen::Index>(r)) = std::isfinite(obs_[k].second) || explained_[k] ? 1.0 : -1.0;
      }
      feas_.set_targets(labels);
    }
    for (auto& c : constraints_) update_constraint(c, refit);
    gp_ready_ = true;
  }

  // The GP's targets y_: the rewards, or (warp "power") minus a power
  // transform of the cost -reward, as HEBO warps its outputs (Cowen-Rivers
  // et al., JAIR 2022): Box-Cox (Box & Cox 1964) of the costs over their
  // standard deviation when all are positive, else Yeo-Johnson (Yeo &
  // Johnson, Biometrika 2000) of the standardised costs; lambda by maximum
  // likelihood. The warp keeps the order, and a heavy tail of very bad
  // designs (as on soc-design-v0) no longer flattens the good region to
  // noise. It is fitted with the hyperparameters (`refit`), or when a cost
  // falls outside Box-Cox's domain, and applied as it is in between.
  void warp(bool refit) {
    y_.resize(obs_.size());
    std::vector<std::size_t> finite;
    for (std::size_t k = 0; k < obs_.size(); ++k) {
      y_[k] = obs_[k].second;
      if (std::isfinite(y_[k])) finite.push_back(k);
    }
    if (!warp_ || finite.size() < 2) return;
    const bool outside = warp_fit_ && warp_fit_->box_cox &&
                         std::any_of(finite.begin(), finite.end(), [&](std::size_t k) { return -y_[k] <= 0; });
    if (refit || outside) {
      double mean = 0, var = 0;
      for (auto k : finite) mean += -y_[k];
      mean /= static_cast<double>(finite.size());
      for (auto k : finite) var += (-y_[k] - mean) * (-y_[k] - mean);
      const double sd = std::sqrt(var / static_cast<double>(finite.size()));
      if (!(sd > 0)) return;  // all equal so far: nothing to warp
      const bool box_cox = std::all_of(finite.begin(), finite.end(), [&](std::size_t k) { return -y_[k] > 0; });
      const double shift = box_cox ? 0.0 : mean;
      std::vector<double> v;
      for (auto k : finite) v.push_back((-y_[k] - shift) / sd);
      warp_fit_ = {shift, sd, box_cox, power_lambda(v, box_cox)};
    }
    if (!warp_fit_) return;
    for (auto k : finite) y_[k] = -power((-y_[k] - warp_fit_->shift) / warp_fit_->sd, warp_fit_->lambda, warp_fit_->box_cox);
  }

  static double power(double v, double lambda, bool box_cox) {
    if (box_cox) return std::fabs(lambda) < 1e-9 ? std::log(v) : (std::pow(v, lambda) - 1) / lambda;
    if (v >= 0) return std::fabs(lambda) < 1e-9 ? std::log1p(v) : (std::pow(v + 1, lambda) - 1) / lambda;
    return std::fabs(lambda - 2) < 1e-9 ? -std::log1p(-v) : -(std::pow(1 - v, 2 - lambda) - 1) / (2 - lambda);
  }

  // The lambda in [-3, 3] of largest profile log-likelihood,
  // -n/2 log var(psi) + (lambda - 1) J, with J = sum log v (Box-Cox) or
  // sum sign(v) log(|v| + 1) (Yeo-Johnson); golden-section search.
  static double power_lambda(const std::vector<double>& v, bool box_cox) {
    double jacobian = 0;
    for (double x : v) jacobian += box_cox ? std::log(x) : (x >= 0 ? 1 : -1) * std::log1p(std::fabs(x));
    const double n = static_cast<double>(v.size());
    std::vector<double> psi(v.size());
    auto llf = [&](double lambda) {
      double m = 0, s = 0;
      for (std::size_t i = 0; i < v.size(); ++i) m += psi[i] = power(v[i], lambda, box_cox);
      m /= n;
      for (double x : psi) s += (x - m) * (x - m);
      return -0.5 * n * std::log(std::max(s / n, 1e-300)) + (lambda - 1) * jacobian;
    };
    const double g = (std::sqrt(5.0) - 1) / 2;
    double a = -3, b = 3, x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = llf(x1), f2 = llf(x2);
    for (int it = 0; it < 40; ++it) {
      if (f1 > f2) {
        b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = llf(x1);
      } else {
        a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = llf(x2);
      }
    }
    return 0.5 * (a + b);
  }

  // A constraint's GP over the observations that report its value (beyond
  // max_points the most recent nine tenths of max_points), with
  // hyperparameters of its own fitted on at most 128 of them when the
  // objective's are refitted; in between new values join incrementally.
  void update_constraint(Constraint& c, bool refit) {
    const std::size_t keep = max_points_ - max_points_ / 10;
    const bool rebuild = refit || c.rows.empty() || c.rows.size() + (obs_.size() - c.upto) > max_points_;
    if (rebuild) {
      c.rows.clear();
      for (std::size_t k = 0; k < obs_.size(); ++k)
        if (std::isfinite(c.values[k])) c.rows.push_back(k);
      if (c.rows.size() > keep) c.rows.erase(c.rows.begin(), c.rows.end() - static_cast<std::ptrdiff_t>(keep));
    }
    if (c.rows.size() < 3) {  // too few values to model: no constraint factor yet
      c.rows.clear();
      c.upto = obs_.size();
      return;
    }
    if (rebuild) {
      fit_on_sample(c.hyper, c.rows, c.values, c.fitted ? std::max(1, fit_iterations_ / 4) : fit_iterations_);
      c.fitted = true;
      refactor(c.gp, c.rows, c.hyper);
    } else {
      for (std::size_t k = c.upto; k < obs_.size(); ++k)
        if (std::isfinite(c.values[k])) {
          c.gp.add_input(features(obs_[k].first));
          c.rows.push_back(k);
        }
    }
    c.upto = obs_.size();
    Eigen::VectorXd y(static_cast<Eigen::Index>(c.rows.size()));
    for (std::size_t r = 0; r < c.rows.size(); ++r) y(static_cast<Eigen::Index>(r)) = c.values[c.rows[r]];
    c.gp.set_targets(y);
  }

  // Feasibility over every observation, or beyond max_points the most
  // recent nine tenths of max_points.
  void refactor_feasibility() {
    feas_rows_.clear();
    const std::size_t keep = max_points_ - max_points_ / 10;
    for (std::size_t k = obs_.size() > keep ? obs_.size() - keep : 0; k < obs_.size(); ++k) feas_rows_.push_back(k);
    refactor(feas_, feas_rows_);
  }

  // A GP over the given observations with the current hyperparameters,
  // factorised in full (its targets are set by the caller).
  void refactor(GaussianProcess& gp, const std::vector<std::size_t>& rows) const { refactor(gp, rows, gp_hyper_); }
  void refactor(GaussianProcess& gp, const std::vector<std::size_t>& rows, const GaussianProcess& hyper) const {
    Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(n_features_));
    for (std::size_t r = 0; r < rows.size(); ++r) X.row(static_cast<Eigen::Index>(r)) = features(obs_[rows[r]].first).transpose();
    gp.set_data(std::move(X), Eigen::VectorXd::Zero(static_cast<Eigen::Index>(rows.size())));
    gp.copy_hyperparameters(hyper);
    gp.factorize();
  }

  // The feasible observations the objective's GP uses: all of them, or
  // beyond max_points the best third, the most recent third and a seeded
  // random rest, leaving a tenth of max_points free for the observations
  // added until the next refit.
  void select_rows() {
    gp_rows_.clear();
    for (std::size_t k = 0; k < obs_.size(); ++k)
      if (std::isfinite(obs_[k].second)) gp_rows_.push_back(k);
    if (gp_rows_.size() <= max_points_) return;
    const std::size_t keep = max_points_ - max_points_ / 10;
    std::vector<std::size_t> by_fit = gp_rows_;
    std::stable_sort(by_fit.begin(), by_fit.end(), [&](std::size_t a, std::size_t b) { return obs_[a].second > obs_[b].second; });
    std::vector<char> take(gp_rows_.size(), 0);  // by position in gp_rows_
    std::vector<std::size_t> position(obs_.size(), 0);
    for (std::size_t r = 0; r < gp_rows_.size(); ++r) position[gp_rows_[r]] = r;
    for (std::size_t k = 0; k < keep / 3; ++k) take[position[by_fit[k]]] = 1;
    for (std::size_t k = 0; k < keep / 3; ++k) take[gp_rows_.size() - 1 - k] = 1;
    std::size_t count = 0;
    for (char c : take) count += static_cast<std::size_t>(c);
    while (count < keep) {
      const auto r = rng_.below(take.size());
      if (!take[r]) {
        take[r] = 1;
        ++count;
      }
    }
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < take.size(); ++r)
      if (take[r]) rows.push_back(gp_rows_[r]);
    gp_rows_ = std::move(rows);
  }

  // Marginal-likelihood fit on at most 128 of the GP's rows: from the
  // defaults the first time (fit_iterations Adam steps), then from the last
  // values (a quarter of the steps).
  void fit_hyperparameters() {
    fit_on_sample(gp_hyper_, gp_rows_, y_, last_fit_ == 0 ? fit_iterations_ : std::max(1, fit_iterations_ / 4));
    last_fit_ = obs_.size();
  }

  // Fits `hyper` (Adam steps from its current values) on at most 128 of
  // the observations `rows`, with targets y[k].
  void fit_on_sample(GaussianProcess& hyper, std::vector<std::size_t> rows, const std::vector<double>& y, int iterations) {
    const std::size_t m = std::min<std::size_t>(rows.size(), 128);
    for (std::size_t r = 0; m < rows.size() && r < m; ++r) std::swap(rows[r], rows[r + rng_.below(rows.size() - r)]);
    Eigen::MatrixXd X(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(n_features_));
    Eigen::VectorXd t(static_cast<Eigen::Index>(m));
    for (std::size_t r = 0; r < m; ++r) {
      X.row(static_cast<Eigen::Index>(r)) = features(obs_[rows[r]].first).transpose();
      t(static_cast<Eigen::Index>(r)) = y[rows[r]];
    }
    hyper.set_data(std::move(X), t);
    hyper.fit(iterations);
  }

  Eigen::VectorXd acquisition(const std::vector<std::vector<double>>& cands) const {
    Eigen::MatrixXd F(static_cast<Eigen::Index>(cands.size()), static_cast<Eigen::Index>(n_features_));
    for (std::size_t r = 0; r < cands.size(); ++r) F.row(static_cast<Eigen::Index>(r)) = features(cands[r]).transpose();
    Eigen::VectorXd mu, var, fmu, fvar;
    gp_.predict(F, mu, var);
    const bool feasibility = !feas_rows_.empty();
    if (feasibility) feas_.predict(F, fmu, fvar);
    Eigen::VectorXd a(mu.size());
    for (Eigen::Index r = 0; r < mu.size(); ++r) {
      const double s = std::sqrt(var(r));
      const double imp = mu(r) - best_ - xi_ * std::max(std::fabs(best_), 1e-12);
      const double z = imp / s;
      // UCB is shifted by the worst feasible reward so that weighting by the
      // probability of feasibility keeps its order among feasible designs.
      a(r) = acq_ == 0 ? imp * normal_cdf(z) + s * normal_pdf(z) : acq_ == 1 ? mu(r) + kappa_ * s - worst_ : normal_cdf(z);
      if (feasibility) a(r) *= normal_cdf(fmu(r) / std::sqrt(fvar(r)));
    }
    for (const auto& c : constraints_) {
      if (c.rows.empty()) continue;
      Eigen::VectorXd cmu, cvar;
      c.gp.predict(F, cmu, cvar);
      for (Eigen::Index r = 0; r < a.size(); ++r) a(r) *= normal_cdf((c.limit - cmu(r)) / std::sqrt(std::max(cvar(r), 1e-300)));
    }
    return a;
  }

  std::vector<double> maximise_acquisition() {
    if (!gp_ready_) return fresh_random();
    std::vector<std::vector<double>> cands;
    std::unordered_set<std::string> keys;
    auto add = [&](std::vector<double> x) {
      const auto k = space_.key(x);
      if (seen_.count(k) || !keys.insert(k).second) return;
      cands.push_back(std::move(x));
    };
    // A candidate costs O(n^2) with n observations in the GP: beyond 200 the
    // random ones shrink as 200 / n (at least 64), so an ask stays near 30 ms.
    const std::size_t n_gp = gp_.size();
    const std::size_t n_random = n_gp <= 200 ? n_candidates_ : std::max<std::size_t>(64, n_candidates_ * 200 / n_gp);
    for (std::size_t k = 0; k < n_random; ++k) add(space_.random_point(rng_));
    // Local moves around the best observed designs.
    std::vector<std::size_t> order(obs_.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(5, order.size())), order.end(),
                      [&](std::size_t a, std::size_t b) { return obs_[a].second > obs_[b].second; });
    const double p = 1.0 / static_cast<double>(space_.dim());
    for (std::size_t t = 0; t < std::min<std::size_t>(5, order.size()); ++t)
      for (int m = 0; m < 20; ++m) {
        auto x = obs_[order[t]].first;
        space_.mutate(x, rng_, p, m % 2 ? 0.05 : 0.2);
        add(std::move(x));
      }
    if (cands.empty()) return fresh_random();  // every nearby design was already proposed
    Eigen::VectorXd a = acquisition(cands);
    // Pattern search from the three best candidates, all starts moved in one
    // batch per step: each knob up and down by the step (discrete knobs to a
    // neighbouring value), halving the step three times. A start that did
    // not move keeps its neighbourhood, which is not evaluated again; without
    // continuous knobs the step does not matter, and one pass climbs longer.
    std::vector<std::size_t> top(cands.size());
    std::iota(top.begin(), top.end(), 0);
    const std::size_t starts = std::min<std::size_t>(3, top.size());
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(starts), top.end(),
                      [&](std::size_t i, std::size_t j) { return a(static_cast<Eigen::Index>(i)) > a(static_cast<Eigen::Index>(j)); });
    std::vector<std::vector<double>> cur;
    std::vector<double> cur_a;
    for (std::size_t k = 0; k < starts; ++k) {
      cur.push_back(cands[top[k]]);
      cur_a.push_back(a(static_cast<Eigen::Index>(top[k])));
    }
    bool continuous = false;
    for (std::size_t i = 0; i < space_.dim(); ++i) continuous = continuous || !space_.is_discrete(i);
    for (double step = 0.1; step > 0.01; step /= 2) {
      std::vector<char> moving(cur.size(), 1);
      for (int iter = 0; iter < (continuous ? 4 : 12); ++iter) {
        std::vector<std::vector<double>> nb;
        std::vector<std::size_t> owner;
        for (std::size_t k = 0; k < cur.size(); ++k)
          for (std::size_t i = 0; moving[k] && i < space_.dim(); ++i)
            for (int dir : {-1, 1}) {
              auto y = cur[k];
              if (space_.is_discrete(i)) {
                const auto idx = space_.index(y, i) + dir;
                if (idx < 0 || idx >= space_.cardinality(i)) continue;
                space_.set_index(y, i, idx);
              } else {
                y[i] = std::clamp(y[i] + dir * step, 0.0, 1.0);
              }
              if (seen_.count(space_.key(y))) continue;
              nb.push_back(std::move(y));
              owner.push_back(k);
            }
        if (nb.empty()) break;
        const Eigen::VectorXd na = acquisition(nb);
        std::fill(moving.begin(), moving.end(), 0);
        for (std::size_t j = 0; j < nb.size(); ++j)
          if (na(static_cast<Eigen::Index>(j)) > cur_a[owner[j]]) {
            cur_a[owner[j]] = na(static_cast<Eigen::Index>(j));
            cur[owner[j]] = nb[j];
            moving[owner[j]] = 1;
          }
        if (std::none_of(moving.begin(), moving.end(), [](char m) { return m != 0; })) break;
      }
      if (!continuous) break;
    }
    const auto best = static_cast<std::size_t>(std::max_element(cur_a.begin(), cur_a.end()) - cur_a.begin());
    return cur[best];
  }

  SearchSpace space_;
  Rng rng_;
  int acq_ = 0;
  double kappa_, xi_;
  std::size_t init_, n_candidates_, max_points_;
  int fit_iterations_;
  std::vector<std::size_t> feature_offset_;
  std::vector<bool> onehot_;
  std::size_t n_features_ = 0;
  std::vector<std::pair<std::vector<double>, double>> obs_;
  bool warp_ = true;  // the GP's targets go through a fitted power transform
  struct WarpFit {
    double shift, sd;  // v = (cost - shift) / sd
    bool box_cox;  // else Yeo-Johnson
    double lambda;
  };
  std::optional<WarpFit> warp_fit_;  // of the cost -reward
  std::vector<double> y_;  // the GP's target for each observation (NaN: failed)
  std::map<std::int64_t, std::vector<double>> pending_;
  std::unordered_set<std::string> seen_;
  GaussianProcess gp_, gp_hyper_;
  std::vector<std::size_t> gp_rows_;  // the observations in gp_, in its row order
  std::size_t gp_upto_ = 0;           // observations before this index were considered for gp_ and feas_
  bool gp_ready_ = false;
  GaussianProcess feas_;                // feasibility labels, once some design failed
  std::vector<std::size_t> feas_rows_;  // the observations in feas_
  double best_ = 0, worst_ = 0;
  std::size_t last_fit_ = 0;
  std::vector<Constraint> constraints_;  // metrics with an upper limit
  std::vector<char> explained_;          // per observation: failed and over a constraint's limit
};

}  // namespace

void register_bo_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{
      "bo",
      "Bayesian optimisation: GP (Matern 5/2, ARD, marginal likelihood) with EI, UCB or PI; batches by kriging believer",
      {{"acquisition", "acquisition function", "ei", std::make_shared<Categorical>(std::vector<std::string>{"ei", "ucb", "pi"})},
       {"warp", "the GP's targets: the rewards through a power transform fitted to them (Box-Cox, or Yeo-Johnson when some cost -reward is not positive), or the rewards themselves", "power",
        std::make_shared<Categorical>(std::vector<std::string>{"power", "none"})},
       {"kappa", "UCB exploration weight", 2.0, std::make_shared<Box>(0.0, 100.0)},
       {"xi", "EI/PI improvement margin, relative to |best| on the GP's (warped) scale", 0.0, std::make_shared<Box>(0.0, 1.0)},
       {"init_points", "random designs before the GP is used", 8, std::make_shared<Integer>(1, 10000)},
       {"candidates", "random candidates per acquisition maximisation (x 200/n beyond n = 200 observations in the GP, at least 64)", 512, std::make_shared<Integer>(16, 100000)},
       {"max_points", "observations the GP uses at most (best, recent and random ones beyond)", 600, std::make_shared<Integer>(50, 100000)},
       {"fit_iterations", "Adam steps per hyperparameter fit", 40, std::make_shared<Integer>(0, 10000)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<BayesOptAgent>(ctx, p); }});
}

}  // namespace dsegym
