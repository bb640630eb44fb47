// Population and trajectory agents on the [0,1]^d encoding:
//   ga   genetic algorithm (generational, elitist)
//   sa   simulated annealing
//   aco  ant colony optimisation (max-min ant system over discretised knobs)
// All maximise the reward; a failed or infeasible evaluation has fitness -inf.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"

namespace dsegym {

namespace {

struct Individual {
  std::vector<double> x;
  double fitness = kWorstFitness;
  bool evaluated = false;
};

// ---------------------------------------------------------------- GA

class GeneticAgent final : public ReplayAgent {
public:
  GeneticAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), pop_size_(static_cast<std::size_t>(p.get_int("population"))),
        tournament_(p.get_string("selection") == "tournament"), tsize_(static_cast<std::size_t>(p.get_int("tournament_size"))),
        uniform_(p.get_string("crossover") == "uniform"), pc_(p.get_double("crossover_prob")), pm_(p.get_double("mutation_prob")),
        sigma_(p.get_double("mutation_sigma")), elites_(static_cast<std::size_t>(p.get_int("elitism"))) {
    for (std::size_t i = 0; i < pop_size_; ++i) add_to_generation(unique(space_.random_point(rng_)));
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      if (queue_.empty()) {
        if (all_told())
          next_generation();
        else
          add_to_generation(child());  // more asked than a generation holds: breed from what is known
      }
      const std::size_t i = queue_.front();
      queue_.erase(queue_.begin());
      const auto id = next_id();
      pending_[id] = i;
      out.push_back({id, space_.decode(gen_[i].x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      gen_[it->second].fitness = fitness_of(t);
      gen_[it->second].evaluated = true;
      pending_.erase(it);
    }
  }

private:
  bool all_told() const { return pending_.empty(); }

  void add_to_generation(std::vector<double> x) {
    gen_.push_back({std::move(x), kWorstFitness, false});
    queue_.push_back(gen_.size() - 1);
  }

  std::vector<double> unique(std::vector<double> x) {
    space_.make_unseen(x, seen_, rng_, pm_, sigma_, 16);
    return x;
  }

  // Parents: the evaluated members of the current generation plus the elites.
  std::vector<const Individual*> parents() const {
    std::vector<const Individual*> v;
    for (const auto& ind : gen_)
      if (ind.evaluated) v.push_back(&ind);
    for (const auto& ind : elite_) v.push_back(&ind);
    return v;
  }

  const Individual& select(const std::vector<const Individual*>& pool) {
    if (tournament_) {
      const Individual* best = pool[rng_.below(pool.size())];
      for (std::size_t k = 1; k < tsize_; ++k) {
        const Individual* c = pool[rng_.below(pool.size())];
        if (c->fitness > best->fitness) best = c;
      }
      return *best;
    }
    // Rank-weighted roulette: weight = rank (worst 1, best N); works for any reward sign.
    std::vector<std::size_t> order(pool.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return pool[a]->fitness < pool[b]->fitness; });
    const double total = static_cast<double>(pool.size()) * static_cast<double>(pool.size() + 1) / 2;
    double r = rng_.uniform() * total;
    for (std::size_t k = 0; k < order.size(); ++k) {
      r -= static_cast<double>(k + 1);
      if (r <= 0) return *pool[order[k]];
    }
    return *pool[order.back()];
  }

  std::vector<double> child() {
    const auto pool = parents();
    if (pool.empty()) return unique(space_.random_point(rng_));
    std::vector<double> a = select(pool).x;
    if (rng_.uniform() < pc_) {
      const std::vector<double>& b = select(pool).x;
      if (uniform_) {
        for (std::size_t i = 0; i < a.size(); ++i)
          if (rng_.bernoulli(0.5)) a[i] = b[i];
      } else {
        const std::size_t cut = a.size() > 1 ? 1 + rng_.below(a.size() - 1) : 0;
        for (std::size_t i = cut; i < a.size(); ++i) a[i] = b[i];
      }
    }
    space_.mutate(a, rng_, pm_, sigma_);
    return unique(std::move(a));
  }

  void next_generation() {
    // Elites: the best individuals seen so far, carried without re-evaluation.
    std::vector<Individual> all = elite_;
    for (const auto& ind : gen_)
      if (ind.evaluated) all.push_back(ind);
    std::stable_sort(all.begin(), all.end(), [](const Individual& a, const Individual& b) { return a.fitness > b.fitness; });
    const std::size_t ne = std::min(elites_, all.size());
    const std::size_t nk = std::max<std::size_t>(1, pop_size_ - std::min(ne, pop_size_));
    std::vector<std::vector<double>> kids;  // bred from this generation and the old elites
    for (std::size_t i = 0; i < nk; ++i) kids.push_back(child());
    elite_.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(ne));
    gen_.clear();
    queue_.clear();
    for (auto& k : kids) add_to_generation(std::move(k));
  }

