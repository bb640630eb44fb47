// Sweeps and runs under kills, concurrent use, a full disk and careless
// configs: nothing lost, nothing doubled, no process left behind.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
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

#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/external/external_env.hpp"
#include "experiments/sweep.hpp"
#include "experiments/sweep_test_util.hpp"
#include "proc_files.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
using dsegym::testing::proc_state;
using dsegym::testing::read_proc_file;
using dsegym::testing::summary_without_time;
using dsegym::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

struct Cli {
  int code = -1;
  std::string err;
};

// Runs dsegym with `env` prepended ("VAR=value ..."); stderr captured.
Cli cli(const std::string& args, const std::string& env = "") {
  const fs::path err = fs::temp_directory_path() / ("dsegym_faults_err_" + std::to_string(::getpid()));
  const int status = std::system((env + " " + DSEGYM_BIN + " " + args + " >/dev/null 2>" + err.string()).c_str());
  Cli c;
  c.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(err);
  c.err.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return c;
}

// dsegym started in its own process group (as a shell job is). wait()
// reaps it; a test that ends before (a failed REQUIRE, an exception) kills
// its group rather than leave a sweep running behind it.
class Started {
public:
  explicit Started(const std::vector<std::string>& args) : pid(spawn(args)) {}
  Started(const Started&) = delete;
  Started& operator=(const Started&) = delete;
  ~Started() {
    if (reaped_) return;
    ::kill(-pid, SIGKILL);
    wait();
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    reaped_ = true;
    return status;
  }
  const pid_t pid;

private:
  static pid_t spawn(const std::vector<std::string>& args) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      std::vector<char*> argv{const_cast<char*>(DSEGYM_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::execv(DSEGYM_BIN, argv.data());
      _exit(127);
    }
    ::setpgid(pid, pid);
    return pid;
  }
  bool reaped_ = false;
};

// Processes whose command line mentions `needle` (e.g. a sweep folder), by pid.
std::set<pid_t> processes_with(const std::string& needle) {
  std::set<pid_t> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_proc_file(std::stoi(name), "cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos && std::stoi(name) != ::getpid()) out.insert(std::stoi(name));
  }
  return out;
}

bool alive(pid_t pid) {
  const char state = proc_state(pid);
  return state != '\0' && state != 'Z';  // a zombie is dead
}

std::size_t rows_on_disk(const fs::path& out) {
  std::size_t rows = 0;
  if (!fs::exists(out / "trials")) return 0;
  for (const auto& e : fs::recursive_directory_iterator(out / "trials"))
    if (e.path().filename() == "trace.jsonl") {
      std::ifstream f(e.path());
      rows += static_cast<std::size_t>(std::count(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>(), '\n'));
    }
  return rows;
}

// Every trial's trace rows without their wall time, by trial; and a check
// that each trace is steps 0, 1, 2, ... with nothing doubled.
std::map<std::string, std::vector<std::string>> traces(const fs::path& out) {
  std::map<std::string, std::vector<std::string>> t;
  for (const auto& e : fs::directory_iterator(out / "trials")) {
    std::ifstream f(e.path() / "trace.jsonl");
    std::string line;
    std::int64_t expect = 0;
    while (std::getline(f, line)) {
      json j = json::parse(line);
      CHECK(j.at("step").get<std::int64_t>() == expect);
      ++expect;
      j.erase("wall_time_s");
      t[e.path().filename().string()].push_back(j.dump());
    }
  }
  return t;
}


// A sweep whose trials take long enough (~0.5-1 s each) to be killed midway.
json slow_sweep(const std::string& isolation) {
  json cfg = json::parse(R"({
    "name": "faults",
    "envs": [{"id": "dram-v0", "options": {"generator": {"type": "random", "requests": 3000, "interval": 3}}}],
    "agents": [{"id": "ga", "grid": {"population": [6, 12]}}, {"id": "random"}],
    "seeds": [1, 2],
    "budget": 90,
    "batch": 3,
    "parallel": {"workers": 2}
  })");
  cfg["parallel"]["isolation"] = isolation;
  return cfg;
}

}  // namespace

