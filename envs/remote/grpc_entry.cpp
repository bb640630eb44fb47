// The gRPC module's entry points.
#include "base/module.hpp"
#include "envs/remote/grpc_module.hpp"
#include "envs/remote/remote_env.hpp"
#include "envs/remote/server.hpp"

extern "C" __attribute__((visibility("default"))) int dsegym_grpc_abi_version() { return dsegym::kGrpcModuleAbi; }

extern "C" __attribute__((visibility("default"))) int dsegym_grpc_serve(const dsegym::ServeOptions* options, const dsegym::ServeHost* host,
                                                                        std::string* error) {
  return dsegym::module_call(error, [&] { dsegym::serve_grpc(*options, *host); });
}

extern "C" __attribute__((visibility("default"))) int dsegym_grpc_remote_env(const dsegym::RemoteTarget* target, const std::string* id,
                                                                             const nlohmann::json* options, dsegym::Env** out, std::string* error) {
  return dsegym::module_call(error, [&] { *out = dsegym::make_remote_env(*target, *id, *options).release(); });
}
