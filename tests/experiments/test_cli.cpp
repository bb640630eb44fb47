// Runs the dsegym binary as a user would and checks its exit codes and
// messages.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Output {
  int code;
  std::string out;
  std::string err;
};

Output run(const std::string& args) {
  const std::string err_file = std::filesystem::temp_directory_path() / ("dsegym_cli_err_" + std::to_string(::getpid()));
  const std::string cmd = std::string(DSEGYM_BIN) + " " + args + " 2>" + err_file;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  Output o;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  const int status = ::pclose(p);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  FILE* e = std::fopen(err_file.c_str(), "r");
  while (e && (n = std::fread(buf.data(), 1, buf.size(), e)) > 0) o.err.append(buf.data(), n);
  if (e) std::fclose(e);
  std::filesystem::remove(err_file);
  return o;
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("a misspelt env id is one error line naming it and the valid ids") {
  const Output o = run("run --env toy-v9 --budget 3");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("unknown env 'toy-v9'") != std::string::npos);
  CHECK(o.err.find("valid: accel-mapping-v0, accel-v0, asic-v0, dram-v0, nas-v0, nasaic-v0, soc-design-v0, soc-sched-v0, toy-v0") != std::string::npos);
}

TEST_CASE("a misspelt option key is one error line naming it and the valid keys") {
  const Output o = run("run --env toy-v0 --env-options '{\"nosie\": 0.1}'");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("'nosie'") != std::string::npos);
  CHECK(o.err.find("noise, constrained, episode_length") != std::string::npos);
}

TEST_CASE("a bad action value is one error line naming the knob and the valid values") {
  const Output o = run("eval --env toy-v0 --action '{\"kind\": \"e\", \"n\": 8, \"m\": 7, \"x\": 1.5, \"y\": -0.5}'");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("action.kind") != std::string::npos);
  CHECK(o.err.find("choices: a, b, c, d") != std::string::npos);
  const Output ok = run("eval --env toy-v0 --action '{\"kind\": \"b\", \"n\": 8, \"m\": 7, \"x\": 1.5, \"y\": -0.5}'");
  CHECK(ok.code == 0);
  CHECK(ok.out.find("\"loss\": 0.0") != std::string::npos);
}

TEST_CASE("invalid JSON, unknown agents and bad budgets are errors") {
  Output o = run("run --env toy-v0 --env-options '{noise: 1}'");
  CHECK(o.code != 0);
  CHECK(o.err.find("--env-options: not valid JSON") != std::string::npos);
  o = run("run --env toy-v0 --agent randm");
  CHECK(o.code != 0);
  CHECK(o.err.find("did you mean 'random'") != std::string::npos);
  o = run("run --env toy-v0 --budget 0");
  CHECK(o.code != 0);
  CHECK(o.err.find("budget") != std::string::npos);
  o = run("frobnicate");
  CHECK(o.code != 0);
}

TEST_CASE("every command has help with an example") {
  for (const char* cmd : {"", "list", "describe", "run", "eval", "dataset", "dataset export", "sim", "sim dram", "sim accel", "sim soc", "sweep", "report", "serve"}) {
    INFO(cmd);
    const Output o = run(std::string(cmd) + " --help");
    CHECK(o.code == 0);
    CHECK(o.out.find("Example") != std::string::npos);
  }
}

TEST_CASE("sim dram prints the simulator's result and names bad input") {
  Output o = run("sim dram --memspec ddr3-1600 --generator '{\"type\": \"stream\", \"requests\": 100}'");
  CHECK(o.code == 0);
  CHECK(o.out.find("\"total_time_ns\"") != std::string::npos);
  o = run("sim dram --memspec ddr9 --generator '{\"type\": \"stream\"}'");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("memspec 'ddr9'") != std::string::npos);
}

TEST_CASE("list and describe print the registry") {
  Output o = run("list envs");
  CHECK(o.code == 0);
  CHECK(o.out.find("toy-v0") != std::string::npos);
  o = run("describe toy-v0");
  CHECK(o.code == 0);
  CHECK(o.out.find("\"action_space\"") != std::string::npos);
  CHECK(o.out.find("\"unit\"") != std::string::npos);
}

