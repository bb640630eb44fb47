#pragma once
// Parts of dsegym that need large libraries live in shared modules that are
// loaded with dlopen the first time something needs them, so that commands
// that do not use them start without those libraries:
//   libdsegym_torch.so  libtorch: RL agents, MLP proxies, trained NAS cells
//   libdsegym_grpc.so   gRPC and protobuf: `dsegym serve`, remote:// envs
//   libdsegym_xgb.so    XGBoost: boosted-tree and random-forest proxies
// Like a plugin, a module holds its own copy of the dsegym code it uses; what
// crosses the boundary is an abstract interface (Env, Regressor) or plain
// data, and errors come back as a code and a message.
#include <exception>
#include <mutex>
#include <string>

#include "base/error.hpp"

namespace dsegym {

struct Module {
  const char* name;      // "torch", "grpc", "xgb"
  const char* needed_for;  // for messages: "RL agents, MLP proxies"
  const char* env_var;   // overrides the path, e.g. DSEGYM_TORCH_LIBRARY
  const char* built_path;  // the module as built
  int abi;               // must equal the module's dsegym_<name>_abi_version()
  std::mutex mutex{};
  void* handle = nullptr;
};

// The address of an entry point of the module, loading it on first use;
// throws InvalidArgument naming the library when it cannot be loaded, was
// built for another ABI or lacks the symbol.
void* module_symbol(Module& module, const std::string& symbol);

// Error codes of module entry points: 0 ok, 1 InvalidArgument, 2 other
// error (the message in *error). module_call runs an entry point's body and
// returns its code; throw_module_error turns a code back into the exception.
template <class F>
int module_call(std::string* error, F&& body) noexcept;
[[noreturn]] void throw_module_error(int code, const std::string& message);

template <class F>
int module_call(std::string* error, F&& body) noexcept {
  try {
    body();
    return 0;
  } catch (const InvalidArgument& e) {
    *error = e.what();
    return 1;
  } catch (const std::exception& e) {
    *error = e.what();
    return 2;
  } catch (...) {
    *error = "unknown error";
    return 2;
  }
}

}  // namespace dsegym
