#pragma once
// The MLP proxy lives in the torch library (proxies/mlp.cpp); these load it
// on first use (agents/torch_library.hpp).
#include <cstdint>
#include <memory>

#include "proxies/models.hpp"

namespace dsegym::proxy {

std::unique_ptr<Regressor> make_mlp(const nlohmann::json& options, std::uint64_t seed);
std::unique_ptr<Regressor> load_mlp(const nlohmann::json& saved);

// Entry points exported by the torch library: 0 ok, 1 bad input, 2 other
// failure (the message in *error).
using MlpMakeFn = int (*)(const nlohmann::json* options, std::uint64_t seed, Regressor** out, std::string* error);
using MlpLoadFn = int (*)(const nlohmann::json* saved, Regressor** out, std::string* error);

}  // namespace dsegym::proxy
