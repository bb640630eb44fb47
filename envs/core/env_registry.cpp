#include "envs/core/env_registry.hpp"

#include <map>
#include <mutex>

namespace dsegym {

EnvRegistry& env_registry_core() {
  static EnvRegistry reg("env");
  return reg;
}

namespace {
std::mutex& scheme_mutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, EnvSchemeHandler>& schemes() {
  static std::map<std::string, EnvSchemeHandler> s;
  return s;
}
}  // namespace

void register_env_scheme(const std::string& scheme, EnvSchemeHandler handler) {
  std::lock_guard<std::mutex> lock(scheme_mutex());
  schemes()[scheme] = std::move(handler);
}

EnvPtr make_env(const EnvRegistry& reg, const std::string& id, const json& options) {
  if (const auto pos = id.find("://"); pos != std::string::npos) {
    EnvSchemeHandler handler;
    {
      std::lock_guard<std::mutex> lock(scheme_mutex());
      auto it = schemes().find(id.substr(0, pos));
      if (it == schemes().end()) throw InvalidArgument("env '" + id + "': unknown scheme '" + id.substr(0, pos) + "'; known: remote");
      handler = it->second;
    }
    return handler(id, options);
  }
  const EnvEntry& e = reg.get(id);
  Params p(e.options, options, "env '" + id + "' option");
  return e.factory(p);
}

}  // namespace dsegym
