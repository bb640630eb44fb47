#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "dsegym.grpc.pb.h"
#include "envs/builtin.hpp"
#include "envs/core/error.hpp"
#include "envs/remote/convert.hpp"
#include "envs/remote/remote_env.hpp"
#include "experiments/sweep.hpp"
#include "server_process.hpp"

using namespace dsegym;
using dsegym::testing::ServerProcess;

namespace {

// reset(seed) + step for each of `n` sampled actions; a text trace.
std::string trace(Env& env, std::uint64_t seed, int n) {
  Rng rng(seed);
  std::string out;
  for (int i = 0; i < n; ++i) {
    env.reset(seed + static_cast<std::uint64_t>(i));
    const Value a = env.action_space().sample(rng);
    const StepResult r = env.step(a);
    json m = json::object();
    for (const auto& [k, v] : r.metrics.items()) m[k] = v;
    out += a.dump() + m.dump() + status_name(r.status.code) + r.status.reason + r.obs.dump() + "\n";
  }
  return out;
}

std::unique_ptr<rpc::EnvService::Stub> stub(const ServerProcess& s) {
  return rpc::EnvService::NewStub(grpc::CreateChannel(s.address(), grpc::InsecureChannelCredentials()));
}

}  // namespace

TEST_CASE("remote ids parse, and bad ones are named") {
  const RemoteTarget t = parse_remote_id("remote://a:1,b:2/dram-v0");
  CHECK(t.servers == std::vector<std::string>{"a:1", "b:2"});
  CHECK(t.env_id == "dram-v0");
  CHECK_THROWS_WITH_AS(parse_remote_id("remote://a:1"), doctest::Contains("expected remote://host:port"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_remote_id("remote://a/toy-v0"), doctest::Contains("'a' is not host:port"), InvalidArgument);
}

TEST_CASE("a remote env and a local env give identical traces for the same seeds and actions") {
  ServerProcess server;
  REQUIRE(server.port() > 0);
  for (const auto& [id, options] : std::vector<std::pair<std::string, json>>{
           {"toy-v0", {{"noise", 0.2}}}, {"dram-v0", {{"generator", {{"type", "random"}, {"requests", 2000}, {"write_fraction", 0.3}}}}}}) {
    INFO(id);
    auto local = make_env(env_registry(), id, options);
    auto remote = make_env(env_registry(), "remote://" + server.address() + "/" + id, options);
    CHECK(remote->spec().id == id);
    CHECK(remote->action_space().to_json() == local->action_space().to_json());
    CHECK(remote->spec().metrics.size() == local->spec().metrics.size());
    CHECK(trace(*remote, 3, 25) == trace(*local, 3, 25));
  }
}

TEST_CASE("eight concurrent clients get their own sessions") {
  ServerProcess server;
  auto local = make_env(env_registry(), "toy-v0", {{"noise", 0.5}});
  const std::string expected = trace(*local, 11, 40);
  std::vector<std::string> got(8);
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      auto env = make_env(env_registry(), "remote://" + server.address() + "/toy-v0", {{"noise", 0.5}});
      got[static_cast<std::size_t>(c)] = trace(*env, 11, 40);
    });
  for (auto& t : clients) t.join();
  for (const auto& g : got) CHECK(g == expected);
}

TEST_CASE("malformed requests get INVALID_ARGUMENT with a message") {
  ServerProcess server;
  auto s = stub(server);
  rpc::StartSessionRequest start;
  start.set_env_id("toy-v0");
  rpc::StartSessionReply session;
  grpc::ClientContext c1;
  REQUIRE(s->StartSession(&c1, start, &session).ok());
  rpc::StepRequest step;
  step.set_session_id(session.session_id());
  rpc_convert::to_proto(Value(Value::Dict{{"kind", "z"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}}), step.mutable_action());
  rpc::StepReply reply;
  grpc::ClientContext c2;
  const grpc::Status st = s->Step(&c2, step, &reply);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("action.kind") != std::string::npos);
  CHECK(st.error_message().find("choices: a, b, c, d") != std::string::npos);
  start.set_options_json("{\"nosie\": 1}");
  grpc::ClientContext c3;
  const grpc::Status bad = s->StartSession(&c3, start, &session);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message().find("'nosie'") != std::string::npos);
  rpc::StepRequest lost;
  lost.set_session_id("no-such-session");
  grpc::ClientContext c4;
  CHECK(s->Step(&c4, lost, &reply).error_code() == grpc::StatusCode::NOT_FOUND);
  // BatchStep evaluates many designs in one call.
  rpc::BatchStepRequest batch;
  batch.set_session_id(session.session_id());
  for (int i = 0; i < 5; ++i) {
    rpc_convert::to_proto(Value(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5 + i}}), batch.add_actions());
    batch.add_seeds(static_cast<std::uint64_t>(i));
  }
  rpc::BatchStepReply results;
  grpc::ClientContext c5;
  REQUIRE(s->BatchStep(&c5, batch, &results).ok());
  REQUIRE(results.results_size() == 5);
  CHECK(results.results(0).metrics(0).value() == doctest::Approx(0.0));  // loss at the optimum
  CHECK(results.results(2).metrics(0).value() == doctest::Approx(4.0));  // (y + 0.5)^2 with y = 1.5
}

