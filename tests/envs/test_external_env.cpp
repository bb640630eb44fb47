// external-v0: simulators run as programs from a JSON spec, tested with a
// fake simulator script (tests/external/fake_sim.sh).
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <thread>

#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/external/external_env.hpp"
#include "envs/external/units.hpp"
#include "experiments/runner.hpp"
#include "proc_files.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
namespace fs = std::filesystem;

namespace {

const std::string kFake = std::string(TESTS_SOURCE_DIR) + "/external/fake_sim.sh";

// A spec for the fake simulator; `values` are the labels of knob v.
json fake_spec(const std::string& id, const std::vector<std::string>& modes, const std::vector<std::string>& values, double timeout_s = 5) {
  return {{"id", id},
          {"knobs",
           {{{"name", "mode"}, {"space", {{"type", "categorical"}, {"labels", modes}}}},
            {{"name", "v"}, {"space", {{"type", "categorical"}, {"labels", values}}}},
            {{"name", "u"}, {"space", {{"type", "categorical"}, {"labels", {"ps", "ns", "us"}}}}}}},
          {"command", {kFake, "{{mode}}", "{{v}}", "{{u}}"}},
          {"metrics",
           {{{"name", "latency_ns"}, {"unit", "ns"}, {"goal", "min"}, {"regex", "latency: ([-0-9.eE+]+) (ps|ns|us)"}, {"group", 1}, {"unit_group", 2}},
            {{"name", "energy_pj"}, {"unit", "pJ"}, {"goal", "min"}, {"regex", "energy=([0-9.]+) nJ"}, {"from_unit", "nJ"}}}},
          {"infeasible", {{"exit_codes", {3}}}},
          {"timeout_s", timeout_s}};
}

std::string write_spec(const fs::path& dir, const json& spec) {
  const fs::path p = dir / (spec.at("id").get<std::string>() + ".json");
  std::ofstream(p) << spec.dump(2);
  return p.string();
}

StepResult step(Env& env, const std::string& mode, const std::string& v, const std::string& u = "ns") {
  env.reset(0);
  return env.step(Value(Value::Dict{{"mode", mode}, {"v", v}, {"u", u}}));
}

bool process_gone(int pid) {
  if (::kill(pid, 0) != 0) return true;
  const char state = dsegym::testing::proc_state(pid);
  return state == '\0' || state == 'Z';  // a zombie waiting for its reaper is gone as far as work goes
}

}  // namespace

TEST_CASE("metrics with units are parsed and converted") {
  CHECK(units::convert(1500, "ps", "ns") == doctest::Approx(1.5));
  CHECK(units::convert(2, "GB/s", "MB/s") == doctest::Approx(2000));
  CHECK_THROWS_WITH_AS(units::convert(1, "ns", "nJ"), doctest::Contains("cannot convert ns (time) to nJ (energy)"), InvalidArgument);

  const auto dir = testing::temp_dir("ext_units");
  const std::string id = register_external_env(env_registry(), write_spec(dir, fake_spec("fake-units-v0", {"ok", "json"}, {"1500", "2"})));
  auto env = make_env(env_registry(), id);
  StepResult r = step(*env, "ok", "1500", "ps");
  REQUIRE(r.status.ok());
  CHECK(r.metrics.at("latency_ns") == doctest::Approx(1.5));
  CHECK(r.metrics.at("energy_pj") == doctest::Approx(2500));
  r = step(*env, "ok", "2", "us");
  CHECK(r.metrics.at("latency_ns") == doctest::Approx(2000));

  // A JSON pointer into a file the simulator writes.
  json js = fake_spec("fake-json-v0", {"json"}, {"1"});
  js["metrics"][0] = {{"name", "latency_ns"}, {"unit", "ns"}, {"goal", "min"}, {"source", "file:out.json"}, {"json", "/stats/latency_ps"}, {"from_unit", "ps"}};
  auto jenv = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, js)));
  CHECK(step(*jenv, "json", "1").metrics.at("latency_ns") == doctest::Approx(1234));
}

