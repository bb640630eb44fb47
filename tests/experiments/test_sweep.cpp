#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "experiments/dataset.hpp"
#include "experiments/report.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_test_util.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
using dsegym::testing::summary_without_time;
using dsegym::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

json read(const fs::path& p) {
  std::ifstream f(p);
  return json::parse(f);
}

int run_cli(const std::string& args) {
  return WEXITSTATUS(std::system((std::string(DSEGYM_BIN) + " " + args + " >/dev/null 2>&1").c_str()));
}

}  // namespace

TEST_CASE("a sweep expands envs x agent grids x seeds into trials") {
  const json cfg = json::parse(R"({
    "envs": [{"id": "toy-v0"}, {"id": "toy-v0", "options": {"noise": 0.1}}],
    "agents": [{"id": "ga", "grid": {"population": [8, 16, 32], "mutation_prob": [0.1, 0.2]}}, {"id": "random"}],
    "seeds": {"count": 3, "start": 10},
    "budget": 50
  })");
  const SweepConfig s = parse_sweep(cfg, "sweep.json");
  CHECK(s.trials.size() == 2 * (3 * 2 + 1) * 3);
  std::set<std::string> ids;
  for (const auto& t : s.trials) ids.insert(t.id);
  CHECK(ids.size() == s.trials.size());
  CHECK(s.trials.front().run.seed == 10);
  CHECK(s.trials.front().run.agent_options.at("population") == 8);
  CHECK(s.trials.front().run.agent_options.at("selection") == "tournament");  // defaults filled in
  CHECK(s.trials.back().run.env_options.at("noise") == 0.1);
}

TEST_CASE("sampled hyperparameters follow the sample seed and stay in their declared ranges") {
  auto sample = [](int seed, const std::string& method) {
    const json sample_spec = {{"count", 6}, {"seed", seed}, {"method", method}, {"params", {"cooling", "initial_temperature"}}};
    const json agent = {{"id", "sa"}, {"sample", sample_spec}};
    const json cfg = {{"envs", json::array({json{{"id", "toy-v0"}}})}, {"agents", json::array({agent})}};
    std::vector<json> hps;
    for (const auto& t : parse_sweep(cfg, "s.json").trials) hps.push_back(t.run.agent_options);
    return hps;
  };
  for (const char* method : {"random", "quasirandom"}) {
    INFO(method);
    const auto a = sample(1, method), b = sample(1, method), c = sample(2, method);
    CHECK(a.size() == 6);
    CHECK(a == b);
    CHECK(a != c);
    for (const auto& h : a) {
      CHECK(h.at("cooling").get<double>() >= 0.5);
      CHECK(h.at("cooling").get<double>() <= 1.0);
      CHECK(h.at("mutation_prob") == 0.2);  // not sampled: default
    }
  }
}

TEST_CASE("sweep config errors name the path and what is valid") {
  CHECK_THROWS_WITH_AS(parse_sweep(json::parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "ga"}], "budgett": 5})"), "s.json"),
                       doctest::Contains("s.json: unknown key 'budgett'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_sweep(json::parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "ga", "grid": {"populaton": [4]}}]})"), "s.json"),
                       doctest::Contains("s.json.agents[0]: unknown agent 'ga' hyperparameter 'populaton'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_sweep(json::parse(R"({"envs": [{"id": "toy-v9"}], "agents": [{"id": "ga"}]})"), "s.json"),
                       doctest::Contains("unknown env 'toy-v9'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_sweep(json::parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "ga", "grid": {"population": [1]}}]})"), "s.json"),
                       doctest::Contains("population"), InvalidArgument);
  // A seed beyond 64 bits (found by fuzz_sweep: a float-to-integer overflow before).
  CHECK_THROWS_WITH_AS(parse_sweep(json::parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "ga"}], "seeds": [2, 8.9e35]})"), "s.json"),
                       doctest::Contains("s.json.seeds[1]: expected an integer in 0..4611686018427387903"), InvalidArgument);
}

