// remote:// envs: the ids are parsed here, the client lives in the gRPC
// module (envs/remote/grpc_module.hpp), loaded when the first one is made.
#include <atomic>

#include "base/error.hpp"
#include "base/module.hpp"
#include "envs/remote/grpc_module.hpp"
#include "envs/remote/remote_env.hpp"

namespace dsegym {

namespace {

std::atomic<ServeFn> linked_serve{nullptr};
std::atomic<RemoteEnvFn> linked_remote_env{nullptr};

void* grpc_symbol(const char* name) {
  static Module grpc{"grpc", "dsegym serve, remote:// envs", "DSEGYM_GRPC_LIBRARY", DSEGYM_GRPC_LIBRARY, kGrpcModuleAbi};
  return module_symbol(grpc, name);
}

}  // namespace

void use_linked_grpc(ServeFn serve, RemoteEnvFn remote_env) {
  linked_serve = serve;
  linked_remote_env = remote_env;
}

ServeFn grpc_serve_fn() {
  if (ServeFn f = linked_serve) return f;
  return reinterpret_cast<ServeFn>(grpc_symbol("dsegym_grpc_serve"));
}

RemoteEnvFn grpc_remote_env_fn() {
  if (RemoteEnvFn f = linked_remote_env) return f;
  return reinterpret_cast<RemoteEnvFn>(grpc_symbol("dsegym_grpc_remote_env"));
}

RemoteTarget parse_remote_id(const std::string& id) {
  const std::string prefix = "remote://";
  const auto slash = id.find('/', prefix.size());
  if (id.rfind(prefix, 0) != 0 || slash == std::string::npos || slash + 1 >= id.size())
    throw InvalidArgument("env '" + id + "': expected remote://host:port[,host:port...]/ENV-ID");
  RemoteTarget t;
  t.env_id = id.substr(slash + 1);
  std::string hosts = id.substr(prefix.size(), slash - prefix.size());
  std::size_t start = 0;
  while (start <= hosts.size()) {
    const auto comma = hosts.find(',', start);
    const std::string h = hosts.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (h.empty() || h.find(':') == std::string::npos) throw InvalidArgument("env '" + id + "': server '" + h + "' is not host:port");
    t.servers.push_back(h);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return t;
}

void register_remote_scheme() {
  register_env_scheme("remote", [](const std::string& id, const json& options) -> EnvPtr {
    const RemoteTarget target = parse_remote_id(id);  // a malformed id is an error before any library is loaded
    const RemoteEnvFn fn = grpc_remote_env_fn();
    Env* out = nullptr;
    std::string error;
    const int rc = fn(&target, &id, &options, &out, &error);
    if (rc != 0 || !out) throw_module_error(rc == 0 ? 2 : rc, error);
    return EnvPtr(out);
  });
}

}  // namespace dsegym
