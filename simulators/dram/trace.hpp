#pragma once
// Memory request traces: DRAMSys .stl, DRAMsim3 and Ramulator 2 trace files,
// and built-in generators.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsegym::dram {

struct Request {
  double time_ns = 0;  // when the initiator issues it
  bool write = false;
  std::uint64_t address = 0;
};

// Limits of a trace: cycle numbers up to 2^53 (exact in a double), requests
// within 10^10 ns (10 s) of the start (idle time is simulated: every
// refresh of 10 s idle DDR3 takes ~0.4 s to simulate).
inline constexpr std::uint64_t kMaxTraceCycle = std::uint64_t{1} << 53;
inline constexpr double kMaxTraceTimeNs = 1e10;

// Trace file formats, one request per line, '#' starts a comment:
//   stl        DRAMSys: "<cycle>[:] [(<bytes>)] read|write <hex address> [<hex data>]"
//              (the length may also follow the command); data is ignored.
//   dramsim3   DRAMsim3: "<hex address> <READ|WRITE|...> <cycle>"
//   ramulator2 Ramulator 2 LoadStoreTrace: "LD|ST <address>" (decimal or 0x
//              hex); no timing: every request is ready at cycle 0 and the
//              initiator sends the next one as soon as the previous is accepted.
//   auto       chosen from the extension (.stl) or the first request line.
enum class TraceFormat { Auto, Stl, Dramsim3, Ramulator2 };
const std::vector<std::string>& trace_format_names();  // auto, stl, dramsim3, ramulator2
TraceFormat parse_trace_format(const std::string& name, const std::string& where);

struct TraceOptions {
  double clk_mhz = 800;  // clock of the cycle numbers (0.001..10^6 MHz); its period is rounded to whole ps as DRAMSys does
  TraceFormat format = TraceFormat::Auto;
  // Bytes per burst of the memory: an .stl request longer than one burst
  // becomes one request per burst it touches (DRAMSys splits it into child
  // bursts). 0: lengths are checked but not split.
  std::uint64_t burst_bytes = 0;
};

// Cycle numbers that go backwards are played as DRAMSys' StlPlayer plays
// them: as the running maximum (the request is sent as soon as the previous
// one was accepted). Errors name the file and line and what is wrong, never
// quoting the line.
std::vector<Request> load_trace(const std::string& path, const TraceOptions& options);
std::vector<Request> parse_trace(const std::string& text, const TraceOptions& options, const std::string& where);
// The format of a trace's text (`where` ends in .stl: stl). Throws naming
// `where` when no line says which it is.
TraceFormat detect_trace_format(const std::string& text, const std::string& where);

// A clock period in whole picoseconds, as SystemC rounds DRAMSys' clocks:
// floor(10^6 / MHz + 0.5).
std::int64_t period_ps(double clk_mhz);

// Built-in generators, configured as JSON:
//   {"type": "stream" | "random" | "strided", "requests": 10000,
//    "interval": 1.0 (trace clock cycles between requests),
//    "write_fraction": 0.0, "stride": bytes (strided; stream uses the burst size),
//    "start": 0 (first address), "seed": 1, "clk_mhz": 800}
// Addresses are aligned to `align` bytes and wrap at `capacity` bytes.
std::vector<Request> generate_trace(const nlohmann::json& spec, std::uint64_t align, std::uint64_t capacity,
                                    const std::string& where);

}  // namespace dsegym::dram
