// Co-exploration (NASAIC) against the sequential baseline on nasaic-v0: with
// the same evaluation budget, does searching networks and ASIC together
// meet the latency/energy/area specs more often than NAS first (each task's
// network by its score alone), then an ASIC for those networks?
//
// usage: bench_nasaic [BUDGET [SEEDS [AGENT]]]   (default 200 3 ga)
#include "bench/bench_args.hpp"
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "app/builtin.hpp"
#include "experiments/runner.hpp"
#include "simulators/nn/cell_space.hpp"

using namespace dsegym;

namespace {

RunResult run(const std::string& env, const json& options, const std::string& agent, std::int64_t budget, std::uint64_t seed) {
  RunConfig c;
  c.env_id = env;
  c.env_options = options;
  c.agent_id = agent;
  c.budget = budget;
  c.seed = seed;
  return run_experiment(c);
}

std::string cell_of(const Value& action, const std::string& prefix) {
  nn::Cell cell;
  for (int e = 0; e < nn::kEdges; ++e)
    cell.ops[static_cast<std::size_t>(e)] =
        nn::op_from_name(action.at(prefix + "e" + std::to_string(nn::edge_from(e)) + "_" + std::to_string(nn::edge_to(e))).as_string());
  return cell.str();
}

}  // namespace

int main(int argc, char** argv) {
  dsegym::register_builtins();
  constexpr const char* kUsage = "Usage: bench_nasaic [budget seeds agent]   (default 200 3 ga)";
  dsegym::bench::help(argc, argv, kUsage);
  try {
    const std::int64_t budget = dsegym::bench::int_arg(argc, argv, 1, 200, 2, 1000000, kUsage);
    const int seeds = static_cast<int>(dsegym::bench::int_arg(argc, argv, 2, 3, 1, 1000, kUsage));
    const std::string agent = argc > 3 ? argv[3] : "ga";
    const std::string cache = (std::filesystem::temp_directory_path() / "dsegym_bench_nasaic_cache.jsonl").string();
    auto nasaic = make_env(env_registry(), "nasaic-v0", json::object());
    const json specs = nasaic->spec().resolved_options.at("specs");
    const json tasks = nasaic->spec().resolved_options.at("tasks");
    std::printf("nasaic-v0, specs %s, budget %lld evaluations per strategy, agent %s\n", specs.dump().c_str(), static_cast<long long>(budget),
                agent.c_str());
    std::printf("%-5s | %-34s | %-34s\n", "seed", "co-exploration: specs met, score", "sequential: specs met, score");
    int co_met = 0, seq_met = 0;
    for (int s = 1; s <= seeds; ++s) {
      const auto seed = static_cast<std::uint64_t>(s);
      // Co-exploration: one search over cells and ASIC.
      const RunResult co = run("nasaic-v0", {{"cache", cache}}, agent, budget, seed);
      const std::int64_t co_ok = co.status_counts.count("ok") ? co.status_counts.at("ok") : 0;
      // Sequential: half the budget for NAS (split over the tasks), half for the ASIC.
      json networks = json::array();
      double score = 0;
      for (const auto& t : tasks) {
        const RunResult nas = run("nas-v0", {{"classes", t.at("classes")}, {"cache", cache}}, agent, budget / 2 / static_cast<std::int64_t>(tasks.size()), seed);
        networks.push_back({{"name", t.at("name")}, {"cell", cell_of(nas.best_action, "")}, {"classes", t.at("classes").size()}});
        score += nas.best_reward / static_cast<double>(tasks.size());
      }
      const RunResult hw = run("asic-v0", {{"networks", networks}, {"specs", specs}}, agent, budget - budget / 2, seed);
      const std::int64_t hw_ok = hw.status_counts.count("ok") ? hw.status_counts.at("ok") : 0;
      co_met += co.has_best;
      seq_met += hw.has_best;
      char a[64], b[64];
      std::snprintf(a, sizeof a, "%s (%lld of %lld), %.1f", co.has_best ? "yes" : "no", static_cast<long long>(co_ok), static_cast<long long>(budget),
                    co.has_best ? co.best_reward : 0.0);
      std::snprintf(b, sizeof b, "%s (%lld of %lld), %.1f", hw.has_best ? "yes" : "no", static_cast<long long>(hw_ok),
                    static_cast<long long>(budget - budget / 2), score);
      std::printf("%-5d | %-34s | %-34s\n", s, a, b);
      std::fflush(stdout);
    }
    std::printf("specs met: co-exploration %d of %d seeds, sequential %d of %d\n", co_met, seeds, seq_met, seeds);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_nasaic: %s\n", e.what());
    return 1;
  }
}