TEST_CASE("a plugin adds an agent that runs like a built-in one, bad plugins are clear errors") {
  const std::string plugin = std::string("--plugin ") + EXAMPLE_PLUGIN + " ";
  Output o = run(plugin + "list agents");
  CHECK(o.code == 0);
  CHECK(o.out.find("coordinate") != std::string::npos);
  o = run(plugin + "run --env toy-v0 --agent coordinate --budget 60 --seed 2");
  CHECK(o.code == 0);
  CHECK(o.out.find("\"evaluations\": 60") != std::string::npos);
  o = run("run --env toy-v0 --agent coordinate --budget 5");  // not loaded
  CHECK(o.code != 0);
  o = run(std::string("--plugin ") + WRONG_ABI_PLUGIN + " list");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("built for plugin ABI 999, this dsegym has 2") != std::string::npos);
  o = run("--plugin /no/such/plugin.so list");
  CHECK(o.code != 0);
  CHECK(o.err.find("plugin /no/such/plugin.so: cannot load") != std::string::npos);
  o = run(std::string("--plugin ") + EXAMPLE_PLUGIN + " --plugin " + EXAMPLE_PLUGIN + " list agents");  // twice: loaded once
  CHECK(o.code == 0);
  CHECK(o.out.find("\n  coordinate ") == o.out.rfind("\n  coordinate "));
}

TEST_CASE("sim accel prints per-layer results and names a bad dataflow") {
  Output o = run("sim accel --workload alexnet --dataflow ws");
  CHECK(o.code == 0);
  CHECK(o.out.find("\"conv1\"") != std::string::npos);
  CHECK(o.out.find("\"utilization\"") != std::string::npos);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j.at("cycles").get<double>() == doctest::Approx(j.at("latency_ns").get<double>() * 200 / 1000));  // 200 MHz
  CHECK(j.at("layers")[0].at("cycles").get<double>() > 0);
  o = run("sim accel --workload alexnet --dataflow xs");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("dataflow 'xs' is not valid; choices: ws, os, rs, is") != std::string::npos);
  o = run("sim accel --arch '{\"rows\": 1e10}'");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("--arch.rows: expected an integer in 1..65536, got 10000000000.0") != std::string::npos);
  o = run("sim accel --arch '{\"array\": \"systolic\"}' --dataflow rs");
  CHECK(o.code == 0);
  CHECK(nlohmann::json::parse(o.out).at("reason").get<std::string>().find("row stationary needs a spatial array") != std::string::npos);
}

TEST_CASE("sim soc prints the schedule's metrics and names bad input") {
  // Topcuoglu et al. 2002's example: HEFT's makespan is 80.
  Output o = run("sim soc --soc topcuoglu_3p --apps topcuoglu --jobs 1 --scheduler heft --schedule");
  CHECK(o.code == 0);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j.at("makespan_us").get<double>() == doctest::Approx(80.0));
  CHECK(j.at("schedule").size() == 10);
  o = run("sim soc --scheduler fifo");
  CHECK(o.code != 0);
  CHECK(lines(o.err) == 1);
  CHECK(o.err.find("choices: met, etf, heft, random, rr") != std::string::npos);
  o = run("sim soc --frequency A16=1000 --jobs 5");
  CHECK(o.code != 0);
  CHECK(o.err.find("no PE type 'A16' in ds3_multiple_bal (A7, A15, MM, FFT, VIT)") != std::string::npos);
}