TEST_CASE("crashes and garbage and missing metrics and infeasible designs and hangs each get a clear status while the run goes on") {
  const auto dir = testing::temp_dir("ext_fail");
  const fs::path pidfile = dir / "pids.txt";
  const std::string id = register_external_env(
      // A timeout of 3 s: the hang costs that, and the other modes finish well within it on a loaded machine (1 s did not, once).
      env_registry(), write_spec(dir, fake_spec("fake-fail-v0", {"ok", "crash", "garbage", "missing", "infeasible", "hang"}, {"5", pidfile.string()}, 3.0)));
  auto env = make_env(env_registry(), id);

  StepResult r = step(*env, "crash", "5");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("killed by signal 11") != std::string::npos);
  r = step(*env, "garbage", "5");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("metric 'latency_ns': regex") != std::string::npos);
  CHECK(r.status.reason.find("Segmentation of the results failed") != std::string::npos);  // what it printed instead
  r = step(*env, "missing", "5");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("metric 'energy_pj'") != std::string::npos);
  CHECK(r.metrics.items().empty());  // no half-filled metrics
  r = step(*env, "infeasible", "5");
  CHECK(r.status.code == Status::Infeasible);
  CHECK(r.status.reason == "exit code 3: design needs 5000 PEs, max 4096\n");

  // A hang: killed at the timeout with everything it started.
  r = step(*env, "hang", pidfile.string());
  CHECK(r.status.code == Status::Timeout);
  std::ifstream pids(pidfile);
  int child = 0, sim = 0;
  pids >> child >> sim;
  REQUIRE(child > 0);
  REQUIRE(sim > 0);
  CHECK(process_gone(sim));
  CHECK(process_gone(child));

  // A run over all of these (but the hang) completes and records each one.
  json opts = fake_spec("fake-run-v0", {"ok", "crash", "garbage", "missing", "infeasible"}, {"5"});
  register_external_env(env_registry(), write_spec(dir, opts));
  RunConfig c;
  c.env_id = "fake-run-v0";
  c.agent_id = "random";
  c.budget = 25;
  c.seed = 2;
  c.out_dir = (dir / "run").string();
  const RunResult res = run_experiment(c);
  CHECK(res.evaluations == 25);
  CHECK(res.status_counts.count("ok"));
  CHECK(res.status_counts.count("sim_error"));
  CHECK(res.status_counts.count("infeasible"));
  CHECK(res.has_best);
}

TEST_CASE("two evaluations at once never see each other's files, and template values cannot inject arguments") {
  const auto dir = testing::temp_dir("ext_iso");
  const std::string id = register_external_env(env_registry(), write_spec(dir, fake_spec("fake-iso-v0", {"files", "argv"}, {"1500", "7", "a b --evil"})));
  auto a = make_env(env_registry(), id), b = make_env(env_registry(), id);
  StepResult ra, rb;
  std::thread ta([&] { ra = step(*a, "files", "1500"); });
  std::thread tb([&] { rb = step(*b, "files", "7"); });
  ta.join();
  tb.join();
  REQUIRE(ra.status.ok());
  REQUIRE(rb.status.ok());
  CHECK(ra.metrics.at("latency_ns") == 1500);  // each read back what it wrote
  CHECK(rb.metrics.at("latency_ns") == 7);

  // "a b --evil" reaches the program as one argument: two after the mode, not four.
  const StepResult r = step(*a, "argv", "a b --evil");
  REQUIRE(r.status.ok());
  CHECK(r.metrics.at("latency_ns") == 2);
}

TEST_CASE("spec errors name the file and the field") {
  const auto dir = testing::temp_dir("ext_spec");
  json bad = fake_spec("fake-bad-v0", {"ok"}, {"1"});
  bad["command"][1] = "{{moed}}";
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, bad)), doctest::Contains("unknown placeholder {{moed}}; valid:"),
                       InvalidArgument);
  bad = fake_spec("fake-bad2-v0", {"ok"}, {"1"});
  bad["metrics"][0].erase("unit");
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, bad)), doctest::Contains("metric 'latency_ns': 'unit' is required"),
                       InvalidArgument);
  bad = fake_spec("fake-bad3-v0", {"ok"}, {"1"});
  bad["metrics"][1]["from_unit"] = "ms";
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, bad)), doctest::Contains("cannot convert ms (time) to pJ (energy)"),
                       InvalidArgument);
  bad = fake_spec("dram-v0", {"ok"}, {"1"});
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, bad)), doctest::Contains("already a registered env"), InvalidArgument);
}