  SearchSpace space_;
  Rng rng_;
  std::size_t pop_size_;
  bool tournament_;
  std::size_t tsize_;
  bool uniform_;
  double pc_, pm_, sigma_;
  std::size_t elites_;
  std::vector<Individual> gen_, elite_;
  std::vector<std::size_t> queue_;
  std::map<std::int64_t, std::size_t> pending_;
  std::unordered_set<std::string> seen_;
};

// ---------------------------------------------------------------- SA

class AnnealingAgent final : public ReplayAgent {
public:
  AnnealingAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), t0_(p.get_double("initial_temperature")), cooling_(p.get_double("cooling")),
        pm_(p.get_double("mutation_prob")), sigma_(p.get_double("step_sigma")), restart_(p.get_int("restart_after")),
        startup_(p.get_int("n_startup")) {}

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      // The first n_startup designs are random; the walk starts from the
      // best of them. A move to a design already proposed is mutated again.
      const bool walk = asked_++ >= startup_ && !current_.empty();
      std::vector<double> x = walk ? current_ : space_.random_point(rng_);
      if (walk) space_.mutate(x, rng_, pm_, sigma_);
      space_.make_unseen(x, seen_, rng_, pm_, sigma_, 32);
      const auto id = next_id();
      pending_[id] = x;
      out.push_back({id, space_.decode(x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      const double f = fitness_of(t);
      if (std::isfinite(f)) rewards_.insert(std::upper_bound(rewards_.begin(), rewards_.end(), f), f);  // sorted
      bool accept = f >= current_f_ || current_.empty();
      if (told_++ >= startup_ && !accept && std::isfinite(f)) {
        // The rewards' spread, robustly: their interquartile range / 1.349
        // (a normal's standard deviation). Their standard deviation would
        // follow a heavy tail of bad designs (soc-design-v0: rewards from
        // -145 to -40,000 us) and make the walk a random one.
        const auto quartile = [&](double p) {
          const double at = p * static_cast<double>(rewards_.size() - 1);
          const auto lo = static_cast<std::size_t>(at);
          const std::size_t hi = std::min(lo + 1, rewards_.size() - 1);
          return rewards_[lo] + (at - static_cast<double>(lo)) * (rewards_[hi] - rewards_[lo]);
        };
        const double scale = rewards_.size() > 1 ? (quartile(0.75) - quartile(0.25)) / 1.349 : 1.0;
        const double temperature = t0_ * std::pow(cooling_, static_cast<double>(steps_++)) * std::max(scale, 1e-12);
        accept = rng_.uniform() < std::exp((f - current_f_) / temperature);
      }
      if (accept && (std::isfinite(f) || current_.empty())) {
        current_ = it->second;
        current_f_ = f;
      }
      if (f > best_f_) {
        best_f_ = f;
        best_ = it->second;
        stale_ = 0;
      } else if (restart_ > 0 && ++stale_ >= restart_ && !best_.empty()) {
        // Restart from the best design with the initial temperature (once
        // some design succeeded).
        current_ = best_;
        current_f_ = best_f_;
        steps_ = 0;
        stale_ = 0;
      }
      pending_.erase(it);
    }
  }

private:
  SearchSpace space_;
  Rng rng_;
  double t0_, cooling_, pm_, sigma_;
  std::int64_t restart_, startup_;
  std::vector<double> current_, best_;
  double current_f_ = kWorstFitness, best_f_ = kWorstFitness;
  std::int64_t asked_ = 0, told_ = 0, steps_ = 0, stale_ = 0;
  std::unordered_set<std::string> seen_;
  std::vector<double> rewards_;  // the finite ones, sorted: the temperature's scale
  std::map<std::int64_t, std::vector<double>> pending_;
};

// ---------------------------------------------------------------- ACO

class AntColonyAgent final : public ReplayAgent {
public:
  AntColonyAgent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), ants_(static_cast<std::size_t>(p.get_int("ant_count"))), rho_(p.get_double("evaporation")),
        q0_(p.get_double("greediness")), depth_(static_cast<std::size_t>(p.get_int("depth"))), bins_(p.get_int("bins")) {
    for (std::size_t i = 0; i < space_.dim(); ++i)
      tau_.emplace_back(static_cast<std::size_t>(space_.is_discrete(i) ? space_.cardinality(i) : bins_), kTauMax);
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<double> x(space_.dim());
      std::vector<std::size_t> path(space_.dim());
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto& t = tau_[i];
        std::size_t v;
        if (rng_.uniform() < q0_) {
          // The strongest trail; ties broken at random.
          const double top = *std::max_element(t.begin(), t.end());
          std::size_t ties = 0;
          for (double tv : t) ties += tv >= top * (1 - 1e-12) ? 1 : 0;
          auto pick = rng_.below(ties);
          for (v = 0; v < t.size(); ++v)
            if (t[v] >= top * (1 - 1e-12) && pick-- == 0) break;
        } else {
          double r = rng_.uniform() * std::accumulate(t.begin(), t.end(), 0.0);
          for (v = 0; v + 1 < t.size() && (r -= t[v]) > 0; ++v) {
          }
        }
        path[i] = v;
        if (space_.is_discrete(i))
          space_.set_index(x, i, static_cast<std::int64_t>(v));
        else
          x[i] = (static_cast<double>(v) + rng_.uniform()) / static_cast<double>(bins_);
      }
      const auto id = next_id();
      pending_[id] = path;
      out.push_back({id, space_.decode(x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      done_.emplace_back(fitness_of(t), it->second);
      pending_.erase(it);
    }
    // One colony iteration per ant_count completed ants.
    while (done_.size() >= ants_) {
      std::vector<std::pair<double, std::vector<std::size_t>>> iteration(done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(ants_));
      done_.erase(done_.begin(), done_.begin() + static_cast<std::ptrdiff_t>(ants_));
      std::stable_sort(iteration.begin(), iteration.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      if (iteration.front().first > best_.first) best_ = iteration.front();
      for (auto& row : tau_)
        for (auto& v : row) v *= 1.0 - rho_;
      // The best `depth` ants of the iteration and the best-so-far ant deposit,
      // more for better ranks (max-min ant system bounds keep exploration alive).
      auto deposit = [&](const std::vector<std::size_t>& path, double amount) {
        for (std::size_t i = 0; i < path.size(); ++i) tau_[i][path[i]] += amount;
      };
      for (std::size_t r = 0; r < std::min(depth_, iteration.size()); ++r)
        if (std::isfinite(iteration[r].first)) deposit(iteration[r].second, rho_ * kTauMax / static_cast<double>(r + 1));
      if (std::isfinite(best_.first)) deposit(best_.second, rho_ * kTauMax);
      for (auto& row : tau_)
        for (auto& v : row) v = std::clamp(v, kTauMin, kTauMax);
    }
  }

private:
  static constexpr double kTauMin = 0.01, kTauMax = 1.0;
  SearchSpace space_;
  Rng rng_;
  std::size_t ants_;
  double rho_, q0_;
  std::size_t depth_;
  std::int64_t bins_;
  std::vector<std::vector<double>> tau_;
  std::map<std::int64_t, std::vector<std::size_t>> pending_;
  std::vector<std::pair<double, std::vector<std::size_t>>> done_;
  std::pair<double, std::vector<std::size_t>> best_{kWorstFitness, {}};
};


}  // namespace

void register_evolutionary_agents(AgentRegistry& reg) {
  reg.add(AgentEntry{
      "ga",
      "genetic algorithm: generational with elitism, tournament or rank roulette selection, uniform or one-point crossover",
      {{"population", "individuals per generation", 16, int_range(2, 4096)},
       {"selection", "parent selection", "tournament", std::make_shared<Categorical>(std::vector<std::string>{"tournament", "roulette"})},
       {"tournament_size", "contestants per tournament", 3, int_range(2, 64)},
       {"crossover", "crossover operator", "uniform", std::make_shared<Categorical>(std::vector<std::string>{"uniform", "one_point"})},
       {"crossover_prob", "probability that a child has two parents", 0.9, unit_range()},
       {"mutation_prob", "probability of mutating each knob (ArchGym's prob_mutation)", 0.25, unit_range()},
       {"mutation_sigma", "std. dev. of a continuous or ordered knob's mutation (unit scale)", 0.25, unit_range()},
       {"elitism", "best designs carried into the next generation", 2, int_range(0, 4096)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<GeneticAgent>(ctx, p); }});
  reg.add(AgentEntry{
      "sa",
      "simulated annealing with Metropolis acceptance; temperature relative to the observed rewards' interquartile range",
      {{"initial_temperature", "initial temperature, in robust standard deviations (interquartile range / 1.349) of the rewards seen", 0.005, std::make_shared<Box>(1e-6, 1e6)},
       {"cooling", "temperature factor per evaluation", 0.98, std::make_shared<Box>(0.5, 1.0)},
       {"mutation_prob", "probability of changing each knob in a move", 0.2, unit_range()},
       {"step_sigma", "std. dev. of a continuous move (unit scale)", 0.1, unit_range()},
       {"restart_after", "evaluations without improvement before restarting from the best (0: never)", 0, int_range(0, 1000000)},
       {"n_startup", "random designs before the walk, which starts from the best of them", 20, int_range(1, 1000000)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<AnnealingAgent>(ctx, p); }});
  reg.add(AgentEntry{
      "aco",
      "ant colony optimisation (max-min ant system) over discrete knobs and binned continuous ones",
      {{"ant_count", "ants per colony iteration", 16, int_range(1, 4096)},
       {"evaporation", "pheromone evaporation rate per iteration", 0.1, unit_range()},
       {"greediness", "probability that an ant takes the strongest trail instead of sampling", 0.5, unit_range()},
       {"depth", "best ants of an iteration that deposit pheromone", 4, int_range(1, 4096)},
       {"bins", "bins per continuous knob", 20, int_range(2, 10000)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<AntColonyAgent>(ctx, p); }});
}

}  // namespace dsegym
