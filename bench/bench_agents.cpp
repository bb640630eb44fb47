// Agent speed and quality.
// Speed (default): BO ask() latency p50/p99 from 100, 500 and 2000
// observations on the dram-v0 design space (12 knobs, 26 GP features), and
// ask+tell time per design for every built-in agent on toy-v0.
// Quality (--quality): median best reward and IQR over seeds at 100 and 300
// evaluations for every search agent on dram-v0, accel-v0, soc-design-v0 and
// Rastrigin's function (6 reals in [-5.12, 5.12]: many local optima, the
// global one 0 at the origin; Rastrigin 1974, as in Muehlenbein et al. 1991).
// Usage: bench_agents [--quality [seeds] [first_seed] [agents,...] [envs,...] [evaluations]]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <cmath>
#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/agent.hpp"
#include "bench/bench_args.hpp"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/core/wrappers.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr const char* kUsage =
    "Usage: bench_agents                       BO ask() latency, ask+tell cost of every agent\n"
    "       bench_agents --quality [seeds] [first_seed] [agents,...] [envs,...] [evaluations]\n"
    "                                          median best reward (IQR) at 100 and 300 (or the given) evaluations\n"
    "Example: bench_agents --quality 10 1 'random,ga,ga{\"population\":16}' dram-v0,rastrigin";

class Rastrigin final : public Env {
public:
  static std::shared_ptr<const EnvSpec> make_spec() {
    auto s = std::make_shared<EnvSpec>();
    s->id = "rastrigin";
    s->action_space = std::make_shared<Box>(std::vector<double>(6, -5.12), std::vector<double>(6, 5.12), std::vector<std::int64_t>{6});
    s->observation_space = std::make_shared<Box>(-1e9, 1e9);
    s->metrics = {{"f", "1", Goal::Minimize, "10 d + sum (x_i^2 - 10 cos(2 pi x_i))"}};
    s->default_reward = json{{"type", "metric"}, {"metric", "f"}};
    return s;
  }
  Rastrigin() : Env(make_spec()) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t>, const Value&) override { return {Value(0.0), Value()}; }
  StepResult do_step(const Value& a) override {
    double f = 10.0 * 6;
    for (double x : a.as_real()) f += x * x - 10.0 * std::cos(2 * M_PI * x);
    StepResult r;
    r.metrics.set("f", f);
    r.obs = Value(f);
    r.terminated = true;
    return r;
  }
};

EnvPtr quality_env(const std::string& id) {
  EnvPtr env = id == "rastrigin" ? std::make_unique<Rastrigin>() : make_env(env_registry(), id);
  const json reward = env->spec().default_reward;
  return std::make_unique<RewardWrapper>(std::move(env), reward);
}

// Best reward after each of `budget` one-shot evaluations (evaluation i
// seeded with i), -inf while nothing succeeded.
std::vector<double> best_curve(const std::string& env_id, const std::string& agent_id, std::uint64_t seed, std::size_t budget) {
  EnvPtr env = quality_env(env_id);
  const auto [id, hp] = bench::agent_with_hyperparameters(agent_id);  // "ga{...}": an agent with hyperparameters
  AgentContext ctx{env->spec().action_space, env->spec().metrics, seed};
  ctx.objectives = env->spec().default_objectives();
  AgentPtr agent = make_agent(id, ctx, hp);
  std::vector<double> curve;
  double best = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < budget; ++i) {
    auto s = agent->ask(1);
    const StepResult r = env->evaluate(i, s[0].action);
    if (r.status.ok() && std::isfinite(r.reward)) best = std::max(best, r.reward);
    agent->tell({{s[0].id, s[0].action, r.metrics, r.reward, r.status}});
    curve.push_back(best);
  }
  return curve;
}

std::string cell(std::vector<double> v) {
  if (v.empty()) return "n/a";
  std::sort(v.begin(), v.end());
  auto q = [&](double p) {
    const double pos = p * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const double w = pos - static_cast<double>(lo);
    return lo + 1 < v.size() ? v[lo] * (1 - w) + v[lo + 1] * w : v[lo];
  };
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.5g (%.5g .. %.5g)", q(0.5), q(0.25), q(0.75));
  return buf;
}

