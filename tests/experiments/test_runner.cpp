#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "temp_dir.hpp"
#include "envs/core/trace.hpp"
#include "experiments/dataset.hpp"
#include "experiments/runner.hpp"

using namespace dsegym;
using dsegym::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

// The trace with the wall-time column removed.
std::string trace_without_time(const fs::path& dir) {
  std::ifstream f(dir / "trace.jsonl");
  std::string line, out;
  while (std::getline(f, line)) {
    json j = json::parse(line);
    j.erase("wall_time_s");
    out += j.dump() + "\n";
  }
  return out;
}

RunConfig toy_config(const fs::path& out, std::uint64_t seed) {
  RunConfig c;
  c.env_id = "toy-v0";
  c.agent_id = "random";
  c.budget = 200;
  c.seed = seed;
  c.out_dir = out.string();
  return c;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) {
      cells.push_back(cell);
      cell.clear();
    } else
      cell += c;
  }
  cells.push_back(cell);
  return cells;
}

}  // namespace

TEST_CASE("the same seed gives the same trace, another seed does not") {
  const auto a = temp_dir("a"), b = temp_dir("b"), c = temp_dir("c");
  const RunResult ra = run_experiment(toy_config(a, 1));
  run_experiment(toy_config(b, 1));
  run_experiment(toy_config(c, 2));
  CHECK(ra.evaluations == 200);
  const std::string ta = trace_without_time(a);
  CHECK(std::count(ta.begin(), ta.end(), '\n') == 200);
  CHECK(ta == trace_without_time(b));
  CHECK(ta != trace_without_time(c));
  // The best row recorded in the summary is the best row of the trace.
  const TraceFile t = read_trace((a / "trace.jsonl").string());
  double best = -1e300;
  for (const auto& r : t.rows)
    if (r.status.ok()) best = std::max(best, r.reward);
  CHECK(ra.best_reward == best);
  CHECK(ra.status_counts.at("ok") + ra.status_counts.at("infeasible") == 200);
}

TEST_CASE("batched, threaded evaluation gives the same trace as one at a time") {
  const auto a = temp_dir("serial"), b = temp_dir("batched");
  RunConfig cb = toy_config(b, 5);
  cb.batch = 8;
  cb.threads = 2;
  cb.env_options = {{"noise", 0.3}};
  RunConfig ca = toy_config(a, 5);
  ca.env_options = {{"noise", 0.3}};
  run_experiment(ca);
  run_experiment(cb);
  CHECK(trace_without_time(a) == trace_without_time(b));
}

TEST_CASE("a run never overwrites an existing trace") {
  const auto a = temp_dir("twice");
  run_experiment(toy_config(a, 1));
  CHECK_THROWS_WITH_AS(run_experiment(toy_config(a, 1)), doctest::Contains("already exists"), InvalidArgument);
}

TEST_CASE("run.json records what was run") {
  const auto a = temp_dir("meta");
  RunConfig c = toy_config(a, 3);
  c.reward = {{"type", "weighted"}, {"weights", {{"loss", -1.0}, {"cost", -0.1}}}};
  run_experiment(c);
  std::ifstream f(a / "run.json");
  const json meta = json::parse(f);
  CHECK(meta.at("env") == "toy-v0");
  CHECK(meta.at("seed") == 3);
  CHECK(meta.at("reward") == c.reward);
  CHECK(meta.at("env_spec").at("action_space").at("type") == "dict");
  // The reward written to the trace follows the given spec.
  const TraceFile t = read_trace((a / "trace.jsonl").string());
  for (const auto& r : t.rows)
    if (r.status.ok()) CHECK(r.reward == doctest::Approx(-r.metrics.at("loss") - 0.1 * r.metrics.at("cost")));
}

