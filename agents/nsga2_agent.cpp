// nsga2: NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) on the env's metrics:
// non-dominated sorting with crowding distance, binary tournaments, SBX
// crossover and polynomial mutation on continuous and ordered knobs (an
// ordered one rounded to its values), uniform crossover and random resetting
// on categorical ones; children already proposed are mutated until new.
// Failed or infeasible designs are dominated by every feasible one
// (constrained domination).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "agents/builtin_agents.hpp"
#include "agents/pareto.hpp"
#include "agents/replay_agent.hpp"
#include "agents/search_space.hpp"
#include "base/error.hpp"

namespace dsegym {

namespace {

struct Member {
  std::vector<double> x;
  Point f;  // minimised objectives; empty when infeasible
  bool evaluated = false;
  std::size_t rank = 0;
  double crowd = 0;
};

class Nsga2Agent final : public ReplayAgent {
public:
  Nsga2Agent(const AgentContext& ctx, const Params& p)
      : space_(ctx.space), rng_(ctx.seed), pop_(static_cast<std::size_t>(p.get_int("population"))), pc_(p.get_double("crossover_prob")),
        eta_c_(p.get_double("eta_crossover")), eta_m_(p.get_double("eta_mutation")) {
    const double pm = p.get_double("mutation_prob");
    pm_ = pm > 0 ? pm : 1.0 / static_cast<double>(space_.dim());
    const json& names = p.get("objectives");
    std::string valid;
    for (const auto& m : ctx.metrics)
      if (m.goal != Goal::None) valid += (valid.empty() ? "" : ", ") + m.name;
    if (names.empty() && ctx.objectives.empty()) {
      objectives_.push_back({"reward", -1.0});
      for (const auto& m : ctx.metrics)
        if (m.goal != Goal::None) objectives_.push_back({m.name, m.goal == Goal::Maximize ? -1.0 : 1.0});
    } else {
      for (const auto& n : names.empty() ? json(ctx.objectives) : names) {
        if (!n.is_string()) throw InvalidArgument("agent 'nsga2' hyperparameter 'objectives': expected metric names, got " + n.dump());
        const auto name = n.get<std::string>();
        if (name == "reward") {
          objectives_.push_back({name, -1.0});
          continue;
        }
        const MetricSpec* spec = nullptr;
        for (const auto& m : ctx.metrics)
          if (m.name == name) spec = &m;
        if (!spec || spec->goal == Goal::None)
          throw InvalidArgument("agent 'nsga2' hyperparameter 'objectives': no metric '" + name + "' with a goal; valid: reward, " + valid);
        objectives_.push_back({name, spec->goal == Goal::Maximize ? -1.0 : 1.0});
      }
    }
    if (objectives_.size() < 2)
      throw InvalidArgument("agent 'nsga2' needs at least two objectives; valid: reward and the env's metrics with a goal: " + valid);
    for (std::size_t i = 0; i < pop_; ++i) {
      std::vector<double> x = space_.random_point(rng_);
      space_.make_unseen(x, seen_, rng_, pm_, 0.2, 32);
      enqueue(std::move(x));
    }
  }

protected:
  std::vector<Suggestion> do_ask(std::size_t n) override {
    std::vector<Suggestion> out;
    for (std::size_t k = 0; k < n; ++k) {
      if (queue_.empty()) {
        if (pending_.empty())
          next_generation();
        else
          enqueue(offspring());
      }
      const std::size_t i = queue_.front();
      queue_.erase(queue_.begin());
      const auto id = next_id();
      pending_[id] = i;
      out.push_back({id, space_.decode(kids_[i].x)});
    }
    return out;
  }

  void do_tell(const std::vector<Trial>& trials) override {
    for (const auto& t : trials) {
      auto it = pending_.find(t.id);
      if (it == pending_.end()) continue;
      Member& m = kids_[it->second];
      m.evaluated = true;
      m.f.clear();
      if (t.status.ok()) {
        for (const auto& [name, sign] : objectives_) {
          const double* v = name == "reward" ? &t.reward : t.metrics.find(name);
          if (!v || !std::isfinite(*v)) {
            m.f.clear();
            break;
          }
          m.f.push_back(sign * *v);
        }
      }
      pending_.erase(it);
    }
  }

private:
  void enqueue(std::vector<double> x) {
    kids_.push_back({std::move(x), {}, false, 0, 0});
    queue_.push_back(kids_.size() - 1);
  }

  // Survivor selection over parents and evaluated offspring.
  void next_generation() {
    std::vector<Member> all = parents_;
    for (const auto& k : kids_)
      if (k.evaluated) all.push_back(k);
    std::vector<Member> feasible, infeasible;
    for (auto& m : all) (m.f.empty() ? infeasible : feasible).push_back(m);
    std::vector<Point> pts;
    for (const auto& m : feasible) pts.push_back(m.f);
    parents_.clear();
    std::size_t rank = 0;
    for (const auto& front : non_dominated_sort(pts)) {
      const auto cd = crowding_distance(pts, front);
      std::vector<std::size_t> order(front.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cd[a] > cd[b]; });
      for (auto o : order) {
        if (parents_.size() >= pop_) break;
        Member m = feasible[front[o]];
        m.rank = rank;
        m.crowd = cd[o];
        parents_.push_back(std::move(m));
      }
      ++rank;
    }
    for (auto& m : infeasible) {
      if (parents_.size() >= pop_) break;
      m.rank = rank;
      m.crowd = 0;
      parents_.push_back(m);
    }
    kids_.clear();
    queue_.clear();
    for (std::size_t i = 0; i < pop_; ++i) enqueue(offspring());
  }

