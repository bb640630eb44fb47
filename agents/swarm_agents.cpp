// Population agents on the [0,1]^d encoding (discrete knobs are the bins of
// their coordinate), each asking a whole generation before it moves on:
//   de   differential evolution, DE/rand/1/bin (Storn & Price, J. Global
//        Optimization 11, 1997): trial = a + F (b - c), binomial crossover
//        with the target, the better of trial and target survives;
//   pso  particle swarm optimisation with Clerc & Kennedy's constriction
//        (IEEE Trans. Evol. Comput. 6(1), 2002: chi = 0.7298, c1 = c2 =
//        2.05 chi = 1.4962), global best, velocities clamped to vmax.
// Both maximise the reward; a failed or infeasible design has fitness -inf.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"

namespace dsegym {

namespace {

// The generation protocol shared by both: `propose(i)` gives the design of
// member i of the next generation, `accept(i, f)` takes its fitness, and
// `advance()` runs once every member of a generation has been told. Asks
// beyond a generation's size make extra members from the same state.
class GenerationalAgent : public ReplayAgent {
public:
  GenerationalAgent(const AgentContext& ctx, std::size_t size) : space_(ctx.space), rng_(ctx.seed), size_(size) {}

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = next_member_++;
      std::vector<double> x = propose(i % size_);
      // A design already evaluated is replaced by a neighbour.
      space_.make_unseen(x, seen_, rng_, 1.0 / static_cast<double>(x.size()), 0.05, 10);
      const auto id = next_id();
      pending_[id] = {i % size_, x};
      out.push_back({id, space_.decode(x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      accept(it->second.first, it->second.second, fitness_of(t));
      pending_.erase(it);
      ++told_;
    }
    if (told_ >= size_ && pending_.empty()) {
      advance();
      told_ = 0;
      next_member_ = 0;
    }
  }

  virtual std::vector<double> propose(std::size_t i) = 0;
  virtual void accept(std::size_t i, const std::vector<double>& x, double f) = 0;
  virtual void advance() = 0;

  SearchSpace space_;
  Rng rng_;
  std::size_t size_;

private:
  std::size_t next_member_ = 0, told_ = 0;
  std::map<std::int64_t, std::pair<std::size_t, std::vector<double>>> pending_;
  std::unordered_set<std::string> seen_;
};

// ---------------------------------------------------------------- DE

class DifferentialEvolution final : public GenerationalAgent {
public:
  DifferentialEvolution(const AgentContext& ctx, const Params& p)
      : GenerationalAgent(ctx, static_cast<std::size_t>(p.get_int("population"))), F_(p.get_double("F")), cr_(p.get_double("CR")),
        pop_(size_), fit_(size_, kWorstFitness), trial_fit_(size_, kWorstFitness), trials_(size_) {
    for (auto& x : pop_) x = space_.random_point(rng_);
  }

protected:
  std::vector<double> propose(std::size_t i) override {
    if (first_) return pop_[i];  // the first generation is the random population itself
    std::size_t a, b, c;
    do a = rng_.below(size_); while (a == i);
    do b = rng_.below(size_); while (b == i || b == a);
    do c = rng_.below(size_); while (c == i || c == a || c == b);
    std::vector<double> x = pop_[i];
    const std::size_t forced = rng_.below(x.size());  // at least one coordinate from the mutant
    for (std::size_t d = 0; d < x.size(); ++d)
      if (d == forced || rng_.uniform() < cr_) {
        double v = pop_[a][d] + F_ * (pop_[b][d] - pop_[c][d]);
        if (v < 0 || v > 1) v = pop_[a][d] + rng_.uniform() * ((v < 0 ? 0.0 : 1.0) - pop_[a][d]);  // back inside, between a and the bound
        x[d] = v;
      }
    space_.snap(x);
    return x;
  }

  void accept(std::size_t i, const std::vector<double>& x, double f) override {
    if (first_) {
      if (f >= fit_[i]) {
        pop_[i] = x;
        fit_[i] = f;
      }
    } else if (f > trial_fit_[i] || trials_[i].empty()) {
      trials_[i] = x;
      trial_fit_[i] = f;
    }
  }

