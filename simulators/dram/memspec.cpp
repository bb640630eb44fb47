#include "simulators/dram/memspec.hpp"

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "envs/core/error.hpp"
#include "envs/core/files.hpp"
#include "envs/core/json_io.hpp"

namespace dsegym::dram {

using nlohmann::json;

const char* standard_name(Standard s) {
  switch (s) {
    case Standard::DDR3: return "DDR3";
    case Standard::DDR4: return "DDR4";
    case Standard::LPDDR4: return "LPDDR4";
    case Standard::HBM2: return "HBM2";
  }
  return "?";
}

std::uint64_t MemSpec::capacity_bytes() const {
  return static_cast<std::uint64_t>(ranks) * static_cast<std::uint64_t>(banks) * static_cast<std::uint64_t>(rows) *
         static_cast<std::uint64_t>(columns) * bus_bytes();
}

double MemSpec::peak_bandwidth_gbps() const {
  return clk_mhz * 1e6 * data_rate * static_cast<double>(bus_bytes()) / 1e9;
}

std::string dram_data_dir() {
  if (const char* env = std::getenv("DSEGYM_DATA")) return std::string(env) + "/dram";
  return std::string(DSEGYM_SOURCE_DIR) + "/data/dram";
}

const std::vector<BuiltinMemSpec>& builtin_memspecs() {
  static const std::vector<BuiltinMemSpec> specs = {
      {"ddr3-1600", "MICRON_1Gb_DDR3-1600_8bit_G.json", "Micron 1Gb x8 DDR3-1600, 8-device DIMM (ArchGym's default)"},
      {"ddr4-2400", "MICRON_4Gb_DDR4-2400_8bit_A.json", "Micron 4Gb x8 DDR4-2400, 8-device DIMM"},
      {"ddr4-2400-jedec", "JEDEC_4Gb_DDR4-2400_8bit_A.json", "JEDEC 4Gb x8 DDR4-2400, 8-device DIMM"},
      {"lpddr4-3200", "JEDEC_8Gb_LPDDR4-3200_16bit.json", "JEDEC 8Gb x16 LPDDR4-3200 channel"},
      {"hbm2", "HBM2.json", "HBM2 pseudo channel pair, 1 GHz (no currents: energy is not reported)"},
  };
  return specs;
}

namespace {

struct Reader {
  const json& obj;
  std::string where;  // "FILE: memtimingspec"
  std::set<std::string> used;