// The shipped example wraps `dsegym sim dram`: for the same designs it must
// give dram-v0's metrics exactly.
TEST_CASE("the external dsegym sim dram gives the built-in dram-v0's metrics") {
  const std::string id = register_external_env(env_registry(), std::string(TESTS_SOURCE_DIR) + "/../examples/external/dram_sim.json");
  auto ext = make_env(env_registry(), id);
  auto builtin = make_env(env_registry(), "dram-v0");
  Rng rng(4);
  for (int i = 0; i < 5; ++i) {
    const Value a = builtin->action_space().sample(rng);
    builtin->reset(0);
    ext->reset(0);
    const StepResult x = ext->step(a), y = builtin->step(a);
    REQUIRE(x.status.ok());
    REQUIRE(y.status.ok());
    for (const auto& [k, v] : y.metrics.items()) CHECK(x.metrics.at(k) == doctest::Approx(v).epsilon(1e-12));
    CHECK(x.metrics.at("latency_us") == doctest::Approx(y.metrics.at("latency_ns") / 1000));
  }
}

// A sweep config names its env specs; worker processes register them too.
TEST_CASE("a sweep runs an external env in worker processes") {
  const auto dir = testing::temp_dir("ext_sweep");
  const std::string spec = write_spec(dir, fake_spec("fake-sweep-v0", {"ok", "crash"}, {"5", "9"}));
  const json cfg = {{"envs", {{{"id", "fake-sweep-v0"}}}},
                    {"agents", {{{"id", "random"}}}},
                    {"seeds", {1, 2}},
                    {"budget", 12},
                    {"env_specs", {spec}},
                    {"parallel", {{"workers", 2}, {"isolation", "process"}}}};
  std::ofstream(dir / "sweep.json") << cfg.dump();
  const std::string cmd = std::string(DSEGYM_BIN) + " sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string() + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  int rows = 0, crashed = 0;
  for (const auto& t : fs::directory_iterator(dir / "out" / "trials")) {
    std::ifstream in(t.path() / "trace.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      ++rows;
      crashed += json::parse(line).at("status") == "sim_error";
    }
  }
  CHECK(rows == 24);
  CHECK(crashed > 0);
}

TEST_CASE("a missing simulator program is a failed evaluation that names it") {
  const auto dir = testing::temp_dir("ext_missing");
  json spec = fake_spec("fake-missing-v0", {"ok"}, {"1"});
  spec["command"][0] = "/nonexistent/simulator";
  auto env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
  const StepResult r = step(*env, "ok", "1");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("'/nonexistent/simulator' does not exist") != std::string::npos);
}

namespace {

// The only working directory a kept evaluation left under `root`.
fs::path only_workdir(const fs::path& root) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root)) dirs.push_back(e.path());
  REQUIRE(dirs.size() == 1);
  return dirs[0];
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("files copy, hard-link or symlink a folder into the working directory, and later entries replace files inside it") {
  const auto dir = testing::temp_dir("ext_files");
  // A simulator's resources folder as DRAMSys lays it out: the policy file is found under resources/configs/mcconfigs.
  fs::create_directories(dir / "res/configs/mcconfigs");
  fs::create_directories(dir / "res/traces");
  std::ofstream(dir / "res/configs/mcconfigs/policy.json") << "7";
  std::ofstream(dir / "res/traces/t.stl") << "0: read 0x0\n";
  for (const std::string kind : {"copy", "link", "symlink"}) {
    CAPTURE(kind);
    const fs::path root = dir / ("work-" + kind);
    json spec = fake_spec("fake-files-" + kind + "-v0", {"read"}, {"3", "9"});
    spec["command"] = {kFake, "{{mode}}", "resources/configs/mcconfigs/policy.json"};
    spec["files"] = {{{"path", "resources"}, {kind, "res"}}, {{"path", "resources/configs/mcconfigs/policy.json"}, {"content", "{{v}}"}}};
    spec["workdir_root"] = root.filename().string();  // relative to the spec's folder
    spec["keep_workdirs"] = true;
    auto env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
    const StepResult r = step(*env, "read", "9");
    REQUIRE(r.status.ok());
    CHECK(r.metrics.at("latency_ns") == 9);  // the overlay, not the folder's 7
    CHECK(slurp(dir / "res/configs/mcconfigs/policy.json") == "7");  // the source is untouched
    const fs::path wd = only_workdir(root);
    const fs::path trace = wd / "resources/traces/t.stl";
    CHECK(slurp(trace) == "0: read 0x0\n");
    CHECK(fs::is_symlink(trace) == (kind == "symlink"));
    CHECK(fs::hard_link_count(dir / "res/traces/t.stl") == (kind == "link" ? 2u : 1u));
    fs::remove_all(root);
  }
  // A source that names a knob is checked when the evaluation runs; a fixed one when the spec loads.
  json spec = fake_spec("fake-files-missing-v0", {"read"}, {"res", "nope"});
  spec["command"] = {kFake, "{{mode}}", "x/configs/mcconfigs/policy.json"};
  spec["files"] = {{{"path", "x"}, {"copy", "{{v}}"}}};
  auto env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
  CHECK(step(*env, "read", "res").metrics.at("latency_ns") == 7);
  const StepResult r = step(*env, "read", "nope");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("files[] 'x': source " + (dir / "nope").string() + " does not exist") != std::string::npos);
  spec["id"] = "fake-files-missing2-v0";
  spec["files"] = {{{"path", "x"}, {"symlink", "no_such_folder"}}};
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("symlink source"), InvalidArgument);
  spec["files"] = {{{"path", "x"}, {"symlink", "res"}, {"copy", "res"}}};
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("give exactly one"), InvalidArgument);
}