TEST_CASE("sweeps killed by SIGKILL or SIGINT at several moments resume with nothing lost, doubled or left running") {
  const auto dir = temp_dir("faults_cfg");
  std::ofstream(dir / "thread.json") << slow_sweep("thread").dump();
  std::ofstream(dir / "process.json") << slow_sweep("process").dump();
  const auto whole = temp_dir("faults_whole");
  REQUIRE(cli("sweep " + (dir / "thread.json").string() + " --out " + whole.string()).code == 0);
  const auto reference = traces(whole);
  REQUIRE(reference.size() == 6);
  for (const std::string iso : {"thread", "process"})
    for (const int sig : {SIGKILL, SIGINT}) {
      const auto cut = temp_dir("faults_cut_" + iso + "_" + std::to_string(sig));
      // Kill, resume, kill again later, then finish.
      for (const std::size_t at_rows : {std::size_t{5}, std::size_t{200}}) {
        INFO(iso, " signal ", sig, " after ", at_rows, " rows");
        Started sweep({"sweep", (dir / (iso + ".json")).string(), "--out", cut.string()});
        const pid_t pid = sweep.pid;
        std::set<pid_t> seen;
        for (int i = 0; i < 4000 && rows_on_disk(cut) < at_rows; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          for (pid_t p : processes_with(cut.string())) seen.insert(p);
        }
        ::kill(-pid, sig);  // the whole group, as a terminal's Ctrl-C would
        const int status = sweep.wait();
        CHECK(WIFSIGNALED(status));  // it was interrupted, not finished
        CHECK(WTERMSIG(status) == sig);
        CHECK(!fs::exists(cut / "summary.csv"));
        // Every process that ran for this sweep (workers included) is gone within a second.
        for (int i = 0; i < 100; ++i) {
          bool any = false;
          for (pid_t p : seen) any = any || (p != pid && alive(p));
          if (!any) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        for (pid_t p : seen) CHECK_MESSAGE(!alive(p), "process ", p, " outlived its sweep");
        if (iso == "process") CHECK(seen.size() > 1);  // workers were seen, and checked
      }
      const Cli done = cli("sweep " + (dir / (iso + ".json")).string() + " --out " + cut.string());
      REQUIRE_MESSAGE(done.code == 0, done.err);
      CHECK(summary_without_time(cut) == summary_without_time(whole));
      CHECK(traces(cut) == reference);
    }
}

TEST_CASE("a sweep folder holds one sweep at a time, a stale lock is taken over") {
  const auto dir = temp_dir("faults_lock_cfg");
  std::ofstream(dir / "s.json") << slow_sweep("process").dump();
  const auto out = temp_dir("faults_lock");
  Started sweep({"sweep", (dir / "s.json").string(), "--out", out.string()});
  const pid_t first = sweep.pid;
  for (int i = 0; i < 4000 && rows_on_disk(out) < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const Cli second = cli("sweep " + (dir / "s.json").string() + " --out " + out.string());
  CHECK(second.code == 2);
  CHECK(std::count(second.err.begin(), second.err.end(), '\n') == 1);
  CHECK(second.err.find("in use by another sweep (pid " + std::to_string(first) + ")") != std::string::npos);
  // Nor can a trial of it be run by hand meanwhile.
  const std::string trial = (out / "trials" / fs::directory_iterator(out / "trials")->path().filename()).string();
  const Cli by_hand = cli("trial " + trial);
  CHECK(by_hand.code == 2);
  CHECK(by_hand.err.find("in use by a sweep (pid " + std::to_string(first) + ")") != std::string::npos);
  const int status = sweep.wait();
  CHECK(WEXITSTATUS(status) == 0);
  // The lock file stays with the dead sweep's pid in it; it binds nobody.
  CHECK(cli("sweep " + (dir / "s.json").string() + " --out " + out.string()).code == 0);
  // Two runs in one folder: the second refuses too.
  const auto run_dir = temp_dir("faults_run_lock");
  Started run({"run", "--env", "dram-v0", "--agent", "random", "--budget", "400", "--out", run_dir.string(), "--env-options",
               R"({"generator": {"type": "random", "requests": 3000, "interval": 3}})"});
  for (int i = 0; i < 4000 && !fs::exists(run_dir / "trace.jsonl"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const Cli again = cli("run --env toy-v0 --budget 5 --resume --out " + run_dir.string());
  CHECK(again.code == 2);
  CHECK(again.err.find("in use by another run (pid " + std::to_string(run.pid) + ")") != std::string::npos);
  ::kill(run.pid, SIGKILL);
  run.wait();
}

TEST_CASE("a disk that fills mid-sweep: one clear error, nothing half-written, and the rerun ends as an uninterrupted sweep") {
  const auto dir = temp_dir("faults_disk_cfg");
  for (const std::string iso : {"thread", "process"}) {
    json cfg = slow_sweep(iso);
    cfg["budget"] = 30;
    std::ofstream(dir / (iso + ".json")) << cfg.dump();
  }
  const auto whole = temp_dir("faults_disk_whole");
  REQUIRE(cli("sweep " + (dir / "thread.json").string() + " --out " + whole.string()).code == 0);
  for (const std::string iso : {"thread", "process"}) {
    INFO(iso);
    const auto out = temp_dir("faults_disk_" + iso);
    // Room for a few trials' worth of files, then "No space left on device"
    // (counted per process: a worker process writes one trial's files).
    const std::string room = iso == "thread" ? "60000" : "6000";
    const std::string full = "LD_PRELOAD=" + std::string(ENOSPC_PRELOAD) + " DSEGYM_FAULT_DIR=" + out.string() + " DSEGYM_FAULT_BYTES=" + room;
    const Cli failed = cli("sweep " + (dir / (iso + ".json")).string() + " --out " + out.string(), full);
    CHECK(failed.code == 2);
    CHECK(failed.err.find("dsegym: error: ") != std::string::npos);
    CHECK(failed.err.find("dsegym: error: ") == failed.err.rfind("dsegym: error: "));  // one error line (besides progress lines)
    CHECK(failed.err.find(out.string()) != std::string::npos);  // names the file, or the trial whose files could not be written
    CHECK((failed.err.find("No space left on device") != std::string::npos || failed.err.find("could not write") != std::string::npos));
    // No JSON file was left empty or cut short; no trial was marked failed for the disk.
    for (const auto& e : fs::recursive_directory_iterator(out))
      if (e.path().extension() == ".json") {
        INFO(e.path());
        std::ifstream f(e.path());
        CHECK(!json::parse(f, nullptr, false).is_discarded());
      }
    for (const auto& e : fs::directory_iterator(out / "trials"))
      if (fs::exists(e.path() / "result.json")) CHECK(read_json(e.path() / "result.json").at("status") == "done");
    // Space freed: the rerun resumes and ends as if nothing happened.
    const Cli rerun = cli("sweep " + (dir / (iso + ".json")).string() + " --out " + out.string());
    REQUIRE_MESSAGE(rerun.code == 0, rerun.err);
    CHECK(summary_without_time(out) == summary_without_time(whole));
    CHECK(traces(out) == traces(whole));
  }
}

TEST_CASE("dsegym run --resume continues a killed run to the uninterrupted trace") {
  const std::string env = R"(--env dram-v0 --agent ga --budget 120 --batch 4 --seed 3 --env-options '{"generator": {"type": "random", "requests": 3000, "interval": 3}}')";
  const auto whole = temp_dir("faults_run_whole"), cut = temp_dir("faults_run_cut");
  REQUIRE(cli("run " + env + " --out " + whole.string()).code == 0);
  std::vector<std::string> args = {"run", "--env", "dram-v0", "--agent", "ga", "--budget", "120", "--batch", "4", "--seed", "3", "--env-options",
                                   R"({"generator": {"type": "random", "requests": 3000, "interval": 3}})", "--out", cut.string()};
  Started started(args);
  const pid_t pid = started.pid;
  for (int i = 0; i < 4000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (fs::exists(cut / "trace.jsonl") && fs::file_size(cut / "trace.jsonl") > 2000) break;
  }
  ::kill(pid, SIGKILL);
  started.wait();
  const Cli plain = cli("run " + env + " --out " + cut.string());
  CHECK(plain.code == 2);
  CHECK(plain.err.find("--resume") != std::string::npos);
  // A second writer's rows past the run's own sequence are cut on resume.
  {
    std::ifstream f(cut / "trace.jsonl");
    std::string first;
    std::getline(f, first);
    std::ofstream(cut / "trace.jsonl", std::ios::app) << first << "\n";
  }
  REQUIRE(cli("run " + env + " --resume --out " + cut.string()).code == 0);
  auto rows = [](const fs::path& p) {
    std::vector<std::string> out;
    std::ifstream f(p / "trace.jsonl");
    std::string line;
    while (std::getline(f, line)) {
      json j = json::parse(line);
      j.erase("wall_time_s");
      out.push_back(j.dump());
    }
    return out;
  };
  CHECK(rows(cut) == rows(whole));
  CHECK(rows(cut).size() == 120);
}

TEST_CASE("bounds and pre-run checks: one clear error before anything runs") {
  auto parse = [](const std::string& text, std::size_t max_trials = kMaxTrials) { return parse_sweep(json::parse(text), "s.json", max_trials); };
  // Trial counts are counted, not expanded: 10^8 trials fail at once, naming the count.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "ga", "grid": {"population": [4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
      "mutation": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], "elite": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]}}],
      "seeds": {"count": 100000}})"),
                       doctest::Contains("expands to 100000000 trials, more than the 100000 allowed; pass --force"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random", "sample": {"count": 1e9}}]})"),
                       doctest::Contains("s.json.agents[0].sample.count: expected an integer in 1..10000000"), InvalidArgument);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "seeds": {"count": 12}})", 10),
                       doctest::Contains("expands to 12 trials, more than the 10 allowed"), InvalidArgument);
  CHECK(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "seeds": {"count": 12}})", 20).trials.size() == 12);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "batch": 0})"),
                       doctest::Contains("s.json.batch: expected an integer in 1.."), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "target": {"metric": "latency", "value": 1}})"),
                       doctest::Contains("target.metric: env 'toy-v0' has no metric 'latency'; valid:"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "objectives": ["loss", "speed"]})"),
                       doctest::Contains("objective 'speed'"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "parallel": {"timeout_s": -1}})"),
                       doctest::Contains("s.json.parallel.timeout_s: expected a positive number of seconds"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "budget": {"wall_time_s": 0}})"),
                       doctest::Contains("budget.wall_time_s: expected a positive number"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "reward": {"type": "metric", "metric": "nope"}})"),
                       doctest::Contains("nope"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse(R"({"envs": [{"id": "soc-sched-v0"}], "agents": [{"id": "ppo"}], "batch": 4})"),
                       doctest::Contains("use batch 1"), InvalidArgument);
  // Workers: capped per core unless oversubscription is asked for, and never past the hard cap.
  CHECK_THROWS_WITH_AS(check_workers(100000, false, "s.json"), doctest::Contains("s.json.parallel.workers: 100000 is more than 4 per core"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(check_workers(100000, true, "s.json"), doctest::Contains("more than the 1024 a sweep runs at once"), InvalidArgument);
  CHECK_NOTHROW(check_workers(64, true, "s.json"));
  // Through the CLI: one line, exit 2, nothing written.
  const auto dir = temp_dir("faults_bounds");
  std::ofstream(dir / "s.json") << R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "parallel": {"workers": 100000}})";
  const Cli c = cli("sweep " + (dir / "s.json").string() + " --out " + (dir / "out").string());
  CHECK(c.code == 2);
  CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
  CHECK(c.err.find("--allow-oversubscribe") != std::string::npos);
  CHECK(!fs::exists(dir / "out"));
  // A trial that fails for its configuration makes the sweep exit nonzero:
  // here a folder whose run.json belongs to another run.
  std::ofstream(dir / "ok.json") << R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "budget": 20})";
  REQUIRE(cli("sweep " + (dir / "ok.json").string() + " --out " + (dir / "ok").string()).code == 0);
  const fs::path trial = fs::directory_iterator(dir / "ok" / "trials")->path();
  json run = read_json(trial / "run.json");
  run["seed"] = 99;
  write_json_atomically(trial / "run.json", run);
  fs::remove(trial / "result.json");
  const Cli bad = cli("sweep " + (dir / "ok.json").string() + " --out " + (dir / "ok").string());
  CHECK(bad.code == 1);
  CHECK(bad.err.find("configuration error") != std::string::npos);
}

