#include "simulators/dram/config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"

namespace dsegym::dram {

using nlohmann::json;

const std::vector<std::string>& page_policy_names() {
  static const std::vector<std::string> v = {"Open", "OpenAdaptive", "Closed", "ClosedAdaptive"};
  return v;
}
const std::vector<std::string>& scheduler_names() {
  static const std::vector<std::string> v = {"Fifo", "FrFcfs", "FrFcfsGrp"};
  return v;
}
const std::vector<std::string>& scheduler_buffer_names() {
  static const std::vector<std::string> v = {"Bankwise", "ReadWrite", "Shared"};
  return v;
}
const std::vector<std::string>& resp_queue_names() {
  static const std::vector<std::string> v = {"Fifo", "Reorder"};
  return v;
}
const std::vector<std::string>& refresh_policy_names() {
  static const std::vector<std::string> v = {"NoRefresh", "AllBank", "PerBank", "SameBank"};
  return v;
}
const std::vector<std::string>& power_down_policy_names() {
  static const std::vector<std::string> v = {"NoPowerDown", "Staggered"};
  return v;
}
const std::vector<std::string>& cmd_mux_names() {
  static const std::vector<std::string> v = {"Oldest", "Strict"};
  return v;
}
const std::vector<std::string>& arbiter_names() {
  static const std::vector<std::string> v = {"Simple", "Fifo", "Reorder"};
  return v;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

template <class E>
E enum_value(const json& j, const std::string& where, const std::vector<std::string>& names) {
  if (!j.is_string()) throw InvalidArgument(where + ": expected one of " + join(names) + ", got " + j.dump());
  const auto s = j.get<std::string>();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == s) return static_cast<E>(i);
  throw InvalidArgument(where + ": '" + s + "' is not valid; choices: " + join(names));
}

int int_value(const json& j, const std::string& where, int lo, int hi) {
  const bool whole_float = j.is_number_float() && std::isfinite(j.get<double>()) && std::floor(j.get<double>()) == j.get<double>();
  if (!j.is_number_integer() && !whole_float) throw InvalidArgument(where + ": expected an integer, got " + excerpt(j));
  if (whole_float && std::fabs(j.get<double>()) > 1e15)
    throw InvalidArgument(where + ": " + excerpt(j) + " is not valid; valid: integers " + std::to_string(lo) + ".." + std::to_string(hi));
  const auto v = j.is_number_unsigned() ? static_cast<std::int64_t>(std::min<std::uint64_t>(j.get<std::uint64_t>(), std::uint64_t{1} << 62))
                 : whole_float         ? static_cast<std::int64_t>(j.get<double>())
                                       : j.get<std::int64_t>();
  if (v < lo || v > hi) throw InvalidArgument(where + ": " + std::to_string(v) + " is not valid; valid: integers " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v);
}

double ns_value(const json& j, const std::string& where) {
  if (!j.is_number()) throw InvalidArgument(where + ": expected a delay in ns, got " + excerpt(j));
  const double v = j.get<double>();
  if (!(v >= 0 && v <= 1e6)) throw InvalidArgument(where + ": " + excerpt(j) + " ns is not valid; valid: 0..1000000 ns");
  return v;
}

}  // namespace

void ControllerConfig::validate(const MemSpec& spec, const std::string& where) const {
  if (refresh_policy == RefreshPolicy::PerBank && !spec.supports_per_bank_refresh())
    throw InvalidArgument(where + ".RefreshPolicy: 'PerBank' is not valid for " + std::string(standard_name(spec.standard)) + " (" + spec.id +
                          ": no per-bank refresh); choices: NoRefresh, AllBank");
  if (refresh_policy == RefreshPolicy::SameBank)
    throw InvalidArgument(where + ".RefreshPolicy: 'SameBank' needs same-bank refresh (DDR5/LPDDR5), which " + spec.id +
                          " does not support; choices: NoRefresh, AllBank" + (spec.supports_per_bank_refresh() ? ", PerBank" : ""));
}

