#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "dsegym.grpc.pb.h"
#include "app/builtin.hpp"
#include "base/error.hpp"
#include "envs/remote/convert.hpp"
#include "envs/remote/remote_env.hpp"
#include "experiments/server.hpp"
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

std::unique_ptr<rpc::EnvService::Stub> client(const ServerProcess& s) {
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
           {"toy-v0", {{"noise", 0.2}}},
           {"dram-v0", {{"generator", {{"type", "random"}, {"requests", 2000}, {"write_fraction", 0.3}}}}},
           {"soc-design-v0", {{"jobs", 50}}}}) {
    INFO(id);
    auto local = make_env(env_registry(), id, options);
    auto remote = make_env(env_registry(), "remote://" + server.address() + "/" + id, options);
    CHECK(remote->spec().id == id);
    CHECK(remote->action_space().to_json() == local->action_space().to_json());
    REQUIRE(remote->spec().metrics.size() == local->spec().metrics.size());
    // Declared constraints (soc-design-v0's power budget) travel too.
    for (std::size_t i = 0; i < local->spec().metrics.size(); ++i) CHECK(remote->spec().metrics[i].upper_limit == local->spec().metrics[i].upper_limit);
    CHECK(trace(*remote, 3, 25) == trace(*local, 3, 25));
  }
}

