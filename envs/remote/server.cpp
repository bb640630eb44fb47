#include "envs/remote/server.hpp"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "dsegym.grpc.pb.h"
#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/net.hpp"
#include "envs/remote/grpc_module.hpp"
#include "envs/core/wrappers.hpp"
#include "envs/remote/convert.hpp"

namespace dsegym {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kProtocol = 1;

struct Session {
  std::mutex mu;
  EnvPtr env;
  Clock::time_point last_used = Clock::now();
};

json parse_options(const std::string& text, const char* what) {
  if (text.empty()) return json::object();
  return parse_json(text, what);
}

class Service final : public rpc::EnvService::Service {
public:
  Service(const ServeOptions& opt, const ServeHost& host) : opt_(opt), host_(host) {}

  grpc::Status GetVersion(grpc::ServerContext* ctx, const rpc::GetVersionRequest*, rpc::GetVersionReply* rep) override {
    return guard(ctx, [&] {
      rep->set_version(host_.version);
      rep->set_protocol(kProtocol);
    });
  }

  grpc::Status ListEnvs(grpc::ServerContext* ctx, const rpc::ListEnvsRequest*, rpc::ListEnvsReply* rep) override {
    return guard(ctx, [&] {
      for (const auto& [id, description] : host_.list_envs()) {
        auto* e = rep->add_envs();
        e->set_id(id);
        e->set_description(description);
      }
    });
  }

  grpc::Status GetSpaces(grpc::ServerContext* ctx, const rpc::GetSpacesRequest* req, rpc::GetSpacesReply* rep) override {
    return guard(ctx, [&] {
      const EnvPtr env = make_local(req->env_id(), parse_options(req->options_json(), "options_json"));
      rpc_convert::to_proto(env->spec(), rep);
    });
  }

  grpc::Status StartSession(grpc::ServerContext* ctx, const rpc::StartSessionRequest* req, rpc::StartSessionReply* rep) override {
    return guard(ctx, [&] {
      auto s = std::make_shared<Session>();
      s->env = make_local(req->env_id(), parse_options(req->options_json(), "options_json"));
      // An empty reward_json means the env's default reward (as the proto says).
      const json reward = req->reward_json().empty() ? s->env->spec().default_reward : parse_options(req->reward_json(), "reward_json");
      if (!reward.is_null()) s->env = std::make_unique<RewardWrapper>(std::move(s->env), reward);
      auto [obs, info] = s->env->reset(req->has_seed() ? std::optional<std::uint64_t>(req->seed()) : std::nullopt);
      rpc_convert::to_proto(obs, rep->mutable_observation());
      rpc_convert::to_proto(info, rep->mutable_info());
      rpc_convert::to_proto(s->env->spec(), rep->mutable_spaces());
      std::lock_guard<std::mutex> lock(mu_);
      if (sessions_.size() >= opt_.max_sessions)
        throw Exhausted("the server holds its maximum of " + std::to_string(opt_.max_sessions) + " sessions");
      const std::string id = std::to_string(++next_id_) + "-" + std::to_string(Clock::now().time_since_epoch().count() % 1000000007);
      sessions_[id] = std::move(s);
      rep->set_session_id(id);
    });
  }

  grpc::Status Reset(grpc::ServerContext* ctx, const rpc::ResetRequest* req, rpc::ResetReply* rep) override {
    return guard(ctx, [&] {
      auto s = session(req->session_id());
      std::lock_guard<std::mutex> lock(s->mu);
      auto [obs, info] = s->env->reset(req->has_seed() ? std::optional<std::uint64_t>(req->seed()) : std::nullopt);
      rpc_convert::to_proto(obs, rep->mutable_observation());
      rpc_convert::to_proto(info, rep->mutable_info());
    });
  }

