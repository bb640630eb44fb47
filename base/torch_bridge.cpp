#include "base/torch_bridge.hpp"

#include <cstdlib>

#include "base/module.hpp"

namespace dsegym {

void* torch_symbol(const std::string& name) {
  static Module torch{"torch", "RL agents, MLP proxies, trained NAS cells", "DSEGYM_TORCH_LIBRARY", DSEGYM_TORCH_LIBRARY, kTorchLibraryAbi};
  // One BLAS thread unless the user says otherwise: small matrices gain
  // nothing from more, and sums must not depend on the thread count.
  ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
  return module_symbol(torch, name);
}

}  // namespace dsegym
