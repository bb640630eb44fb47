#pragma once
// Extremely randomized trees (Geurts et al. 2006), native: model kind "et".
#include <cstdint>
#include <memory>

#include "proxies/models.hpp"

namespace dsegym::proxy {

// `options`: merged with the defaults (models.cpp).
std::unique_ptr<Regressor> make_extra_trees(const nlohmann::json& options, std::uint64_t seed);
std::unique_ptr<Regressor> load_extra_trees(const nlohmann::json& saved);

}  // namespace dsegym::proxy
