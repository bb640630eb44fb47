#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "agents/pareto.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/core/wrappers.hpp"
#include "test_functions.hpp"

using namespace dsegym;
using dsegym::testing::CosineBowl;
using dsegym::testing::OrderedValley;
using dsegym::testing::Zdt1;

namespace {

using EnvFactory = std::function<EnvPtr()>;

EnvFactory toy() {
  return [] {
    auto e = make_env(env_registry(), "toy-v0");
    const json reward = e->spec().default_reward;
    return EnvPtr(std::make_unique<RewardWrapper>(std::move(e), reward));
  };
}

struct Run {
  double best = -1e300;
  std::vector<Trial> trials;
  std::vector<Value> proposals;
};

// Drives an agent for `budget` evaluations, `batch` at a time.
Run drive(const std::string& agent_id, const EnvFactory& make, std::int64_t budget, std::uint64_t seed, const json& hp = json::object(),
          std::size_t batch = 1) {
  EnvPtr env = make();
  AgentPtr agent = make_agent(agent_id, {env->spec().action_space, env->spec().metrics, seed}, hp);
  Run run;
  while (static_cast<std::int64_t>(run.trials.size()) < budget) {
    const auto n = std::min<std::size_t>(batch, static_cast<std::size_t>(budget - static_cast<std::int64_t>(run.trials.size())));
    std::vector<Trial> told;
    for (const auto& s : agent->ask(n)) {
      env->reset(0);
      StepResult r = env->step(s.action);
      run.proposals.push_back(s.action);
      told.push_back({s.id, s.action, r.metrics, r.reward, r.status});
      if (r.status.ok()) run.best = std::max(run.best, r.reward);
    }
    agent->tell(told);
    run.trials.insert(run.trials.end(), told.begin(), told.end());
  }
  return run;
}

double median_best(const std::string& agent, const EnvFactory& make, std::int64_t budget, const json& hp = json::object()) {
  std::vector<double> v;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) v.push_back(drive(agent, make, budget, seed, hp).best);
  std::sort(v.begin(), v.end());
  return 0.5 * (v[4] + v[5]);
}

const std::vector<std::string> kAgents = {"random", "grid", "quasirandom", "ga", "sa", "aco", "bo", "nsga2", "tpe", "cmaes", "de", "pso"};

}  // namespace

TEST_CASE("GA, SA, ACO and BO beat random search's median at equal budget on a mixed categorical/integer/real space") {
  // toy-v0: categorical kind, power-of-two n, integer m, real x and y; optimum reward 0.
  const double random300 = median_best("random", toy(), 300);
  for (const char* a : {"ga", "sa", "aco"}) {
    INFO(a);
    CHECK(median_best(a, toy(), 300) > random300);
  }
  const double random80 = median_best("random", toy(), 80);
  CHECK(median_best("bo", toy(), 80) > random80);
  MESSAGE("random median best at 300: " << random300 << ", at 80: " << random80);
}

TEST_CASE("BO gets within 1% of the optimum of a 4-D function in 60 evaluations") {
  const EnvFactory bowl = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0)); };
  for (std::uint64_t seed : {1, 2, 3}) {
    INFO("seed ", seed);
    CHECK(drive("bo", bowl, 60, seed).best >= 0.99 * 4.0);  // optimum 4 at c
  }
}

TEST_CASE("BO mostly escapes the deceptive peaks of a multimodal 4-D function in 60 evaluations") {
  const EnvFactory bowl = [] { return EnvPtr(std::make_unique<CosineBowl>(3.0)); };
  int hits = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) hits += drive("bo", bowl, 60, seed).best >= 0.99 * 4.0 ? 1 : 0;
  MESSAGE("multimodal bowl: " << hits << " of 10 seeds within 1% of the optimum");
  CHECK(hits >= 7);
}

