#pragma once
// The torch library (libdsegym_torch.so: RL agents, the MLP proxy) is
// loaded with dlopen the first time something needs it, so that commands
// that do not use libtorch start without it (~1 s and ~290 shared
// libraries). DSEGYM_TORCH_LIBRARY overrides its path.
#include <string>

namespace dsegym {

constexpr int kTorchLibraryAbi = 2;

// The address of an entry point of the torch library; throws InvalidArgument
// naming the library when it cannot be loaded or lacks the symbol.
void* torch_symbol(const std::string& name);

}  // namespace dsegym