TEST_CASE("one-shot evaluations go over one step stream: local results, bad actions named, a dead server a clean status") {
  ::setenv("DSEGYM_RPC_RETRY_S", "0.3", 1);
  ServerProcess server({"--max-sessions", "2"});
  auto local = make_env(env_registry(), "toy-v0", {{"noise", 0.3}});
  auto remote = make_env(env_registry(), "remote://" + server.address() + "/toy-v0", {{"noise", 0.3}});
  Rng rng(5);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const Value a = local->action_space().sample(rng);
    local->reset(seed);
    const StepResult want = local->step(a);
    const StepResult got = remote->evaluate(seed, a);
    CHECK(got.status.code == want.status.code);
    CHECK(got.status.reason == want.status.reason);
    CHECK(got.metrics.items() == want.metrics.items());  // the noise follows the seed
    CHECK(got.obs.dump() == want.obs.dump());
  }
  // A bad action ends the stream with INVALID_ARGUMENT; the next evaluation opens a new one.
  const Value bad(Value::Dict{{"kind", "z"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}});
  CHECK_THROWS_WITH_AS(remote->evaluate(1, bad), doctest::Contains("action.kind"), InvalidArgument);
  const Value good(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", -0.5}});
  CHECK(remote->evaluate(2, good).status.ok());
  // The server holds at most --max-sessions streams; a client beyond that
  // still evaluates, through Step calls.
  {
    auto direct = client(server);
    grpc::ClientContext c1, c2;
    auto s1 = direct->StepStream(&c1);
    auto s2 = direct->StepStream(&c2);
    rpc::StepRequest req;
    req.set_session_id("no-such-session");
    rpc::StepReply rep;
    s1->Write(req);
    CHECK_FALSE(s1->Read(&rep));
    CHECK(s1->Finish().error_code() == grpc::StatusCode::NOT_FOUND);
    auto other = make_env(env_registry(), "remote://" + server.address() + "/toy-v0", {{"noise", 0.3}});
    CHECK(other->evaluate(2, good).status.ok());
    c2.TryCancel();
    s2->Finish();
  }
  server.stop(SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  const StepResult r = remote->evaluate(3, good);
  CHECK(r.status.code == Status::SimError);
  CHECK(r.status.reason.find("lost") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
  ::unsetenv("DSEGYM_RPC_RETRY_S");
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
  auto s = client(server);
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

namespace {

grpc::Status start_session(rpc::EnvService::Stub& s, const std::string& env, const std::string& options, rpc::StartSessionReply* reply,
                           const std::string& reward = "") {
  rpc::StartSessionRequest req;
  req.set_env_id(env);
  req.set_options_json(options);
  req.set_reward_json(reward);
  grpc::ClientContext ctx;
  return s.StartSession(&ctx, req, reply);
}

}  // namespace

// Issue: the server read any file a client named (`workload: /etc/passwd`
// came back quoted in the error).
TEST_CASE("clients cannot make the server open files outside its data folder, nor see file content") {
  const auto data = std::filesystem::temp_directory_path() / ("dsegym_data_" + std::to_string(::getpid()));
  const auto outside = std::filesystem::temp_directory_path() / ("dsegym_outside_" + std::to_string(::getpid()));
  std::filesystem::create_directories(data / "sub");
  std::filesystem::create_directories(outside);
  std::ofstream(outside / "secret.stl") << "0:\tread\t0x0\n";
  std::ofstream(data / "sub" / "mine.stl") << "0:\tread\t0x0\n10:\twrite\t0x40\n";
  std::filesystem::remove(data / "link.stl");
  std::filesystem::create_symlink(outside / "secret.stl", data / "link.stl");
  rpc::StartSessionReply reply;
  {
    ServerProcess plain;  // no --data-dir: no files at all
    auto s = client(plain);
    const grpc::Status st = start_session(*s, "dram-v0", R"({"workload": "/etc/passwd"})", &reply);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("reads no files named by clients") != std::string::npos);
    CHECK(st.error_message().find("root:") == std::string::npos);
    // Built-in names still work.
    CHECK(start_session(*s, "dram-v0", R"({"workload": "cloud-1"})", &reply).ok());
  }
  ServerProcess confined({"--data-dir", data.string()});
  auto s = client(confined);
  for (const std::string& bad : std::vector<std::string>{"/etc/passwd", "../" + outside.filename().string() + "/secret.stl", (outside / "secret.stl").string(),
                                "sub/../../" + outside.filename().string() + "/secret.stl", "link.stl"}) {
    INFO(bad);
    const grpc::Status st = start_session(*s, "dram-v0", json{{"workload", bad}}.dump(), &reply);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(st.error_message().find("root:") == std::string::npos);
    CHECK(st.error_message().find("0x0") == std::string::npos);  // nothing of the file
  }
  // A file inside the folder is served, by relative or absolute path; one
  // that is not a trace is named, not quoted.
  CHECK(start_session(*s, "dram-v0", R"({"workload": "sub/mine.stl"})", &reply).ok());
  CHECK(start_session(*s, "dram-v0", json{{"workload", (data / "sub" / "mine.stl").string()}}.dump(), &reply).ok());
  std::ofstream(data / "passwd.stl") << "root:x:0:0:root:/root:/bin/bash\n";
  const grpc::Status st = start_session(*s, "dram-v0", R"({"workload": "passwd.stl"})", &reply);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("passwd.stl:1") != std::string::npos);
  CHECK(st.error_message().find("root:x") == std::string::npos);
  // Other file-valued options are confined the same way.
  CHECK(start_session(*s, "accel-v0", R"({"workload": "/etc/passwd"})", &reply).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(start_session(*s, "dram-v0", R"({"memspec": "/etc/passwd"})", &reply).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(start_session(*s, "dram-v0", R"({"cost_model": "proxy:/etc/passwd"})", &reply).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  std::filesystem::remove_all(data);
  std::filesystem::remove_all(outside);
}

// Issue: a 10 MB env id came back inside the error (RESOURCE_EXHAUSTED after
// seconds); a deeply nested action gave INTERNAL with no message; an empty
// reward_json gave reward NaN.
TEST_CASE("huge or deep requests get a short INVALID_ARGUMENT, an empty reward_json is the env's default reward") {
  ServerProcess server;
  auto s = client(server);
  rpc::StartSessionReply reply;
  const auto t0 = std::chrono::steady_clock::now();
  const grpc::Status big = start_session(*s, std::string(10 << 20, 'x'), "", &reply);
  CHECK(big.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(big.error_message().size() <= kMaxStatusMessage + 40);
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
  const grpc::Status big_option = start_session(*s, "toy-v0", json{{std::string(10 << 20, 'k'), 1}}.dump(), &reply);
  CHECK(big_option.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(big_option.error_message().size() <= kMaxStatusMessage + 40);
  CHECK(start_session(*s, "toy-v0", std::string(100, '[') + std::string(100, ']'), &reply).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(start_session(*s, "toy-v0", "", &reply).ok());
  Value deep(std::int64_t{1});
  for (int i = 0; i < 40; ++i) deep = Value(Value::List{deep});
  rpc::StepRequest step;
  step.set_session_id(reply.session_id());
  rpc_convert::to_proto(deep, step.mutable_action());
  rpc::StepReply out;
  grpc::ClientContext ctx;
  const grpc::Status st = s->Step(&ctx, step, &out);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message().find("nested deeper than") != std::string::npos);
  // Empty reward_json: the env's default reward (toy-v0: minus the loss).
  REQUIRE(start_session(*s, "toy-v0", "", &reply, "").ok());
  step.set_session_id(reply.session_id());
  rpc_convert::to_proto(Value(Value::Dict{{"kind", "b"}, {"n", 8}, {"m", 7}, {"x", 1.5}, {"y", 1.5}}), step.mutable_action());
  grpc::ClientContext c2;
  REQUIRE(s->Step(&c2, step, &out).ok());
  CHECK(out.reward() == doctest::Approx(-4.0));
}

TEST_CASE("the server takes its secret from DSEGYM_TOKEN or a token file, never needing it on the command line") {
  const auto file = std::filesystem::temp_directory_path() / ("dsegym_token_" + std::to_string(::getpid()));
  std::ofstream(file) << "from-file\n";
  for (const bool from_env : {true, false}) {
    if (from_env) ::setenv("DSEGYM_TOKEN", "from-env", 1);
    ServerProcess server(from_env ? std::vector<std::string>{} : std::vector<std::string>{"--token-file", file.string()});
    ::unsetenv("DSEGYM_TOKEN");
    CHECK_THROWS_WITH_AS(make_env(env_registry(), "remote://" + server.address() + "/toy-v0"), doctest::Contains("DSEGYM_TOKEN"), InvalidArgument);
    ::setenv("DSEGYM_TOKEN", from_env ? "from-env" : "from-file", 1);
    CHECK_NOTHROW(make_env(env_registry(), "remote://" + server.address() + "/toy-v0"));
    ::setenv("DSEGYM_TOKEN", "wrong", 1);
    CHECK_THROWS_AS(make_env(env_registry(), "remote://" + server.address() + "/toy-v0"), InvalidArgument);
    ::unsetenv("DSEGYM_TOKEN");
  }
  std::filesystem::remove(file);
}