// The bowl's values through -exp(4 - f): rewards from -1 at the optimum down
// to about -1e6. Standardised as they are, a few very bad designs make the
// good region look flat to the GP; the power warp (Box-Cox here, the costs
// being positive) undoes the tail. Measured: 10 of 10 seeds warped, 0
// without.
TEST_CASE("BO's power warp finds the optimum through a heavy-tailed reward") {
  const EnvFactory tailed = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0, 1.0)); };
  const double near = -std::exp(1.0 * 0.04);  // f within 1% of the optimum 4
  int warped = 0, plain = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    warped += drive("bo", tailed, 60, seed).best >= near ? 1 : 0;
    plain += drive("bo", tailed, 60, seed, {{"warp", "none"}}).best >= near ? 1 : 0;
  }
  MESSAGE("heavy-tailed bowl, 60 evaluations: within 1% of the optimum on " << warped << " of 10 seeds warped, " << plain << " without");
  CHECK(warped >= 8);
  CHECK(warped > plain);
}

// SA's temperature is relative to the spread of the rewards seen. The
// heavy-tailed bowl's rewards (-exp(4 - f): -1 at the optimum, down to
// about -1e6) have a standard deviation set by their few worst values,
// which made the walk accept any move; their interquartile range follows
// the typical design, so the walk climbs as on the plain bowl.
// soc-design-v0 declares its power budget as a constraint (peak_power_w
// <= 8.30 W) and reports the peak power of over-budget designs. BO models
// it with a GP on those values; told only that a design failed, it has a
// GP on the failure labels, which learns the boundary from which side each
// design fell on. The best designs sit at the budget (README); modelled,
// BO wastes fewer evaluations beyond it and ends better.
TEST_CASE("BO that models a declared constraint wastes fewer evaluations on infeasible designs and finds better ones") {
  const EnvFactory soc = [] {
    auto e = make_env(env_registry(), "soc-design-v0");
    const json reward = e->spec().default_reward;
    return EnvPtr(std::make_unique<RewardWrapper>(std::move(e), reward));
  };
  auto run = [&](bool modelled, std::uint64_t seed, int& infeasible) {
    EnvPtr env = soc();
    std::vector<MetricSpec> metrics = env->spec().metrics;
    if (!modelled)
      for (auto& m : metrics) m.upper_limit = std::numeric_limits<double>::infinity();
    AgentPtr bo = make_agent("bo", {env->spec().action_space, metrics, seed});
    double best = -1e300;
    for (int i = 0; i < 100; ++i) {
      const auto s = bo->ask(1).at(0);
      env->reset(0);
      StepResult r = env->step(s.action);
      infeasible += r.status.ok() ? 0 : 1;
      if (r.status.ok()) best = std::max(best, r.reward);
      bo->tell({{s.id, s.action, r.metrics, r.reward, r.status}});
    }
    return best;
  };
  int infeasible_modelled = 0, infeasible_labels = 0;
  std::vector<double> modelled, labels;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    modelled.push_back(run(true, seed, infeasible_modelled));
    labels.push_back(run(false, seed, infeasible_labels));
  }
  std::sort(modelled.begin(), modelled.end());
  std::sort(labels.begin(), labels.end());
  const double med_modelled = 0.5 * (modelled[2] + modelled[3]), med_labels = 0.5 * (labels[2] + labels[3]);
  MESSAGE("soc-design-v0, bo, 100 evaluations x 6 seeds: infeasible " << infeasible_modelled << " modelled vs " << infeasible_labels
                                                                      << " labels only; median best " << med_modelled << " vs " << med_labels);
  CHECK(infeasible_modelled < infeasible_labels);
  CHECK(med_modelled > med_labels);
}

TEST_CASE("SA climbs a heavy-tailed reward as it climbs the plain one") {
  const EnvFactory plain = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0)); };
  const EnvFactory tailed = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0, 1.0)); };
  int hits_plain = 0, hits_tailed = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    hits_plain += drive("sa", plain, 150, seed).best >= 0.95 * 4.0 ? 1 : 0;
    hits_tailed += drive("sa", tailed, 150, seed).best >= -std::exp(0.2) ? 1 : 0;  // f within 5% of 4
  }
  MESSAGE("SA, 150 evaluations: within 5% of the optimum on " << hits_plain << " of 10 seeds (plain), " << hits_tailed << " (heavy tail)");
  CHECK(hits_plain >= 7);
  CHECK(hits_tailed >= hits_plain - 1);
}