  bool has(const char* key) const { return obj.contains(key); }
  double number(const char* key, bool required = true, double fallback = 0) {
    used.insert(key);
    if (!obj.contains(key)) {
      if (required) throw InvalidArgument(where + "." + key + ": missing (required)");
      return fallback;
    }
    const json& v = obj.at(key);
    if (!v.is_number()) throw InvalidArgument(where + "." + key + ": expected a number, got " + excerpt(v));
    const double d = v.get<double>();
    if (d < 0) throw InvalidArgument(where + "." + key + ": must not be negative, got " + excerpt(v));
    return d;
  }
  int integer(const char* key, bool required = true, int fallback = 0) {
    const double d = number(key, required, fallback);
    if (d > 1e9 || d != std::floor(d))
      throw InvalidArgument(where + "." + key + ": expected an integer in 0..1000000000, got " + std::to_string(d));
    return static_cast<int>(d);
  }
  // An integer that must be at least 1 (a width, a count, a timing no device has at 0).
  int positive(const char* key, bool required = true, int fallback = 1) {
    const int v = integer(key, required, fallback);
    if (v < 1) throw InvalidArgument(where + "." + key + ": must be at least 1, got " + std::to_string(v));
    return v;
  }
  // Keys the standard knows but the model does not need.
  void ignore(std::initializer_list<const char*> keys) {
    for (const char* k : keys) used.insert(k);
  }
  void reject_unknown() const {
    for (auto it = obj.begin(); it != obj.end(); ++it)
      if (!used.count(it.key())) {
        std::string valid;
        for (const auto& u : used) valid += (valid.empty() ? "" : ", ") + u;
        throw InvalidArgument(where + "." + it.key() + ": unknown field; valid: " + valid);
      }
  }
};

const json& section(const json& m, const char* key, const std::string& file) {
  if (!m.contains(key) || !m.at(key).is_object()) throw InvalidArgument(file + ": memspec." + key + ": missing (required object)");
  return m.at(key);
}

}  // namespace

MemSpec load_memspec(const std::string& path) { return parse_memspec(read_json_file(path, "memspec"), path); }

MemSpec parse_memspec(const json& root, const std::string& path) {
  if (!root.is_object() || !root.contains("memspec") || !root.at("memspec").is_object())
    throw InvalidArgument("memspec " + path + ": expected an object with a 'memspec' object");
  const json& m = root.at("memspec");
  for (auto it = m.begin(); it != m.end(); ++it) {
    static const std::set<std::string> top = {"memarchitecturespec", "memoryId", "memoryType", "mempowerspec", "memtimingspec"};
    if (!top.count(it.key()))
      throw InvalidArgument(path + ": memspec." + it.key() +
                            ": unknown field; valid: memarchitecturespec, memoryId, memoryType, mempowerspec, memtimingspec");
  }
  MemSpec s;
  s.file = path;
  s.id = m.value("memoryId", std::filesystem::path(path).stem().string());
  if (!m.contains("memoryType") || !m.at("memoryType").is_string()) throw InvalidArgument(path + ": memspec.memoryType: missing");
  const auto type = m.at("memoryType").get<std::string>();
  if (type == "DDR3")
    s.standard = Standard::DDR3;
  else if (type == "DDR4")
    s.standard = Standard::DDR4;
  else if (type == "LPDDR4")
    s.standard = Standard::LPDDR4;
  else if (type == "HBM2")
    s.standard = Standard::HBM2;
  else
    throw InvalidArgument(path + ": memspec.memoryType: '" + type + "' is not supported; valid: DDR3, DDR4, LPDDR4, HBM2");

  {
    Reader a{section(m, "memarchitecturespec", path), path + ": memspec.memarchitecturespec", {}};
    s.burst_length = a.positive("burstLength");
    s.data_rate = a.positive("dataRate");
    s.banks = a.positive("nbrOfBanks");
    s.bank_groups = a.positive("nbrOfBankGroups", false, 1);
    s.columns = a.positive("nbrOfColumns");
    s.rows = a.positive("nbrOfRows");
    s.ranks = a.positive("nbrOfRanks");
    s.width = a.positive("width");
    s.devices = a.positive("nbrOfDevicesOnDIMM", false, 1);
    const int channels = a.integer("nbrOfChannels", false, 1);
    a.reject_unknown();
    if (channels != 1) throw InvalidArgument(path + ": memspec.memarchitecturespec.nbrOfChannels: only 1 channel is modelled, got " + std::to_string(channels));
    if (s.banks < 1 || s.bank_groups < 1 || s.banks % s.bank_groups != 0)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: nbrOfBanks must be a positive multiple of nbrOfBankGroups");
    if (s.burst_length < 1 || s.data_rate < 1 || s.burst_length % s.data_rate != 0)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: burstLength must be a positive multiple of dataRate");
    for (auto [v, name] : {std::pair{s.columns, "nbrOfColumns"}, {s.rows, "nbrOfRows"}, {static_cast<std::int64_t>(s.banks), "nbrOfBanks"},
                           {static_cast<std::int64_t>(s.ranks), "nbrOfRanks"}, {static_cast<std::int64_t>(s.bank_groups), "nbrOfBankGroups"}})
      if (v < 1 || (v & (v - 1)) != 0)
        throw InvalidArgument(path + ": memspec.memarchitecturespec." + name + ": must be a power of two, got " + std::to_string(v));
  }

  {
    Reader t{section(m, "memtimingspec", path), path + ": memspec.memtimingspec", {}};
    s.clk_mhz = t.number("clkMhz");
    if (!(s.clk_mhz > 0 && s.clk_mhz <= 1e5)) throw InvalidArgument(path + ": memspec.memtimingspec.clkMhz: must be in (0, 100000]");
    s.RL = t.positive("RL");
    s.WL = t.positive("WL");
    s.RAS = t.positive("RAS");
    s.RTP = t.integer("RTP");
    s.WR = t.integer("WR");
    s.FAW = t.integer("FAW");
    s.XP = t.integer("XP");
    s.CKE = t.integer("CKE");
    s.RTRS = t.integer("RTRS", false, 1);
    switch (s.standard) {
      case Standard::DDR3:
      case Standard::DDR4: {
        s.RCD = s.RCD_WR = t.positive("RCD");
        s.RP = s.RP_AB = t.positive("RP");
        s.RC = t.positive("RC");
        s.RFC = t.positive("RFC");
        s.REFI = t.positive("REFI");
        s.XS = t.integer("XS");
        s.CKESR = t.integer("CKESR");
        s.ACTPDEN = t.integer("ACTPDEN", false, 1);
        s.PRPDEN = t.integer("PRPDEN", false, 1);
        s.REFPDEN = t.integer("REFPDEN", false, 1);
        t.integer("CL");  // CL equals RL with AL = 0 (checked below)
        if (t.integer("AL", false, 0) != 0) throw InvalidArgument(path + ": memspec.memtimingspec.AL: only AL = 0 is modelled");
        if (s.standard == Standard::DDR3) {
          s.CCD_S = s.CCD_L = t.integer("CCD");
          s.RRD_S = s.RRD_L = t.integer("RRD");
          s.WTR_S = s.WTR_L = t.integer("WTR");
        } else {
          s.CCD_S = t.integer("CCD_S");
          s.CCD_L = t.integer("CCD_L");
          s.RRD_S = t.integer("RRD_S");
          s.RRD_L = t.integer("RRD_L");
          s.WTR_S = t.integer("WTR_S");
          s.WTR_L = t.integer("WTR_L");
          t.ignore({"RFC2", "RFC4", "REFM", "RPRE", "WPRE"});
        }
        t.ignore({"DQSCK", "XPDLL", "XSDLL"});
        break;
      }
      case Standard::LPDDR4:
        s.RCD = s.RCD_WR = t.positive("RCD");
        s.RP = t.integer("RPPB");
        s.RP_AB = t.integer("RPAB");
        s.RC = t.integer("RCPB");
        t.integer("RCAB");
        s.CCD_S = s.CCD_L = t.integer("CCD");
        s.RRD_S = s.RRD_L = t.integer("RRD");
        s.WTR_S = s.WTR_L = t.integer("WTR");
        s.RFC = t.integer("RFCAB");
        s.RFC_PB = t.integer("RFCPB");
        s.REFI = t.positive("REFI");
        s.REFI_PB = t.integer("REFIPB");
        s.PPD = t.integer("PPD");
        s.XS = t.integer("XSR");
        s.CKESR = t.integer("SR");
        t.ignore({"CMDCKE", "DQS2DQ", "DQSCK", "DQSS", "ESCKE", "RPST", "WPRE"});
        break;
      case Standard::HBM2:
        s.RCD = t.integer("RCDRD");
        s.RCD_WR = t.integer("RCDWR");
        s.RP = s.RP_AB = t.positive("RP");
        s.RC = t.positive("RC");
        s.CCD_S = t.integer("CCDS");
        s.CCD_L = t.integer("CCDL");
        s.RRD_S = t.integer("RRDS");
        s.RRD_L = t.integer("RRDL");
        s.WTR_S = t.integer("WTRS");
        s.WTR_L = t.integer("WTRL");
        s.RTW = t.integer("RTW");
        s.RFC = t.positive("RFC");
        s.RFC_PB = t.integer("RFCSB");
        s.REFI = t.positive("REFI");
        s.REFI_PB = t.integer("REFISB");
        s.RREFD = t.integer("RREFD");
        s.XS = t.integer("XS");
        s.CKESR = s.CKE;
        if (t.integer("PL", false, 0) != 0) throw InvalidArgument(path + ": memspec.memtimingspec.PL: only PL = 0 is modelled");
        t.ignore({"DQSCK"});
        break;
    }
    t.reject_unknown();
    if (s.RC < s.RAS) throw InvalidArgument(path + ": memspec.memtimingspec: RC (" + std::to_string(s.RC) + ") is below RAS (" + std::to_string(s.RAS) + ")");
    if (s.REFI <= s.RFC) throw InvalidArgument(path + ": memspec.memtimingspec: REFI must exceed RFC");
  }

  if (m.contains("mempowerspec")) {
    Reader p{m.at("mempowerspec"), path + ": memspec.mempowerspec", {}};
    PowerDomain d1;
    d1.vdd = p.number("vdd");
    d1.idd0 = p.number("idd0");
    d1.idd2n = p.number("idd2n");
    d1.idd3n = p.number("idd3n");
    d1.idd4r = p.number("idd4r");
    d1.idd4w = p.number("idd4w");
    d1.idd5 = p.number("idd5");
    d1.idd6 = p.number("idd6");
    PowerDomain d2;
    switch (s.standard) {
      case Standard::DDR3:
      case Standard::DDR4:
        d1.idd2p = p.number("idd2p1");  // fast-exit power-down currents
        d1.idd3p = p.number("idd3p1");
        p.ignore({"idd2p0", "idd3p0"});
        if (s.standard == Standard::DDR4) {  // VPP domain: activation and self refresh
          d2.vdd = p.number("vdd2");
          d2.idd0 = p.number("idd02");
          d2.idd6 = p.number("idd62", false, 0);
        }
        break;
      case Standard::LPDDR4:
        d1.idd2p = p.number("idd2p");
        d1.idd3p = p.number("idd3p");
        d1.idd5pb = p.number("idd5b", false, 0);
        d2.vdd = p.number("vdd2");
        d2.idd0 = p.number("idd02");
        d2.idd2n = p.number("idd2n2");
        d2.idd3n = p.number("idd3n2");
        d2.idd4r = p.number("idd4r2");
        d2.idd4w = p.number("idd4w2");
        d2.idd5 = p.number("idd52");
        d2.idd5pb = p.number("idd5b2", false, 0);
        d2.idd2p = p.number("idd2p2");
        d2.idd3p = p.number("idd3p2");
        d2.idd6 = p.number("idd62");
        // VDDQ (I/O) currents and the self-refresh/standby variants are not modelled.
        p.ignore({"vddq", "idd0ql", "idd2nQ", "idd2ns", "idd2ns2", "idd2nsq", "idd2pQ", "idd2ps", "idd2ps2", "idd2psq",
                  "idd3nQ", "idd3ns", "idd3ns2", "idd3nsq", "idd3pQ", "idd3ps", "idd3ps2", "idd3psq", "idd4rq", "idd4wq",
                  "idd5ab", "idd5ab2", "idd5abq", "idd5bq", "idd5q", "idd6q"});
        break;
      case Standard::HBM2:
        d1.idd2p = p.number("idd2p");
        d1.idd3p = p.number("idd3p");
        break;
    }
    p.reject_unknown();
    s.power.push_back(d1);
    if (d2.vdd > 0) s.power.push_back(d2);
  }
  return s;
}

MemSpec resolve_memspec(const std::string& name_or_path) {
  for (const auto& b : builtin_memspecs())
    if (name_or_path == b.name) return load_memspec(dram_data_dir() + "/memspecs/" + b.file);
  const std::string path = user_file(name_or_path, "memspec");
  if (std::filesystem::exists(path)) return load_memspec(path);
  std::string names;
  for (const auto& b : builtin_memspecs()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  throw InvalidArgument("memspec '" + excerpt(name_or_path, 120) + "' is neither a built-in name (" + names + ") nor an existing file");
}

}  // namespace dsegym::dram