ControllerConfig parse_controller_config(const json& in, const std::string& where_in) {
  const json& j = in.contains("mcconfig") ? in.at("mcconfig") : in;
  const std::string where = where_in + (in.contains("mcconfig") ? ": mcconfig" : "");
  if (!j.is_object()) throw InvalidArgument(where + ": expected a JSON object");
  ControllerConfig c;
  static const std::vector<std::string> keys = {
      "PagePolicy", "Scheduler", "SchedulerBuffer", "RequestBufferSize", "CmdMux", "RespQueue", "RefreshPolicy",
      "RefreshMaxPostponed", "RefreshMaxPulledin", "PowerDownPolicy", "Arbiter", "MaxActiveTransactions",
      "RefreshManagement", "ThinkDelayFw", "ThinkDelayBw", "PhyDelayFw", "PhyDelayBw", "ArbitrationDelayFw", "ArbitrationDelayBw"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
      throw InvalidArgument(where + "." + it.key() + ": unknown knob; valid: " + join(keys));
  auto at = [&](const char* k) { return where + "." + k; };
  if (j.contains("PagePolicy")) c.page_policy = enum_value<PagePolicy>(j["PagePolicy"], at("PagePolicy"), page_policy_names());
  if (j.contains("Scheduler")) c.scheduler = enum_value<SchedulerKind>(j["Scheduler"], at("Scheduler"), scheduler_names());
  if (j.contains("SchedulerBuffer"))
    c.scheduler_buffer = enum_value<SchedulerBuffer>(j["SchedulerBuffer"], at("SchedulerBuffer"), scheduler_buffer_names());
  if (j.contains("RequestBufferSize")) c.request_buffer_size = int_value(j["RequestBufferSize"], at("RequestBufferSize"), 1, 1 << 16);
  if (j.contains("CmdMux")) c.cmd_mux = enum_value<CmdMux>(j["CmdMux"], at("CmdMux"), cmd_mux_names());
  if (j.contains("RespQueue")) c.resp_queue = enum_value<RespQueue>(j["RespQueue"], at("RespQueue"), resp_queue_names());
  if (j.contains("RefreshPolicy")) c.refresh_policy = enum_value<RefreshPolicy>(j["RefreshPolicy"], at("RefreshPolicy"), refresh_policy_names());
  // JEDEC DDR3/DDR4 allow at most 8 refreshes to be postponed or pulled in.
  if (j.contains("RefreshMaxPostponed")) c.refresh_max_postponed = int_value(j["RefreshMaxPostponed"], at("RefreshMaxPostponed"), 0, 8);
  if (j.contains("RefreshMaxPulledin")) c.refresh_max_pulledin = int_value(j["RefreshMaxPulledin"], at("RefreshMaxPulledin"), 0, 8);
  if (j.contains("PowerDownPolicy"))
    c.power_down_policy = enum_value<PowerDownPolicy>(j["PowerDownPolicy"], at("PowerDownPolicy"), power_down_policy_names());
  if (j.contains("Arbiter")) c.arbiter = enum_value<Arbiter>(j["Arbiter"], at("Arbiter"), arbiter_names());
  if (j.contains("MaxActiveTransactions")) c.max_active_transactions = int_value(j["MaxActiveTransactions"], at("MaxActiveTransactions"), 1, 1 << 16);
  if (j.contains("RefreshManagement") && !(j["RefreshManagement"].is_boolean() && !j["RefreshManagement"].get<bool>()))
    throw InvalidArgument(at("RefreshManagement") + ": only false is modelled");
  // Delays in ns (DRAMSys' Configuration: rounded to whole clock cycles).
  if (j.contains("ThinkDelayFw")) c.think_delay_fw = ns_value(j["ThinkDelayFw"], at("ThinkDelayFw"));
  if (j.contains("ThinkDelayBw")) c.think_delay_bw = ns_value(j["ThinkDelayBw"], at("ThinkDelayBw"));
  if (j.contains("PhyDelayFw")) c.phy_delay_fw = ns_value(j["PhyDelayFw"], at("PhyDelayFw"));
  if (j.contains("PhyDelayBw")) c.phy_delay_bw = ns_value(j["PhyDelayBw"], at("PhyDelayBw"));
  if (j.contains("ArbitrationDelayFw")) c.arbitration_delay_fw = ns_value(j["ArbitrationDelayFw"], at("ArbitrationDelayFw"));
  if (j.contains("ArbitrationDelayBw")) c.arbitration_delay_bw = ns_value(j["ArbitrationDelayBw"], at("ArbitrationDelayBw"));
  return c;
}

ControllerConfig load_controller_config(const std::string& path) {
  json j = read_json_file(path, "controller config");
  return parse_controller_config(j, path);
}

json controller_config_to_json(const ControllerConfig& c) {
  return {{"PagePolicy", page_policy_names()[static_cast<std::size_t>(c.page_policy)]},
          {"Scheduler", scheduler_names()[static_cast<std::size_t>(c.scheduler)]},
          {"SchedulerBuffer", scheduler_buffer_names()[static_cast<std::size_t>(c.scheduler_buffer)]},
          {"RequestBufferSize", c.request_buffer_size},
          {"CmdMux", cmd_mux_names()[static_cast<std::size_t>(c.cmd_mux)]},
          {"RespQueue", resp_queue_names()[static_cast<std::size_t>(c.resp_queue)]},
          {"RefreshPolicy", refresh_policy_names()[static_cast<std::size_t>(c.refresh_policy)]},
          {"RefreshMaxPostponed", c.refresh_max_postponed},
          {"RefreshMaxPulledin", c.refresh_max_pulledin},
          {"PowerDownPolicy", power_down_policy_names()[static_cast<std::size_t>(c.power_down_policy)]},
          {"Arbiter", arbiter_names()[static_cast<std::size_t>(c.arbiter)]},
          {"MaxActiveTransactions", c.max_active_transactions},
          {"ThinkDelayFw", c.think_delay_fw},
          {"ThinkDelayBw", c.think_delay_bw},
          {"PhyDelayFw", c.phy_delay_fw},
          {"PhyDelayBw", c.phy_delay_bw},
          {"ArbitrationDelayFw", c.arbitration_delay_fw},
          {"ArbitrationDelayBw", c.arbitration_delay_bw}};
}

// ------------------------------------------------------------- address mapping

namespace {
int log2_exact(std::uint64_t x) {
  int n = 0;
  while ((std::uint64_t{1} << n) < x) ++n;
  return n;
}
}  // namespace

void AddressMapping::validate(const MemSpec& spec, const std::string& where) const {
  auto expect = [&](const std::vector<int>& bits, std::uint64_t count, const char* field) {
    if (bits.size() != static_cast<std::size_t>(log2_exact(count)))
      throw InvalidArgument(where + "." + field + ": has " + std::to_string(bits.size()) + " bits, the memspec " + spec.id + " needs " +
                            std::to_string(log2_exact(count)));
  };
  expect(byte_bits, spec.bus_bytes(), "BYTE_BIT");
  expect(column_bits, static_cast<std::uint64_t>(spec.columns), "COLUMN_BIT");
  expect(row_bits, static_cast<std::uint64_t>(spec.rows), "ROW_BIT");
  expect(bank_bits, static_cast<std::uint64_t>(spec.banks_per_group()), "BANK_BIT");
  expect(bankgroup_bits, static_cast<std::uint64_t>(spec.bank_groups), "BANKGROUP_BIT");
  expect(rank_bits, static_cast<std::uint64_t>(spec.ranks), "RANK_BIT");
  expect(channel_bits, static_cast<std::uint64_t>(spec.channels), "CHANNEL_BIT");
  std::set<int> seen;
  for (const auto* v : {&byte_bits, &column_bits, &row_bits, &bank_bits, &bankgroup_bits, &rank_bits, &channel_bits})
    for (int b : *v) {
      if (b < 0 || b > 63) throw InvalidArgument(where + ": bit " + std::to_string(b) + " is out of range 0..63");
      if (!seen.insert(b).second) throw InvalidArgument(where + ": bit " + std::to_string(b) + " is used twice");
    }
}

const std::vector<std::string>& mapping_names() {
  static const std::vector<std::string> v = {"RoBaCo", "BaRoCo", "RoCoBa"};
  return v;
}

AddressMapping make_mapping(const std::string& name, const MemSpec& spec) {
  const int nbyte = log2_exact(spec.bus_bytes());
  const int ncol = log2_exact(static_cast<std::uint64_t>(spec.columns));
  const int nrow = log2_exact(static_cast<std::uint64_t>(spec.rows));
  const int nbank = log2_exact(static_cast<std::uint64_t>(spec.banks_per_group()));
  const int nbg = log2_exact(static_cast<std::uint64_t>(spec.bank_groups));
  const int nrank = log2_exact(static_cast<std::uint64_t>(spec.ranks));
  const int nburst = std::min(ncol, log2_exact(static_cast<std::uint64_t>(spec.burst_length)));
  AddressMapping m;
  m.name = name;
  int bit = 0;
  auto take = [&](std::vector<int>& field, int n) {
    for (int i = 0; i < n; ++i) field.push_back(bit++);
  };
  take(m.byte_bits, nbyte);
  if (name == "RoBaCo") {
    take(m.column_bits, ncol);
    take(m.bankgroup_bits, nbg);
    take(m.bank_bits, nbank);
    take(m.rank_bits, nrank);
    take(m.row_bits, nrow);
  } else if (name == "BaRoCo") {
    take(m.column_bits, ncol);
    take(m.row_bits, nrow);
    take(m.bankgroup_bits, nbg);
    take(m.bank_bits, nbank);
    take(m.rank_bits, nrank);
  } else if (name == "RoCoBa") {
    take(m.column_bits, nburst);
    take(m.bankgroup_bits, nbg);
    take(m.bank_bits, nbank);
    take(m.column_bits, ncol - nburst);
    take(m.rank_bits, nrank);
    take(m.row_bits, nrow);
  } else {
    throw InvalidArgument("address mapping '" + name + "' is not valid; choices: " + join(mapping_names()) + ", or an amconfig JSON file");
  }
  take(m.channel_bits, log2_exact(static_cast<std::uint64_t>(spec.channels)));  // channels on top, as DRAMSys' Wide I/O mappings
  return m;
}

AddressMapping resolve_mapping(const std::string& name_or_path, const MemSpec& spec) {
  const auto& names = mapping_names();
  if (std::find(names.begin(), names.end(), name_or_path) != names.end()) return make_mapping(name_or_path, spec);
  const std::string path = user_file(name_or_path, "address mapping");
  if (!std::filesystem::exists(path))
    throw InvalidArgument("address mapping '" + excerpt(name_or_path, 120) + "' is neither a built-in name (" + join(names) + ") nor an existing file");
  json j = read_json_file(path, "address mapping");
  if (!j.is_object()) throw InvalidArgument("address mapping " + name_or_path + ": not a JSON object");
  const json& c = j.contains("CONGEN") ? j.at("CONGEN") : (j.contains("addressmapping") ? j.at("addressmapping") : j);
  const std::string where = name_or_path + ": CONGEN";
  AddressMapping m;
  m.name = std::filesystem::path(name_or_path).stem().string();
  for (auto it = c.begin(); it != c.end(); ++it) {
    const std::string k = it.key();
    std::vector<int>* field = k == "BYTE_BIT"        ? &m.byte_bits
                              : k == "COLUMN_BIT"    ? &m.column_bits
                              : k == "ROW_BIT"       ? &m.row_bits
                              : k == "BANK_BIT"      ? &m.bank_bits
                              : k == "BANKGROUP_BIT" ? &m.bankgroup_bits
                              : k == "RANK_BIT"      ? &m.rank_bits
                              : k == "CHANNEL_BIT"   ? &m.channel_bits
                                                     : nullptr;
    if (field) {
      if (!it.value().is_array()) throw InvalidArgument(where + "." + k + ": expected an array of bit positions");
      for (const auto& b : it.value()) {
        if (!b.is_number_integer()) throw InvalidArgument(where + "." + k + ": expected integer bit positions, got " + b.dump());
        field->push_back(b.get<int>());
      }
    } else if (k == "XOR") {
      for (const auto& x : it.value()) {
        if (!x.is_object() || !x.contains("FIRST") || !x.contains("SECOND") || !x.at("FIRST").is_number_integer() ||
            !x.at("SECOND").is_number_integer())
          throw InvalidArgument(where + ".XOR: entries need integer FIRST and SECOND bit positions");
        const auto first = x.at("FIRST").get<std::int64_t>(), second = x.at("SECOND").get<std::int64_t>();
        if (first < 0 || first > 63 || second < 0 || second > 63) throw InvalidArgument(where + ".XOR: bit positions must be in 0..63");
        m.xor_bits.emplace_back(static_cast<int>(first), static_cast<int>(second));
      }
    } else {
      throw InvalidArgument(where + "." + k + ": unknown field; valid: BYTE_BIT, COLUMN_BIT, ROW_BIT, BANK_BIT, BANKGROUP_BIT, RANK_BIT, CHANNEL_BIT, XOR");
    }
  }
  m.validate(spec, where);
  return m;
}

}  // namespace dsegym::dram