  grpc::Status Step(grpc::ServerContext* ctx, const rpc::StepRequest* req, rpc::StepReply* rep) override {
    return guard(ctx, [&] {
      auto s = session(req->session_id());
      std::lock_guard<std::mutex> lock(s->mu);
      const Value action = rpc_convert::from_proto(req->action());
      if (req->reset()) s->env->reset(req->has_seed() ? std::optional<std::uint64_t>(req->seed()) : std::nullopt);
      rpc_convert::to_proto(step(*s->env, action), rep);
    });
  }

  // Steps sent one after another on one stream: a round trip without a
  // call's set-up, for clients that evaluate one design at a time. A bad
  // step ends the stream with its status (the client opens a new one).
  grpc::Status StepStream(grpc::ServerContext* ctx, grpc::ServerReaderWriter<rpc::StepReply, rpc::StepRequest>* stream) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (streams_.size() >= opt_.max_sessions)
        return status(grpc::StatusCode::RESOURCE_EXHAUSTED, "the server holds its maximum of " + std::to_string(opt_.max_sessions) + " step streams");
      streams_[ctx] = Clock::now();
    }
    grpc::Status st = grpc::Status::OK;
    rpc::StepRequest req;
    while (st.ok() && stream->Read(&req)) {
      rpc::StepReply rep;
      st = Step(ctx, &req, &rep);
      if (st.ok() && !stream->Write(rep)) break;
      std::lock_guard<std::mutex> lock(mu_);
      streams_[ctx] = Clock::now();
    }
    std::lock_guard<std::mutex> lock(mu_);
    streams_.erase(ctx);
    return st;
  }

  grpc::Status BatchStep(grpc::ServerContext* ctx, const rpc::BatchStepRequest* req, rpc::BatchStepReply* rep) override {
    return guard(ctx, [&] {
      if (req->seeds_size() != 0 && req->seeds_size() != req->actions_size())
        throw InvalidArgument("BatchStep: give one seed per action, or none (" + std::to_string(req->actions_size()) + " actions, " +
                              std::to_string(req->seeds_size()) + " seeds)");
      auto s = session(req->session_id());
      std::lock_guard<std::mutex> lock(s->mu);
      for (int i = 0; i < req->actions_size(); ++i) {
        const Value action = rpc_convert::from_proto(req->actions(i));
        if (req->seeds_size() > 0)
          s->env->reset(req->seeds(i));
        else if (!s->env->in_episode())
          s->env->reset();
        rpc_convert::to_proto(step(*s->env, action), rep->add_results());
      }
    });
  }

  grpc::Status EndSession(grpc::ServerContext* ctx, const rpc::EndSessionRequest* req, rpc::EndSessionReply*) override {
    return guard(ctx, [&] {
      std::lock_guard<std::mutex> lock(mu_);
      if (!sessions_.erase(req->session_id())) throw NotFound("no session '" + req->session_id() + "'");
    });
  }

  // Removes sessions idle for longer than the idle timeout and cancels
  // step streams as idle (each holds a server thread).
  void reap() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = Clock::now();
    for (const auto& [ctx, last_used] : streams_)
      if (std::chrono::duration<double>(now - last_used).count() > opt_.idle_timeout_s) ctx->TryCancel();
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      std::unique_lock<std::mutex> s(it->second->mu, std::try_to_lock);
      if (s.owns_lock() && std::chrono::duration<double>(now - it->second->last_used).count() > opt_.idle_timeout_s) {
        s.unlock();
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }

