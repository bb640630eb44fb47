// Accelerator workloads and architectures, and SoC applications and SoCs,
// as JSON; an accepted layer is mapped on the default architecture.
#include "base/json_io.hpp"
#include "fuzz/fuzz.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/accel/workload.hpp"
#include "simulators/soc/soc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] {
    const nlohmann::json j = parse_json(fuzz::text(data, size), "fuzz.json");
    for (auto* f : {+[](const nlohmann::json& x) {
                      const accel::Workload w = accel::parse_workload(x, "fuzz.json");
                      accel::Arch a;
                      a.glb_words = 4096;
                      for (std::size_t i = 0; i < w.layers.size() && i < 2; ++i) accel::map_layer(w.layers[i], a, accel::Dataflow::OutputStationary);
                    },
                    +[](const nlohmann::json& x) { accel::parse_arch(x, "fuzz.json"); },
                    +[](const nlohmann::json& x) { soc::parse_app(x, "fuzz.json"); },
                    +[](const nlohmann::json& x) { soc::parse_soc(x, "fuzz.json"); }}) {
      try {
        f(j);
      } catch (const std::exception&) {
      }
    }
  });
}