TEST_CASE("a sweep killed with SIGKILL resumes to the same summary as an uninterrupted one") {
  const auto dir = temp_dir("sweep_cfg");
  const json cfg = json::parse(R"({
    "name": "resume",
    "envs": [{"id": "dram-v0", "options": {"generator": {"type": "random", "requests": 3000, "interval": 3}}}],
    "agents": [{"id": "ga", "grid": {"population": [6, 12]}}, {"id": "sa"}],
    "seeds": [1, 2],
    "budget": 150,
    "batch": 3,
    "parallel": {"workers": 2}
  })");
  std::ofstream(dir / "sweep.json") << cfg.dump();
  const auto whole = temp_dir("sweep_whole"), cut = temp_dir("sweep_cut");
  REQUIRE(run_cli("sweep " + (dir / "sweep.json").string() + " --out " + whole.string()) == 0);

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::execl(DSEGYM_BIN, DSEGYM_BIN, "sweep", (dir / "sweep.json").c_str(), "--out", cut.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once some evaluations are on disk but before the sweep ends.
  for (int i = 0; i < 2000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::size_t rows = 0;
    if (fs::exists(cut / "trials"))
      for (const auto& e : fs::recursive_directory_iterator(cut / "trials"))
        if (e.path().filename() == "trace.jsonl") rows += static_cast<std::size_t>(fs::file_size(e.path()) > 0);
    if (rows >= 2) break;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(!fs::exists(cut / "summary.csv"));  // it did not finish
  REQUIRE(run_cli("sweep " + (dir / "sweep.json").string() + " --out " + cut.string()) == 0);
  CHECK(summary_without_time(cut) == summary_without_time(whole));
  // A finished sweep is not run again.
  const auto before = fs::last_write_time(cut / "trials" / read(cut / "sweep.json").at("trials")[0].at("id").get<std::string>() / "result.json");
  REQUIRE(run_cli("sweep " + (dir / "sweep.json").string() + " --out " + cut.string()) == 0);
  CHECK(fs::last_write_time(cut / "trials" / read(cut / "sweep.json").at("trials")[0].at("id").get<std::string>() / "result.json") == before);
}

TEST_CASE("in worker processes a crashing or hanging simulator fails its trial and the rest finish") {
  const auto dir = temp_dir("sweep_faulty");
  json cfg = json::parse(R"({
    "name": "faulty",
    "envs": [{"id": "faulty-v0", "options": {"mode": "abort"}},
             {"id": "faulty-v0", "options": {"mode": "hang"}},
             {"id": "faulty-v0", "options": {"mode": "throw"}},
             {"id": "faulty-v0", "options": {"mode": "abort", "threshold": 2.0}}],
    "agents": [{"id": "random"}],
    "seeds": [1],
    "budget": 30,
    "parallel": {"workers": 2, "isolation": "process", "timeout_s": 2}
  })");
  cfg["plugins"] = {FAULTY_PLUGIN};
  std::ofstream(dir / "sweep.json") << cfg.dump();
  const auto out = temp_dir("sweep_faulty_out");
  CHECK(run_cli("sweep " + (dir / "sweep.json").string() + " --out " + out.string()) == 0);
  const json summary = read(out / "summary.json");
  std::map<std::string, std::pair<std::string, std::string>> by_mode;
  for (const auto& t : summary.at("trials")) {
    const json& r = t.at("result");
    const auto opts = t.at("trial").at("env_options");
    const std::string mode = opts.at("mode").get<std::string>() + (opts.contains("threshold") ? "-never" : "");
    by_mode[mode] = {t.at("status").get<std::string>(), r.value("reason", "")};
  }
  CHECK(by_mode["abort"].first == "failed");
  CHECK(by_mode["abort"].second.find("signal 6") != std::string::npos);
  CHECK(by_mode["hang"].first == "timeout");
  // An exception in the simulator is an evaluation status, not a trial failure.
  CHECK(by_mode["throw"].first == "done");
  CHECK(by_mode["abort-never"].first == "done");
  // The trace of the crashed trial keeps every evaluation finished before the crash.
  for (const auto& t : summary.at("trials"))
    if (t.at("status") == "failed") {
      std::ifstream f(out / "trials" / t.at("trial").at("id").get<std::string>() / "trace.jsonl");
      std::string line;
      while (std::getline(f, line)) CHECK(json::parse(line).at("action").get<double>() <= 0.5);
    }
  // No worker is left behind.
  CHECK(std::system(("pgrep -f '[t]rial " + out.string() + "' >/dev/null").c_str()) != 0);
}