int quality(int argc, char** argv) {
  const auto seeds = static_cast<std::uint64_t>(bench::int_arg(argc, argv, 2, 10, 1, 1000, kUsage));
  const auto first = static_cast<std::uint64_t>(bench::int_arg(argc, argv, 3, 1, 0, 1000000000, kUsage));
  std::vector<std::string> agents = argc > 4 ? bench::split_list(argv[4]) : std::vector<std::string>{};
  if (agents.empty())
    for (const auto& id : agent_registry().ids())
      if (agent_registry().get(id).factory) agents.push_back(id);
  const std::vector<std::string> envs = argc > 5 ? bench::split_list(argv[5]) : std::vector<std::string>{"dram-v0", "accel-v0", "soc-design-v0", "rastrigin"};
  const auto most = static_cast<std::size_t>(bench::int_arg(argc, argv, 6, 300, 1, 1000000, kUsage));
  const std::vector<std::size_t> budgets = most > 100 ? std::vector<std::size_t>{100, most} : std::vector<std::size_t>{most};
  struct Job {
    std::size_t env, agent;
    std::uint64_t seed;
  };
  std::vector<Job> jobs;
  for (std::size_t e = 0; e < envs.size(); ++e)
    for (std::size_t a = 0; a < agents.size(); ++a)
      for (std::uint64_t k = 0; k < seeds; ++k) jobs.push_back({e, a, first + k});
  // results[budget][env][agent] = best rewards over seeds
  std::map<std::size_t, std::map<std::size_t, std::map<std::size_t, std::vector<double>>>> results;
  std::mutex mu;
  std::atomic<std::size_t> next{0}, done{0};
  std::string error;
  auto worker = [&] {
    for (std::size_t j; (j = next++) < jobs.size();) {
      try {
        const auto curve = best_curve(envs[jobs[j].env], agents[jobs[j].agent], jobs[j].seed, budgets.back());
        std::lock_guard<std::mutex> lock(mu);
        for (auto b : budgets) results[b][jobs[j].env][jobs[j].agent].push_back(curve[b - 1]);
        std::fprintf(stderr, "\r%zu / %zu runs", ++done, jobs.size());
      } catch (const InvalidArgument& e) {
        // An agent that does not apply to the env (nsga2 on one objective) gets no cell.
        std::lock_guard<std::mutex> lock(mu);
        ++done;
        for (auto b : budgets) results[b][jobs[j].env][jobs[j].agent];
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        error = envs[jobs[j].env] + " / " + agents[jobs[j].agent] + ": " + e.what();
        next = jobs.size();
      }
    }
  };
  std::vector<std::thread> pool;
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  std::fprintf(stderr, "\n");
  if (!error.empty()) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  for (auto b : budgets) {
    std::printf("\nmedian best reward (IQR) at %zu evaluations, seeds %llu..%llu:\n\n| agent |", b, static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(first + seeds - 1));
    for (const auto& e : envs) std::printf(" %s |", e.c_str());
    std::printf("\n| --- |");
    for (std::size_t e = 0; e < envs.size(); ++e) std::printf(" --- |");
    std::printf("\n");
    for (std::size_t a = 0; a < agents.size(); ++a) {
      std::printf("| %s |", agents[a].c_str());
      for (std::size_t e = 0; e < envs.size(); ++e) std::printf(" %s |", cell(results[b][e][a]).c_str());
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dsegym::register_builtins();
  bench::help(argc, argv, kUsage);
  if (argc > 1 && std::strcmp(argv[1], "--quality") == 0) return quality(argc, argv);
  if (argc > 1) {
    std::fprintf(stderr, "error: unknown argument '%s'\n%s\n", argv[1], kUsage);
    return 2;
  }
  auto dram = make_env(env_registry(), "dram-v0");
  const auto& space = dram->spec().action_space;
  // A smooth synthetic reward over the encoding (the GP's cost does not
  // depend on the values).
  auto reward_of = [&](const Value& a) {
    const auto x = space->encode(a);
    double f = 0;
    for (std::size_t k = 0; k < x.size(); ++k) f -= (x[k] - 0.3) * (x[k] - 0.3) * static_cast<double>(k + 1);
    return f;
  };
  std::printf("BO ask() latency on the dram-v0 space: asks of 1 design, each told before the next, from n\n");
  std::printf("observations on, after a first ask; enough asks for a warm hyperparameter refit (at +10 %%) to be among them:\n");
  std::printf("%12s %6s %10s %10s %10s %16s\n", "observations", "asks", "p50 (ms)", "p99 (ms)", "max (ms)", "first ask (ms)");
  for (int n : {100, 500, 2000}) {
    const int asks = std::max(60, n / 8);
    AgentPtr bo = make_agent("bo", {space, dram->spec().metrics, 1});
    Rng rng(n);
    std::vector<Trial> told;
    for (int i = 0; i < n; ++i) {
      const Value a = space->sample(rng);
      told.push_back({-1 - i, a, {}, reward_of(a), {}});
    }
    bo->tell(told);
    std::vector<double> ms;
    double first = 0;
    for (int k = 0; k <= asks; ++k) {
      const auto t0 = Clock::now();
      auto s = bo->ask(1);
      // The first ask fits the hyperparameters from scratch (a run that
      // reached n observations fits them from their last values).
      (k == 0 ? first : ms.emplace_back()) = ms_since(t0);
      bo->tell({{s[0].id, s[0].action, {}, reward_of(s[0].action), {}}});
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%12d %6d %10.1f %10.1f %10.1f %16.1f\n", n, asks, ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(), first);
  }

  std::printf("\nask(1) + tell per design on toy-v0 (500 designs; env time excluded):\n");
  auto toy = make_env(env_registry(), "toy-v0");
  RewardWrapper w(std::move(toy), json{{"type", "metric"}, {"metric", "loss"}});
  for (const char* id : {"random", "grid", "quasirandom", "ga", "sa", "aco", "nsga2", "bo"}) {
    AgentPtr agent = make_agent(id, {w.spec().action_space, w.spec().metrics, 1});
    double agent_ms = 0;
    for (int i = 0; i < 500; ++i) {
      auto t0 = Clock::now();
      auto s = agent->ask(1);
      agent_ms += ms_since(t0);
      w.reset(0);
      auto r = w.step(s[0].action);
      t0 = Clock::now();
      agent->tell({{s[0].id, s[0].action, r.metrics, r.reward, r.status}});
      agent_ms += ms_since(t0);
    }
    std::printf("  %-12s %10.4f ms\n", id, agent_ms / 500);
  }
  return 0;
}
