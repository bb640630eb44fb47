// Trace files (.stl, DRAMsim3, Ramulator 2, detected): the parser, and the simulator on what it accepts
// (addresses beyond the device must be an error, not an alias).
#include "fuzz/fuzz.hpp"
#include "simulators/dram/simulator.hpp"
#include "simulators/dram/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dsegym;
  return fuzz::run([&] {
    const auto requests = dram::parse_trace(fuzz::text(data, size), {800, dram::TraceFormat::Auto, 64}, "fuzz-trace");
    if (requests.size() > 64) return;  // keep simulations short
    static const dram::MemSpec spec = dram::resolve_memspec("ddr3-1600");
    static const dram::AddressMapping mapping = dram::make_mapping("RoBaCo", spec);
    dram::simulate(spec, dram::ControllerConfig{}, mapping, requests);
  });
}
