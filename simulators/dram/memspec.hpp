#pragma once
// DRAM device description: architecture, JEDEC timings (in clock cycles) and
// IDD/VDD currents, read from DRAMSys-format memspec JSON files.
#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace dsegym::dram {

enum class Standard { DDR3, DDR4, LPDDR4, HBM2 };
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
  double idd2p = 0;   // precharge power-down (fast exit)
  double idd3p = 0;   // active power-down (fast exit)
  double idd6 = 0;    // self refresh
};

struct MemSpec {
  std::string id;
  std::string file;
  Standard standard = Standard::DDR3;

  // Architecture.
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
  int RTP = 0, WR = 0, FAW = 0, RTW = 0, RTRS = 1, PPD = 0;
  int RFC = 0, RFC_PB = 0, REFI = 0, REFI_PB = 0, RREFD = 0;
  int XP = 0, XS = 0, CKE = 0, CKESR = 0, ACTPDEN = 1, PRPDEN = 1, REFPDEN = 1;

  std::vector<PowerDomain> power;  // empty: the memspec gives no currents

  double tck_ns() const { return 1000.0 / clk_mhz; }
  int burst_cycles() const { return burst_length / data_rate; }
  int banks_per_group() const { return banks / bank_groups; }
  std::uint64_t bytes_per_burst() const {
    return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(devices) * static_cast<std::uint64_t>(burst_length) / 8;
  }
  std::uint64_t bus_bytes() const { return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(devices) / 8; }
  std::uint64_t capacity_bytes() const;
  // Peak data bandwidth of the channel in GB/s (1e9 bytes per second).
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

// A short name ("ddr3-1600") or a path to a memspec JSON file.
MemSpec resolve_memspec(const std::string& name_or_path);

// data/dram in the source tree (compiled in), or $DSEGYM_DATA/dram.
std::string dram_data_dir();

}  // namespace dsegym::dram
