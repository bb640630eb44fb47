#pragma once
// Proxy models that live in modules loaded on first use
// (base/module.hpp): the MLP in the torch module (proxies/mlp.cpp),
// boosted trees and random forests in the xgb module (proxies/xgb_model.cpp).
#include <cstdint>
#include <memory>
#include <string>

#include "base/module.hpp"
#include "proxies/models.hpp"

namespace dsegym::proxy {

constexpr int kXgbModuleAbi = 1;

std::unique_ptr<Regressor> make_mlp(const nlohmann::json& options, std::uint64_t seed);
std::unique_ptr<Regressor> load_mlp(const nlohmann::json& saved);
// kind: "xgb" (boosted trees) or "rf" (random forest).
std::unique_ptr<Regressor> make_trees(const std::string& kind, const nlohmann::json& options, std::uint64_t seed);
std::unique_ptr<Regressor> load_trees(const nlohmann::json& saved);

// Entry points (codes as module_call).
using MlpMakeFn = int (*)(const nlohmann::json* options, std::uint64_t seed, Regressor** out, std::string* error);
using MlpLoadFn = int (*)(const nlohmann::json* saved, Regressor** out, std::string* error);
using TreesMakeFn = int (*)(const std::string* kind, const nlohmann::json* options, std::uint64_t seed, Regressor** out, std::string* error);
using TreesLoadFn = int (*)(const nlohmann::json* saved, Regressor** out, std::string* error);

}  // namespace dsegym::proxy