private:
  struct NotFound : Error {
    using Error::Error;
  };
  struct Exhausted : Error {
    using Error::Error;
  };

  EnvPtr make_local(const std::string& id, const json& options) const {
    if (id.find("://") != std::string::npos) throw InvalidArgument("env '" + id + "': a server runs local envs only");
    return host_.make_env(id, options);
  }

  // A simulator's exception is the evaluation's sim_error status, as in a
  // VectorEnv; bad actions stay INVALID_ARGUMENT.
  static StepResult step(Env& env, const Value& action) {
    if (!env.in_episode()) env.reset();
    env.action_space().check(action, "action");
    try {
      return env.step(action);
    } catch (const InvalidArgument&) {
      throw;
    } catch (const std::exception& e) {
      StepResult r;
      r.status = EvalStatus::sim_error(e.what());
      r.terminated = true;
      return r;
    }
  }

  std::shared_ptr<Session> session(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) throw NotFound("no session '" + id + "' (ended, reclaimed after being idle, or from another server)");
    it->second->last_used = Clock::now();
    return it->second;
  }

  // Compares in time independent of where the strings differ.
  static bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
    return diff == 0;
  }

  static grpc::Status status(grpc::StatusCode code, const std::string& message) {
    return {code, message.empty() ? "internal error" : excerpt(message, kMaxStatusMessage)};
  }

  template <class F>
  grpc::Status guard(grpc::ServerContext* ctx, F&& f) {
    if (!opt_.token.empty()) {
      const auto& md = ctx->client_metadata();
      auto it = md.find("authorization");
      if (it == md.end() || !same_secret(std::string_view(it->second.data(), it->second.size()), "Bearer " + opt_.token))
        return {grpc::StatusCode::UNAUTHENTICATED, "this server needs its shared secret (set DSEGYM_TOKEN)"};
    }
    try {
      // Files a client names are confined to the server's data folder (none without --data-dir).
      host_.confined(opt_.data_dir, f);
      return grpc::Status::OK;
    } catch (const InvalidArgument& e) {
      return status(grpc::StatusCode::INVALID_ARGUMENT, e.what());
    } catch (const NotFound& e) {
      return status(grpc::StatusCode::NOT_FOUND, e.what());
    } catch (const Exhausted& e) {
      return status(grpc::StatusCode::RESOURCE_EXHAUSTED, e.what());
    } catch (const std::bad_alloc&) {
      return status(grpc::StatusCode::RESOURCE_EXHAUSTED, "the request needs more memory than the server has");
    } catch (const std::exception& e) {
      return status(grpc::StatusCode::INTERNAL, e.what());
    }
  }

  const ServeOptions& opt_;
  const ServeHost& host_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  std::map<grpc::ServerContext*, Clock::time_point> streams_;
  std::uint64_t next_id_ = 0;
};

}  // namespace

void serve_grpc(const ServeOptions& opt, const ServeHost& env_host) {
  if (!opt.data_dir.empty() && !std::filesystem::is_directory(opt.data_dir))
    throw InvalidArgument("--data-dir " + opt.data_dir + ": not a folder");
  if (!is_loopback(opt.bind) && opt.token.empty())
    throw InvalidArgument("--bind " + opt.bind + " is not a loopback address: give --token SECRET (clients set DSEGYM_TOKEN)");
  if (opt.port < 0 || opt.port > 65535) throw InvalidArgument("--port " + std::to_string(opt.port) + " is not valid; valid: 0..65535");
  // SIGTERM and SIGINT are taken by a waiting thread, not delivered as signals.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  env_host.list_envs();  // register everything before the first request
  Service service(opt, env_host);
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string host = opt.bind.find(':') != std::string::npos && opt.bind[0] != '[' ? "[" + opt.bind + "]" : opt.bind;
  builder.AddListeningPort(host + ":" + std::to_string(opt.port), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  builder.SetMaxReceiveMessageSize(kMaxRequestBytes);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) throw Error("cannot listen on " + host + ":" + std::to_string(opt.port));
  if (!opt.port_file.empty()) write_file_atomically(opt.port_file, std::to_string(port) + "\n");
  std::cerr << "dsegym serve: listening on " << host << ":" << port << "\n";

  std::atomic<bool> stop{false};
  std::thread reaper([&] {
    while (!stop) {
      for (int i = 0; i < 10 && !stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      service.reap();
    }
  });
  int sig = 0;
  sigwait(&set, &sig);
  std::cerr << "dsegym serve: signal " << sig << ", shutting down\n";
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  stop = true;
  reaper.join();
}

}  // namespace dsegym
