#pragma once
// DRAM device description: architecture, JEDEC timings (in clock cycles) and
// IDD/VDD currents, read from DRAMSys-format memspec JSON files.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dsegym::dram {

// DRAMSys' memoryType names: DDR3, DDR4, LPDDR4, HBM2, WIDEIO_SDR, WIDEIO2.
enum class Standard { DDR3, DDR4, LPDDR4, HBM2, WideIO, WideIO2 };
const char* standard_name(Standard s);

// Currents (mA) and voltage (V) of one supply domain. DRAMPower's model:
// command energies are the current above the background current over the
// command's duration; background energy is the state's current over time.
struct PowerDomain {
  double vdd = 0;
  double idd0 = 0;    // one ACT-PRE cycle
  double idd2n = 0;   // precharge standby
  double idd3n = 0;   // active standby
  double idd4r = 0;   // burst read
  double idd4w = 0;   // burst write
  double idd5 = 0;    // all-bank refresh burst
  double idd5pb = 0;  // per-bank refresh burst
  // Power-down currents as DRAMSys drives DRAMPower: slow-exit power-down
  // (IDD2P0, IDD3P0) on DDR3/DDR4/Wide I/O; the memspec's IDD2P/IDD3P elsewhere.
  double idd2p = 0;   // precharge power-down
  double idd3p = 0;   // active power-down
  double idd6 = 0;    // self refresh
};

struct MemSpec {
  std::string id;
  std::string file;
  Standard standard = Standard::DDR3;

  // Architecture (per channel; channels are independent controllers).
  int channels = 1;
  int ranks = 1;
  int bank_groups = 1;
  int banks = 8;  // per rank
  std::int64_t rows = 0;
  std::int64_t columns = 0;
  int width = 8;    // data pins per device
  int devices = 1;  // devices per rank (on a DIMM)
  int burst_length = 8;
  int data_rate = 2;
  double clk_mhz = 800;

  // Timings in clock cycles (JEDEC names).
  int RL = 0, WL = 0, RCD = 0, RCD_WR = 0, RP = 0, RP_AB = 0, RAS = 0, RC = 0;
  int RRD_S = 0, RRD_L = 0, CCD_S = 0, CCD_L = 0, WTR_S = 0, WTR_L = 0;
  int RTP = 0, WR = 0, FAW = 0, RTRS = 1, PPD = 0;
  int RFC = 0, RFC_PB = 0, REFI = 0, REFI_PB = 0, RREFD = 0;
  int XP = 0, XS = 0, XS_DLL = 0, CKE = 0, CKESR = 0, ACTPDEN = 1, PRPDEN = 1, REFPDEN = 1;
  int DQSCK = 0;

  // Command-to-command distances derived from the timings by the standard's
  // rules (DRAMSys' timing checker for the standard, 2021 release):
  int acts_in_faw = 4;  // ACTs allowed in a rolling FAW window (Wide I/O: 2 in tTAW)
  int rd_to_pre = 0;    // RD -> PRE, same bank
  int wr_to_pre = 0;    // WR -> PRE, same bank (write recovery)
  int rd_to_wr = 0;     // RD -> WR, same rank
  int wr_to_rd_s = 0, wr_to_rd_l = 0;  // WR -> RD, other / same bank group
  int rd_data = 0;      // RD -> end of its burst on the data bus
  int wr_data = 0;      // WR -> end of its burst on the data bus
  int rd_to_pden = 0, wr_to_pden = 0, wra_to_pden = 0;  // RD/RDA, WR, WRA -> power-down entry
  int rda_to_sref = 0, wra_to_sref = 0;                 // RDA, WRA -> self-refresh entry (precharge done)
  // DRAMPower: auto-precharge of RDA/WRA happens this many cycles after it,
  // and the energy window ends after the last command's completion.
  int rda_pre_offset = 0, wra_pre_offset = 0;
  int rd_completion = 0, wr_completion = 0;

  std::vector<PowerDomain> power;  // empty: the memspec gives no currents

  // The clock period as DRAMSys (SystemC, 1 ps resolution) rounds it:
  // floor(10^6 / clkMhz + 0.5) ps. Times are reported in these periods; energy
  // uses the exact period, as DRAMPower does.
  std::int64_t tck_ps() const { return static_cast<std::int64_t>(std::floor(1e6 / clk_mhz + 0.5)); }
  double tck_ns() const { return static_cast<double>(tck_ps()) / 1000.0; }
  double exact_tck_ns() const { return 1000.0 / clk_mhz; }
  int burst_cycles() const { return burst_length / data_rate; }
  int banks_per_group() const { return banks / bank_groups; }
  std::uint64_t bytes_per_burst() const {
    return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(devices) * static_cast<std::uint64_t>(burst_length) / 8;
  }
  std::uint64_t bus_bytes() const { return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(devices) / 8; }
  std::uint64_t channel_capacity_bytes() const;
  std::uint64_t capacity_bytes() const { return channel_capacity_bytes() * static_cast<std::uint64_t>(channels); }
  // Peak data bandwidth of all channels in GB/s (1e9 bytes per second).
  double peak_bandwidth_gbps() const;
  bool has_power() const { return !power.empty(); }
  bool supports_per_bank_refresh() const { return RFC_PB > 0 && REFI_PB > 0; }
  // HBM2 has separate row and column command buses.
  bool separate_row_column_bus() const { return standard == Standard::HBM2; }
};

// Loads a memspec file. Unknown or missing fields are errors naming the
// file and field.
MemSpec load_memspec(const std::string& path);
MemSpec parse_memspec(const nlohmann::json& root, const std::string& path);  // `path` names it in messages

// The memspecs shipped in data/dram/memspecs, by short name.
struct BuiltinMemSpec {
  const char* name;
  const char* file;
  const char* description;
};
const std::vector<BuiltinMemSpec>& builtin_memspecs();
std::string builtin_memspec_names();  // "ddr3-1600, ddr4-1866, ..."

// A short name ("ddr3-1600") or a path to a memspec JSON file.
MemSpec resolve_memspec(const std::string& name_or_path);

// data/dram in the source tree (compiled in), or $DSEGYM_DATA/dram.
std::string dram_data_dir();

}  // namespace dsegym::dram