TEST_CASE("{{name|json}} stays valid JSON whatever the value, and constants are template values that env options override") {
  const auto dir = testing::temp_dir("ext_json");
  const fs::path root = dir / "a \"quoted\" \\ root";  // a workdir path that breaks JSON unescaped
  json spec = fake_spec("fake-json-filter-v0", {"ok"}, {"5", "say \"hi\""});
  spec["constants"] = {{"CmdMux", "Oldest"}, {"Depth", 4}};
  spec["files"] = {{{"path", "sim.json"},
                    {"content", R"({"dir": {{workdir|json}}, "v": {{v|json}}, "mux": "{{CmdMux}}", "depth": {{Depth}}, "seed": {{seed|json}}})"}}};
  spec["command"] = {kFake, "{{mode}}", "5", "{{u}}"};
  spec["keep_workdirs"] = true;
  const std::string id = register_external_env(env_registry(), write_spec(dir, spec));
  for (const std::string v : {"5", "say \"hi\""}) {
    auto env = make_env(env_registry(), id, json{{"workdir_root", root.string()}});
    REQUIRE(step(*env, "ok", v).status.ok());
    const fs::path wd = only_workdir(root);
    const json sim = json::parse(slurp(wd / "sim.json"));
    CHECK(sim.at("dir") == wd.string());
    CHECK(sim.at("v") == v);
    CHECK(sim.at("mux") == "Oldest");
    CHECK(sim.at("depth") == 4);
    CHECK(sim.at("seed") == 0);
    fs::remove_all(root);
  }
  auto env = make_env(env_registry(), id, json{{"workdir_root", root.string()}, {"CmdMux", "Strict"}, {"Depth", 8}});
  REQUIRE(step(*env, "ok", "5").status.ok());
  const json sim = json::parse(slurp(only_workdir(root) / "sim.json"));
  CHECK(sim.at("mux") == "Strict");
  CHECK(sim.at("depth") == 8);
  CHECK_THROWS_WITH_AS(make_env(env_registry(), id, json{{"Depth", "deep"}}), doctest::Contains("Depth"), InvalidArgument);

  spec["id"] = "fake-json-bad-v0";
  spec["files"] = {{{"path", "sim.json"}, {"content", "{{v|yaml}}"}}};
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("unknown filter |yaml"), InvalidArgument);
  spec["files"] = json::array();
  spec["constants"] = {{"mode", 1}};
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("constant 'mode' has the name of a knob"),
                       InvalidArgument);
}

TEST_CASE("a failed evaluation's reason carries the tail of stdout and stderr, and error_regex names the simulator's own message") {
  const auto dir = testing::temp_dir("ext_tail");
  json spec = fake_spec("fake-abort-v0", {"abort"}, {"40"});
  auto env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
  StepResult r = step(*env, "abort", "40");
  CHECK(r.status.code == Status::SimError);
  const std::string& why = r.status.reason;
  CHECK(why.find("killed by signal 6") != std::string::npos);
  CHECK(why.find("FATAL: inline mcconfig objects are not supported") != std::string::npos);  // printed on stdout
  CHECK(why.find("line 40") != std::string::npos);
  CHECK(why.find("line 22\n") != std::string::npos);  // the last 20 lines: lines 22..40 and the fatal one
  CHECK(why.find("line 21\n") == std::string::npos);
  CHECK(why.find("a warning") != std::string::npos);  // stderr's tail too

  spec["id"] = "fake-abort-regex-v0";
  spec["error_regex"] = "FATAL: (.*)";
  env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
  r = step(*env, "abort", "40");
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason == "stdout matched error_regex: inline mcconfig objects are not supported (killed by signal 6 (Aborted))");
}

