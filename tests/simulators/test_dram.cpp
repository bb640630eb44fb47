// Validation of the DRAM simulator against closed forms and JEDEC rules.
// Timing definitions: JEDEC JESD79-3F (DDR3), JESD79-4 (DDR4), JESD209-4
// (LPDDR4), JESD235 (HBM); the values come from the shipped memspecs
// (DRAMSys' files, e.g. Micron MT41J128M8 DDR3-1600 datasheet: tRCD = tRP =
// CL = 10 tCK at 800 MHz, tRAS = 28, tRC = 38, tFAW = 24, tRRD = 5).
// Energy: DRAMPower's model (Chandrasekar et al., "Improved Power Modeling of
// DDR SDRAMs", DSD 2011; Micron TN-41-01): command energy is the current above
// the background over the command's duration, background is the state's
// current over time.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "simulators/dram/simulator.hpp"
#include "temp_dir.hpp"

using namespace dsegym;
using namespace dsegym::dram;

namespace {

ControllerConfig no_refresh() {
  ControllerConfig c;
  c.refresh_policy = RefreshPolicy::NoRefresh;
  return c;
}

std::vector<Request> reqs(std::initializer_list<std::tuple<double, bool, std::uint64_t>> l) {
  std::vector<Request> v;
  for (auto [t, w, a] : l) v.push_back({t, w, a});
  return v;
}

SimResult run(const MemSpec& s, const ControllerConfig& c, const std::vector<Request>& t, const std::string& mapping = "RoBaCo",
              bool log = false) {
  SimOptions o;
  o.record_commands = log;
  return simulate(s, c, make_mapping(mapping, s), t, o);
}

const std::vector<std::string> kSpecs = {"ddr3-1600", "ddr4-2400", "lpddr4-3200", "hbm2"};

}  // namespace

TEST_CASE("memspecs load with their datasheet values") {
  const MemSpec d3 = resolve_memspec("ddr3-1600");
  CHECK(d3.standard == Standard::DDR3);
  CHECK(d3.RCD == 10);
  CHECK(d3.RP == 10);
  CHECK(d3.RL == 10);
  CHECK(d3.RAS == 28);
  CHECK(d3.FAW == 24);
  CHECK(d3.REFI == 6240);  // 7.8 us at 800 MHz
  CHECK(d3.bytes_per_burst() == 64);
  CHECK(d3.capacity_bytes() == (std::uint64_t{1} << 30));  // 8 x 1 Gb
  CHECK(d3.peak_bandwidth_gbps() == doctest::Approx(12.8));  // 1600 MT/s x 8 B
  const MemSpec d4 = resolve_memspec("ddr4-2400");
  CHECK(d4.bank_groups == 4);
  CHECK(d4.CCD_L == 6);
  CHECK(d4.CCD_S == 4);
  CHECK(d4.peak_bandwidth_gbps() == doctest::Approx(19.2));
  CHECK(d4.power.size() == 2);  // VDD and VPP
  const MemSpec lp = resolve_memspec("lpddr4-3200");
  CHECK(lp.supports_per_bank_refresh());
  CHECK(lp.burst_cycles() == 8);
  const MemSpec hbm = resolve_memspec("hbm2");
  CHECK(!hbm.has_power());
  CHECK(hbm.separate_row_column_bus());
}

TEST_CASE("a single read to an idle bank takes tRCD + CL + BL/2") {
  for (const auto& name : kSpecs) {
    INFO(name);
    const MemSpec s = resolve_memspec(name);
    const SimResult r = run(s, no_refresh(), reqs({{0.0, false, 0}}));
    const int cycles = s.RCD + s.RL + s.burst_cycles();
    CHECK(r.avg_read_latency_ns == doctest::Approx(cycles * s.tck_ns()));
    CHECK(r.total_time_ns == doctest::Approx(cycles * s.tck_ns()));
    CHECK(r.row_misses == 1);
  }
  // DDR3-1600: 10 + 10 + 4 = 24 cycles of 1.25 ns; DRAMSys 460604a (the
  // binary ArchGym ships) reports "Total Time: 30 ns" for this trace.
  CHECK(run(resolve_memspec("ddr3-1600"), no_refresh(), reqs({{0.0, false, 0}})).total_time_ns == doctest::Approx(30.0));
}

