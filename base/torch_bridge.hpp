#pragma once
// The torch module (libdsegym_torch.so: RL agents, the MLP proxy, trained
// NAS cells; see base/module.hpp). DSEGYM_TORCH_LIBRARY overrides its
// path.
#include <string>

namespace dsegym {

constexpr int kTorchLibraryAbi = 2;

// The address of an entry point of the torch module; throws InvalidArgument
// naming the library when it cannot be loaded or lacks the symbol.
void* torch_symbol(const std::string& name);

}  // namespace dsegym