TEST_CASE("dataset export writes one column per parameter and metric, with a schema") {
  const auto a = temp_dir("export_a"), b = temp_dir("export_b");
  run_experiment(toy_config(a, 1));
  run_experiment(toy_config(b, 2));
  const auto out = temp_dir("export_out") / "toy.csv";
  const ExportResult r = export_dataset({(a / "trace.jsonl").string(), b.string()}, out.string());
  CHECK(r.rows == 400);
  CHECK(r.files == 2);
  std::ifstream f(out);
  std::string line;
  std::getline(f, line);
  const auto header = split_csv_line(line);
  CHECK(header == std::vector<std::string>{"run", "env", "agent", "seed", "episode", "step", "status", "reason", "reward",
                                           "wall_time_s", "source", "kind", "n", "m", "x", "y", "loss", "cost"});
  std::size_t rows = 0, infeasible = 0;
  const TraceFile trace = read_trace((a / "trace.jsonl").string());
  while (std::getline(f, line)) {
    const auto cells = split_csv_line(line);
    REQUIRE(cells.size() == header.size());
    if (rows < trace.rows.size()) {
      const auto& tr = trace.rows[rows];
      CHECK(cells[10] == "simulator");
      CHECK(cells[11] == tr.action.at("kind").as_string());
      CHECK(std::stoll(cells[12]) == tr.action.at("n").as_int());
      CHECK(std::stod(cells[14]) == tr.action.at("x").as_double());
    }
    if (cells[6] == "infeasible") {
      ++infeasible;
      CHECK(cells[16].empty());  // no magic number for a missing metric
      CHECK(cells[8].empty());
      CHECK(!cells[7].empty());
    } else {
      CHECK(cells[6] == "ok");
      CHECK(std::stod(cells[16]) >= 0.0);
    }
    ++rows;
  }
  CHECK(rows == 400);
  CHECK(infeasible > 0);
  std::ifstream sf(r.schema_path);
  const json schema = json::parse(sf);
  const auto& cols = schema.at("columns");
  REQUIRE(cols.size() == header.size());
  CHECK(cols[11].at("kind") == "categorical");
  CHECK(cols[11].at("space").at("labels") == json::array({"a", "b", "c", "d"}));
  CHECK(cols[12].at("space").at("scale") == "pow2");
  CHECK(cols[14].at("kind") == "continuous");
  CHECK(cols[16].at("role") == "metric");
  CHECK(cols[16].at("unit") == "1");
}