TEST_CASE("row hit, miss and conflict latencies") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const double tck = s.tck_ns();
  // RoBaCo on DDR3: column bits 3..12, bank 13..15, row 16..29.
  const std::uint64_t row1 = std::uint64_t{1} << 16, bank1 = std::uint64_t{1} << 13;
  const SimResult r = run(s, no_refresh(),
                          reqs({{0.0, false, 0},                 // miss: bank 0 closed
                                {100 * tck, false, 0x40},        // hit: row 0 open
                                {200 * tck, false, row1},        // conflict: row 0 open, row 1 wanted
                                {300 * tck, false, bank1}}),     // miss in another bank
                          "RoBaCo", true);
  CHECK(r.row_hits == 1);
  CHECK(r.row_misses == 2);
  CHECK(r.row_conflicts == 1);
  // Latencies in cycles: miss RCD+CL+BL/2, hit CL+BL/2, conflict RP+RCD+CL+BL/2.
  const double miss = s.RCD + s.RL + 4, hit = s.RL + 4, conflict = s.RP + s.RCD + s.RL + 4;
  CHECK(r.avg_read_latency_ns == doctest::Approx((miss + hit + conflict + miss) / 4 * tck));
  CHECK(r.max_read_latency_ns == doctest::Approx(conflict * tck));
}

TEST_CASE("streaming reads reach the memspec's peak bandwidth within 5%") {
  // Bank-group memories need consecutive bursts in different bank groups
  // (tCCD_L > BL/2), which the RoCoBa mapping gives.
  for (const auto& [name, mapping] : std::vector<std::pair<std::string, std::string>>{
           {"ddr3-1600", "RoBaCo"}, {"ddr4-2400", "RoCoBa"}, {"lpddr4-3200", "RoBaCo"}, {"hbm2", "RoCoBa"}}) {
    INFO(name);
    const MemSpec s = resolve_memspec(name);
    const auto trace = generate_trace(nlohmann::json{{"type", "stream"}, {"requests", 20000}, {"interval", 0.25}, {"clk_mhz", s.clk_mhz}},
                                      s.bytes_per_burst(), s.capacity_bytes(), "stream");
    const SimResult r = run(s, no_refresh(), trace, mapping);
    CHECK(r.bandwidth_gbps >= 0.95 * s.peak_bandwidth_gbps());
    CHECK(r.bandwidth_gbps <= s.peak_bandwidth_gbps() * 1.0001);
  }
}

TEST_CASE("all-bank refresh costs about tRFC / tREFI of streaming bandwidth and happens every tREFI") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const auto trace = generate_trace(nlohmann::json{{"type", "stream"}, {"requests", 60000}, {"interval", 0.25}},
                                    s.bytes_per_burst(), s.capacity_bytes(), "stream");
  const SimResult off = run(s, no_refresh(), trace);
  ControllerConfig c;  // AllBank, nothing postponed or pulled in
  const SimResult on = run(s, c, trace, "RoBaCo", true);
  const double expected_loss = static_cast<double>(s.RFC) / s.REFI;  // 88 / 6240 = 1.4%
  const double loss = 1.0 - on.bandwidth_gbps / off.bandwidth_gbps;
  CHECK(loss > 0.5 * expected_loss);
  CHECK(loss < 2.5 * expected_loss);
  std::vector<std::int64_t> refs;
  for (const auto& cmd : on.command_log)
    if (cmd.cmd == Cmd::REFA) refs.push_back(cmd.cycle);
  REQUIRE(refs.size() >= 2);
  CHECK(static_cast<std::int64_t>(refs.size()) == on.cycles / s.REFI);
  for (std::size_t i = 0; i < refs.size(); ++i) {
    // Due at (i+1) tREFI; issued once open rows are closed (tRAS, tRTP, tRP).
    CHECK(refs[i] >= static_cast<std::int64_t>(i + 1) * s.REFI);
    CHECK(refs[i] <= static_cast<std::int64_t>(i + 1) * s.REFI + s.RAS + s.RP + 8);
  }
}

