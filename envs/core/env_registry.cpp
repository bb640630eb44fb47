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

CostModelHandler& cost_model_handler() {
  static CostModelHandler h;
  return h;
}

void register_cost_model_handler(CostModelHandler handler) {
  std::lock_guard<std::mutex> lock(scheme_mutex());
  cost_model_handler() = std::move(handler);
}

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
  // The cost model is the framework's option, not the env's.
  std::string cost_model = "simulator";
  json cm_options = json::object(), env_options = options.is_object() ? options : json::object();
  if (options.is_object() && options.contains("cost_model")) {
    if (!options.at("cost_model").is_string())
      throw InvalidArgument("env '" + id + "' option 'cost_model': expected \"simulator\", \"proxy:PATH\" or \"hybrid\", got " +
                            options.at("cost_model").dump());
    cost_model = options.at("cost_model").get<std::string>();
    env_options.erase("cost_model");
  }
  if (env_options.contains("cost_model_options")) {
    cm_options = env_options.at("cost_model_options");
    env_options.erase("cost_model_options");
    if (cost_model == "simulator") throw InvalidArgument("env '" + id + "' option 'cost_model_options' needs cost_model proxy:PATH or hybrid");
  }
  const EnvEntry& e = reg.get(id);
  Params p(e.options, options.is_object() ? env_options : options, "env '" + id + "' option");
  EnvPtr env = e.factory(p);
  if (cost_model == "simulator") return env;
  CostModelHandler handler;
  {
    std::lock_guard<std::mutex> lock(scheme_mutex());
    handler = cost_model_handler();
  }
  if (!handler) throw InvalidArgument("env '" + id + "': cost model '" + cost_model + "' is not available in this program");
  return handler(std::move(env), cost_model, cm_options);
}

}  // namespace dsegym
