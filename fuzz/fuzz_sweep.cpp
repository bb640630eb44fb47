// Sweep configs: checked and counted before anything is expanded.
#include "base/json_io.hpp"
#include "experiments/sweep.hpp"
#include "fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] { parse_sweep(parse_json(fuzz::text(data, size), "fuzz.json"), "fuzz.json", 64); });
}