TEST_CASE("postponed refreshes are caught up, never lost") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const auto trace = generate_trace(nlohmann::json{{"type", "random"}, {"requests", 40000}, {"interval", 2}, {"seed", 3}},
                                    s.bytes_per_burst(), s.capacity_bytes(), "random");
  ControllerConfig c;
  c.refresh_max_postponed = 4;
  const SimResult r = run(s, c, trace, "RoBaCo", true);
  std::vector<std::int64_t> refs;
  for (const auto& cmd : r.command_log)
    if (cmd.cmd == Cmd::REFA) refs.push_back(cmd.cycle);
  const auto due = r.cycles / s.REFI;
  CHECK(static_cast<std::int64_t>(refs.size()) >= due - 4);
  CHECK(static_cast<std::int64_t>(refs.size()) <= due);
  for (std::size_t i = 1; i < refs.size(); ++i) CHECK(refs[i] - refs[i - 1] <= 5 * s.REFI + 100);
}

// An independent check of the command log against JEDEC constraints.
TEST_CASE("command logs respect the JEDEC timing constraints") {
  struct Case {
    std::string spec, mapping;
    ControllerConfig cfg;
  };
  std::vector<Case> cases;
  for (const auto& name : kSpecs) {
    ControllerConfig a;
    a.scheduler = SchedulerKind::FrFcfs;
    cases.push_back({name, "RoCoBa", a});
    ControllerConfig b;
    b.page_policy = PagePolicy::ClosedAdaptive;
    b.scheduler = SchedulerKind::FrFcfsGrp;
    b.request_buffer_size = 32;
    b.power_down_policy = PowerDownPolicy::Staggered;
    b.refresh_max_postponed = 8;
    b.refresh_max_pulledin = 8;
    if (resolve_memspec(name).supports_per_bank_refresh()) b.refresh_policy = RefreshPolicy::PerBank;
    cases.push_back({name, "RoBaCo", b});
  }
  for (const auto& cs : cases) {
    INFO(cs.spec, " ", cs.mapping);
    const MemSpec s = resolve_memspec(cs.spec);
    const auto trace = generate_trace(nlohmann::json{{"type", "random"}, {"requests", 3000}, {"interval", 3}, {"write_fraction", 0.4}},
                                      s.bytes_per_burst(), s.capacity_bytes(), "random");
    // Make part of the trace sparse so that power-down and refresh pull-in happen.
    auto t = trace;
    for (std::size_t i = 1500; i < t.size(); ++i) t[i].time_ns += static_cast<double>(i - 1500) * 200.0;
    const SimResult r = run(s, cs.cfg, t, cs.mapping, true);
    const int nb = s.banks, bl = s.burst_cycles();
    const std::int64_t never = -1000000;
    std::vector<std::int64_t> b_act(static_cast<std::size_t>(s.ranks * nb), never), b_pre(b_act), b_rd(b_act), b_wr(b_act);
    std::vector<bool> open(b_act.size(), false);
    std::vector<std::uint32_t> row(b_act.size(), 0);
    std::map<int, std::vector<std::int64_t>> acts;  // per rank
    std::vector<std::int64_t> r_rd(static_cast<std::size_t>(s.ranks), never), r_wr(r_rd), r_ref(r_rd);
    std::int64_t last_cycle = -1;
    int violations = 0;
    auto need = [&](bool ok, const char* what, std::int64_t cyc) {
      if (!ok && violations++ < 5) FAIL_CHECK(std::string(what) << " violated at cycle " << cyc);
    };
    for (const auto& c : r.command_log) {
      const auto b = static_cast<std::size_t>(c.bank);
      const auto rk = static_cast<std::size_t>(c.rank);
      if (!s.separate_row_column_bus()) need(c.cycle > last_cycle, "one command per cycle", c.cycle);
      last_cycle = c.cycle;
      switch (c.cmd) {
        case Cmd::ACT: {
          need(!open[b], "ACT on a closed bank", c.cycle);
          need(c.cycle - b_act[b] >= s.RC, "tRC", c.cycle);
          need(c.cycle - b_pre[b] >= s.RP, "tRP", c.cycle);
          need(c.cycle - r_ref[rk] >= s.RFC, "tRFC", c.cycle);
          auto& a = acts[c.rank];
          if (!a.empty()) need(c.cycle - a.back() >= s.RRD_S, "tRRD", c.cycle);
          if (a.size() >= 4) need(c.cycle - a[a.size() - 4] >= s.FAW, "tFAW", c.cycle);
          a.push_back(c.cycle);
          open[b] = true;
          row[b] = c.row;
          b_act[b] = c.cycle;
          break;
        }
        case Cmd::PRE:
          need(open[b], "PRE on an open bank", c.cycle);
          need(c.cycle - b_act[b] >= s.RAS, "tRAS", c.cycle);
          need(c.cycle - b_rd[b] >= s.RTP, "tRTP", c.cycle);
          need(c.cycle - b_wr[b] >= s.WL + bl + s.WR, "tWR", c.cycle);
          open[b] = false;
          b_pre[b] = c.cycle;
          break;
        case Cmd::PREA:
          for (int i = 0; i < nb; ++i) {
            const auto k = rk * static_cast<std::size_t>(nb) + static_cast<std::size_t>(i);
            if (!open[k]) continue;
            need(c.cycle - b_act[k] >= s.RAS, "tRAS (PREA)", c.cycle);
            open[k] = false;
            b_pre[k] = c.cycle;
          }
          break;
        case Cmd::RD:
        case Cmd::RDA:
        case Cmd::WR:
        case Cmd::WRA: {
          const bool rd = c.cmd == Cmd::RD || c.cmd == Cmd::RDA;
          need(open[b] && row[b] == c.row, "column command on the open row", c.cycle);
          need(c.cycle - b_act[b] >= (rd ? s.RCD : s.RCD_WR), "tRCD", c.cycle);
          need(c.cycle - r_rd[rk] >= s.CCD_S && c.cycle - r_wr[rk] >= s.CCD_S, "tCCD", c.cycle);
          if (rd) need(c.cycle - r_wr[rk] >= s.WL + bl + s.WTR_S, "tWTR", c.cycle);
          (rd ? b_rd : b_wr)[b] = c.cycle;
          (rd ? r_rd : r_wr)[rk] = c.cycle;
          if (c.cmd == Cmd::RDA || c.cmd == Cmd::WRA) {
            open[b] = false;
            b_pre[b] = rd ? c.cycle + s.RTP : c.cycle + s.WL + bl + s.WR;
          }
          break;
        }
        case Cmd::REFA:
          for (int i = 0; i < nb; ++i) {
            const auto k = rk * static_cast<std::size_t>(nb) + static_cast<std::size_t>(i);
            need(!open[k], "REF with all banks closed", c.cycle);
            need(c.cycle - b_pre[k] >= s.RP, "tRP before REF", c.cycle);
          }
          r_ref[rk] = c.cycle;
          break;
        case Cmd::REFPB:
          need(!open[b], "REFpb on a closed bank", c.cycle);
          break;
        default: break;
      }
    }
    CHECK(violations == 0);
    CHECK(r.commands[static_cast<std::size_t>(Cmd::ACT)] > 100);
    if (cs.cfg.power_down_policy == PowerDownPolicy::Staggered)
      CHECK(r.commands[static_cast<std::size_t>(Cmd::PDEA)] + r.commands[static_cast<std::size_t>(Cmd::PDEP)] +
                r.commands[static_cast<std::size_t>(Cmd::SREFEN)] > 0);
  }
}

