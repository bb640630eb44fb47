#pragma once
// Memory request traces: DRAMSys .stl files and built-in generators.
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
// within 10^11 ns (100 s) of the start (idle time is simulated: refreshes).
inline constexpr std::uint64_t kMaxTraceCycle = std::uint64_t{1} << 53;
inline constexpr double kMaxTraceTimeNs = 1e11;

// Parses a DRAMSys trace: one request per line, "<cycle>:\t<read|write>\t<hex address>"
// (optionally followed by data, which is ignored); '#' starts a comment.
// The cycle is in a clock of clk_mhz (0.001..10^6 MHz). Errors name the file
// and line and what is wrong, never quoting the line.
std::vector<Request> load_stl(const std::string& path, double clk_mhz);
std::vector<Request> parse_stl(const std::string& text, double clk_mhz, const std::string& where);

// Built-in generators, configured as JSON:
//   {"type": "stream" | "random" | "strided", "requests": 10000,
//    "interval": 1.0 (trace clock cycles between requests),
//    "write_fraction": 0.0, "stride": bytes (strided; stream uses the burst size),
//    "start": 0 (first address), "seed": 1, "clk_mhz": 800}
// Addresses are aligned to `align` bytes and wrap at `capacity` bytes.
std::vector<Request> generate_trace(const nlohmann::json& spec, std::uint64_t align, std::uint64_t capacity,
                                    const std::string& where);

}  // namespace dsegym::dram
