#include "envs/remote/remote_env.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "dsegym.grpc.pb.h"
#include "base/error.hpp"
#include "envs/remote/convert.hpp"
#include "envs/remote/grpc_module.hpp"

namespace dsegym {

namespace {

using Clock = std::chrono::steady_clock;
// The client class that protoc's gRPC plugin generates for EnvService.
using ServiceClient = rpc::EnvService::Stub;

double env_seconds(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}

// A StepStream call kept open between evaluations, driven through a
// completion queue so that each round trip has the per-call deadline.
class StepStream {
public:
  // Opens the stream; false when the server does not answer in time.
  bool open(ServiceClient& service, Clock::time_point deadline) {
    if (const char* token = std::getenv("DSEGYM_TOKEN")) ctx_.AddMetadata("authorization", std::string("Bearer ") + token);
    rw_ = service.PrepareAsyncStepStream(&ctx_, &cq_);
    rw_->StartCall(this);
    return wait(deadline);
  }

  // One request and its reply; false when the stream broke or the deadline
  // passed (finish() then gives the status).
  bool round_trip(const rpc::StepRequest& req, rpc::StepReply& rep, Clock::time_point deadline) {
    // The write and the read are both in flight at once: two events.
    rw_->Write(req, this);
    rw_->Read(&rep, this);
    const bool first = wait(deadline);
    if (timed_out_) return false;
    return wait(deadline) && first;
  }

  // Ends the call (cancelled unless it ended by itself) and gives its status.
  grpc::Status finish() {
    if (!ended_) ctx_.TryCancel();
    grpc::Status st;
    rw_->Finish(&st, this);
    cq_.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_.Next(&tag, &ok)) {}
    rw_.reset();
    return timed_out_ ? grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no reply within DSEGYM_RPC_DEADLINE_S") : st;
  }

  ~StepStream() {
    if (rw_) finish();
  }

private:
  bool wait(Clock::time_point deadline) {
    void* tag = nullptr;
    bool ok = false;
    const auto wall = std::chrono::system_clock::now() + (deadline - Clock::now());
    if (cq_.AsyncNext(&tag, &ok, wall) != grpc::CompletionQueue::NextStatus::GOT_EVENT) {
      timed_out_ = true;
      return false;
    }
    if (!ok) ended_ = true;
    return ok;
  }

  grpc::ClientContext ctx_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<rpc::StepRequest, rpc::StepReply>> rw_;
  bool ended_ = false, timed_out_ = false;
};

class RemoteEnv final : public Env {
public:
  RemoteEnv(std::shared_ptr<const EnvSpec> spec, std::shared_ptr<grpc::Channel> channel,
            std::unique_ptr<ServiceClient> service, std::string session, std::string server)
      : Env(std::move(spec)), channel_(std::move(channel)), service_(std::move(service)), session_(std::move(session)), server_(std::move(server)) {}

  ~RemoteEnv() override {
    stream_.reset();
    if (lost_) return;
    grpc::ClientContext ctx;
    prepare(ctx, 2.0);
    rpc::EndSessionRequest req;
    req.set_session_id(session_);
    rpc::EndSessionReply rep;
    service_->EndSession(&ctx, req, &rep);  // best effort
  }

  static void prepare(grpc::ClientContext& ctx, double seconds) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000)));
    if (const char* token = std::getenv("DSEGYM_TOKEN")) ctx.AddMetadata("authorization", std::string("Bearer ") + token);
  }

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value&) override {
    rpc::ResetRequest req;
    req.set_session_id(session_);
    if (seed) {
      req.set_seed(*seed);
      req.set_has_seed(true);
    }
    rpc::ResetReply rep;
    const grpc::Status st = call([&](grpc::ClientContext& ctx) { return service_->Reset(&ctx, req, &rep); });
    if (!st.ok()) {
      if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) throw InvalidArgument(st.error_message());
      lost_ = true;
      lost_reason_ = describe(st);
      return {Value(), Value()};  // the next step reports the loss as a status
    }
    lost_ = false;
    return {rpc_convert::from_proto(rep.observation()), rpc_convert::from_proto(rep.info())};
  }

  StepResult do_step(const Value& action) override {
    if (lost_) return lost_step();
    rpc::StepRequest req;
    req.set_session_id(session_);
    rpc_convert::to_proto(action, req.mutable_action());
    return send_step(req);
  }

  // A one-shot evaluation is one Step that resets first, sent on the open
  // step stream. It is repeated as a Step call (with retries) when the
  // stream breaks: it starts from its own seed, so sending it twice is safe.
  StepResult do_evaluate(std::uint64_t seed, const Value& action) override {
    rpc::StepRequest req;
    req.set_session_id(session_);
    rpc_convert::to_proto(action, req.mutable_action());
    req.set_reset(true);
    req.set_seed(seed);
    req.set_has_seed(true);
    const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(env_seconds("DSEGYM_RPC_DEADLINE_S", 600) * 1000));
    if (!stream_ && streams_work_) {
      stream_ = std::make_unique<StepStream>();
      if (!stream_->open(*service_, deadline)) stream_.reset();
    }
    if (stream_) {
      rpc::StepReply rep;
      if (stream_->round_trip(req, rep, deadline)) {
        lost_ = false;
        return rpc_convert::from_proto(rep);
      }
      const grpc::Status st = stream_->finish();
      stream_.reset();
      if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) throw InvalidArgument(st.error_message());
      // A server without streams, or at its limit of them, gets Step calls.
      if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED || st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) streams_work_ = false;
      if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        lost_ = true;
        lost_reason_ = describe(st);
        return lost_step();
      }
    }
    return send_step(req);
  }

  bool evaluates_batches() const override { return true; }

  // A batch is one BatchStep (each evaluation after a reset with its seed).
  std::vector<StepResult> do_evaluate_batch(const std::vector<std::uint64_t>& seeds, const std::vector<Value>& actions) override {
    rpc::BatchStepRequest req;
    req.set_session_id(session_);
    for (std::size_t i = 0; i < actions.size(); ++i) {
      rpc_convert::to_proto(actions[i], req.add_actions());
      req.add_seeds(seeds[i]);
    }
    rpc::BatchStepReply rep;
    const grpc::Status st = call([&](grpc::ClientContext& ctx) { return service_->BatchStep(&ctx, req, &rep); });
    std::vector<StepResult> out;
    if (st.ok() && rep.results_size() == static_cast<int>(actions.size())) {
      lost_ = false;
      for (const auto& r : rep.results()) out.push_back(rpc_convert::from_proto(r));
      return out;
    }
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) throw InvalidArgument(st.error_message());
    lost_ = true;
    lost_reason_ = st.ok() ? "the server answered " + std::to_string(rep.results_size()) + " results for " + std::to_string(actions.size())
                           : describe(st);
    out.assign(actions.size(), lost_step());
    return out;
  }