TEST_CASE("energy of a known command sequence matches a hand computation from the memspec currents") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  ControllerConfig c = no_refresh();
  c.page_policy = PagePolicy::Closed;
  const SimResult r = run(s, c, reqs({{0.0, false, 0}}), "RoBaCo", true);
  REQUIRE(r.command_log.size() == 2);
  CHECK(r.command_log[0].cmd == Cmd::ACT);
  CHECK(r.command_log[0].cycle == 0);
  CHECK(r.command_log[1].cmd == Cmd::RDA);
  CHECK(r.command_log[1].cycle == 10);
  // Micron DDR3-1600 currents (mA): IDD0 70, IDD2N 45, IDD3N 45, IDD4R 140; VDD 1.5 V; 8 devices.
  const double k = 8 * 1.5 * 1.25;  // devices x V x ns: pJ per mA-cycle
  const double act = 28 * (70.0 - 45.0);              // tRAS (IDD0 - IDD3N)
  const double pre = (38 - 28) * (70.0 - 45.0);       // (tRC - tRAS)(IDD0 - IDD2N)
  const double rd = 4 * (140.0 - 45.0);               // BL/2 (IDD4R - IDD3N)
  // The run ends at cycle 24. DRAMPower places the auto-precharge at
  // max(RDA + max(tRTP, 4), ACT + tRAS) = 28 and ends its window at the last
  // command plus its completion - 1 = 28 + tRP - 1 = 37: 28 cycles of
  // active and 9 of precharged standby. (DRAMSys 460604a, as ArchGym ships
  // it, reports 44925 pJ and 971.351 mW for this trace.)
  const double background = 28 * 45.0 + 9 * 45.0;    // active + precharged standby
  CHECK(r.cycles == 24);
  CHECK(r.energy_pj.act == doctest::Approx(k * act));
  CHECK(r.energy_pj.pre == doctest::Approx(k * pre));
  CHECK(r.energy_pj.read == doctest::Approx(k * rd));
  CHECK(r.energy_nj * 1000 == doctest::Approx(k * (act + pre + rd + background)));
  CHECK(r.energy_nj * 1000 == doctest::Approx(44925));
  CHECK(r.average_power_mw == doctest::Approx(r.energy_nj * 1000 / (37 * 1.25)));
}

