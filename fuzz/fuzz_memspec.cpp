// DRAMSys memspecs and controller configs (mcconfig) as JSON.
#include "base/json_io.hpp"
#include "fuzz/fuzz.hpp"
#include "simulators/dram/config.hpp"
#include "simulators/dram/memspec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] {
    const nlohmann::json j = parse_json(fuzz::text(data, size), "fuzz.json");
    try {
      const dram::MemSpec m = dram::parse_memspec(j, "fuzz.json");
      (void)m.capacity_bytes();
    } catch (const std::exception&) {
    }
    dram::parse_controller_config(j, "fuzz.json");
  });
}