TEST_CASE("units: bits and bytes per second convert, every unit is checked when the spec loads, and scale converts the rest") {
  CHECK(units::convert(76.56, "Gb/s", "GB/s") == doctest::Approx(9.57));
  CHECK(units::convert(77833750, "ps", "ns") == 77833.75);  // exact: DRAMSys' ps in ns as printed
  CHECK(units::convert(226677450.0, "pJ", "nJ") == 226677.45);
  CHECK(units::convert(1, "GiB", "MB") == doctest::Approx(1073.741824));
  CHECK(units::convert(8, "Kb", "B") == doctest::Approx(1000));
  CHECK_THROWS_WITH_AS(units::check_label("gb/s"), doctest::Contains("did you mean 'GB/s' or 'Gb/s'"), InvalidArgument);
  CHECK_NOTHROW(units::check_label("cycles"));

  const auto dir = testing::temp_dir("ext_rates");
  json spec = fake_spec("fake-rates-v0", {"rate"}, {"1"});
  spec["command"] = {kFake, "{{mode}}"};
  spec["metrics"] = {{{"name", "bw_gbytes"}, {"unit", "GB/s"}, {"goal", "max"}, {"regex", "AVG BW: ([0-9.]+) (\\S+)"}, {"unit_group", 2}},
                     {{"name", "bw_mbits"}, {"unit", "Mb/s"}, {"goal", "none"}, {"regex", "AVG BW: ([0-9.]+)"}, {"from_unit", "Gb/s"}},
                     {{"name", "runtime_ns"}, {"unit", "ns"}, {"goal", "min"}, {"regex", "cycles: ([0-9]+)"}, {"scale", 0.5}},  // 2 GHz
                     {{"name", "cycles"}, {"unit", "cycles"}, {"goal", "none"}, {"regex", "cycles: ([0-9]+)"}}};
  auto env = make_env(env_registry(), register_external_env(env_registry(), write_spec(dir, spec)));
  env->reset(0);
  const StepResult r = env->step(Value(Value::Dict{{"mode", "rate"}, {"v", "1"}, {"u", "ns"}}));
  REQUIRE(r.status.ok());
  CHECK(r.metrics.at("bw_gbytes") == doctest::Approx(9.57));
  CHECK(r.metrics.at("bw_mbits") == doctest::Approx(76560));
  CHECK(r.metrics.at("runtime_ns") == doctest::Approx(200));
  CHECK(r.metrics.at("cycles") == 400);

  spec["id"] = "fake-rates-bad-v0";
  spec["metrics"][0]["unit"] = "gb/s";  // rejected at load, not at the first evaluation
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("metric 'bw_gbytes': unit 'gb/s'"),
                       InvalidArgument);
  spec["metrics"][0]["unit"] = "GB/s";
  spec["metrics"][3]["from_unit"] = "ns";  // a conversion needs known units
  CHECK_THROWS_WITH_AS(register_external_env(env_registry(), write_spec(dir, spec)), doctest::Contains("unit 'cycles' is not known"),
                       InvalidArgument);
}