// Optuna 3.1's TPESampler on the same function and budget, seeds 1-5:
// median 3.95, worst 3.88 multivariate; 3.99 / 3.99 univariate. Ours on
// seeds 1-20: multivariate median 3.95, second worst 3.88; univariate 3.98 /
// 3.90 (5 seeds are too few: their median moves by 0.05 between versions
// that agree on 40). BO needs 60.
TEST_CASE("TPE gets close to the optimum of a 4-D function and beats random search on a mixed space") {
  const EnvFactory bowl = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0)); };
  for (const bool multivariate : {true, false}) {
    INFO("multivariate " << multivariate);
    std::vector<double> best;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) best.push_back(drive("tpe", bowl, 200, seed, {{"multivariate", multivariate}}).best);
    std::sort(best.begin(), best.end());
    MESSAGE("tpe multivariate=" << multivariate << " on the bowl, 200 evaluations: median best " << best[10] << ", second worst " << best[1]);
    CHECK(best[10] >= 0.98 * 4.0);  // optimum 4 at c
    CHECK(best[1] >= 0.96 * 4.0);
  }
  CHECK(median_best("tpe", toy(), 300) > median_best("random", toy(), 300));
}

// The bowl's optimum is 4 at c (a smooth 4-D function). Budgets and
// tolerances of the gap to it, with room over what seeds 1-5 gave (median /
// worst): CMA-ES 8e-12 / 1.2e-10 after 800 evaluations (Hansen's defaults, 8
// designs per generation; linear convergence: 4e-6 / 1.1e-4 after 400),
// DE 1.0e-5 / 1.4e-4, PSO 2.3e-5 / 3.8e-5 after 800.
TEST_CASE("CMA-ES, DE and PSO reach the optimum of a smooth 4-D function within a stated tolerance and budget") {
  const EnvFactory bowl = [] { return EnvPtr(std::make_unique<CosineBowl>(2.0)); };
  for (const auto& [agent, budget, tolerance] : std::vector<std::tuple<std::string, std::int64_t, double>>{
           {"cmaes", 800, 1e-8}, {"de", 800, 1e-4}, {"pso", 800, 1e-4}}) {
    std::vector<double> gap;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) gap.push_back(4.0 - drive(agent, bowl, budget, seed).best);
    std::sort(gap.begin(), gap.end());
    MESSAGE(agent << " on the bowl, " << budget << " evaluations: gap to the optimum median " << gap[2] << ", worst " << gap[4]);
    INFO(agent);
    CHECK(gap[2] <= tolerance);
    CHECK(gap[4] <= 10 * tolerance);
  }
}

TEST_CASE("CMA-ES with margin, DE and PSO beat random search on a mixed categorical/integer/real space") {
  const double random300 = median_best("random", toy(), 300);
  for (const char* a : {"cmaes", "de", "pso"}) {
    INFO(a);
    CHECK(median_best(a, toy(), 300) > random300);
  }
}

namespace {
// Every design infeasible: agents must keep proposing without a best design.
class NothingFits final : public Env {
public:
  NothingFits() : Env(CosineBowl::make_spec()) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value&) override {
    StepResult r;
    r.status = EvalStatus::infeasible("nothing fits");
    r.obs = Value(0.0);
    r.terminated = true;
    return r;
  }
};
}  // namespace

TEST_CASE("agents keep proposing distinct designs when every design is infeasible (SA restarts need a best design)") {
  const EnvFactory none = [] { return EnvPtr(std::make_unique<NothingFits>()); };
  for (const auto& [agent, hp] : std::vector<std::pair<std::string, json>>{
           {"sa", {{"restart_after", 2}}}, {"ga", json::object()}, {"bo", json::object()}, {"tpe", json::object()},
           {"cmaes", json::object()}, {"de", json::object()}, {"pso", json::object()}}) {
    INFO(agent);
    const Run run = drive(agent, none, 60, 1, hp);
    CHECK(run.trials.size() == 60);
    std::set<std::string> distinct;
    for (const auto& p : run.proposals) distinct.insert(p.dump());
    CHECK(distinct.size() > 30);
  }
}

