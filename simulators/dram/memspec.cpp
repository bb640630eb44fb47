#include "simulators/dram/memspec.hpp"

#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"

namespace dsegym::dram {

using nlohmann::json;

const char* standard_name(Standard s) {
  switch (s) {
    case Standard::DDR3: return "DDR3";
    case Standard::DDR4: return "DDR4";
    case Standard::LPDDR4: return "LPDDR4";
    case Standard::HBM2: return "HBM2";
    case Standard::WideIO: return "WIDEIO_SDR";
    case Standard::WideIO2: return "WIDEIO2";
  }
  return "?";
}

std::uint64_t MemSpec::channel_capacity_bytes() const {
  return static_cast<std::uint64_t>(ranks) * static_cast<std::uint64_t>(banks) * static_cast<std::uint64_t>(rows) *
         static_cast<std::uint64_t>(columns) * bus_bytes();
}

double MemSpec::peak_bandwidth_gbps() const {
  return channels * clk_mhz * 1e6 * data_rate * static_cast<double>(bus_bytes()) / 1e9;
}

std::string dram_data_dir() {
  if (const char* env = std::getenv("DSEGYM_DATA")) return std::string(env) + "/dram";
  return std::string(DSEGYM_SOURCE_DIR) + "/data/dram";
}

const std::vector<BuiltinMemSpec>& builtin_memspecs() {
  static const std::vector<BuiltinMemSpec> specs = {
      {"ddr3-1600", "MICRON_1Gb_DDR3-1600_8bit_G.json", "Micron 1Gb x8 DDR3-1600, 8-device DIMM (ArchGym's default)"},
      {"ddr4-1866", "JEDEC_4Gb_DDR4-1866_8bit_A.json", "JEDEC 4Gb x8 DDR4-1866, 8-device DIMM (DRAMSys' ddr4-example)"},
      {"ddr4-2400", "MICRON_4Gb_DDR4-2400_8bit_A.json", "Micron 4Gb x8 DDR4-2400, 8-device DIMM"},
      {"ddr4-2400-jedec", "JEDEC_4Gb_DDR4-2400_8bit_A.json", "JEDEC 4Gb x8 DDR4-2400, 8-device DIMM"},
      {"lpddr4-3200", "JEDEC_8Gb_LPDDR4-3200_16bit.json", "JEDEC 8Gb x16 LPDDR4-3200 channel"},
      {"hbm2", "HBM2.json", "HBM2 pseudo channel pair, 1 GHz (no currents: energy is not reported)"},
      {"wideio-200", "JEDEC_256Mb_WIDEIO-200_128bit.json", "JEDEC Wide I/O SDR 200 MHz, 4 channels x 128 bit, 256 Mb each"},
      {"wideio2-400", "JEDEC_4x64_2Gb_WIDEIO2-400_64bit.json", "JEDEC Wide I/O 2 400 MHz, 4 channels x 64 bit, 2 Gb each (no currents)"},
  };
  return specs;
}

std::string builtin_memspec_names() {
  std::string names;
  for (const auto& b : builtin_memspecs()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  return names;
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
  else if (type == "WIDEIO_SDR")
    s.standard = Standard::WideIO;
  else if (type == "WIDEIO2")
    s.standard = Standard::WideIO2;
  else
    throw InvalidArgument(path + ": memspec.memoryType: '" + excerpt(type, 40) + "' is not supported; valid: DDR3, DDR4, LPDDR4, HBM2, WIDEIO_SDR, WIDEIO2");

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
    if (a.has("nbrOfDevices")) {  // DRAMSys 4.0's name for it
      if (a.has("nbrOfDevicesOnDIMM")) throw InvalidArgument(path + ": memspec.memarchitecturespec: give nbrOfDevices or nbrOfDevicesOnDIMM, not both");
      s.devices = a.positive("nbrOfDevices");
    }
    s.channels = a.positive("nbrOfChannels", false, 1);
    a.reject_unknown();
    if (s.banks < 1 || s.bank_groups < 1 || s.banks % s.bank_groups != 0)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: nbrOfBanks must be a positive multiple of nbrOfBankGroups");
    if (s.burst_length < 1 || s.data_rate < 1 || s.burst_length % s.data_rate != 0)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: burstLength must be a positive multiple of dataRate");
    for (auto [v, name] : {std::pair{s.columns, "nbrOfColumns"}, {s.rows, "nbrOfRows"}, {static_cast<std::int64_t>(s.banks), "nbrOfBanks"},
                           {static_cast<std::int64_t>(s.channels), "nbrOfChannels"},
                           {static_cast<std::int64_t>(s.ranks), "nbrOfRanks"}, {static_cast<std::int64_t>(s.bank_groups), "nbrOfBankGroups"}})
      if (v < 1 || (v & (v - 1)) != 0)
        throw InvalidArgument(path + ": memspec.memarchitecturespec." + name + ": must be a power of two, got " + std::to_string(v));
    // Bounds that keep the model's tables small and addresses within 64 bits.
    if (s.channels > 64 || s.ranks > 64 || s.banks > 1024 || s.devices > 1024 || s.width > 4096 || s.burst_length > 1024)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: at most 64 channels, 64 ranks, 1024 banks, 1024 devices, width 4096, burstLength 1024");
    if (std::log2(static_cast<double>(s.channels)) + std::log2(static_cast<double>(s.ranks)) + std::log2(static_cast<double>(s.banks)) +
            std::log2(static_cast<double>(s.rows)) + std::log2(static_cast<double>(s.columns)) + std::log2(static_cast<double>(s.width) * s.devices / 8.0) > 63.5)
      throw InvalidArgument(path + ": memspec.memarchitecturespec: the capacity exceeds 2^63 bytes");
  }

  {
    Reader t{section(m, "memtimingspec", path), path + ": memspec.memtimingspec", {}};
    s.clk_mhz = t.number("clkMhz");
    if (!(s.clk_mhz > 0 && s.clk_mhz <= 1e5)) throw InvalidArgument(path + ": memspec.memtimingspec.clkMhz: must be in (0, 100000]");
    s.RL = t.positive("RL");
    s.WL = t.positive("WL");
    s.RAS = t.positive("RAS");
    s.WR = t.integer("WR");
    s.XP = t.integer("XP");
    s.CKE = t.integer("CKE");
    if (s.standard != Standard::LPDDR4 && s.standard != Standard::HBM2) s.CKESR = t.integer("CKESR");
    s.RTRS = t.integer("RTRS", false, 1);
    const int bl = s.burst_cycles();
    // LPDDR4 and Wide I/O 2: per-bank and all-bank precharge times, no bank groups.
    auto per_bank_precharge_timings = [&] {
      s.RTP = t.integer("RTP");
      s.FAW = t.integer("FAW");
      s.RCD = s.RCD_WR = t.positive("RCD");
      s.RP = t.positive("RPPB");
      s.RP_AB = t.positive("RPAB");
      s.RC = t.positive("RCPB");
      t.integer("RCAB");
      s.CCD_S = s.CCD_L = t.integer("CCD");
      s.RRD_S = s.RRD_L = t.integer("RRD");
      s.WTR_S = s.WTR_L = t.integer("WTR");
    };
    switch (s.standard) {
      case Standard::DDR3:
      case Standard::DDR4: {
        s.RTP = t.integer("RTP");
        s.FAW = t.integer("FAW");
        s.RCD = s.RCD_WR = t.positive("RCD");
        s.RP = s.RP_AB = t.positive("RP");
        s.RC = t.positive("RC");
        s.RFC = t.positive("RFC");
        s.REFI = t.positive("REFI");
        s.XS = t.integer("XS");
        s.XS_DLL = t.integer("XSDLL", false, s.XS);
        s.DQSCK = t.integer("DQSCK", false, 0);
        s.ACTPDEN = t.integer("ACTPDEN", false, 1);
        s.PRPDEN = t.integer("PRPDEN", false, 1);
        s.REFPDEN = t.integer("REFPDEN", false, 1);
        t.integer("CL");  // CL equals RL with AL = 0 (checked below)
        if (t.integer("AL", false, 0) != 0) throw InvalidArgument(path + ": memspec.memtimingspec.AL: only AL = 0 is modelled");
        int wpre = 0;
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
          wpre = t.integer("WPRE", false, 1);
          // Fine-granularity refresh (JESD79-4 4.27): mode 2x/4x refreshes
          // twice/four times as often, each taking tRFC2/tRFC4.
          const int refm = t.integer("REFM", false, 1);
          if (refm != 1 && refm != 2 && refm != 4) throw InvalidArgument(path + ": memspec.memtimingspec.REFM: must be 1, 2 or 4, got " + std::to_string(refm));
          const int rfc2 = t.integer("RFC2", refm == 2, 0), rfc4 = t.integer("RFC4", refm == 4, 0);
          s.REFI /= refm;
          if (refm == 2) s.RFC = rfc2;
          if (refm == 4) s.RFC = rfc4;
          t.ignore({"RPRE"});
        }
        t.ignore({"XPDLL"});
        // CheckerDDR3/CheckerDDR4 (JESD79-3F/-4 command spacing).
        s.rd_to_pre = s.RTP;
        s.wr_to_pre = s.WL + bl + s.WR;
        s.rd_to_wr = s.standard == Standard::DDR3 ? s.RL + bl + 2 - s.WL : s.RL + bl + 1 - s.WL + wpre;
        s.wr_to_rd_s = s.WL + bl + s.WTR_S;
        s.wr_to_rd_l = s.WL + bl + s.WTR_L;
        s.rd_data = s.RL + bl;
        s.wr_data = s.WL + bl;
        s.rd_to_pden = s.RL + bl + 1;
        s.wr_to_pden = s.WL + bl + s.WR;
        s.wra_to_pden = s.WL + bl + s.WR + 1;
        s.rda_to_sref = std::max(s.rd_to_pden, s.RTP + s.RP);
        s.wra_to_sref = std::max(s.wra_to_pden, s.wr_to_pre + s.RP);
        // DRAMPower (MemCommand::getPrechargeOffset): DDR3 reads precharge
        // max(RTP, 4) cycles after RDA, DDR4 RTP cycles.
        s.rda_pre_offset = s.standard == Standard::DDR3 ? std::max(s.RTP, 4) : s.RTP;
        break;
      }
      case Standard::LPDDR4:
        per_bank_precharge_timings();
        s.RFC = t.integer("RFCAB");
        s.RFC_PB = t.integer("RFCPB");
        s.REFI = t.positive("REFI");
        s.REFI_PB = t.integer("REFIPB");
        s.PPD = t.integer("PPD");
        s.XS = s.XS_DLL = t.integer("XSR");
        s.CKESR = t.integer("SR");
        t.ignore({"CMDCKE", "DQS2DQ", "DQSCK", "DQSS", "ESCKE", "RPST", "WPRE"});
        break;
      case Standard::HBM2:
        s.RTP = t.integer("RTP");
        s.FAW = t.integer("FAW");
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
        s.rd_to_wr = t.integer("RTW");
        s.RFC = t.positive("RFC");
        s.RFC_PB = t.integer("RFCSB");
        s.REFI = t.positive("REFI");
        s.REFI_PB = t.integer("REFISB");
        s.RREFD = t.integer("RREFD");
        s.XS = s.XS_DLL = t.integer("XS");
        s.CKESR = s.CKE;
        if (t.integer("PL", false, 0) != 0) throw InvalidArgument(path + ": memspec.memtimingspec.PL: only PL = 0 is modelled");
        t.ignore({"DQSCK"});
        break;
      case Standard::WideIO:
        // MemSpecWideIO/CheckerWideIO: single data rate; consecutive bursts
        // are a burst apart (CCD_R/CCD_W are not used), at most two ACTs in tTAW.
        s.RCD = s.RCD_WR = t.positive("RCD");
        s.RP = s.RP_AB = t.positive("RP");
        s.RC = t.positive("RC");
        s.RRD_S = s.RRD_L = t.integer("RRD");
        s.WTR_S = s.WTR_L = t.integer("WTR");
        s.FAW = t.integer("TAW");
        s.acts_in_faw = 2;
        s.RFC = t.positive("RFC");
        s.REFI = t.positive("REFI");
        s.XS = s.XS_DLL = t.integer("XSR");
        s.DQSCK = t.integer("DQSCK", false, 0);
        {
          const int ac = t.integer("AC");
          t.integer("CCD_R");
          t.integer("CCD_W");
          s.CCD_S = s.CCD_L = bl;
          s.RTP = bl;
          s.rd_to_pre = bl;
          s.wr_to_pre = s.WL + bl - 1 + s.WR;
          s.rd_to_wr = s.RL + bl + 1;
          s.wr_to_rd_s = s.wr_to_rd_l = s.WL + bl - 1 + s.WTR_S;
          s.rd_data = s.RL + ac + bl;
          s.wr_data = s.WL + bl;
          s.rd_to_pden = s.RL + bl;
          s.wr_to_pden = s.WL + bl + s.WR - 1;
          s.wra_to_pden = s.WL + bl + s.WR;
          s.rda_to_sref = std::max(s.rd_to_pden, bl + s.RP);
          s.wra_to_sref = std::max(s.wra_to_pden, s.wr_to_pre + s.RP);
          s.ACTPDEN = s.PRPDEN = s.REFPDEN = 0;
          // DRAMPower: RDA precharges a burst later, WRA after WL + BL - 1 + WR.
          s.rda_pre_offset = bl;
          s.wra_pre_offset = s.wr_to_pre;
        }
        break;
      case Standard::WideIO2: {
        // MemSpecWideIO2/CheckerWideIO2. The memspec shipped with DRAMSys has
        // no DQSCK/DQSS (DRAMSys itself refuses it); they default to 0 here.
        per_bank_precharge_timings();
        const double refm = t.number("REFM", false, 1);
        if (!(refm > 0 && refm <= 16)) throw InvalidArgument(path + ": memspec.memtimingspec.REFM: must be in (0, 16]");
        s.REFI = static_cast<int>(t.positive("REFI") * refm);
        s.REFI_PB = static_cast<int>(t.integer("REFIPB") * refm);
        s.RFC = t.positive("RFCAB");
        s.RFC_PB = t.integer("RFCPB");
        s.XS = s.XS_DLL = t.integer("XSR");
        s.DQSCK = t.integer("DQSCK", false, 0);
        const int dqss = t.integer("DQSS", false, 0);
        s.PPD = 2;
        s.rd_to_pre = bl + std::max(2, s.RTP) - 2;
        s.wr_to_pre = s.WL + 1 + bl + s.WR;
        s.rd_to_wr = s.RL + s.DQSCK + bl + 1 - s.WL;
        s.wr_to_rd_s = s.wr_to_rd_l = s.WL + 1 + bl + s.WTR_S;
        s.rd_data = s.RL + s.DQSCK + bl;
        s.wr_data = s.WL + dqss + bl;
        s.rd_to_pden = s.RL + s.DQSCK + bl + 1;
        s.wr_to_pden = s.WL + 1 + bl + s.WR;
        s.wra_to_pden = s.wr_to_pden + 1;
        s.rda_to_sref = std::max(s.rd_to_pden, s.rd_to_pre + s.RP);
        s.wra_to_sref = std::max(s.wra_to_pden, s.wr_to_pre + s.RP);
        s.ACTPDEN = s.PRPDEN = s.REFPDEN = 0;
        break;
      }
    }
    t.reject_unknown();
    // Generic JEDEC spacing where the standard's block above left it unset.
    if (s.rd_to_pre == 0) s.rd_to_pre = s.RTP;
    if (s.wr_to_pre == 0) s.wr_to_pre = s.WL + bl + s.WR;
    if (s.rd_to_wr == 0) s.rd_to_wr = s.RL + bl + 2 - s.WL;
    if (s.wr_to_rd_s == 0) s.wr_to_rd_s = s.WL + bl + s.WTR_S;
    if (s.wr_to_rd_l == 0) s.wr_to_rd_l = s.WL + bl + s.WTR_L;
    if (s.rd_data == 0) s.rd_data = s.RL + bl;
    if (s.wr_data == 0) s.wr_data = s.WL + bl;
    if (s.rd_to_pden == 0) s.rd_to_pden = s.RL + bl + 1;
    if (s.wr_to_pden == 0) s.wr_to_pden = s.wr_to_pre;
    if (s.wra_to_pden == 0) s.wra_to_pden = s.wr_to_pre + 1;
    if (s.rda_to_sref == 0) s.rda_to_sref = std::max(s.rd_to_pden, s.rd_to_pre + s.RP);
    if (s.wra_to_sref == 0) s.wra_to_sref = std::max(s.wra_to_pden, s.wr_to_pre + s.RP);
    if (s.rda_pre_offset == 0) s.rda_pre_offset = s.rd_to_pre;
    if (s.wra_pre_offset == 0) s.wra_pre_offset = s.wr_to_pre;
    // DRAMPower's completion of the last command (CommandAnalysis::getCompletionTime... end of the window).
    s.rd_completion = s.RL + s.DQSCK + 1 + bl;
    s.wr_completion = s.WL + bl + s.WR;
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
    // A full second domain (VDD2 and the "...2" currents).
    auto second_domain = [&](const char* idd2p, const char* idd3p) {
      d2.vdd = p.number("vdd2");
      d2.idd0 = p.number("idd02");
      d2.idd2n = p.number("idd2n2");
      d2.idd3n = p.number("idd3n2");
      d2.idd4r = p.number("idd4r2");
      d2.idd4w = p.number("idd4w2");
      d2.idd5 = p.number("idd52");
      d2.idd6 = p.number("idd62");
      d2.idd2p = p.number(idd2p);
      d2.idd3p = p.number(idd3p);
    };
    switch (s.standard) {
      case Standard::DDR3:
      case Standard::DDR4:
        // DRAMSys puts DRAMPower's power-down in slow-exit mode (PDN_S_ACT,
        // PDN_S_PRE): IDD2P0/IDD3P0; the fast-exit currents are not used.
        d1.idd2p = p.number("idd2p0");
        d1.idd3p = p.number("idd3p0");
        p.ignore({"idd2p1", "idd3p1"});
        if (s.standard == Standard::DDR4) {  // VPP domain: DRAMSys gives DRAMPower only IDD02 and IDD62
          d2.vdd = p.number("vdd2");
          d2.idd0 = p.number("idd02");
          d2.idd6 = p.number("idd62", false, 0);
        }
        break;
      case Standard::WideIO:
      case Standard::WideIO2:
        // Two full domains (DRAMPower's WIDEIO_SDR: VDD1 and VDD2).
        d1.idd2p = p.number("idd2p0");
        d1.idd3p = p.number("idd3p0");
        second_domain("idd2p02", "idd3p02");
        p.ignore({"idd2p1", "idd3p1", "idd2p12", "idd3p12"});
        break;
      case Standard::LPDDR4:
        d1.idd2p = p.number("idd2p");
        d1.idd3p = p.number("idd3p");
        d1.idd5pb = p.number("idd5b", false, 0);
        second_domain("idd2p2", "idd3p2");
        d2.idd5pb = p.number("idd5b2", false, 0);
        // VDDQ (I/O) currents and the self-refresh/standby variants are not modelled.
        p.ignore({"vddq", "idd0ql", "idd2nQ", "idd2ns", "idd2ns2", "idd2nsq", "idd2pQ", "idd2ps", "idd2ps2", "idd2psq",
                  "idd3nQ", "idd3ns", "idd3ns2", "idd3nsq", "idd3pQ", "idd3ps", "idd3ps2", "idd3psq", "idd4rq", "idd4wq",
                  "idd5ab", "idd5ab2", "idd5abq", "idd5bq", "idd5q", "idd6q"});
        break;
      case Standard::HBM2:
        d1.idd2p = p.number("idd2p");
        d1.idd3p = p.number("idd3p");
        d1.idd5pb = p.number("idd5pb", false, 0);
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
  throw InvalidArgument("memspec '" + excerpt(name_or_path, 120) + "' is neither a built-in name (" + builtin_memspec_names() + ") nor an existing file");
}

}  // namespace dsegym::dram
