#include "agents/torch_library.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "envs/core/error.hpp"

namespace dsegym {

void* torch_symbol(const std::string& name) {
  static std::mutex m;
  static void* handle = nullptr;
  std::lock_guard<std::mutex> lock(m);
  const char* env = std::getenv("DSEGYM_TORCH_LIBRARY");
  const std::string path = env ? env : DSEGYM_TORCH_LIBRARY;
  if (!handle) {
    // One BLAS thread unless the user says otherwise: small matrices gain
    // nothing from more, and sums must not depend on the thread count.
    ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw InvalidArgument("this needs the torch library " + path + " (RL agents, MLP proxies): " + ::dlerror());
    auto abi = reinterpret_cast<int (*)()>(::dlsym(h, "dsegym_torch_abi_version"));
    if (!abi) throw InvalidArgument("torch library " + path + ": not a dsegym torch library (no dsegym_torch_abi_version)");
    if (abi() != kTorchLibraryAbi)
      throw InvalidArgument("torch library " + path + " was built for ABI " + std::to_string(abi()) + ", this dsegym has " +
                            std::to_string(kTorchLibraryAbi) + "; rebuild it");
    handle = h;
  }
  void* sym = ::dlsym(handle, name.c_str());
  if (!sym) throw InvalidArgument("torch library " + path + ": no entry point " + name);
  return sym;
}

}  // namespace dsegym