TEST_CASE("sim accel --mapping evaluates the printed mappings, and a bad mapping names the layer and field") {
  Output o = run("sim accel --workload alexnet --dataflow ws");
  REQUIRE(o.code == 0);
  const auto mapped = nlohmann::json::parse(o.out);
  // Feeding the mapper's own mappings back reproduces every layer.
  nlohmann::json file = {{"layers", nlohmann::json::object()}};
  for (const auto& l : mapped.at("layers")) file["layers"][l.at("name").get<std::string>()] = l.at("mapping");
  const auto path = std::filesystem::temp_directory_path() / ("dsegym_mapping_" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << file.dump();
  o = run("sim accel --workload alexnet --dataflow ws --mapping " + path.string());
  REQUIRE(o.code == 0);
  const auto again = nlohmann::json::parse(o.out);
  CHECK(again.at("latency_ns").get<double>() == mapped.at("latency_ns").get<double>());
  CHECK(again.at("energy_nj").get<double>() == mapped.at("energy_nj").get<double>());
  CHECK(again.at("layers")[0].at("mapped_by") == "file");
  // Dropping conv1's temporal factors leaves dimensions uncovered: that layer becomes invalid.
  for (const char* level : {"dram", "glb", "rf"}) file["layers"]["conv1"][level] = nlohmann::json::object();
  std::ofstream(path) << file.dump();
  o = run("sim accel --workload alexnet --dataflow ws --mapping " + path.string());
  CHECK(o.code == 0);
  CHECK(nlohmann::json::parse(o.out).at("layers")[0].at("valid") == false);
  // A systolic array's mappings (dataflow, DRAM factors, order) round-trip the same way.
  const std::string sys = " --arch '{\"array\": \"systolic\", \"rows\": 16, \"cols\": 16}'";
  o = run("sim accel --workload alexnet --dataflow os" + sys);
  REQUIRE(o.code == 0);
  const auto smapped = nlohmann::json::parse(o.out);
  file = {{"layers", nlohmann::json::object()}};
  for (const auto& l : smapped.at("layers")) file["layers"][l.at("name").get<std::string>()] = l.at("mapping");
  CHECK(file["layers"]["conv1"].at("dataflow") == "os");
  std::ofstream(path) << file.dump();
  o = run("sim accel --workload alexnet --dataflow os --mapping " + path.string() + sys);
  REQUIRE(o.code == 0);
  CHECK(nlohmann::json::parse(o.out).at("latency_ns").get<double>() == smapped.at("latency_ns").get<double>());
  std::ofstream(path) << R"({"layers": {"conv1": {"rf": {"X": 2}}}})";
  o = run("sim accel --mapping " + path.string());
  CHECK(o.code != 0);
  CHECK(o.err.find(".layers.conv1.rf.X: not a dimension") != std::string::npos);
  std::ofstream(path) << R"({"layers": {"conv9": {}}})";
  o = run("sim accel --mapping " + path.string());
  CHECK(o.code != 0);
  CHECK(o.err.find("alexnet has no such layer; its layers: conv1, conv2_g1") != std::string::npos);
  std::filesystem::remove(path);
}

// Issue: hostile or careless input on the command line. Each case was a
// crash, a wrong number or a multi-line / raw message before.
TEST_CASE("bad command-line input is one short error line with exit 2, never a crash or a silent wrong number") {
  const auto dir = std::filesystem::temp_directory_path() / ("dsegym_cli_bad_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto one_error = [](const Output& o, const std::string& want) {
    INFO(o.err);
    CHECK(o.code == 2);
    CHECK(lines(o.err) == 1);
    CHECK(o.err.size() < 1200);
    CHECK(o.err.find(want) != std::string::npos);
  };
  // Usage errors (CLI11's own codes 104-109 before, over two lines).
  one_error(run("run --env toy-v0 --budget"), "--budget");
  one_error(run("run --env toy-v0 --no-such-flag"), "--no-such-flag");
  one_error(run("frobnicate"), "A subcommand is required");
  // Numbers out of range.
  one_error(run("run --env toy-v0 --seed -1"), "--seed");
  one_error(run("run --env toy-v0 --budget 99999999999999999999"), "--budget");
  one_error(run("run --env toy-v0 --batch 1e12"), "--batch");
  one_error(run("sim dram --trace-clock-mhz 1e-300"), "--trace-clock-mhz");
  // JSON nested 100,000 deep, in every JSON argument and in a sweep config.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  std::ofstream(dir / "deep.json") << deep;
  const std::string deep_path = (dir / "deep.json").string();
  for (const std::string& args : std::vector<std::string>{"eval --env toy-v0 --action @" + deep_path, "run --env toy-v0 --env-options @" + deep_path,
                                                          "run --env toy-v0 --reward @" + deep_path,
                                                          "sweep " + deep_path + " --out " + (dir / "o").string()})
    one_error(run(args), "nested deeper than 64");
  // A 10 MB value is named, not echoed back.
  std::ofstream(dir / "big.json") << "{\"" << std::string(10 << 20, 'k') << "\": 1}";
  one_error(run("run --env toy-v0 --env-options @" + (dir / "big.json").string()), "kkkkkkkk... (10485760 bytes)");
  // Wrong types are named (a raw JSON exception before).
  one_error(run("run --env toy-v0 --objectives loss,cost --hv-ref '{\"loss\": \"big\"}'"), "hypervolume reference 'loss'");
  std::ofstream(dir / "t.json") << R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "parallel": {"timeout_s": "soon"}})";
  one_error(run("sweep " + (dir / "t.json").string() + " --out " + (dir / "t").string()), "parallel.timeout_s");
  // Reward weights that overflow every reward to inf.
  one_error(run("eval --env toy-v0 --action '{\"kind\": \"b\", \"n\": 8, \"m\": 7, \"x\": 1.5, \"y\": -0.5}' --reward '{\"type\": \"weighted\", \"weights\": {\"loss\": 1e308}}'"),
            "within +-1e100");
  // A report folder that cannot be written is named with the reason.
  std::ofstream(dir / "s.json") << R"({"envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}], "budget": 5})";
  REQUIRE(run("sweep " + (dir / "s.json").string() + " --out " + (dir / "s").string()).code == 0);
  std::ofstream(dir / "s" / "report") << "a file where the report folder goes";
  const Output report = run("report " + (dir / "s").string());
  CHECK(report.code == 2);
  CHECK(report.err.find((dir / "s" / "report").string()) != std::string::npos);
  std::filesystem::remove_all(dir);
}