TEST_CASE("external simulators cannot take the parent down: huge output, hostile regexes, endless output") {
  const auto dir = temp_dir("faults_external");
  auto spec = [&](const std::string& id, const std::string& script, const std::string& regex) {
    const fs::path sh = dir / (id + ".sh");
    std::ofstream(sh) << "#!/bin/sh\n" << script << "\n";
    fs::permissions(sh, fs::perms::owner_all);
    const json j = {{"id", id},
                    {"knobs", {{{"name", "x"}, {"space", {{"type", "integer"}, {"low", 1}, {"high", 2}}}}}},
                    {"command", {sh.string()}},
                    {"metrics", {{{"name", "y"}, {"unit", "1"}, {"goal", "min"}, {"regex", regex}}}},
                    {"timeout_s", 5},
                    {"max_output_bytes", 1 << 20}};
    std::ofstream(dir / (id + ".json")) << j.dump();
    return register_external_env(env_registry(), (dir / (id + ".json")).string());
  };
  struct rusage before {};
  ::getrusage(RUSAGE_SELF, &before);
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      // 300 KB on one line, and a regex std::regex recursed through until the stack overflowed.
      {"faults-long-v0", "head -c 300000 /dev/zero | tr '\\0' a; echo", "((a|b)*)c", "found nothing"},
      // Catastrophic backtracking for a backtracking engine: (a+)+b on 30 a's.
      {"faults-backtrack-v0", "printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", "(a+)+b", "found nothing"},
      // Endless output.
      {"faults-yes-v0", "yes", "y=([0-9]+)", "max_output_bytes (1048576 bytes)"},
  };
  for (const auto& [id, script, regex, why] : cases) {
    INFO(id);
    auto env = make_env(env_registry(), spec(id, script, regex));
    env->reset(0);
    const auto t0 = std::chrono::steady_clock::now();
    const StepResult r = env->step(Value(Value::Dict{{"x", Value(std::int64_t{1})}}));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.status.code == Status::SimError);
    CHECK(r.status.reason.find(why) != std::string::npos);
    CHECK(seconds < 5);  // within the spec's timeout
  }
  struct rusage after {};
  ::getrusage(RUSAGE_SELF, &after);
  CHECK(after.ru_maxrss - before.ru_maxrss < 64 * 1024);  // KB: no output was held in memory beyond its cap
  // Bad regexes are refused when the spec is read.
  const json bad = {{"id", "faults-bad-v0"},
                    {"knobs", {{{"name", "x"}, {"space", {{"type", "integer"}, {"low", 1}, {"high", 2}}}}}},
                    {"command", {"/bin/true"}},
                    {"metrics", {{{"name", "y"}, {"unit", "1"}, {"goal", "min"}, {"regex", "(a)\\1"}}}}};
  std::ofstream(dir / "bad.json") << bad.dump();
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), (dir / "bad.json").string()), doctest::Contains("does not compile"), InvalidArgument);
}