TEST_CASE("NSGA-II's hypervolume on ZDT1 is within 5% of the true front's") {
  const EnvFactory zdt = [] { return EnvPtr(std::make_unique<Zdt1>()); };
  const Run r = drive("nsga2", zdt, 100 * 200, 1, {{"population", 100}, {"objectives", {"f1", "f2"}}}, 100);
  std::vector<Point> pts;
  for (const auto& t : r.trials) pts.push_back({t.metrics.at("f1"), t.metrics.at("f2")});
  const double hv = hypervolume(pts, {1.0, 1.0});
  MESSAGE("ZDT1 hypervolume after 20,000 evaluations: " << hv << " (true front: 2/3)");
  CHECK(hv >= 0.95 * 2.0 / 3.0);
  CHECK(hv <= 2.0 / 3.0 + 1e-9);
}

TEST_CASE("the same seed reproduces the same proposals, another seed does not") {
  for (const auto& a : kAgents) {
    INFO(a);
    const Run r1 = drive(a, toy(), 40, 7, json::object(), 3), r2 = drive(a, toy(), 40, 7, json::object(), 3);
    CHECK(r1.proposals == r2.proposals);
    if (a != "grid") CHECK(drive(a, toy(), 40, 8, json::object(), 3).proposals != r1.proposals);
  }
}

TEST_CASE("a saved agent, loaded into a fresh one, proposes exactly what the original would") {
  for (const auto& a : kAgents) {
    INFO(a);
    auto env = make_env(env_registry(), "toy-v0");
    RewardWrapper w(std::move(env), json{{"type", "metric"}, {"metric", "loss"}});
    const AgentContext ctx{w.spec().action_space, w.spec().metrics, 3};
    AgentPtr agent = make_agent(a, ctx);
    for (int round = 0; round < 12; ++round) {
      std::vector<Trial> told;
      for (const auto& s : agent->ask(2)) {
        w.reset(0);
        auto r = w.step(s.action);
        told.push_back({s.id, s.action, r.metrics, r.reward, r.status});
      }
      agent->tell(told);
    }
    const json state = json::parse(agent->save().dump());  // through text, as a checkpoint file
    AgentPtr copy = make_agent(a, ctx);
    copy->load(state);
    const auto next1 = agent->ask(3), next2 = copy->ask(3);
    REQUIRE(next1.size() == next2.size());
    for (std::size_t i = 0; i < next1.size(); ++i) {
      CHECK(next1[i].id == next2[i].id);
      CHECK(next1[i].action == next2[i].action);
    }
    CHECK_THROWS_AS(agent->load(state), Error);  // only into a fresh agent
  }
}

TEST_CASE("BO proposes batches of distinct, new designs and copes with infeasible ones") {
  auto env = make_env(env_registry(), "toy-v0");
  RewardWrapper w(std::move(env), json{{"type", "metric"}, {"metric", "loss"}});
  AgentPtr bo = make_agent("bo", {w.spec().action_space, w.spec().metrics, 1});
  std::map<std::string, int> seen;
  int infeasible = 0;
  for (int round = 0; round < 8; ++round) {
    std::vector<Trial> told;
    for (const auto& s : bo->ask(5)) {
      CHECK(++seen[s.action.dump()] == 1);
      w.reset(0);
      auto r = w.step(s.action);
      infeasible += r.status.code == Status::Infeasible ? 1 : 0;
      told.push_back({s.id, s.action, r.metrics, r.reward, r.status});
    }
    bo->tell(told);
  }
  CHECK(seen.size() == 40);
}

TEST_CASE("grid visits every design of a finite space once per pass, in order or shuffled") {
  auto space = std::make_shared<DictSpace>(DictSpace::Children{
      {"a", std::make_shared<Categorical>(std::vector<std::string>{"x", "y", "z"})}, {"b", Integer::pow2(1, 8)}, {"c", std::make_shared<Discrete>(5)}});
  for (bool shuffle : {false, true}) {
    INFO("shuffle ", shuffle);
    AgentPtr g = make_agent("grid", {space, {}, 4}, {{"shuffle", shuffle}});
    std::map<std::string, int> count;
    for (const auto& s : g->ask(60)) ++count[s.action.dump()];
    CHECK(count.size() == 60);  // 3 x 4 x 5
    for (const auto& s : g->ask(60)) ++count[s.action.dump()];
    for (const auto& [k, n] : count) CHECK(n == 2);
  }
}

