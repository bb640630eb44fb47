#pragma once
// The gRPC module (libdsegym_grpc.so, loaded on first use; see
// base/module.hpp): the remote:// env client and `dsegym serve`. The
// server makes its envs through the host's registry and confines the files
// clients name with the host's FileConfinement, so plugins and file rules
// are the host's. DSEGYM_GRPC_LIBRARY overrides its path.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/core/env.hpp"

namespace dsegym {

struct ServeOptions;
struct RemoteTarget;

constexpr int kGrpcModuleAbi = 1;

struct ServeHost {
  const char* version;
  std::vector<std::pair<std::string, std::string>> (*list_envs)();  // id, description
  EnvPtr (*make_env)(const std::string& id, const nlohmann::json& options);
  // Runs `body` with user_file() on this thread confined to `data_dir`.
  void (*confined)(const std::string& data_dir, const std::function<void()>& body);
};

// Entry points (codes as module_call).
using ServeFn = int (*)(const ServeOptions* options, const ServeHost* host, std::string* error);
using RemoteEnvFn = int (*)(const RemoteTarget* target, const std::string* id, const nlohmann::json* options, Env** out, std::string* error);

// The entry points, from the module, or from this program when it links
// the gRPC code itself and said so with use_linked_grpc() (the tests,
// bench_remote): protobuf refuses a second copy of the same generated
// descriptors in one process.
ServeFn grpc_serve_fn();
RemoteEnvFn grpc_remote_env_fn();
void use_linked_grpc(ServeFn serve, RemoteEnvFn remote_env);

// In the module.
void serve_grpc(const ServeOptions& options, const ServeHost& host);
EnvPtr make_remote_env(const RemoteTarget& target, const std::string& id, const nlohmann::json& options);

}  // namespace dsegym

extern "C" int dsegym_grpc_serve(const dsegym::ServeOptions* options, const dsegym::ServeHost* host, std::string* error);
extern "C" int dsegym_grpc_remote_env(const dsegym::RemoteTarget* target, const std::string* id, const nlohmann::json* options,
                                      dsegym::Env** out, std::string* error);
