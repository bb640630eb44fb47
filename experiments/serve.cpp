// `dsegym serve`: the server lives in the gRPC module; this side gives it
// the envs (this process's registry, plugins included) and the file rules.
#include "app/builtin.hpp"
#include "base/files.hpp"
#include "base/module.hpp"
#include "envs/remote/grpc_module.hpp"
#include "experiments/server.hpp"

namespace dsegym {

void serve(const ServeOptions& opt) {
  static const ServeHost host{
      DSEGYM_VERSION,
      [] {
        std::vector<std::pair<std::string, std::string>> envs;
        for (const auto& id : env_registry().ids()) envs.emplace_back(id, env_registry().get(id).description);
        return envs;
      },
      [](const std::string& id, const nlohmann::json& options) { return make_env(env_registry(), id, options); },
      [](const std::string& data_dir, const std::function<void()>& body) {
        FileConfinement confined(data_dir);
        body();
      }};
  const ServeFn fn = grpc_serve_fn();
  std::string error;
  if (const int rc = fn(&opt, &host, &error); rc != 0) throw_module_error(rc, error);
}

}  // namespace dsegym