TEST_CASE("quasirandom points cover the unit square more evenly than random ones") {
  auto space = std::make_shared<Box>(std::vector<double>{0, 0}, std::vector<double>{1, 1}, std::vector<std::int64_t>{2});
  auto empty_cells = [&](const std::string& agent) {
    AgentPtr a = make_agent(agent, {space, {}, 5});
    std::vector<int> cells(256, 0);
    for (const auto& s : a->ask(256)) {
      const auto& x = s.action.as_real();
      const auto i = std::min<std::size_t>(15, static_cast<std::size_t>(x[0] * 16));
      const auto j = std::min<std::size_t>(15, static_cast<std::size_t>(x[1] * 16));
      ++cells[i * 16 + j];
    }
    return std::count(cells.begin(), cells.end(), 0);
  };
  // 256 uniform points leave about 256/e = 94 of 256 cells empty; the
  // scrambled Halton points leave about 50 (plain Halton: 44).
  CHECK(static_cast<double>(empty_cells("quasirandom")) < 0.7 * static_cast<double>(empty_cells("random")));
}

TEST_CASE("NSGA-II objectives are checked against the env's metrics") {
  auto env = make_env(env_registry(), "toy-v0");
  const AgentContext ctx{env->spec().action_space, env->spec().metrics, 1};
  CHECK_NOTHROW(make_agent("nsga2", ctx, {{"objectives", {"loss", "cost"}}}));
  CHECK_NOTHROW(make_agent("nsga2", ctx, {{"objectives", {"reward", "loss"}}}));
  CHECK_THROWS_WITH_AS(make_agent("nsga2", ctx, {{"objectives", {"loss", "area"}}}), doctest::Contains("no metric 'area'"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(make_agent("nsga2", ctx, {{"objectives", {"loss"}}}), doctest::Contains("at least two objectives"),
                       InvalidArgument);
}

TEST_CASE("hypervolume and Pareto fronts match hand computations") {
  // Staircase (1,3), (2,2), (3,1) under (4,4): 3 + 2 + 1.
  CHECK(hypervolume({{1, 3}, {2, 2}, {3, 1}, {3, 3}}, {4, 4}) == doctest::Approx(6.0));
  CHECK(pareto_front({{1, 3}, {2, 2}, {3, 1}, {3, 3}, {2, 2}}) == std::vector<std::size_t>{0, 1, 2});
  // Two boxes of volume 2 overlapping in a unit cube.
  CHECK(hypervolume({{0, 1, 1}, {1, 0, 1}}, {2, 2, 2}) == doctest::Approx(3.0));
  CHECK(hypervolume({{1, 1, 1}}, {2, 2, 2}) == doctest::Approx(1.0));
  CHECK(hypervolume({{5, 1}}, {4, 4}) == 0.0);  // outside the reference box
  const auto fronts = non_dominated_sort({{1, 3}, {2, 2}, {3, 3}, {4, 4}});
  REQUIRE(fronts.size() == 3);
  CHECK(fronts[0] == std::vector<std::size_t>{0, 1});
  CHECK(fronts[2] == std::vector<std::size_t>{3});
}

// Two integer knobs of 100 values each, 100 evaluations, seeds 1-10: random
// search's median best is 7 from the optimum (as expected: 100 of 10,000
// designs). Agents that move ordered knobs by steps follow the slope
// (measured medians: sa 0, cmaes 0, bo 0, ga 2, tpe 2, pso 2, de 3); ones
// that treated them as categories would do no better than random.
TEST_CASE("search agents treat integer knobs as ordered and follow the slope") {
  const EnvFactory valley = [] { return EnvPtr(std::make_unique<OrderedValley>()); };
  auto median_distance = [&](const std::string& agent) {
    std::vector<double> d;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) d.push_back(-drive(agent, valley, 100, seed).best);
    std::sort(d.begin(), d.end());
    return d[5];
  };
  const double random = median_distance("random");
  CHECK(random >= 5);
  for (const std::string agent : {"ga", "sa", "tpe", "cmaes", "de", "pso", "bo"}) {
    INFO(agent);
    CHECK(median_distance(agent) <= 3);
  }
}