  void advance() override {
    if (!first_)
      for (std::size_t i = 0; i < size_; ++i)
        if (!trials_[i].empty() && trial_fit_[i] >= fit_[i]) {
          pop_[i] = trials_[i];
          fit_[i] = trial_fit_[i];
        }
    first_ = false;
    std::fill(trial_fit_.begin(), trial_fit_.end(), kWorstFitness);
    for (auto& t : trials_) t.clear();
  }

private:
  double F_, cr_;
  bool first_ = true;
  std::vector<std::vector<double>> pop_;
  std::vector<double> fit_, trial_fit_;
  std::vector<std::vector<double>> trials_;
};

// ---------------------------------------------------------------- PSO

class ParticleSwarm final : public GenerationalAgent {
public:
  ParticleSwarm(const AgentContext& ctx, const Params& p)
      : GenerationalAgent(ctx, static_cast<std::size_t>(p.get_int("particles"))), chi_(p.get_double("inertia")), c1_(p.get_double("cognitive")),
        c2_(p.get_double("social")), vmax_(p.get_double("vmax")), pos_(size_), vel_(size_), best_pos_(size_), best_fit_(size_, kWorstFitness) {
    for (std::size_t i = 0; i < size_; ++i) {
      pos_[i] = space_.random_point(rng_);
      vel_[i].resize(pos_[i].size());
      // Initial velocity: half the way to another random point (Clerc 2012, SPSO 2011).
      const auto other = space_.random_point(rng_);
      for (std::size_t d = 0; d < other.size(); ++d) vel_[i][d] = std::clamp(0.5 * (other[d] - pos_[i][d]), -vmax_, vmax_);
      best_pos_[i] = pos_[i];
    }
  }

protected:
  std::vector<double> propose(std::size_t i) override {
    std::vector<double> x = pos_[i];
    space_.snap(x);
    return x;
  }

  void accept(std::size_t i, const std::vector<double>& x, double f) override {
    if (f > best_fit_[i]) {
      best_fit_[i] = f;
      best_pos_[i] = x;
    }
    if (f > swarm_fit_) {
      swarm_fit_ = f;
      swarm_pos_ = x;
    }
  }

  void advance() override {
    for (std::size_t i = 0; i < size_; ++i)
      for (std::size_t d = 0; d < pos_[i].size(); ++d) {
        const double g = swarm_pos_.empty() ? pos_[i][d] : swarm_pos_[d];
        double v = chi_ * vel_[i][d] + c1_ * rng_.uniform() * (best_pos_[i][d] - pos_[i][d]) + c2_ * rng_.uniform() * (g - pos_[i][d]);
        v = std::clamp(v, -vmax_, vmax_);
        double x = pos_[i][d] + v;
        if (x < 0 || x > 1) {  // at a wall the particle stops there and turns back
          x = std::clamp(x, 0.0, 1.0);
          v = -0.5 * v;
        }
        pos_[i][d] = x;
        vel_[i][d] = v;
      }
  }

private:
  double chi_, c1_, c2_, vmax_;
  std::vector<std::vector<double>> pos_, vel_, best_pos_;
  std::vector<double> best_fit_;
  std::vector<double> swarm_pos_;
  double swarm_fit_ = kWorstFitness;
};


}  // namespace

void register_swarm_agents(AgentRegistry& reg) {
  reg.add(AgentEntry{"de",
                     "differential evolution, DE/rand/1/bin (Storn & Price 1997)",
                     {{"population", "designs per generation", 16, std::make_shared<Integer>(4, 100000)},
                      {"F", "differential weight", 0.5, std::make_shared<Box>(0.0, 2.0)},
                      {"CR", "crossover probability per knob", 0.9, unit_range()}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<DifferentialEvolution>(ctx, p); }});
  reg.add(AgentEntry{"pso",
                     "particle swarm optimisation with constriction (Clerc & Kennedy 2002), global best",
                     {{"particles", "swarm size (designs per generation)", 16, std::make_shared<Integer>(2, 100000)},
                      {"inertia", "velocity factor (the constriction chi)", 0.7298, unit_range()},
                      {"cognitive", "pull towards the particle's own best (chi x 2.05)", 1.4962, std::make_shared<Box>(0.0, 4.0)},
                      {"social", "pull towards the swarm's best (chi x 2.05)", 1.4962, std::make_shared<Box>(0.0, 4.0)},
                      {"vmax", "largest velocity per knob on the unit scale", 0.5, std::make_shared<Box>(1e-6, 1.0)}},
                     [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<ParticleSwarm>(ctx, p); }});
}

}  // namespace dsegym
