#include "proxies/torch_bridge.hpp"

#include "agents/torch_library.hpp"
#include "envs/core/error.hpp"

namespace dsegym::proxy {

namespace {
std::unique_ptr<Regressor> checked(int rc, Regressor* out, const std::string& error) {
  if (rc == 1) throw InvalidArgument(error);
  if (rc != 0 || !out) throw Error("MLP proxy: " + error);
  return std::unique_ptr<Regressor>(out);
}
}  // namespace

std::unique_ptr<Regressor> make_mlp(const nlohmann::json& options, std::uint64_t seed) {
  auto fn = reinterpret_cast<MlpMakeFn>(torch_symbol("dsegym_mlp_make"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&options, seed, &out, &error);
  return checked(rc, out, error);
}

std::unique_ptr<Regressor> load_mlp(const nlohmann::json& saved) {
  auto fn = reinterpret_cast<MlpLoadFn>(torch_symbol("dsegym_mlp_load"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&saved, &out, &error);
  return checked(rc, out, error);
}

}  // namespace dsegym::proxy