  const Member& tournament() {
    const Member& a = parents_[rng_.below(parents_.size())];
    const Member& b = parents_[rng_.below(parents_.size())];
    if (a.rank != b.rank) return a.rank < b.rank ? a : b;
    return a.crowd >= b.crowd ? a : b;
  }

  std::vector<double> offspring() {
    if (parents_.empty()) return space_.random_point(rng_);
    std::vector<double> c = tournament().x;
    const std::vector<double>& d = tournament().x;
    const bool cross = rng_.uniform() < pc_;
    for (std::size_t i = 0; i < c.size(); ++i) {
      if (space_.leaf(i).kind == LeafKind::Categorical) {
        if (cross && rng_.bernoulli(0.5)) c[i] = d[i];
        if (rng_.uniform() < pm_) space_.set_index(c, i, static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(space_.cardinality(i)))));
        continue;
      }
      // Continuous and ordered knobs (integers, powers of two): SBX and
      // polynomial mutation on the encoding; an ordered one is then
      // rounded to its nearest value, and a mutation moves it at least one.
      const std::int64_t before = space_.is_discrete(i) ? space_.index(c, i) : 0;
      if (cross && rng_.bernoulli(0.5) && std::fabs(c[i] - d[i]) > 1e-14) {
        // Simulated binary crossover, bounded to [0,1] (Deb & Agrawal 1995).
        const double y1 = std::min(c[i], d[i]), y2 = std::max(c[i], d[i]);
        const double u = rng_.uniform();
        const double beta = 1.0 + 2.0 * std::min(y1, 1.0 - y2) / (y2 - y1);
        const double alpha = 2.0 - std::pow(beta, -(eta_c_ + 1.0));
        const double bq = u <= 1.0 / alpha ? std::pow(u * alpha, 1.0 / (eta_c_ + 1.0)) : std::pow(1.0 / (2.0 - u * alpha), 1.0 / (eta_c_ + 1.0));
        const double child = 0.5 * ((y1 + y2) - bq * (y2 - y1));
        c[i] = std::clamp(rng_.bernoulli(0.5) ? child : y1 + y2 - child, 0.0, 1.0);
      }
      if (rng_.uniform() < pm_) {
        // Polynomial mutation (Deb & Goyal 1996).
        const double u = rng_.uniform();
        const double delta = u < 0.5 ? std::pow(2.0 * u + (1.0 - 2.0 * u) * std::pow(1.0 - c[i], eta_m_ + 1.0), 1.0 / (eta_m_ + 1.0)) - 1.0
                                     : 1.0 - std::pow(2.0 * (1.0 - u) + 2.0 * (u - 0.5) * std::pow(c[i], eta_m_ + 1.0), 1.0 / (eta_m_ + 1.0));
        c[i] = std::clamp(c[i] + delta, 0.0, 1.0);
        if (space_.is_discrete(i) && space_.index(c, i) == before && space_.cardinality(i) > 1) {
          const std::int64_t step = delta > 0 ? 1 : -1;
          const std::int64_t to = before + step >= 0 && before + step < space_.cardinality(i) ? before + step : before - step;
          space_.set_index(c, i, to);
        }
      }
    }
    space_.snap(c);
    // A child already proposed is mutated until it is new.
    space_.make_unseen(c, seen_, rng_, pm_, 0.2, 32);
    return c;
  }

  SearchSpace space_;
  Rng rng_;
  std::size_t pop_;
  double pc_, eta_c_, eta_m_, pm_;
  std::vector<std::pair<std::string, double>> objectives_;  // name, +1 minimise / -1 maximise
  std::vector<Member> parents_, kids_;
  std::vector<std::size_t> queue_;
  std::map<std::int64_t, std::size_t> pending_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

void register_nsga2_agent(AgentRegistry& reg) {
  reg.add(AgentEntry{
      "nsga2",
      "NSGA-II multi-objective search over the env's metrics (non-dominated sorting, crowding, SBX, polynomial mutation)",
      {{"objectives", "metric names to optimise, or \"reward\" (default: the run's objectives, i.e. --objectives or the env's declared trade-off, e.g. latency and energy; without either, the reward and every metric with a goal)", json::array(), nullptr},
       {"population", "population size", 20, std::make_shared<Integer>(4, 100000)},
       {"crossover_prob", "probability of crossover per child", 0.9, std::make_shared<Box>(0.0, 1.0)},
       {"eta_crossover", "SBX distribution index", 15.0, std::make_shared<Box>(0.0, 1000.0)},
       {"eta_mutation", "polynomial mutation distribution index", 20.0, std::make_shared<Box>(0.0, 1000.0)},
       {"mutation_prob", "probability of mutating each knob (0: 1 / number of knobs)", 0.0, std::make_shared<Box>(0.0, 1.0)}},
      [](const AgentContext& ctx, const Params& p) -> AgentPtr { return std::make_unique<Nsga2Agent>(ctx, p); }});
}

}  // namespace dsegym