// Issue: silent wrong numbers from the DRAM simulator's inputs.
TEST_CASE("sim dram refuses cycles, clocks and addresses it cannot honour") {
  const auto dir = std::filesystem::temp_directory_path() / ("dsegym_cli_stl_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto sim = [&](const std::string& trace, const std::string& extra = "") {
    std::ofstream(dir / "t.stl") << trace;
    return run("sim dram --trace " + (dir / "t.stl").string() + " " + extra);
  };
  Output o = sim("9300000000000000000:\tread\t0x0\n");  // wrapped int64 before (36.25 ns)
  CHECK(o.code == 2);
  CHECK(o.err.find("t.stl:1: cycle number above") != std::string::npos);
  o = sim("99999999999999999999999:\tread\t0x0\n");  // "stalled at cycle 0" before
  CHECK(o.err.find("cycle number above") != std::string::npos);
  o = sim("1000:\tread\t0x0\n", "--trace-clock-mhz 0.001");  // 1 s in: fine
  CHECK(o.code == 0);
  o = sim("1000000000:\tread\t0x0\n", "--trace-clock-mhz 0.001");  // 11.6 days of idle refreshes (142 s and 4.2 GB at 1e-9 MHz before)
  CHECK(o.code == 2);
  CHECK(o.err.find("a trace may span") != std::string::npos);
  o = sim("0:\tread\t0x40000000\n");  // 1 GiB DDR3: a row hit on 0x0 before
  CHECK(o.code == 2);
  CHECK(o.err.find("beyond the 1073741824-byte device") != std::string::npos);
  o = sim("0:\tread\t0x40000000\n", "--wrap-addresses");
  REQUIRE(o.code == 0);
  CHECK(nlohmann::json::parse(o.out).at("wrapped_addresses") == 1);
  // A memspec with a zero width or no devices is refused (bandwidth and energy 0 before).
  nlohmann::json spec;
  std::ifstream(std::string(TESTS_SOURCE_DIR) + "/../data/dram/memspecs/MICRON_1Gb_DDR3-1600_8bit_G.json") >> spec;
  for (const char* key : {"width", "nbrOfDevicesOnDIMM"}) {
    nlohmann::json bad = spec;
    bad["memspec"]["memarchitecturespec"][key] = 0;
    std::ofstream(dir / "m.json") << bad.dump();
    std::ofstream(dir / "t.stl") << "0:\tread\t0x0\n";
    o = run("sim dram --memspec " + (dir / "m.json").string() + " --trace " + (dir / "t.stl").string());
    CHECK(o.code == 2);
    CHECK(o.err.find(std::string(key) + ": must be at least 1") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("benchmarks answer --help with their usage") {
  for (const char* b : {"bench_remote", "bench_dram", "bench_step", "bench_nasaic"}) {
    const std::string exe = (std::filesystem::path(DSEGYM_BIN).parent_path() / b).string();
    const int status = std::system((exe + " --help >/dev/null 2>&1").c_str());
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, b);
    const int bad = std::system((exe + " notanumber >/dev/null 2>&1").c_str());
    CHECK_MESSAGE(WEXITSTATUS(bad) == 2, b);
  }
}

TEST_CASE("--env-spec and --plugin are taken before or after the subcommand") {
  const std::string spec = std::string(TESTS_SOURCE_DIR) + "/../examples/external/dram_sim.json";
  const Output before = run("--env-spec " + spec + " list envs");
  const Output after = run("list envs --env-spec " + spec);
  CHECK(before.code == 0);
  CHECK(after.code == 0);
  CHECK(after.out.find("dram-ext-v0") != std::string::npos);
  CHECK(after.out == before.out);
  const Output describe = run("describe dram-ext-v0 --env-spec " + spec);
  CHECK(describe.code == 0);
  CHECK(describe.out.find("PagePolicy") != std::string::npos);
}
