#pragma once
// Writing a plugin: an agent or env compiled into a shared library that
// `dsegym --plugin lib.so ...` loads. In one .cpp file:
//
//   #include "agents/plugin.hpp"
//   DSEGYM_PLUGIN(registrar) {
//     registrar.agents.add(dsegym::AgentEntry{"my-agent", "what it does", {/* hyperparameters */},
//                                             [](const dsegym::AgentContext& ctx, const dsegym::Params& p) { ... }});
//   }
//
// and build it as a shared library linking dsegym_agents (see
// agents/plugins/CMakeLists.txt), with the same compiler as dsegym. It
// registers into the host's registries through the PluginRegistrar. This
// header is the ABI between plugins and the host (experiments/plugin.hpp
// loads them); it sits in the agents layer so that both include it
// without reaching upward.
#include "agents/agent.hpp"
#include "envs/core/env_registry.hpp"

// Bumped whenever a change to the headers breaks plugins built before it.
#ifndef DSEGYM_PLUGIN_ABI_VERSION
#define DSEGYM_PLUGIN_ABI_VERSION 2
#endif

namespace dsegym {

struct PluginRegistrar {
  EnvRegistry& envs;
  AgentRegistry& agents;
};

}  // namespace dsegym

#define DSEGYM_PLUGIN(registrar_name)                                                                   \
  static void dsegym_plugin_body(dsegym::PluginRegistrar& registrar_name);                              \
  extern "C" __attribute__((visibility("default"))) int dsegym_plugin_abi_version() {                   \
    return DSEGYM_PLUGIN_ABI_VERSION;                                                                   \
  }                                                                                                     \
  extern "C" __attribute__((visibility("default"))) void dsegym_plugin_register(dsegym::PluginRegistrar* r) { \
    dsegym_plugin_body(*r);                                                                             \
  }                                                                                                     \
  static void dsegym_plugin_body(dsegym::PluginRegistrar& registrar_name)