TEST_CASE("monotone trends: closed pages are slower on streams, refresh and no power-down cost energy") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const auto stream = generate_trace(nlohmann::json{{"type", "stream"}, {"requests", 20000}}, s.bytes_per_burst(), s.capacity_bytes(), "stream");
  ControllerConfig open, closed;
  closed.page_policy = PagePolicy::Closed;
  CHECK(run(s, closed, stream).total_time_ns > 1.2 * run(s, open, stream).total_time_ns);

  const auto cloud = load_trace(dram_data_dir() + "/traces/cloud-1.stl", {});
  ControllerConfig refresh, none = no_refresh();
  CHECK(run(s, none, cloud).energy_nj < run(s, refresh, cloud).energy_nj);

  const auto sparse = generate_trace(nlohmann::json{{"type", "random"}, {"requests", 2000}, {"interval", 400}}, s.bytes_per_burst(),
                                     s.capacity_bytes(), "sparse");
  ControllerConfig pd;
  pd.power_down_policy = PowerDownPolicy::Staggered;
  const SimResult with_pd = run(s, pd, sparse), without = run(s, refresh, sparse);
  CHECK(with_pd.energy_nj < 0.9 * without.energy_nj);
  CHECK(with_pd.energy_pj.power_down + with_pd.energy_pj.self_refresh > 0);
}

TEST_CASE("the RoBaCo mapping is DRAMSys' rbc address mapping for the DDR3 DIMM") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const AddressMapping named = make_mapping("RoBaCo", s);
  const AddressMapping file = resolve_mapping(dram_data_dir() + "/amconfigs/am_ddr3_8x1Gbx8_dimm_p1KB_rbc.json", s);
  CHECK(named.byte_bits == file.byte_bits);
  CHECK(named.column_bits == file.column_bits);
  CHECK(named.bank_bits == file.bank_bits);
  CHECK(named.row_bits == file.row_bits);
  const AddressMapping brc = resolve_mapping(dram_data_dir() + "/amconfigs/am_ddr3_8x1Gbx8_dimm_p1KB_brc.json", s);
  CHECK(brc.bank_bits == make_mapping("BaRoCo", s).bank_bits);
}

TEST_CASE("the same inputs give the same result, the arbiter and response queue change latencies, not the work") {
  const MemSpec s = resolve_memspec("ddr3-1600");
  const auto cloud = load_trace(dram_data_dir() + "/traces/cloud-2.stl", {});
  ControllerConfig a;
  const SimResult r1 = run(s, a, cloud), r2 = run(s, a, cloud);
  CHECK(r1.to_json() == r2.to_json());
  ControllerConfig f = a;
  f.arbiter = Arbiter::Fifo;
  f.max_active_transactions = 1;
  const SimResult serial = run(s, f, cloud);
  CHECK(serial.requests == 10000);
  // One transaction at a time: every request waits for the previous response.
  CHECK(serial.total_time_ns > 2 * r1.total_time_ns);
}

