#include "experiments/plugin.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "app/builtin.hpp"
#include "base/error.hpp"

namespace dsegym {

void load_plugin(const std::string& path) {
  // The same library twice (e.g. named on the command line and in a sweep
  // config) is loaded once.
  static std::mutex mu;
  static std::set<std::string> loaded;
  std::lock_guard<std::mutex> lock(mu);
  std::error_code ec;
  const std::string key = std::filesystem::weakly_canonical(path, ec).string();
  if (loaded.count(ec ? path : key)) return;
  // Built-ins first, so that a plugin cannot take their ids.
  EnvRegistry& envs = env_registry();
  AgentRegistry& agents = agent_registry();
  void* lib = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) throw InvalidArgument("plugin " + path + ": cannot load: " + ::dlerror());
  auto version = reinterpret_cast<int (*)()>(::dlsym(lib, "dsegym_plugin_abi_version"));
  auto reg = reinterpret_cast<void (*)(PluginRegistrar*)>(::dlsym(lib, "dsegym_plugin_register"));
  if (!version || !reg)
    throw InvalidArgument("plugin " + path + ": not a dsegym plugin (no dsegym_plugin_abi_version / dsegym_plugin_register; use DSEGYM_PLUGIN)");
  if (version() != DSEGYM_PLUGIN_ABI_VERSION)
    throw InvalidArgument("plugin " + path + ": built for plugin ABI " + std::to_string(version()) + ", this dsegym has " +
                          std::to_string(DSEGYM_PLUGIN_ABI_VERSION) + "; rebuild the plugin against this version's headers");
  PluginRegistrar r{envs, agents};
  try {
    reg(&r);
  } catch (const std::exception& e) {
    throw InvalidArgument("plugin " + path + ": registration failed: " + e.what());
  }
  loaded.insert(ec ? path : key);
  // The library stays loaded for the life of the process.
}

}  // namespace dsegym
