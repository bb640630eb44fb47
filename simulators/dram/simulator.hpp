#pragma once
// Trace-driven, cycle-level model of a DRAM memory controller and device,
// following DRAMSys' controller architecture: a front end (trace player and
// arbiter) feeding one controller per channel, each with a scheduler buffer,
// one bank machine per bank (page policy), refresh and power-down managers
// per rank, a command multiplexer issuing at most one command per command
// bus per clock, a timing checker enforcing the memspec's JEDEC constraints,
// and a response queue. Energy follows DRAMPower's IDD-based model, fed
// with the issued commands as DRAMSys feeds it.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "simulators/dram/config.hpp"
#include "simulators/dram/memspec.hpp"
#include "simulators/dram/trace.hpp"

namespace dsegym::dram {

enum class Cmd : std::uint8_t { ACT, PRE, PREA, RD, RDA, WR, WRA, REFA, REFPB, PDEA, PDXA, PDEP, PDXP, SREFEN, SREFEX, Count };
constexpr std::size_t kNumCmds = static_cast<std::size_t>(Cmd::Count);
const char* cmd_name(Cmd c);

struct CommandRecord {
  std::int64_t cycle;
  Cmd cmd;
  std::uint16_t channel;
  std::uint16_t rank;
  std::uint16_t bank;  // index within the channel (rank * banks + bank)
  std::uint32_t row;
};

// Energy components in pJ, over all devices of all ranks and channels.
// Background: active/precharged standby, power-down (IDD3P/IDD2P), self
// refresh (IDD6 plus the refresh a self-refresh period includes).
struct Energy {
  double act = 0, pre = 0, read = 0, write = 0, refresh = 0;
  double act_standby = 0, pre_standby = 0, power_down = 0, self_refresh = 0;
  double total() const { return act + pre + read + write + refresh + act_standby + pre_standby + power_down + self_refresh; }
};

struct SimResult {
  std::int64_t requests = 0, reads = 0, writes = 0;
  std::int64_t cycles = 0;      // simulated clock cycles until the last response
  double total_time_ns = 0;     // DRAMSys' "Total Time"
  double avg_latency_ns = 0;    // all requests, from issue by the initiator to response
  double avg_read_latency_ns = 0, p50_read_latency_ns = 0, p99_read_latency_ns = 0, max_read_latency_ns = 0;
  double avg_write_latency_ns = 0;
  double bandwidth_gbps = 0;    // data moved / total time (1e9 B/s)
  double bus_utilization = 0;   // fraction of cycles the data bus carries a burst
  std::int64_t row_hits = 0, row_misses = 0, row_conflicts = 0;
  double row_hit_rate = 0;
  std::array<std::int64_t, kNumCmds> commands{};
  bool has_energy = false;
  Energy energy_pj;
  double energy_nj = 0;
  // DRAMPower's average power: each channel's energy over its energy window
  // (first to last command's completion), summed over channels.
  double average_power_mw = 0;
  std::int64_t wrapped_addresses = 0;  // addresses beyond the capacity (high bits ignored, as DRAMSys does)
  std::vector<CommandRecord> command_log;  // with SimOptions::record_commands

  nlohmann::json to_json() const;
};

struct SimOptions {
  bool record_commands = false;
  // Clock of the trace player (MHz): the initiator sends the next request on
  // its next clock edge after the previous one was accepted. 0: the
  // memory's clock.
  double player_clk_mhz = 0;
  // An address beyond the device's capacity is an error unless this is set;
  // then its high bits are ignored, as DRAMSys does (counted in
  // SimResult::wrapped_addresses).
  bool wrap_addresses = false;
};

// The first request whose address is beyond the device's capacity, or -1.
std::int64_t first_address_beyond(const MemSpec& spec, const std::vector<Request>& trace);

// Runs the trace to completion. Throws InvalidArgument for a configuration
// that the memspec cannot support.
SimResult simulate(const MemSpec& spec, const ControllerConfig& config, const AddressMapping& mapping,
                   const std::vector<Request>& trace, const SimOptions& options = {});

}  // namespace dsegym::dram
