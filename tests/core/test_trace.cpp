#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "temp_dir.hpp"
#include "envs/core/trace.hpp"

using namespace dsegym;
using dsegym::testing::temp_dir;
namespace fs = std::filesystem;

namespace {

TraceRow row(std::int64_t step) {
  TraceRow r;
  r.run = "run-1";
  r.env = "toy-v0";
  r.agent = "random";
  r.seed = 9;
  r.step = step;
  r.episode = step;
  r.action = Value(Value::Dict{{"kind", "b"}, {"n", static_cast<std::int64_t>(step)}, {"x", 0.1 * static_cast<double>(step)}});
  r.metrics.set("loss", 1.0 / static_cast<double>(step + 1));
  r.reward = -r.metrics.at("loss");
  r.wall_time_s = 1e-6;
  return r;
}

}  // namespace

TEST_CASE("trace rows round-trip, failed rows keep status and null numbers") {
  const auto dir = temp_dir("roundtrip");
  const auto path = (dir / "t.jsonl").string();
  {
    TraceWriter w(path);
    w.write(row(0));
    TraceRow bad = row(1);
    bad.metrics.clear();
    bad.reward = std::nan("");
    bad.status = EvalStatus::infeasible("too big");
    w.write(bad);
  }
  const TraceFile t = read_trace(path);
  REQUIRE(t.rows.size() == 2);
  CHECK(!t.truncated_tail);
  CHECK(t.rows[0].action == row(0).action);
  CHECK(t.rows[0].metrics.at("loss") == 1.0);
  CHECK(t.rows[1].status.code == Status::Infeasible);
  CHECK(t.rows[1].status.reason == "too big");
  CHECK(std::isnan(t.rows[1].reward));
  std::ifstream f(path);
  std::string first, second;
  std::getline(f, first);
  std::getline(f, second);
  CHECK(json::parse(second).at("reward").is_null());
}

TEST_CASE("rows written before a SIGKILL survive it intact") {
  const auto dir = temp_dir("kill");
  const auto path = (dir / "t.jsonl").string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    TraceWriter w(path);
    for (int i = 0; i < 500; ++i) w.write(row(i));
    // A row in flight: half of it reaches the file, then the process dies.
    const std::string half = trace_row_to_json(row(500)).dump().substr(0, 40);
    if (::write(::open(path.c_str(), O_WRONLY | O_APPEND), half.data(), half.size()) < 0) _exit(3);
    ::kill(::getpid(), SIGKILL);
    _exit(4);  // not reached
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  const TraceFile t = read_trace(path);
  CHECK(t.truncated_tail);
  REQUIRE(t.rows.size() == 500);
  for (int i = 0; i < 500; ++i) {
    CHECK(t.rows[static_cast<std::size_t>(i)].step == i);
    CHECK(t.rows[static_cast<std::size_t>(i)].action == row(i).action);
  }
  // A writer that reopens the trace drops the cut-short row before appending.
  {
    TraceWriter w(path);
    w.write(row(501));
  }
  const TraceFile resumed = read_trace(path);
  CHECK(!resumed.truncated_tail);
  REQUIRE(resumed.rows.size() == 501);
  CHECK(resumed.rows.back().step == 501);
}

TEST_CASE("a malformed trace names the file and line") {
  const auto dir = temp_dir("malformed");
  const auto path = (dir / "t.jsonl").string();
  {
    TraceWriter w(path);
    w.write(row(0));
  }
  append_line(path, R"({"run": "r"})");
  CHECK_THROWS_WITH_AS(read_trace(path), doctest::Contains("t.jsonl:2: missing field"), InvalidArgument);
}