private:
  StepResult send_step(const rpc::StepRequest& req) {
    rpc::StepReply rep;
    const grpc::Status st = call([&](grpc::ClientContext& ctx) { return service_->Step(&ctx, req, &rep); });
    if (st.ok()) {
      if (req.reset()) lost_ = false;
      return rpc_convert::from_proto(rep);
    }
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) throw InvalidArgument(st.error_message());
    lost_ = true;
    lost_reason_ = describe(st);
    return lost_step();
  }

  StepResult lost_step() const {
    StepResult r;
    r.status = EvalStatus::sim_error("remote env at " + server_ + " lost: " + lost_reason_);
    r.terminated = true;
    return r;
  }

  std::string describe(const grpc::Status& st) const {
    return "gRPC " + std::to_string(static_cast<int>(st.error_code())) + " " + st.error_message();
  }

  // One RPC with a deadline, retried with exponential backoff while the
  // server is UNAVAILABLE, for at most DSEGYM_RPC_RETRY_S seconds.
  template <class F>
  grpc::Status call(F&& f) {
    const double deadline = env_seconds("DSEGYM_RPC_DEADLINE_S", 600);
    const auto give_up = Clock::now() + std::chrono::milliseconds(static_cast<long>(env_seconds("DSEGYM_RPC_RETRY_S", 5) * 1000));
    auto backoff = std::chrono::milliseconds(50);
    for (;;) {
      grpc::ClientContext ctx;
      prepare(ctx, deadline);
      grpc::Status st = f(ctx);
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE || Clock::now() + backoff > give_up) return st;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ServiceClient> service_;
  std::unique_ptr<StepStream> stream_;
  bool streams_work_ = true;
  std::string session_, server_;
  bool lost_ = false;
  std::string lost_reason_;
};

}  // namespace

EnvPtr make_remote_env(const RemoteTarget& target, const std::string& id, const json& options) {
  static std::atomic<std::size_t> next{0};
  const std::size_t first = next++;
  std::string errors;
  for (std::size_t k = 0; k < target.servers.size(); ++k) {
    const std::string& server = target.servers[(first + k) % target.servers.size()];
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    auto channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
    auto service = rpc::EnvService::NewStub(channel);
    rpc::StartSessionRequest req;
    req.set_env_id(target.env_id);
    req.set_options_json(options.dump());
    rpc::StartSessionReply rep;
    grpc::Status st;
    auto backoff = std::chrono::milliseconds(50);
    const auto give_up = Clock::now() + std::chrono::milliseconds(static_cast<long>(env_seconds("DSEGYM_RPC_RETRY_S", 5) * 1000));
    for (;;) {
      grpc::ClientContext ctx;
      RemoteEnv::prepare(ctx, env_seconds("DSEGYM_RPC_DEADLINE_S", 600));
      st = service->StartSession(&ctx, req, &rep);
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE || Clock::now() + backoff > give_up) break;
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    }
    if (st.ok())
      return std::make_unique<RemoteEnv>(rpc_convert::from_proto(rep.spaces()), channel, std::move(service), rep.session_id(), server);
    // Bad input is the caller's error, whichever server says it.
    if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT || st.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      throw InvalidArgument("env '" + id + "': " + st.error_message());
    errors += (errors.empty() ? "" : "; ") + server + ": " + st.error_message();
  }
  throw Error("env '" + id + "': no server could start a session (" + errors + ")");
}


}  // namespace dsegym
