#pragma once
// Memory-controller configuration (DRAMSys' McConfig knobs) and address
// mapping (DRAMSys' CONGEN bit lists).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "simulators/dram/memspec.hpp"

namespace dsegym::dram {

enum class PagePolicy { Open, OpenAdaptive, Closed, ClosedAdaptive };
enum class SchedulerKind { Fifo, FrFcfs, FrFcfsGrp };
enum class SchedulerBuffer { Bankwise, ReadWrite, Shared };
enum class RespQueue { Fifo, Reorder };
enum class RefreshPolicy { NoRefresh, AllBank, PerBank, SameBank };
enum class PowerDownPolicy { NoPowerDown, Staggered };
enum class Arbiter { Simple, Fifo, Reorder };
enum class CmdMux { Oldest, Strict };

// Names as DRAMSys spells them.
const std::vector<std::string>& page_policy_names();
const std::vector<std::string>& scheduler_names();
const std::vector<std::string>& scheduler_buffer_names();
const std::vector<std::string>& resp_queue_names();
const std::vector<std::string>& refresh_policy_names();
const std::vector<std::string>& power_down_policy_names();
const std::vector<std::string>& arbiter_names();
const std::vector<std::string>& cmd_mux_names();

struct ControllerConfig {
  PagePolicy page_policy = PagePolicy::Open;
  SchedulerKind scheduler = SchedulerKind::FrFcfs;
  SchedulerBuffer scheduler_buffer = SchedulerBuffer::Bankwise;
  int request_buffer_size = 8;
  // Oldest: the command of the oldest request that is ready; Strict: the
  // same, but column commands only in request acceptance order.
  CmdMux cmd_mux = CmdMux::Oldest;
  RespQueue resp_queue = RespQueue::Fifo;
  RefreshPolicy refresh_policy = RefreshPolicy::AllBank;
  int refresh_max_postponed = 0;
  int refresh_max_pulledin = 0;
  PowerDownPolicy power_down_policy = PowerDownPolicy::NoPowerDown;
  Arbiter arbiter = Arbiter::Simple;
  int max_active_transactions = 64;
  // Pipeline delays in ns, rounded to the nearest clock cycle as DRAMSys
  // does (its defaults: all 0).
  double think_delay_fw = 0;
  double think_delay_bw = 0;
  double phy_delay_fw = 0;
  double phy_delay_bw = 0;
  double arbitration_delay_fw = 0;
  double arbitration_delay_bw = 0;

  // Throws InvalidArgument naming the knob when a value is impossible for
  // this memspec (e.g. per-bank refresh on DDR3).
  void validate(const MemSpec& spec, const std::string& where) const;
};

// Reads a DRAMSys mcconfig ({"mcconfig": {...}} or the inner object);
// missing knobs keep their defaults, unknown ones are errors.
ControllerConfig parse_controller_config(const nlohmann::json& j, const std::string& where);
ControllerConfig load_controller_config(const std::string& path);
nlohmann::json controller_config_to_json(const ControllerConfig& c);

struct AddressMapping {
  std::vector<int> byte_bits, column_bits, bank_bits, bankgroup_bits, rank_bits, row_bits, channel_bits;
  std::vector<std::pair<int, int>> xor_bits;  // bit FIRST ^= bit SECOND before decoding
  std::string name;

  // Checks that the bit counts match the memspec's geometry.
  void validate(const MemSpec& spec, const std::string& where) const;
};

// Named orders built from a memspec's geometry (most significant first):
//   RoBaCo: row | rank | bank | bank group | column | byte     (DRAMSys "rbc")
//   BaRoCo: rank | bank | bank group | row | column | byte     (DRAMSys "brc")
//   RoCoBa: row | rank | column (high) | bank | bank group | column (burst) | byte
// With several channels the channel bits sit above all of these.
const std::vector<std::string>& mapping_names();
AddressMapping make_mapping(const std::string& name, const MemSpec& spec);
// A DRAMSys amconfig file ({"CONGEN": {...}}) or a built-in name.
AddressMapping resolve_mapping(const std::string& name_or_path, const MemSpec& spec);


}  // namespace dsegym::dram
