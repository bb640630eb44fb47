#pragma once
// The env registry: ids like "toy-v0" -> factory. `make` validates options
// against the env's declared option specs before constructing it.
#include <functional>
#include <string>
#include <vector>

#include "envs/core/env.hpp"
#include "envs/core/registry.hpp"

namespace dsegym {

struct EnvEntry {
  std::string id;
  std::string description;
  std::vector<ParamSpec> options;
  // Receives options already checked against `options`.
  std::function<EnvPtr(const Params& options)> factory;
};

using EnvRegistry = Registry<EnvEntry>;

// The process-wide registry; families add themselves through
// register_builtins() (app/builtin.hpp) and plugins.
EnvRegistry& env_registry_core();

// Unknown id or option -> InvalidArgument naming it and listing valid ones.
// Ids of the form "scheme://..." go to the handler registered for the scheme
// (e.g. remote://host:port/dram-v0 to envs/remote).
EnvPtr make_env(const EnvRegistry& reg, const std::string& id, const json& options = json::object());

using EnvSchemeHandler = std::function<EnvPtr(const std::string& id, const json& options)>;
void register_env_scheme(const std::string& scheme, EnvSchemeHandler handler);

// Every env accepts two more options, handled here rather than by the env:
//   "cost_model": "simulator" (default) | "proxy:PATH" | "hybrid"
//   "cost_model_options": {...} (for hybrid)
// Anything but "simulator" wraps the env through the registered handler
// (proxies/proxy_env.cpp).
using CostModelHandler = std::function<EnvPtr(EnvPtr simulator, const std::string& cost_model, const json& cost_model_options)>;
void register_cost_model_handler(CostModelHandler handler);

}  // namespace dsegym
