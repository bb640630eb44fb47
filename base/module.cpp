#include "base/module.hpp"

#include <dlfcn.h>

#include <cstdlib>

#include "base/error.hpp"

namespace dsegym {

void* module_symbol(Module& m, const std::string& symbol) {
  std::lock_guard<std::mutex> lock(m.mutex);
  const char* env = std::getenv(m.env_var);
  const std::string path = env && *env ? env : m.built_path;
  const std::string label = std::string(m.name) + " module " + path;
  if (!m.handle) {
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw InvalidArgument(std::string("this needs the ") + m.name + " module (" + m.needed_for + "): " + ::dlerror());
    const std::string abi_name = std::string("dsegym_") + m.name + "_abi_version";
    auto abi = reinterpret_cast<int (*)()>(::dlsym(h, abi_name.c_str()));
    if (!abi) throw InvalidArgument(label + ": not a dsegym module (no " + abi_name + ")");
    if (abi() != m.abi)
      throw InvalidArgument(label + " was built for ABI " + std::to_string(abi()) + ", this dsegym has " + std::to_string(m.abi) + "; rebuild it");
    m.handle = h;
  }
  void* sym = ::dlsym(m.handle, symbol.c_str());
  if (!sym) throw InvalidArgument(label + ": no entry point " + symbol);
  return sym;
}

void throw_module_error(int code, const std::string& message) {
  if (code == 1) throw InvalidArgument(message);
  throw Error(message);
}

}  // namespace dsegym