TEST_CASE("dataset export refuses traces of different envs and missing metadata") {
  const auto a = temp_dir("mix_a"), b = temp_dir("mix_b");
  run_experiment(toy_config(a, 1));
  RunConfig cb = toy_config(b, 1);
  cb.env_options = {{"episode_length", 2}};
  run_experiment(cb);  // same id and spaces: compatible
  const auto out = temp_dir("mix_out") / "d.jsonl";
  CHECK(export_dataset({a.string(), b.string()}, out.string()).rows == 400);
  fs::remove(b / "run.json");
  CHECK_THROWS_WITH_AS(export_dataset({a.string(), b.string()}, out.string()), doctest::Contains("no run.json"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(export_dataset({a.string()}, (out.parent_path() / "d.txt").string()), doctest::Contains(".csv or .jsonl"),
                       InvalidArgument);
}

TEST_CASE("a run reports the Pareto front of its evaluations and its hypervolume") {
  const auto a = temp_dir("pareto");
  RunConfig c = toy_config(a, 4);
  c.agent_id = "nsga2";
  c.agent_options = {{"population", 20}};
  const RunResult r = run_experiment(c);
  REQUIRE(!r.pareto.is_null());
  CHECK(r.pareto.at("objectives") == json::array({"loss", "cost"}));
  // Brute force over the trace: ok rows no other ok row dominates (of rows
  // with equal metrics, the first).
  const TraceFile t = read_trace((a / "trace.jsonl").string());
  std::set<std::int64_t> expected;
  std::set<std::pair<double, double>> listed;
  for (const auto& p : t.rows) {
    if (!p.status.ok()) continue;
    bool dominated = false;
    const double pl = p.metrics.at("loss"), pc = p.metrics.at("cost");
    for (const auto& q : t.rows) {
      if (!q.status.ok()) continue;
      const double ql = q.metrics.at("loss"), qc = q.metrics.at("cost");
      dominated = dominated || (ql <= pl && qc <= pc && (ql < pl || qc < pc));
    }
    if (!dominated && listed.insert({pl, pc}).second) expected.insert(p.step);
  }
  std::set<std::int64_t> got;
  for (const auto& f : r.pareto.at("front")) got.insert(f.at("step").get<std::int64_t>());
  CHECK(got == expected);
  CHECK(r.pareto.at("hypervolume").get<double>() > 0);
  // A reference point better than every design leaves no volume.
  RunConfig c2 = c;
  c2.out_dir.clear();
  c2.objectives = {"loss", "cost"};
  c2.hv_reference = {{"loss", -1.0}, {"cost", -1.0}};
  CHECK(run_experiment(c2).pareto.at("hypervolume").get<double>() == 0.0);
  c2.objectives = {"loss", "area"};
  CHECK_THROWS_WITH_AS(run_experiment(c2), doctest::Contains("objective 'area'"), InvalidArgument);
}

// dram-v0 has 7 metrics with a goal; its declared trade-off is latency and
// energy. The runner's objectives go to the agent (nsga2's default) and to
// run.json; --objectives overrides both.
TEST_CASE("a run's objectives default to the env's declared trade-off and reach nsga2 and run.json") {
  const auto a = temp_dir("objectives");
  RunConfig c;
  c.env_id = "dram-v0";
  c.agent_id = "nsga2";
  c.agent_options = {{"population", 4}};
  c.budget = 8;
  c.seed = 3;
  c.out_dir = (a / "run").string();
  const RunResult r = run_experiment(c);
  CHECK(r.pareto.at("objectives") == json::array({"latency_ns", "energy_nj"}));
  CHECK(read_json_file((a / "run" / "run.json").string(), "run").at("objectives") == json::array({"latency_ns", "energy_nj"}));
  // Every trial's metrics have both; each front point is non-dominated in them.
  for (const auto& f : r.pareto.at("front")) {
    CHECK(f.at("metrics").contains("latency_ns"));
    CHECK(f.at("metrics").contains("energy_nj"));
  }
  c.objectives = {"bandwidth_gbps", "power_mw"};
  c.out_dir = (a / "run2").string();
  CHECK(run_experiment(c).pareto.at("objectives") == json::array({"bandwidth_gbps", "power_mw"}));
  CHECK(read_json_file((a / "run2" / "run.json").string(), "run").at("objectives") == json::array({"bandwidth_gbps", "power_mw"}));
}

TEST_CASE("an interrupted run resumes to the same trace as an uninterrupted one") {
  for (const std::string agent : {"ga", "bo"}) {
    INFO(agent);
    const auto a = temp_dir("full_" + agent), b = temp_dir("cut_" + agent);
    RunConfig full = toy_config(a, 6);
    full.agent_id = agent;
    full.budget = 60;
    full.batch = 4;
    run_experiment(full);
    RunConfig part = full;
    part.out_dir = b.string();
    part.budget = 29;  // stops inside a batch
    run_experiment(part);
    // A row cut short by a crash.
    {
      std::ofstream f(b / "trace.jsonl", std::ios::app);
      f << R"({"action":{"kind":"a")";
    }
    RunConfig again = full;
    again.out_dir = b.string();
    CHECK_THROWS_WITH_AS(run_experiment(again), doctest::Contains("already exists"), InvalidArgument);
    again.resume = true;
    const RunResult r = run_experiment(again);
    CHECK(r.evaluations == 60);
    CHECK(trace_without_time(a) == trace_without_time(b));
    RunConfig other = again;
    other.seed = 7;
    CHECK_THROWS_WITH_AS(run_experiment(other), doctest::Contains("differs in 'seed'"), InvalidArgument);
  }
}

TEST_CASE("targets count evaluations until first reached, a wall-time budget stops a run") {
  RunConfig c = toy_config({}, 1);
  c.out_dir.clear();
  c.target = {{"metric", "loss"}, {"value", 5.0}};
  const RunResult r = run_experiment(c);
  REQUIRE(r.evaluations_to_target > 0);
  c.budget = r.evaluations_to_target - 1;
  CHECK(run_experiment(c).evaluations_to_target == -1);
  c.budget = 1000000000;
  c.wall_time_s = 0.05;
  const RunResult w = run_experiment(c);
  CHECK(w.evaluations < 1000000000);
  CHECK(w.stopped.find("wall time") != std::string::npos);
}

TEST_CASE("policy agents run in episodes: rows number the episodes, runs are reproducible and resume to the same trace") {
  const auto a = temp_dir("ppo_a"), b = temp_dir("ppo_b"), c = temp_dir("ppo_c");
  RunConfig cfg;
  cfg.env_id = "soc-sched-v0";
  cfg.env_options = {{"window_ms", 1.0}, {"rate_per_ms", 10.0}};
  cfg.agent_id = "ppo";
  cfg.agent_options = {{"batch", 64}, {"minibatch", 32}};
  cfg.budget = 500;
  cfg.seed = 3;
  cfg.out_dir = a.string();
  const RunResult ra = run_experiment(cfg);
  CHECK(ra.evaluations == 500);
  CHECK(ra.status_counts.at("ok") == 500);  // the mask keeps every choice legal
  const TraceFile t = read_trace((a / "trace.jsonl").string());
  REQUIRE(t.rows.size() == 500);
  // Episodes are consecutive and each holds many decisions.
  std::int64_t episodes = 1;
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    CHECK(t.rows[i].episode - t.rows[i - 1].episode >= 0);
    CHECK(t.rows[i].episode - t.rows[i - 1].episode <= 1);
    episodes += t.rows[i].episode != t.rows[i - 1].episode ? 1 : 0;
  }
  CHECK(episodes > 2);
  CHECK(episodes < 100);
  // Same seed, same trace; and a run cut at 230 steps resumes to it.
  RunConfig again = cfg;
  again.out_dir = b.string();
  run_experiment(again);
  CHECK(trace_without_time(a) == trace_without_time(b));
  RunConfig part = cfg;
  part.out_dir = c.string();
  part.budget = 230;
  run_experiment(part);
  RunConfig rest = cfg;
  rest.out_dir = c.string();
  rest.resume = true;
  CHECK(run_experiment(rest).evaluations == 500);
  CHECK(trace_without_time(a) == trace_without_time(c));
  RunConfig batched = cfg;
  batched.out_dir = temp_dir("ppo_d").string();
  batched.batch = 4;
  CHECK_THROWS_WITH_AS(run_experiment(batched), doctest::Contains("one env step at a time"), InvalidArgument);
}

TEST_CASE("a saved policy evaluates greedily, the same way every time, greedy is refused for search agents") {
  const auto a = temp_dir("train"), b = temp_dir("eval1"), c = temp_dir("eval2");
  RunConfig cfg;
  cfg.env_id = "soc-sched-v0";
  cfg.env_options = {{"window_ms", 1.0}, {"rate_per_ms", 10.0}};
  cfg.agent_id = "ppo";
  cfg.agent_options = {{"batch", 64}, {"minibatch", 32}};
  cfg.budget = 300;
  cfg.seed = 1;
  cfg.out_dir = a.string();
  cfg.save_agent = (a / "ppo.json").string();
  run_experiment(cfg);
  REQUIRE(fs::exists(a / "ppo.json"));
  RunConfig ev = cfg;
  ev.save_agent.clear();
  ev.load_agent = (a / "ppo.json").string();
  ev.greedy = true;
  ev.budget = 200;
  ev.out_dir = b.string();
  run_experiment(ev);
  ev.out_dir = c.string();
  ev.seed = 1;
  run_experiment(ev);
  CHECK(trace_without_time(b) == trace_without_time(c));
  // The greedy actions are those of the checkpointed policy: a fresh one acts otherwise.
  RunConfig fresh = ev;
  fresh.load_agent.clear();
  fresh.out_dir = temp_dir("eval3").string();
  run_experiment(fresh);
  CHECK(trace_without_time(b) != trace_without_time(fresh.out_dir));
  RunConfig bad = toy_config(temp_dir("greedy_random"), 1);
  bad.greedy = true;
  CHECK_THROWS_WITH_AS(run_experiment(bad), doctest::Contains("greedy runs are for policy agents"), InvalidArgument);
  RunConfig wrong = ev;
  wrong.agent_id = "dqn";
  wrong.agent_options = json::object();
  wrong.out_dir = temp_dir("wrong_ckpt").string();
  CHECK_THROWS_WITH_AS(run_experiment(wrong), doctest::Contains("not a DQN checkpoint"), InvalidArgument);
}

// A random baseline for sequential envs: whole episodes, legal actions only
// (soc-sched-v0's observation masks the PEs a task cannot run on).
TEST_CASE("random plays whole episodes with legal actions on a sequential env") {
  const auto dir = temp_dir("random_sequential");
  RunConfig c;
  c.env_id = "soc-sched-v0";
  c.agent_id = "random";
  c.budget = 2000;
  c.seed = 1;
  c.out_dir = dir.string();
  run_experiment(c);
  std::ifstream in(dir / "trace.jsonl");
  std::string line;
  std::map<std::int64_t, int> steps_per_episode;
  int rows = 0, infeasible = 0;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    ++rows;
    ++steps_per_episode[row.at("episode").get<std::int64_t>()];
    infeasible += row.at("status").get<std::string>() == "infeasible";
  }
  CHECK(rows == 2000);
  CHECK(infeasible == 0);
  // Episodes of many steps, not one step each after a reset.
  CHECK(steps_per_episode.size() < 200);
  CHECK(std::max_element(steps_per_episode.begin(), steps_per_episode.end(), [](auto& a, auto& b) { return a.second < b.second; })->second > 10);
}

TEST_CASE("search agents are refused on a sequential env with an action mask, naming the policy agents") {
  for (const char* agent : {"ga", "bo", "cmaes"}) {
    RunConfig c;
    c.env_id = "soc-sched-v0";
    c.agent_id = agent;
    c.budget = 10;
    c.out_dir = temp_dir(std::string("masked_") + agent).string();
    CHECK_THROWS_WITH_AS(run_experiment(c), doctest::Contains("cannot follow the action_mask of env 'soc-sched-v0'"), InvalidArgument);
    CHECK_THROWS_WITH_AS(run_experiment(c), doctest::Contains("random"), InvalidArgument);
  }
}