TEST_CASE("bad traces, memspecs and knobs are errors that name the file, line or field and the value") {
  // Lines are named, never quoted (a file named as a trace may hold anything).
  const TraceOptions stl{800, TraceFormat::Stl, 0};
  CHECK_THROWS_WITH_AS(parse_trace("0:\tread\t0x0\n5:\tfetch\t0x40\n", stl, "t.stl"),
                       doctest::Contains("t.stl:2: the command is neither read nor write"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_trace("0:\tread\t0x0\nx7:\tread\t0x40\n", stl, "t.stl"),
                       doctest::Contains("t.stl:2: the line does not start with a cycle number"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_trace("0:\tread\t0xZZ\n", stl, "t.stl"), doctest::Contains("t.stl:1"), InvalidArgument);
  CHECK(parse_trace("# comment\n\n3:\twrite\t0x1F\tdeadbeef\n", stl, "t.stl").at(0).address == 0x1F);

  const auto dir = dsegym::testing::temp_dir("memspec");
  nlohmann::json m;
  {
    std::ifstream f(dram_data_dir() + "/memspecs/MICRON_1Gb_DDR3-1600_8bit_G.json");
    m = nlohmann::json::parse(f);
  }
  m["memspec"]["memtimingspec"]["tRCDX"] = 5;
  const auto bad = (dir / "bad.json").string();
  std::ofstream(bad) << m.dump();
  CHECK_THROWS_WITH_AS(load_memspec(bad), doctest::Contains("bad.json: memspec.memtimingspec.tRCDX: unknown field"), InvalidArgument);
  m["memspec"]["memtimingspec"].erase("tRCDX");
  m["memspec"]["memtimingspec"].erase("RCD");
  std::ofstream(bad) << m.dump();
  CHECK_THROWS_WITH_AS(load_memspec(bad), doctest::Contains("memtimingspec.RCD: missing"), InvalidArgument);

  CHECK_THROWS_WITH_AS(parse_controller_config(nlohmann::json{{"mcconfig", {{"Scheduler", "FrFcfs2"}}}}, "mc.json"),
                       doctest::Contains("mc.json: mcconfig.Scheduler: 'FrFcfs2' is not valid; choices: Fifo, FrFcfs, FrFcfsGrp"),
                       InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_controller_config(nlohmann::json{{"RequestBufferSize", 0}}, "mc.json"),
                       doctest::Contains("mc.json.RequestBufferSize: 0 is not valid"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_controller_config(nlohmann::json{{"PagePolicyy", "Open"}}, "mc.json"),
                       doctest::Contains("mc.json.PagePolicyy: unknown knob"), InvalidArgument);
  ControllerConfig pb;
  pb.refresh_policy = RefreshPolicy::PerBank;
  CHECK_THROWS_WITH_AS(pb.validate(resolve_memspec("ddr3-1600"), "mc.json"),
                       doctest::Contains("mc.json.RefreshPolicy: 'PerBank' is not valid for DDR3"), InvalidArgument);
  CHECK_NOTHROW(pb.validate(resolve_memspec("lpddr4-3200"), "mc.json"));
}

TEST_CASE("the shipped DRAMGym controller configs load") {
  for (const char* f : {"policy.json", "fifo.json", "fr_fcfs.json", "fr_fcfs_grp.json"}) {
    INFO(f);
    const ControllerConfig c = load_controller_config(dram_data_dir() + "/mcconfigs/" + f);
    CHECK_NOTHROW(c.validate(resolve_memspec("ddr3-1600"), f));
  }
  const ControllerConfig p = load_controller_config(dram_data_dir() + "/mcconfigs/policy.json");
  CHECK(p.scheduler == SchedulerKind::Fifo);
  CHECK(p.request_buffer_size == 1);
  CHECK(p.max_active_transactions == 1);
}
