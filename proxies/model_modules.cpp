#include "proxies/model_modules.hpp"

#include "base/torch_bridge.hpp"

namespace dsegym::proxy {

namespace {

void* xgb_symbol(const char* name) {
  static Module xgb{"xgb", "boosted-tree and random-forest proxies", "DSEGYM_XGB_LIBRARY", DSEGYM_XGB_LIBRARY, kXgbModuleAbi};
  return module_symbol(xgb, name);
}

// Calls a module's factory; bad input keeps its message, other failures
// are prefixed with `what`.
template <class Fn, class... Args>
std::unique_ptr<Regressor> made(Fn fn, const std::string& what, const Args*... args) {
  Regressor* out = nullptr;
  std::string error;
  const int rc = fn(args..., &out, &error);
  if (rc == 1) throw_module_error(1, error);
  if (rc != 0 || !out) throw_module_error(2, what + ": " + (error.empty() ? "no model" : error));
  return std::unique_ptr<Regressor>(out);
}

}  // namespace

std::unique_ptr<Regressor> make_mlp(const nlohmann::json& options, std::uint64_t seed) {
  auto fn = reinterpret_cast<MlpMakeFn>(torch_symbol("dsegym_mlp_make"));
  return made([&](const nlohmann::json* o, Regressor** out, std::string* e) { return fn(o, seed, out, e); }, "MLP proxy", &options);
}

std::unique_ptr<Regressor> load_mlp(const nlohmann::json& saved) {
  return made(reinterpret_cast<MlpLoadFn>(torch_symbol("dsegym_mlp_load")), "MLP proxy", &saved);
}

std::unique_ptr<Regressor> make_trees(const std::string& kind, const nlohmann::json& options, std::uint64_t seed) {
  auto fn = reinterpret_cast<TreesMakeFn>(xgb_symbol("dsegym_xgb_make"));
  return made([&](const nlohmann::json* o, Regressor** out, std::string* e) { return fn(&kind, o, seed, out, e); }, "tree proxy", &options);
}

std::unique_ptr<Regressor> load_trees(const nlohmann::json& saved) {
  return made(reinterpret_cast<TreesLoadFn>(xgb_symbol("dsegym_xgb_load")), "tree proxy", &saved);
}

}  // namespace dsegym::proxy