TEST_CASE("the report covers every trial, with plots, the lottery and the comparison with random search") {
  const auto out = temp_dir("sweep_report");
  const json cfg = json::parse(R"({
    "name": "report",
    "envs": [{"id": "toy-v0"}],
    "agents": [{"id": "random"}, {"id": "ga", "grid": {"population": [4, 8, 16]}}, {"id": "nsga2", "hyperparameters": {"population": 8}}],
    "seeds": [1, 2, 3],
    "budget": 40,
    "parallel": {"workers": 2}
  })");
  SweepOptions opt;
  opt.progress = false;
  const SweepSummary s = run_sweep(parse_sweep(cfg, "report.json"), out.string(), opt);
  CHECK(s.done == 15);
  const ReportFiles f = write_report(out.string());
  std::ifstream md(f.markdown), html(f.html);
  const std::string m((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  const std::string h((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  const json sweep = read(out / "sweep.json");
  for (const auto& t : sweep.at("trials")) {
    const std::string id = t.at("id").get<std::string>();
    CHECK(m.find("../trials/" + id + "/trace.jsonl") != std::string::npos);
    CHECK(h.find("href=\"../trials/" + id + "/trace.jsonl\"") != std::string::npos);
  }
  CHECK(f.plots == 3);  // best-so-far, lottery, Pareto fronts (toy-v0 has two objectives)
  for (const auto& e : fs::directory_iterator(out / "report" / "plots")) {
    std::ifstream p(e.path());
    const std::string svg((std::istreambuf_iterator<char>(p)), std::istreambuf_iterator<char>());
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.find("</svg>") != std::string::npos);
  }
  // The HTML draws the dashboard's charts offline: Chart.js and the sweep's
  // state are inlined (the browser test loads such a page), not SVG images.
  CHECK(h.find("Chart.js v3") != std::string::npos);
  CHECK(h.find("<img") == std::string::npos);
  const auto at_state = h.find("window.DSEGYM_STATE = ");
  REQUIRE(at_state != std::string::npos);
  const auto end_state = h.find(";</script>", at_state);
  const json embedded = json::parse(h.substr(at_state + 22, end_state - at_state - 22));
  CHECK(embedded.at("folders").at(0).at("trials").size() == sweep.at("trials").size());
  CHECK(embedded.at("folders").at(0).at("envs").at(0).at("counts").at("done") == 15);
  CHECK(m.find("vs random search") != std::string::npos);
  CHECK(m.find("| ga | ga-") != std::string::npos);
  // The random-design baseline is the mean reward over every evaluation of
  // the random trials, computed here from their traces.
  double sum = 0;
  int n = 0;
  for (const auto& t : sweep.at("trials")) {
    if (t.at("agent") != "random") continue;
    std::ifstream in(out / "trials" / t.at("id").get<std::string>() / "trace.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      const json row = json::parse(line);
      if (row.at("status") == "ok" && row.at("reward").is_number()) {
        sum += row.at("reward").get<double>();
        ++n;
      }
    }
  }
  REQUIRE(n > 0);
  std::ostringstream expect;
  expect << "over the mean reward of a randomly sampled design (";
  const auto at = m.find(expect.str());
  REQUIRE(at != std::string::npos);
  const double shown = std::stod(m.substr(at + expect.str().size()));
  CHECK(shown == doctest::Approx(sum / n).epsilon(1e-3));
  CHECK(fs::exists(out / "summary.csv"));
}

TEST_CASE("a sweep's traces export as one deduplicated dataset per env") {
  const auto out = temp_dir("sweep_export");
  const json cfg = json::parse(R"({
    "envs": [{"id": "toy-v0"}, {"id": "dram-v0", "options": {"generator": {"type": "stream", "requests": 200}}}],
    "agents": [{"id": "grid"}, {"id": "random"}],
    "seeds": [1, 2],
    "budget": 30
  })");
  SweepOptions opt;
  opt.progress = false;
  run_sweep(parse_sweep(cfg, "export.json"), out.string(), opt);
  CHECK_THROWS_WITH_AS(export_dataset({out.string()}, (out / "all.csv").string()), doctest::Contains("--env"), InvalidArgument);
  // grid is the same for both seeds: its second seed's 30 evaluations are duplicates.
  const ExportResult d = export_dataset({out.string()}, (out / "toy.csv").string(), {"toy-v0", true});
  CHECK(d.files == 4);
  CHECK(d.duplicates == 30);
  CHECK(d.rows == 90);
  const ExportResult all = export_dataset({out.string()}, (out / "toy_all.csv").string(), {"toy-v0", false});
  CHECK(all.rows == 120);
  CHECK_THROWS_WITH_AS(export_dataset({out.string()}, (out / "x.csv").string(), {"accel-v0", true}),
                       doctest::Contains("no trace of env 'accel-v0'; the traces are of: dram-v0, toy-v0"), InvalidArgument);
}

TEST_CASE("every shipped sweep config parses, with its envs and trials valid") {
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(TESTS_SOURCE_DIR) + "/../experiments/configs")) {
    if (entry.path().extension() != ".json") continue;
    INFO(entry.path().string());
    const SweepConfig c = load_sweep(entry.path().string());
    CHECK(!c.trials.empty());
    ++configs;
  }
  CHECK(configs >= 4);
}

TEST_CASE("a sweep config's plugins and env_specs are relative to the config's folder") {
  const json cfg = {{"env_specs", {"specs/sim.json", "/abs/other.json"}}, {"plugins", {"../lib/libp.so"}}};
  CHECK(config_paths(cfg, "env_specs", "/work/configs/sweep.json") == std::vector<std::string>{"/work/configs/specs/sim.json", "/abs/other.json"});
  CHECK(config_paths(cfg, "plugins", "/work/configs/sweep.json") == std::vector<std::string>{"/work/lib/libp.so"});
  CHECK(config_paths(cfg, "env_specs", "sweep.json") == std::vector<std::string>{"specs/sim.json", "/abs/other.json"});  // beside the cwd
  CHECK(config_paths(json::object(), "plugins", "/x/s.json").empty());
  CHECK_THROWS_WITH_AS(config_paths(json{{"env_specs", "sim.json"}}, "env_specs", "s.json"), "s.json.env_specs: expected a list of file paths",
                       InvalidArgument);
}
