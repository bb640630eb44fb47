#include "proxies/model_modules.hpp"

#include "agents/torch_library.hpp"

namespace dsegym::proxy {

namespace {

void* xgb_symbol(const char* name) {
  static Module xgb{"xgb", "boosted-tree and random-forest proxies", "DSEGYM_XGB_LIBRARY", DSEGYM_XGB_LIBRARY, kXgbModuleAbi};
  return module_symbol(xgb, name);
}

// Bad input keeps its message; other failures are prefixed with `what`.
std::unique_ptr<Regressor> checked(int rc, Regressor* out, const std::string& error, const std::string& what) {
  if (rc == 1) throw_module_error(1, error);
  if (rc != 0 || !out) throw_module_error(2, what + ": " + (error.empty() ? "no model" : error));
  return std::unique_ptr<Regressor>(out);
}

}  // namespace

std::unique_ptr<Regressor> make_mlp(const nlohmann::json& options, std::uint64_t seed) {
  auto fn = reinterpret_cast<MlpMakeFn>(torch_symbol("dsegym_mlp_make"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&options, seed, &out, &error);
  return checked(rc, out, error, "MLP proxy");
}

std::unique_ptr<Regressor> load_mlp(const nlohmann::json& saved) {
  auto fn = reinterpret_cast<MlpLoadFn>(torch_symbol("dsegym_mlp_load"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&saved, &out, &error);
  return checked(rc, out, error, "MLP proxy");
}

std::unique_ptr<Regressor> make_trees(const std::string& kind, const nlohmann::json& options, std::uint64_t seed) {
  auto fn = reinterpret_cast<TreesMakeFn>(xgb_symbol("dsegym_xgb_make"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&kind, &options, seed, &out, &error);
  return checked(rc, out, error, "tree proxy");
}

std::unique_ptr<Regressor> load_trees(const nlohmann::json& saved) {
  auto fn = reinterpret_cast<TreesLoadFn>(xgb_symbol("dsegym_xgb_load"));
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(&saved, &out, &error);
  return checked(rc, out, error, "tree proxy");
}

}  // namespace dsegym::proxy