// examples/external/dramsys/dramsys.json against a stand-in for ArchGym's
// DRAMSys 4.0 (tests/external/archgym_dram: the folder layout of
// oss-arch-gym 53f745a sims/DRAM, DRAMSys' argv and report format, figures
// from dsegym's own DRAM simulator).
TEST_CASE("the DRAMSys example spec runs ArchGym's DRAMSys layout and reads its report as dram-v0's metrics") {
  ::setenv("DSEGYM_BIN", DSEGYM_BIN, 1);  // the stand-in's simulator
  const auto dir = testing::temp_dir("ext_dramsys");
  const std::string archgym_dram = std::string(TESTS_SOURCE_DIR) + "/external/archgym_dram";
  const std::string policy = archgym_dram + "/DRAMSys/library/resources/configs/mcconfigs/policy.json";
  const std::string policy_before = slurp(policy);
  const std::string id = register_external_env(env_registry(), std::string(TESTS_SOURCE_DIR) + "/../examples/external/dramsys/dramsys.json");
  auto ext = make_env(env_registry(), id, json{{"archgym_dram", archgym_dram}, {"workdir_root", dir.string()}});
  auto builtin = make_env(env_registry(), "dram-v0");
  Rng rng(11);
  for (int i = 0; i < 6; ++i) {
    Value a = ext->action_space().sample(rng);
    ext->reset(0);
    const StepResult x = ext->step(a);
    REQUIRE_MESSAGE(x.status.ok(), x.status.reason);
    auto d = a.as_dict();
    d.emplace_back("AddressMapping", Value("RoBaCo"));  // the spec's default amconfig, am_ddr3_8x1Gbx8_dimm_p1KB_rbc
    builtin->reset(0);
    const StepResult y = builtin->step(Value(d));
    REQUIRE(y.status.ok());
    CHECK(x.metrics.at("latency_ns") == y.metrics.at("latency_ns"));  // printed as an integral sc_time, converted exactly
    CHECK(x.metrics.at("energy_nj") == doctest::Approx(y.metrics.at("energy_nj")).epsilon(1e-9));   // printed in pJ with 2 decimals
    CHECK(x.metrics.at("power_mw") == doctest::Approx(y.metrics.at("power_mw")).epsilon(1e-5));     // printed in mW with 2 decimals
    CHECK(x.metrics.at("bandwidth_gbps") == doctest::Approx(y.metrics.at("bandwidth_gbps")).epsilon(1e-3));  // printed in Gb/s
  }
  CHECK(slurp(policy) == policy_before);  // each evaluation's policy.json replaced the link, never wrote through it
  CHECK(fs::is_empty(dir));                // working directories removed

  // DRAMSys' own failure (an uncaught exception on stderr, then SIGABRT) is the reason, through the spec's error_regex.
  auto broken = make_env(env_registry(), id, json{{"archgym_dram", archgym_dram}, {"memspec", "DDR9.json"}});
  broken->reset(0);
  const StepResult r = broken->step(broken->action_space().sample(rng));
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("stderr matched error_regex: Failed to open file '") != std::string::npos);
  CHECK(r.status.reason.find("configs/memspecs/DDR9.json'.") != std::string::npos);
}

// examples/external/maestro/maestro.json against a stand-in for MAESTRO
// (tests/external/fake_maestro: MAESTRO 4eb08d1's argv, HW and mapping
// files, screen warnings and appended CSV; roofline figures).
TEST_CASE("the MAESTRO example spec reads MAESTRO's CSV by column and its buffer warnings as infeasible designs") {
  const auto dir = testing::temp_dir("ext_maestro");
  const std::string id = register_external_env(env_registry(), std::string(TESTS_SOURCE_DIR) + "/../examples/external/maestro/maestro.json");
  auto env = make_env(env_registry(), id,
                      json{{"maestro", std::string(TESTS_SOURCE_DIR) + "/external/fake_maestro/maestro"}, {"workdir_root", dir.string()}});
  Rng rng(5);
  int ok = 0, infeasible = 0;
  for (int i = 0; i < 40; ++i) {
    const Value a = env->action_space().sample(rng);
    env->reset(0);
    const StepResult r = env->step(a);
    if (r.status.code == Status::Infeasible) {
      ++infeasible;
      CHECK(r.status.reason.rfind("stdout: Per-layer L", 0) == 0);
      continue;
    }
    REQUIRE_MESSAGE(r.status.ok(), r.status.reason);
    ++ok;
    CHECK(r.metrics.at("runtime_us") == doctest::Approx(r.metrics.at("runtime_cycles") / 1000));  // the metric's scale
    CHECK(r.metrics.at("l1_bytes") <= a.at("l1_size").as_int());  // feasible designs fit their buffers
    CHECK(r.metrics.at("l2_bytes") <= a.at("l2_size").as_int());
    CHECK(r.metrics.at("throughput") == doctest::Approx(115605504.0 / r.metrics.at("runtime_cycles")).epsilon(1e-5));  // res2_3x3's MACs
  }
  CHECK(ok > 5);
  CHECK(infeasible > 5);
  // More PEs and bandwidth never slow the same dataflow down.
  auto design = [&](std::int64_t pes, std::int64_t bw) {
    env->reset(0);
    return env->step(Value(Value::Dict{{"dataflow", Value("rs")}, {"num_pes", Value(pes)}, {"l1_size", Value(std::int64_t{512})},
                                       {"l2_size", Value(std::int64_t{16384})}, {"noc_bw", Value(bw)}}))
        .metrics.at("runtime_cycles");
  };
  CHECK(design(64, 8) > design(1024, 512));
}