TEST_CASE("a server killed mid-episode gives the client a clean sim_error, not a hang") {
  ::setenv("DSEGYM_RPC_RETRY_S", "0.3", 1);
  ServerProcess server;
  auto env = make_env(env_registry(), "remote://" + server.address() + "/toy-v0");
  Rng rng(1);
  env->reset(0);
  CHECK(env->step(env->action_space().sample(rng)).status.ok());
  server.stop(SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  env->reset(1);
  const StepResult r = env->step(env->action_space().sample(rng));
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("lost") != std::string::npos);
  CHECK(r.terminated);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  // A session cannot start on a dead server either.
  CHECK_THROWS_AS(make_env(env_registry(), "remote://" + server.address() + "/toy-v0"), Error);
  ::unsetenv("DSEGYM_RPC_RETRY_S");
}

TEST_CASE("a pool of servers spreads sessions and skips a dead one") {
  ::setenv("DSEGYM_RPC_RETRY_S", "0.2", 1);
  ServerProcess a, b;
  const std::string dead = "127.0.0.1:1";  // nothing listens there
  const std::string id = "remote://" + dead + "," + a.address() + "," + b.address() + "/toy-v0";
  for (int i = 0; i < 6; ++i) {
    auto env = make_env(env_registry(), id);
    env->reset(0);
    CHECK(env->step(Value(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}})).status.ok());
  }
  ::unsetenv("DSEGYM_RPC_RETRY_S");
}

TEST_CASE("a shared secret is enforced, and idle sessions are reclaimed") {
  ServerProcess server({"--token", "s3cret", "--idle-timeout", "0.5"});
  CHECK_THROWS_WITH_AS(make_env(env_registry(), "remote://" + server.address() + "/toy-v0"), doctest::Contains("DSEGYM_TOKEN"),
                       InvalidArgument);
  ::setenv("DSEGYM_TOKEN", "s3cret", 1);
  auto env = make_env(env_registry(), "remote://" + server.address() + "/toy-v0");
  env->reset(0);
  const Value a(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}});
  CHECK(env->step(a).status.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  env->reset(0);
  const StepResult r = env->step(a);
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("no session") != std::string::npos);
  ::unsetenv("DSEGYM_TOKEN");
}

TEST_CASE("serving a non-loopback address needs a token") {
  const int code = std::system((std::string(DSEGYM_BIN) + " serve --bind 0.0.0.0 --port 0 2>/dev/null").c_str());
  CHECK(WEXITSTATUS(code) == 2);
}

// Issue: sweeps over a pool of servers. Trials spread over the endpoints,
// the dead one is skipped, and the results equal a local sweep's.
TEST_CASE("a sweep runs its remote envs on a pool of endpoints and gets the local results") {
  ::setenv("DSEGYM_RPC_RETRY_S", "0.2", 1);
  ServerProcess a, b;
  const auto dir = std::filesystem::temp_directory_path() / ("dsegym_test_sweep_pool_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "endpoints.txt");
    f << "127.0.0.1:1\n" << a.address() << "\n" << b.address() << "\n";
  }
  auto config = [&](bool remote) {
    json env = {{"id", "toy-v0"}};
    if (remote) env["remote"] = true;
    json c = {{"name", "pool"}, {"envs", {env}}, {"agents", {{{"id", "random"}}}}, {"seeds", {1, 2, 3, 4}}, {"budget", 20},
              {"parallel", {{"workers", 2}}}};
    if (remote) c["endpoints"] = "@" + (dir / "endpoints.txt").string();
    return parse_sweep(c, "pool.json");
  };
  SweepOptions opt;
  opt.progress = false;
  const SweepSummary remote = run_sweep(config(true), (dir / "remote").string(), opt);
  const SweepSummary local = run_sweep(config(false), (dir / "local").string(), opt);
  CHECK(remote.done == 4);
  CHECK(local.done == 4);
  for (int seed = 1; seed <= 4; ++seed) {
    const json rr = read_json(dir / "remote" / "trials" / ("toy-v0-remote__random-" + std::string("478219ec") + "__s" + std::to_string(seed)) / "result.json");
    const json lr = read_json(dir / "local" / "trials" / ("toy-v0__random-478219ec__s" + std::to_string(seed)) / "result.json");
    REQUIRE(!rr.is_null());
    REQUIRE(!lr.is_null());
    CHECK(rr.at("result").at("best").at("reward") == lr.at("result").at("best").at("reward"));
  }
  CHECK_THROWS_WITH_AS(parse_sweep({{"envs", {{{"id", "toy-v0"}, {"remote", true}}}}, {"agents", {{{"id", "random"}}}}}, "x.json"),
                       doctest::Contains("has no \"endpoints\""), InvalidArgument);
  std::filesystem::remove_all(dir);
  ::unsetenv("DSEGYM_RPC_RETRY_S");
}
