// Proxy model files (XGBoost trees, Gaussian processes, bags): a crafted
// file must be an error, never an out-of-bounds read, a cycle or a huge
// allocation.
#include "base/json_io.hpp"
#include "fuzz/fuzz.hpp"
#include "proxies/proxy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] { proxy::ProxyModel::parse(parse_json(fuzz::text(data, size), "fuzz.json", kMaxJsonFileBytes), "fuzz.json"); });
}
