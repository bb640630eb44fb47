// gRPC round trips on loopback with toy-v0 (a function costing nanoseconds,
// so the figures are the service's own cost): Step latency p50/p99 from the
// C++ RemoteEnv, and designs per second with one Step per design versus
// BatchStep.
// Usage: bench_remote [steps]   (default 5000)
#include "bench/bench_args.hpp"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "dsegym.grpc.pb.h"
#include "app/builtin.hpp"
#include "envs/remote/convert.hpp"
#include "envs/remote/grpc_module.hpp"
#include "remote/server_process.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  constexpr const char* kUsage = "Usage: bench_remote [steps]   (default 5000)";
  dsegym::bench::help(argc, argv, kUsage);
  const int n = static_cast<int>(dsegym::bench::int_arg(argc, argv, 1, 5000, 1, 100000000, kUsage));
  use_linked_grpc(&dsegym_grpc_serve, &dsegym_grpc_remote_env);  // this program links the gRPC code
  dsegym::testing::ServerProcess server;
  auto env = make_env(env_registry(), "remote://" + server.address() + "/toy-v0");
  Rng rng(1);
  std::vector<Value> actions;
  for (int i = 0; i < n; ++i) actions.push_back(env->action_space().sample(rng));
  auto percentiles = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() / 2], v[v.size() * 99 / 100]);
  };
  // One design per call through RemoteEnv: a Reset and a Step RPC.
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    env->reset(static_cast<std::uint64_t>(i));
    env->step(actions[static_cast<std::size_t>(i)]);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  auto [p50e, p99e] = percentiles(us);
  // One-shot evaluations through RemoteEnv: one Step that resets first, on
  // the open step stream.
  us.clear();
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    env->evaluate(static_cast<std::uint64_t>(i), actions[static_cast<std::size_t>(i)]);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  auto [p50v, p99v] = percentiles(us);
  auto stub = rpc::EnvService::NewStub(grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  rpc::StartSessionRequest start;
  start.set_env_id("toy-v0");
  rpc::StartSessionReply session;
  grpc::ClientContext sc;
  stub->StartSession(&sc, start, &session);
  // The Step RPC alone (the server resets an ended one-shot episode itself).
  us.clear();
  for (int i = 0; i < n; ++i) {
    rpc::StepRequest req;
    req.set_session_id(session.session_id());
    rpc_convert::to_proto(actions[static_cast<std::size_t>(i)], req.mutable_action());
    rpc::StepReply rep;
    grpc::ClientContext ctx;
    const auto t0 = Clock::now();
    stub->Step(&ctx, req, &rep);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  auto [p50, p99] = percentiles(us);
  std::printf("toy-v0 on loopback, %d calls each:\n", n);
  std::printf("  Step RPC round trip:             p50 %6.0f us, p99 %6.0f us\n", p50, p99);
  std::printf("  RemoteEnv reset + step (2 RPCs): p50 %6.0f us, p99 %6.0f us\n", p50e, p99e);
  std::printf("  RemoteEnv evaluate (streamed):   p50 %6.0f us, p99 %6.0f us\n", p50v, p99v);
  for (int batch : {1, 10, 100, 1000}) {
    const auto t0 = Clock::now();
    int done = 0;
    while (done < n) {
      rpc::BatchStepRequest req;
      req.set_session_id(session.session_id());
      for (int k = 0; k < batch; ++k) rpc_convert::to_proto(actions[static_cast<std::size_t>((done + k) % n)], req.add_actions());
      rpc::BatchStepReply rep;
      grpc::ClientContext ctx;
      stub->BatchStep(&ctx, req, &rep);
      done += batch;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("  BatchStep of %4d designs: %8.0f designs/s\n", batch, done / s);
  }
  return 0;
}
