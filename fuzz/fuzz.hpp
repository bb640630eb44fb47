#pragma once
// Shared by the fuzz targets: the input as text, and the rule that a target
// may reject input only with an exception (an error message), never by
// crashing, hanging or reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

namespace dsegym::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// Runs f; an exception is a handled rejection of bad input.
template <class F>
int run(F&& f) {
  try {
    f();
  } catch (const std::exception&) {
  }
  return 0;
}

}  // namespace dsegym::fuzz
