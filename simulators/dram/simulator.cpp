#include "simulators/dram/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <queue>

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace dsegym::dram {

using nlohmann::json;

const char* cmd_name(Cmd c) {
  static const char* names[] = {"ACT", "PRE", "PREA", "RD", "RDA", "WR", "WRA", "REFA", "REFPB", "PDEA", "PDXA", "PDEP", "PDXP", "SREFEN", "SREFEX"};
  return names[static_cast<std::size_t>(c)];
}

namespace {

using i64 = std::int64_t;
constexpr i64 kNever = std::numeric_limits<i64>::max() / 4;
constexpr i64 kPast = -(i64{1} << 40);
constexpr i64 kPowerDownPrio = std::numeric_limits<i64>::max();  // DRAMSys: the power-down payload loses every tie

bool is_cas(Cmd c) { return c == Cmd::RD || c == Cmd::RDA || c == Cmd::WR || c == Cmd::WRA; }

enum class Outcome : std::uint8_t { None, Hit, Miss, Conflict };

struct Payload {
  i64 id = 0;               // acceptance order at its channel's controller (1-based; refresh uses 0)
  std::uint32_t index = 0;  // position in the trace
  bool write = false;
  std::uint32_t channel = 0, rank = 0, bankgroup = 0, bank = 0, row = 0;
  Outcome outcome = Outcome::None;
};

struct Bank {
  bool open = false;
  std::uint32_t row = 0;
  Payload* cur = nullptr;
  bool keep = false;     // DRAMSys keepTrans: the open row was activated for `cur`
  bool blocked = false;  // by a forced refresh
  std::vector<Payload*> queue;  // scheduler buffer, arrival order
  i64 t_act = kPast, t_rd = kPast, t_wr = kPast, t_pre_done = kPast, t_refpb = kPast;
  // Candidate command of this bank for the current cycle.
  bool has_cmd = false;
  Cmd cmd = Cmd::ACT;
};

// DRAMSys' PowerDownManagerStaggered states.
enum class PdState { Idle, ActivePdn, PrechargePdn, SelfRefresh, ExtraRefresh };

struct Rank {
  // Last command times for the timing checker.
  i64 t_act = kPast, t_rd = kPast, t_rda = kPast, t_wr = kPast, t_wr_plain = kPast, t_wra = kPast;
  i64 t_ref = kPast, t_refpb = kPast, t_pre = kPast;  // t_pre: any precharge, auto-precharges included
  i64 t_pre_cmd = kPast;                               // explicit PRE/PREA
  i64 t_pdea = kPast, t_pdep = kPast, t_pdxa = kPast, t_pdxp = kPast, t_srefen = kPast, t_srefx = kPast;
  std::vector<i64> faw;  // the last acts_in_faw ACTs (ring)
  int faw_pos = 0;
  std::vector<i64> bg_act, bg_rd, bg_wr;
  int open_banks = 0;
  // The power-down manager's own count of activated banks, as in the DRAMSys
  // that ArchGym ships (460604a): ACT +1, PRE -1, PREA 0; auto-precharges
  // (RDA/WRA) do not count, so with closed or adaptive pages a rank whose
  // banks are all precharged enters active power-down (and never self
  // refresh). DRAMSys 4.0 asks the bank machines instead.
  int pdm_activated = 0;
  int pending = 0;  // requests of this rank in the scheduler
  // Refresh manager (DRAMSys RefreshManagerAllBank / PerBank).
  i64 ref_due = kNever;
  bool pulled_in = false;  // state Pulledin (else Regular)
  int flex = 0;            // > 0: refreshes postponed, < 0: pulled in
  std::vector<int> pb_remaining;  // per-bank: banks (within the rank) not refreshed in this round
  std::size_t pb_pos = 0;         // index in pb_remaining of the bank chosen
  bool pb_skip = false;
  bool rm_has = false;
  Cmd rm_cmd = Cmd::REFA;
  int rm_bank = -1;  // channel bank index for PRE/REFPB
  // Power-down manager (DRAMSys PowerDownManagerStaggered as ArchGym ships it).
  PdState pd = PdState::Idle;
  bool ctrl_idle = true, entry = true, exit = false, enter_sref = false;
};

struct Candidate {
  Cmd cmd;
  int rank;
  int bank;  // channel bank index, -1 for rank commands
  i64 time;
  i64 prio;  // payload id; 0 for refresh, largest for power-down
};

// DRAMPower's command set (MemCommand::cmds) as DRAMSys maps its commands.
enum class PCmd : std::uint8_t { PRE, ACT, RD, WR, PREA, REF, REFB, PDN_S_ACT, PDN_S_PRE, PUP_ACT, PUP_PRE, SREN, SREX };

struct PowerEvent {
  i64 t;
  PCmd type;
  std::uint16_t rank;
  std::uint16_t bank;  // within the rank
};

struct Channel {
  std::vector<Bank> banks;
  std::vector<Rank> ranks;
  i64 last_row_cmd = kPast, last_col_cmd = kPast;
  i64 last_rd = kPast, last_wr = kPast;
  int last_cas_rank = -1;
  bool last_cas_write = false;
  int last_stored_bank = 0;
  int buffered_reads = 0, buffered_writes = 0;
  i64 next_id = 1;      // channel payload ids, in acceptance order
  i64 next_cas_id = 1;  // CmdMux Strict: the payload whose column command goes next
  // Controller input: the request the arbiter forwarded (BEGIN_REQ).
  bool in_valid = false;
  std::size_t in_idx = 0;
  i64 in_arrival = 0;
  i64 end_req = kPast;  // the controller's last END_REQ
  std::deque<std::pair<std::size_t, i64>> arb_queue;  // Fifo/Reorder arbiter: requests waiting for this channel
  // Responses.
  std::deque<std::pair<Payload*, i64>> resp_fifo;
  std::map<i64, std::pair<Payload*, i64>> resp_reorder;
  i64 resp_next_id = 1;
  i64 resp_free = kPast;  // earliest next BEGIN_RESP (one cycle after the last END_RESP)
  std::vector<Candidate> ready;
  bool dirty = true;
  std::vector<PowerEvent> power;
  i64 data_cycles = 0;
};

class Engine {
public:
  Engine(const MemSpec& s, const ControllerConfig& c, const AddressMapping& m, const std::vector<Request>& trace, const SimOptions& o)
      : s_(s), c_(c), trace_(trace), opt_(o) {
    c_.validate(s_, "controller config");
    m.validate(s_, "address mapping");
    nb_ = s_.banks;
    bl_ = s_.burst_cycles();
    tck_ps_ = s_.tck_ps();
    if (tck_ps_ < 1) throw InvalidArgument("memspec " + s_.id + ": clkMhz gives a clock period below 1 ps");
    player_ps_ = opt_.player_clk_mhz > 0 ? period_ps(opt_.player_clk_mhz) : tck_ps_;
    if (player_ps_ < 1) throw InvalidArgument("dram simulator: the trace player clock period is below 1 ps");
    const auto cyc = [&](double ns) { return static_cast<i64>(std::llround(ns * 1000.0 / static_cast<double>(tck_ps_))); };
    think_fw_ = cyc(c_.think_delay_fw);
    think_bw_ = cyc(c_.think_delay_bw);
    phy_fw_ = cyc(c_.phy_delay_fw);
    phy_bw_ = cyc(c_.phy_delay_bw);
    arb_fw_ = cyc(c_.arbitration_delay_fw);
    arb_bw_ = cyc(c_.arbitration_delay_bw);
    channels_.resize(static_cast<std::size_t>(s_.channels));
    const bool per_bank = c_.refresh_policy == RefreshPolicy::PerBank;
    const i64 interval = per_bank ? s_.REFI_PB : s_.REFI;
    for (auto& ch : channels_) {
      ch.banks.resize(static_cast<std::size_t>(s_.ranks * nb_));
      ch.ranks.resize(static_cast<std::size_t>(s_.ranks));
      for (std::size_t ri = 0; ri < ch.ranks.size(); ++ri) {
        Rank& r = ch.ranks[ri];
        r.faw.assign(static_cast<std::size_t>(s_.acts_in_faw), kPast);
        r.bg_act.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
        r.bg_rd.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
        r.bg_wr.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
        for (int b = 0; b < nb_; ++b) r.pb_remaining.push_back(b);
        if (c_.refresh_policy != RefreshPolicy::NoRefresh) r.ref_due = first_refresh(interval, static_cast<int>(ri));
      }
    }
    tck_ns_ = static_cast<double>(tck_ps_) / 1000.0;
    decode_all(m);
  }

  SimResult run();

private:
  // ------------------------------------------------------------ decoding
  static std::uint32_t gather(std::uint64_t a, const std::vector<int>& bits) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < bits.size(); ++i) v |= static_cast<std::uint32_t>((a >> bits[i]) & 1U) << i;
    return v;
  }

  void decode_all(const AddressMapping& m) {
    std::uint64_t used = 0;
    for (const auto* v : {&m.byte_bits, &m.column_bits, &m.row_bits, &m.bank_bits, &m.bankgroup_bits, &m.rank_bits, &m.channel_bits})
      for (int b : *v) used |= std::uint64_t{1} << b;
    payloads_.resize(trace_.size());
    time_ps_.resize(trace_.size());
    for (std::size_t i = 0; i < trace_.size(); ++i) {
      std::uint64_t a = trace_[i].address;
      if (a & ~used) {
        if (!opt_.wrap_addresses) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(trace_[i].address));
          throw InvalidArgument("trace request " + std::to_string(i + 1) + ": address " + buf + " is beyond the " + std::to_string(s_.capacity_bytes()) +
                                "-byte device; use a trace that fits, or wrap_addresses to ignore the high bits as DRAMSys does");
        }
        ++result_.wrapped_addresses;
      }
      for (const auto& [first, second] : m.xor_bits) a ^= ((a >> second) & 1U) << first;
      Payload& p = payloads_[i];
      p.index = static_cast<std::uint32_t>(i);
      p.write = trace_[i].write;
      p.channel = gather(a, m.channel_bits);
      p.rank = gather(a, m.rank_bits);
      p.bankgroup = gather(a, m.bankgroup_bits);
      const std::uint32_t bank_in_group = gather(a, m.bank_bits);
      p.bank = p.rank * static_cast<std::uint32_t>(nb_) + p.bankgroup * static_cast<std::uint32_t>(s_.banks_per_group()) + bank_in_group;
      p.row = gather(a, m.row_bits);
      const double t = trace_[i].time_ns;
      if (!(t >= 0 && t <= kMaxTraceTimeNs))
        throw InvalidArgument("trace request " + std::to_string(i + 1) + ": its time must be in 0.." + std::to_string(kMaxTraceTimeNs) + " ns");
      time_ps_[i] = std::llround(t * 1000.0);
    }
  }

  // DRAMSys RefreshManagerIF::getTimeForFirstTrigger: one interval after the
  // start, ranks staggered in bit-reversed order, rounded up to a clock edge.
  i64 first_refresh(i64 interval, int rank) const {
    int bits = 0;
    while ((1 << bits) < s_.ranks) ++bits;
    int rev = 0;
    for (int i = 0; i < bits; ++i)
      if (rank & (1 << i)) rev |= 1 << (bits - 1 - i);
    const i64 ps = interval * tck_ps_ - rev * (interval * tck_ps_ / s_.ranks);
    return (ps + tck_ps_ - 1) / tck_ps_;
  }

  i64 ceil_cycles(i64 ps) const { return (ps + tck_ps_ - 1) / tck_ps_; }
  // The player's next clock edge strictly after `ps` (DRAMSys StlPlayer).
  i64 next_edge(i64 ps) const { return ps + player_ps_ - ((ps % player_ps_) + player_ps_) % player_ps_; }

  // ------------------------------------------------------------ timing checker
  i64 bus_free(const Channel& ch, Cmd c) const {
    return (is_cas(c) && s_.separate_row_column_bus() ? ch.last_col_cmd : ch.last_row_cmd) + 1;
  }

  i64 earliest(const Channel& ch, Cmd c, int rank, int bank) const {
    const Rank& r = ch.ranks[static_cast<std::size_t>(rank)];
    i64 t = bus_free(ch, c);
    auto at_least = [&t](i64 x) { t = std::max(t, x); };
    auto bank_at = [&](int i) -> const Bank& { return ch.banks[static_cast<std::size_t>(rank * nb_ + i)]; };
    switch (c) {
      case Cmd::ACT: {
        const Bank& b = ch.banks[static_cast<std::size_t>(bank)];
        const auto bg = static_cast<std::size_t>((bank % nb_) / s_.banks_per_group());
        at_least(b.t_act + s_.RC);
        at_least(b.t_pre_done);
        at_least(r.t_act + s_.RRD_S);
        at_least(r.bg_act[bg] + s_.RRD_L);
        at_least(r.faw[static_cast<std::size_t>(r.faw_pos)] + s_.FAW);
        at_least(r.t_ref + s_.RFC);
        at_least(b.t_refpb + s_.RFC_PB);
        at_least(r.t_pdxa + s_.XP);
        at_least(r.t_pdxp + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      }
      case Cmd::PRE: {
        const Bank& b = ch.banks[static_cast<std::size_t>(bank)];
        at_least(b.t_act + s_.RAS);
        at_least(b.t_rd + s_.rd_to_pre);
        at_least(b.t_wr + s_.wr_to_pre);
        at_least(r.t_pre + s_.PPD);
        at_least(r.t_pdxa + s_.XP);
        break;
      }
      case Cmd::PREA:
        for (int i = 0; i < nb_; ++i) {
          const Bank& b = bank_at(i);
          if (!b.open) continue;
          at_least(b.t_act + s_.RAS);
          at_least(b.t_rd + s_.rd_to_pre);
          at_least(b.t_wr + s_.wr_to_pre);
        }
        at_least(r.t_pre + s_.PPD);
        at_least(r.t_pdxa + s_.XP);
        break;
      case Cmd::RD:
      case Cmd::RDA:
      case Cmd::WR:
      case Cmd::WRA: {
        const bool rd = c == Cmd::RD || c == Cmd::RDA;
        const Bank& b = ch.banks[static_cast<std::size_t>(bank)];
        const auto bg = static_cast<std::size_t>((bank % nb_) / s_.banks_per_group());
        at_least(b.t_act + (rd ? s_.RCD : s_.RCD_WR));
        if (rd) {
          at_least(r.t_rd + s_.CCD_S);
          at_least(r.bg_rd[bg] + s_.CCD_L);
          at_least(r.t_wr + s_.wr_to_rd_s);
          at_least(r.bg_wr[bg] + s_.wr_to_rd_l);
        } else {
          at_least(r.t_wr + s_.CCD_S);
          at_least(r.bg_wr[bg] + s_.CCD_L);
          at_least(r.t_rd + s_.rd_to_wr);
        }
        // Data bus shared with the other ranks: a rank switch costs RTRS.
        if (ch.last_cas_rank >= 0 && ch.last_cas_rank != rank) {
          if (rd) {
            at_least(ch.last_rd + bl_ + s_.RTRS);
            at_least(ch.last_wr + s_.WL + bl_ + s_.RTRS - s_.RL);
          } else {
            at_least(ch.last_wr + bl_ + s_.RTRS);
            at_least(ch.last_rd + s_.RL + bl_ + s_.RTRS - s_.WL);
          }
        }
        at_least(r.t_pdxa + s_.XP);
        at_least(r.t_srefx + s_.XS_DLL);
        break;
      }
      case Cmd::REFA:
        for (int i = 0; i < nb_; ++i) {
          at_least(bank_at(i).t_pre_done);
          at_least(bank_at(i).t_refpb + s_.RFC_PB);
        }
        at_least(r.t_act + s_.RC);
        at_least(r.t_ref + s_.RFC);
        at_least(r.t_pdxp + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      case Cmd::REFPB: {
        const Bank& b = ch.banks[static_cast<std::size_t>(bank)];
        at_least(b.t_pre_done);
        at_least(b.t_act + s_.RC);
        at_least(b.t_refpb + s_.RFC_PB);
        at_least(r.t_ref + s_.RFC);
        at_least(r.t_refpb + (s_.RREFD > 0 ? s_.RREFD : s_.RRD_S));
        at_least(r.t_act + s_.RRD_S);
        at_least(r.t_pdxa + s_.XP);
        at_least(r.t_pdxp + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      }
      // Power-down entries and exits (DRAMSys' checkers, e.g. CheckerDDR3
      // 301-416: tRDPDEN, tWRPDEN, tWRAPDEN, tACTPDEN, tPRPDEN, tREFPDEN).
      case Cmd::PDEA:
        at_least(r.t_act + s_.ACTPDEN);
        at_least(r.t_rd + s_.rd_to_pden);
        at_least(r.t_wr_plain + s_.wr_to_pden);
        at_least(r.t_wra + s_.wra_to_pden);
        at_least(r.t_pre_cmd + s_.PRPDEN);
        at_least(r.t_pdxa + s_.CKE);
        break;
      case Cmd::PDEP:
        at_least(r.t_rd + s_.rd_to_pden);
        at_least(r.t_wra + s_.wra_to_pden);
        at_least(r.t_pre_cmd + s_.PRPDEN);
        at_least(r.t_ref + s_.REFPDEN);
        at_least(r.t_refpb + s_.REFPDEN);
        at_least(r.t_pdxp + s_.CKE);
        at_least(r.t_srefx + s_.XS);
        break;
      case Cmd::SREFEN:
        at_least(r.t_act + s_.RC);
        at_least(r.t_rda + s_.rda_to_sref);
        at_least(r.t_wra + s_.wra_to_sref);
        for (int i = 0; i < nb_; ++i) at_least(bank_at(i).t_pre_done);
        at_least(r.t_pdxp + s_.XP);
        at_least(r.t_ref + s_.RFC);
        at_least(r.t_refpb + s_.RFC_PB);
        at_least(r.t_srefx + s_.XS);
        break;
      case Cmd::PDXA: at_least(r.t_pdea + s_.CKE); break;
      case Cmd::PDXP: at_least(r.t_pdep + s_.CKE); break;
      case Cmd::SREFEX: at_least(r.t_srefen + s_.CKESR); break;
      case Cmd::Count: break;
    }
    return t;
  }

  // ------------------------------------------------------------ scheduler
  bool has_buffer_space(const Channel& ch) const {
    switch (c_.scheduler_buffer) {
      case SchedulerBuffer::Bankwise:
        // DRAMSys checks the bank of the request stored last.
        return static_cast<int>(ch.banks[static_cast<std::size_t>(ch.last_stored_bank)].queue.size()) < c_.request_buffer_size;
      case SchedulerBuffer::ReadWrite: return ch.buffered_reads < c_.request_buffer_size && ch.buffered_writes < c_.request_buffer_size;
      case SchedulerBuffer::Shared: return ch.buffered_reads + ch.buffered_writes < c_.request_buffer_size;
    }
    return false;
  }

  Payload* pick(const Channel& ch, const Bank& b) const {
    if (b.queue.empty()) return nullptr;
    if (c_.scheduler == SchedulerKind::Fifo || !b.open) return b.queue.front();
    if (c_.scheduler == SchedulerKind::FrFcfsGrp) {
      // Prefer a row hit of the same direction as the last column command,
      // unless an older row hit to the same address must go first.
      Payload* first_hit = nullptr;
      for (std::size_t i = 0; i < b.queue.size(); ++i) {
        Payload* p = b.queue[i];
        if (p->row != b.row) continue;
        if (!first_hit) first_hit = p;
        if (p->write == ch.last_cas_write) {
          bool hazard = false;
          for (std::size_t k = 0; k < i && !hazard; ++k)
            hazard = b.queue[k]->row == b.row && trace_[b.queue[k]->index].address == trace_[p->index].address;
          if (!hazard) return p;
        }
      }
      return first_hit ? first_hit : b.queue.front();
    }
    for (Payload* p : b.queue)
      if (p->row == b.row) return p;
    return b.queue.front();
  }

  bool further_row_hit(const Bank& b) const {
    if (c_.scheduler == SchedulerKind::Fifo) return b.queue.size() >= 2 && b.queue[1]->row == b.row;
    int hits = 0;
    for (const Payload* p : b.queue)
      if (p->row == b.row && ++hits == 2) return true;
    return false;
  }

  // ------------------------------------------------------------ bank machine
  void evaluate_bank(const Channel& ch, Bank& b) {
    b.has_cmd = false;
    if (b.blocked) return;
    Payload* p = pick(ch, b);
    if (!p) return;
    if (!b.keep || p->row == b.row) b.cur = p;
    Payload* cur = b.cur;
    b.has_cmd = true;
    if (!b.open) {
      b.cmd = Cmd::ACT;
      return;
    }
    if (cur->row != b.row) {
      b.cmd = Cmd::PRE;
      return;
    }
    bool auto_pre = false;
    switch (c_.page_policy) {
      case PagePolicy::Open: break;
      case PagePolicy::Closed: auto_pre = true; break;
      case PagePolicy::OpenAdaptive: auto_pre = b.queue.size() >= 2 && !further_row_hit(b); break;
      case PagePolicy::ClosedAdaptive: auto_pre = !further_row_hit(b); break;
    }
    b.cmd = cur->write ? (auto_pre ? Cmd::WRA : Cmd::WR) : (auto_pre ? Cmd::RDA : Cmd::RD);
  }

  bool rank_busy(const Channel& ch, int rank) const {
    for (int i = 0; i < nb_; ++i)
      if (!ch.banks[static_cast<std::size_t>(rank * nb_ + i)].queue.empty()) return true;
    return false;
  }

  // ------------------------------------------------------------ managers
  void pdm_interrupt(Rank& r) {
    r.entry = false;
    if (r.pd != PdState::Idle) r.exit = true;
  }
  void refresh_manager(Channel& ch, int ri, i64 now);
  bool power_down_command(const Channel& ch, int ri, Cmd& cmd) const;

  // ------------------------------------------------------------ front end
  void initiator(i64 now);
  void arbiter_forward(Channel& ch, i64 now);
  void release_slot(i64 at);
  void accept(Channel& ch, i64 now, i64 end_req_delay);
  void deliver_responses(Channel& ch, i64 now);
  void controller(Channel& ch, i64 now);
  void issue(Channel& ch, const Candidate& cand, i64 now);
  void power_event(Channel& ch, i64 t, PCmd type, int rank, int bank) {
    if (s_.has_power())
      ch.power.push_back({t + think_fw_ + phy_fw_, type, static_cast<std::uint16_t>(rank), static_cast<std::uint16_t>(bank % nb_)});
  }
  void close_bank(Rank& r, Bank& b) {
    b.open = false;
    b.keep = false;
    --r.open_banks;
  }
  double channel_energy(Channel& ch, Energy& e);

  const MemSpec& s_;
  ControllerConfig c_;
  const std::vector<Request>& trace_;
  SimOptions opt_;
  int nb_ = 8, bl_ = 4;
  i64 tck_ps_ = 1, player_ps_ = 1;
  double tck_ns_ = 1;
  i64 think_fw_ = 0, think_bw_ = 0, phy_fw_ = 0, phy_bw_ = 0, arb_fw_ = 0, arb_bw_ = 0;

  std::vector<Payload> payloads_;
  std::vector<i64> time_ps_;
  std::vector<Channel> channels_;

  // Initiator (trace player) and arbiter.
  std::size_t next_send_ = 0;  // next trace request the initiator sends
  i64 send_ps_ = 0;            // when it sends it (valid unless waiting)
  bool waiting_ = false;       // waiting for END_REQ of the last request sent
  int active_ = 0;             // Fifo/Reorder: transactions between END_REQ and END_RESP
  bool parked_ = false;        // Fifo/Reorder: a request waits for a free slot
  std::size_t parked_idx_ = 0;
  std::priority_queue<i64, std::vector<i64>, std::greater<>> slot_release_;
  i64 init_last_resp_ = kPast;  // the initiator's last BEGIN_RESP
  std::map<std::uint32_t, i64> arb_reorder_;  // Reorder arbiter: trace index -> arrival at the arbiter
  std::uint32_t arb_next_index_ = 0;
  std::vector<i64> done_cycle_;
  std::size_t delivered_ = 0;
  SimResult result_;
};

// ---------------------------------------------------------------- front end

void Engine::initiator(i64 now) {
  const std::size_t n = trace_.size();
  // Fifo/Reorder: a response freed a slot. A parked request takes it over
  // (END_REQ at the slot's release); otherwise the slot is returned.
  while (!slot_release_.empty() && slot_release_.top() <= now) {
    const i64 at = slot_release_.top();
    slot_release_.pop();
    if (parked_) {
      parked_ = false;
      Payload& p = payloads_[parked_idx_];
      channels_[p.channel].arb_queue.emplace_back(parked_idx_, at + arb_fw_);
      waiting_ = false;
      if (next_send_ < n) send_ps_ = std::max(next_edge(at * tck_ps_), time_ps_[next_send_]);
    } else {
      --active_;
    }
  }
  if (waiting_ || next_send_ >= n) return;
  // The request reaches the arbiter at the memory clock edge at or after it is sent.
  const i64 arrive = ceil_cycles(send_ps_);
  if (c_.arbiter == Arbiter::Simple) {
    // One request in flight: the controller's END_REQ lets the next one go.
    const std::size_t k = next_send_++;
    Channel& ch = channels_[payloads_[k].channel];
    ch.in_valid = true;
    ch.in_idx = k;
    ch.in_arrival = arrive + arb_fw_;
    waiting_ = true;
    return;
  }
  while (!waiting_ && next_send_ < n) {
    const i64 a = ceil_cycles(send_ps_);
    if (a > now) return;
    const std::size_t k = next_send_++;
    if (active_ < c_.max_active_transactions) {
      ++active_;
      channels_[payloads_[k].channel].arb_queue.emplace_back(k, a + arb_fw_);
      // END_REQ at once: the initiator sends the next on its next edge.
      if (next_send_ < n) send_ps_ = std::max(next_edge(a * tck_ps_), time_ps_[next_send_]);
    } else {
      parked_ = true;
      parked_idx_ = k;
      waiting_ = true;
    }
  }
}

// Fifo/Reorder arbiter: forwards the head of a channel's queue once the
// controller answered the previous BEGIN_REQ (never two in the same cycle).
void Engine::arbiter_forward(Channel& ch, i64 now) {
  if (c_.arbiter == Arbiter::Simple || ch.in_valid || ch.arb_queue.empty() || ch.end_req > now) return;
  const auto [idx, t] = ch.arb_queue.front();
  if (t > now) return;
  ch.arb_queue.pop_front();
  ch.in_valid = true;
  ch.in_idx = idx;
  ch.in_arrival = std::max(t, ch.end_req + 1);
}

void Engine::accept(Channel& ch, i64 now, i64 end_req_delay) {
  if (!ch.in_valid || ch.in_arrival > now || !has_buffer_space(ch)) return;
  Payload& p = payloads_[ch.in_idx];
  p.id = ch.next_id++;
  Bank& b = ch.banks[p.bank];
  b.queue.push_back(&p);
  ch.last_stored_bank = static_cast<int>(p.bank);
  (p.write ? ch.buffered_writes : ch.buffered_reads)++;
  Rank& r = ch.ranks[p.rank];
  if (r.pending++ == 0) {  // PDM triggerExit
    r.ctrl_idle = false;
    r.enter_sref = false;
    r.entry = false;
    if (r.pd != PdState::Idle) r.exit = true;
  }
  ch.in_valid = false;
  ch.dirty = true;
  ch.end_req = now + end_req_delay;
  if (c_.arbiter == Arbiter::Simple) {
    waiting_ = false;
    if (next_send_ < trace_.size()) send_ps_ = std::max(next_edge(ch.end_req * tck_ps_), time_ps_[next_send_]);
  }
}

void Engine::release_slot(i64 at) {
  if (c_.arbiter != Arbiter::Simple) slot_release_.push(at);
}

void Engine::deliver_responses(Channel& ch, i64 now) {
  if (ch.resp_free > now) return;
  Payload* p = nullptr;
  if (c_.resp_queue == RespQueue::Fifo) {
    if (ch.resp_fifo.empty() || ch.resp_fifo.front().second > now) return;
    p = ch.resp_fifo.front().first;
    ch.resp_fifo.pop_front();
  } else {
    auto it = ch.resp_reorder.find(ch.resp_next_id);
    if (it == ch.resp_reorder.end() || it->second.second > now) return;
    p = it->second.first;
    ch.resp_reorder.erase(it);
    ++ch.resp_next_id;
  }
  // BEGIN_RESP to the arbiter now. The initiator takes one response per
  // cycle and answers END_RESP at once; the controller sends its next
  // response at the earliest one cycle after the END_RESP it receives.
  switch (c_.arbiter) {
    case Arbiter::Simple: {
      const i64 at = std::max(now + arb_bw_, init_last_resp_ + 1);
      init_last_resp_ = at;
      done_cycle_[p->index] = at;
      ++delivered_;
      ch.resp_free = at + 1;  // the arbiter returns END_RESP when the initiator does
      break;
    }
    case Arbiter::Fifo: {
      const i64 at = std::max(now + arb_bw_, init_last_resp_ + 1);
      init_last_resp_ = at;
      done_cycle_[p->index] = at;
      ++delivered_;
      release_slot(at);
      ch.resp_free = now + 1;  // the arbiter returns END_RESP at once
      break;
    }
    case Arbiter::Reorder:
      arb_reorder_[p->index] = now + arb_bw_;
      // Responses reach the initiator in its own request order.
      for (auto it = arb_reorder_.find(arb_next_index_); it != arb_reorder_.end(); it = arb_reorder_.find(arb_next_index_)) {
        const i64 at = std::max(it->second, init_last_resp_ + 1);
        init_last_resp_ = at;
        done_cycle_[it->first] = at;
        release_slot(at);
        ++delivered_;
        arb_reorder_.erase(it);
        ++arb_next_index_;
      }
      ch.resp_free = now + 1;
      break;
  }
}

// ---------------------------------------------------------------- managers

// DRAMSys RefreshManagerAllBank/PerBank::start(). Decides at the due time:
// refresh if the rank is idle, else postpone (up to RefreshMaxPostponed,
// then force). After a refresh, further ones are pulled in back to back
// while the rank stays idle (down to -RefreshMaxPulledin).
void Engine::refresh_manager(Channel& ch, int ri, i64 now) {
  Rank& r = ch.ranks[static_cast<std::size_t>(ri)];
  const bool had = r.rm_has;
  const Cmd had_cmd = r.rm_cmd;
  const int had_bank = r.rm_bank;
  r.rm_has = false;
  if (c_.refresh_policy == RefreshPolicy::NoRefresh || now < r.ref_due) {
    if (had) ch.dirty = true;
    return;
  }
  if (r.entry || (r.pd != PdState::Idle && !r.exit)) ch.dirty = true;
  pdm_interrupt(r);
  if (r.pd != PdState::Idle) return;
  const bool per_bank = c_.refresh_policy == RefreshPolicy::PerBank;
  const i64 interval = per_bank ? s_.REFI_PB : s_.REFI;
  const int scale = per_bank ? nb_ : 1;
  const int max_postponed = c_.refresh_max_postponed * scale;
  if (now >= r.ref_due + interval) {  // missed a whole interval (cannot refresh while in self refresh etc.)
    r.ref_due += interval;
    r.pulled_in = false;
  }
  auto bank_busy = [&](int b) { return !ch.banks[static_cast<std::size_t>(ri * nb_ + b)].queue.empty(); };
  if (!per_bank) {
    if (!r.pulled_in) {
      if (r.flex == max_postponed) {
        for (int i = 0; i < nb_; ++i) ch.banks[static_cast<std::size_t>(ri * nb_ + i)].blocked = true;  // forced
      } else if (rank_busy(ch, ri)) {
        ++r.flex;
        r.ref_due += interval;
        ch.dirty = true;
        return;
      }
      r.rm_cmd = r.open_banks > 0 ? Cmd::PREA : Cmd::REFA;
    } else {
      if (rank_busy(ch, ri)) {
        r.pulled_in = false;
        r.ref_due += interval;
        ch.dirty = true;
        return;
      }
      r.rm_cmd = Cmd::REFA;
    }
    r.rm_bank = -1;
  } else {
    const bool forced = !r.pulled_in && r.flex == max_postponed;
    bool all_busy = true;
    if (r.pulled_in || !r.pb_skip) {
      if (!r.pulled_in) r.pb_pos = 0;
      for (std::size_t i = 0; i < r.pb_remaining.size(); ++i)
        if (!bank_busy(r.pb_remaining[i])) {
          r.pb_pos = i;
          all_busy = false;
          break;
        }
    } else {
      all_busy = false;  // keep the bank chosen by the forced refresh
    }
    if (all_busy && (r.pulled_in || !forced)) {
      if (r.pulled_in)
        r.pulled_in = false;
      else
        ++r.flex;
      r.ref_due += interval;
      ch.dirty = true;
      return;
    }
    const int bank = ri * nb_ + r.pb_remaining[r.pb_pos];
    if (ch.banks[static_cast<std::size_t>(bank)].open) {
      r.rm_cmd = Cmd::PRE;
    } else {
      r.rm_cmd = Cmd::REFPB;
      if (forced) {
        ch.banks[static_cast<std::size_t>(bank)].blocked = true;
        r.pb_skip = true;
      }
    }
    r.rm_bank = bank;
  }
  r.rm_has = true;
  if (!had || had_cmd != r.rm_cmd || had_bank != r.rm_bank) ch.dirty = true;
}

// DRAMSys PowerDownManagerStaggered::start(): exit first, then entry
// (active power-down if a row is open, else precharge power-down), then
// self refresh (after a refresh interrupted precharge power-down).
bool Engine::power_down_command(const Channel& ch, int ri, Cmd& cmd) const {
  if (c_.power_down_policy != PowerDownPolicy::Staggered) return false;
  const Rank& r = ch.ranks[static_cast<std::size_t>(ri)];
  if (r.exit) {
    switch (r.pd) {
      case PdState::ActivePdn: cmd = Cmd::PDXA; return true;
      case PdState::PrechargePdn: cmd = Cmd::PDXP; return true;
      case PdState::SelfRefresh: cmd = Cmd::SREFEX; return true;
      case PdState::ExtraRefresh: cmd = Cmd::REFA; return true;
      case PdState::Idle: return false;
    }
  }
  if (r.entry) {
    cmd = r.pdm_activated != 0 ? Cmd::PDEA : Cmd::PDEP;
    return true;
  }
  if (r.enter_sref) {
    cmd = Cmd::SREFEN;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- controller

// One invocation of DRAMSys' Controller::controllerMethod for a channel,
// after responses and requests were handled: managers, candidate commands,
// command multiplexer.
void Engine::controller(Channel& ch, i64 now) {
  for (int ri = 0; ri < s_.ranks; ++ri) refresh_manager(ch, ri, now);
  if (ch.dirty) {
    ch.ready.clear();
    for (int ri = 0; ri < s_.ranks; ++ri) {
      Rank& r = ch.ranks[static_cast<std::size_t>(ri)];
      Cmd pdc;
      if (power_down_command(ch, ri, pdc)) {
        ch.ready.push_back({pdc, ri, -1, earliest(ch, pdc, ri, -1), kPowerDownPrio});
        continue;  // the power-down manager's command excludes the rank's others
      }
      if (r.pd != PdState::Idle) continue;  // bank machines sleep
      if (r.rm_has) ch.ready.push_back({r.rm_cmd, ri, r.rm_bank, earliest(ch, r.rm_cmd, ri, r.rm_bank), 0});
      for (int i = 0; i < nb_; ++i) {
        const int bi = ri * nb_ + i;
        Bank& b = ch.banks[static_cast<std::size_t>(bi)];
        evaluate_bank(ch, b);
        if (b.has_cmd) ch.ready.push_back({b.cmd, ri, bi, earliest(ch, b.cmd, ri, bi), b.cur->id});
      }
    }
    ch.dirty = false;
  }
  // Command multiplexer: of the commands ready now, the oldest request's
  // (refresh first, power-down last); Strict: column commands only in
  // acceptance order. One command per command bus.
  bool issued_row = false, issued_col = false;
  for (int pass = 0; pass < (s_.separate_row_column_bus() ? 2 : 1); ++pass) {
    const Candidate* best = nullptr;
    for (const auto& cand : ch.ready) {
      if (cand.time > now) continue;
      const bool column = is_cas(cand.cmd);
      if (s_.separate_row_column_bus() ? (column ? issued_col : issued_row) : (issued_row || issued_col)) continue;
      if (column && c_.cmd_mux == CmdMux::Strict && cand.prio != ch.next_cas_id) continue;
      if (!best || cand.prio < best->prio) best = &cand;
    }
    if (!best) break;
    const Candidate chosen = *best;
    (is_cas(chosen.cmd) ? issued_col : issued_row) = true;
    issue(ch, chosen, now);
    // The others must be re-derived (their timing changed); in this cycle
    // only the other command bus may still issue.
    for (auto& cand : ch.ready)
      if (cand.rank == chosen.rank) cand.time = std::max(cand.time, now + 1);
  }
}

void Engine::issue(Channel& ch, const Candidate& cand, i64 now) {
  const Cmd c = cand.cmd;
  Rank& r = ch.ranks[static_cast<std::size_t>(cand.rank)];
  ch.dirty = true;
  ++result_.commands[static_cast<std::size_t>(c)];
  if (is_cas(c) && s_.separate_row_column_bus())
    ch.last_col_cmd = now;
  else
    ch.last_row_cmd = now;
  if (opt_.record_commands) {
    const std::uint32_t row = cand.bank >= 0 ? ch.banks[static_cast<std::size_t>(cand.bank)].row : 0;
    result_.command_log.push_back({now, c, static_cast<std::uint16_t>(&ch - channels_.data()), static_cast<std::uint16_t>(cand.rank),
                                   static_cast<std::uint16_t>(cand.bank >= 0 ? cand.bank : 0), row});
  }
  auto wake_banks = [&] {
    for (int i = 0; i < nb_; ++i) ch.banks[static_cast<std::size_t>(cand.rank * nb_ + i)].blocked = false;
  };
  switch (c) {
    case Cmd::ACT: {
      Bank& b = ch.banks[static_cast<std::size_t>(cand.bank)];
      const auto bg = static_cast<std::size_t>((cand.bank % nb_) / s_.banks_per_group());
      b.open = true;
      b.row = b.cur->row;
      b.keep = true;
      b.t_act = now;
      if (b.cur->outcome == Outcome::None) b.cur->outcome = Outcome::Miss;
      if (opt_.record_commands) result_.command_log.back().row = b.row;
      r.t_act = now;
      r.bg_act[bg] = now;
      r.faw[static_cast<std::size_t>(r.faw_pos)] = now;
      r.faw_pos = (r.faw_pos + 1) % s_.acts_in_faw;
      ++r.open_banks;
      ++r.pdm_activated;
      power_event(ch, now, PCmd::ACT, cand.rank, cand.bank);
      break;
    }
    case Cmd::PRE: {
      Bank& b = ch.banks[static_cast<std::size_t>(cand.bank)];
      if (b.cur && b.cur->row != b.row) b.cur->outcome = Outcome::Conflict;
      b.t_pre_done = now + s_.RP;
      r.t_pre = r.t_pre_cmd = now;
      close_bank(r, b);
      --r.pdm_activated;
      power_event(ch, now, PCmd::PRE, cand.rank, cand.bank);
      break;
    }
    case Cmd::PREA:
      for (int i = 0; i < nb_; ++i) {
        Bank& b = ch.banks[static_cast<std::size_t>(cand.rank * nb_ + i)];
        if (!b.open) continue;
        b.t_pre_done = now + s_.RP_AB;
        close_bank(r, b);
      }
      r.t_pre = r.t_pre_cmd = now;
      r.pdm_activated = 0;
      power_event(ch, now, PCmd::PREA, cand.rank, 0);
      break;
    case Cmd::RD:
    case Cmd::RDA:
    case Cmd::WR:
    case Cmd::WRA: {
      Bank& b = ch.banks[static_cast<std::size_t>(cand.bank)];
      Payload* p = b.cur;
      const bool rd = c == Cmd::RD || c == Cmd::RDA;
      const auto bg = static_cast<std::size_t>((cand.bank % nb_) / s_.banks_per_group());
      if (opt_.record_commands) result_.command_log.back().row = b.row;
      if (p->outcome == Outcome::None) p->outcome = Outcome::Hit;
      if (rd) {
        b.t_rd = now;
        r.t_rd = now;
        if (c == Cmd::RDA) r.t_rda = now;
        r.bg_rd[bg] = now;
        ch.last_rd = now;
      } else {
        b.t_wr = now;
        r.t_wr = now;
        (c == Cmd::WRA ? r.t_wra : r.t_wr_plain) = now;
        r.bg_wr[bg] = now;
        ch.last_wr = now;
      }
      ch.last_cas_rank = cand.rank;
      ch.last_cas_write = !rd;
      ch.data_cycles += bl_;
      power_event(ch, now, rd ? PCmd::RD : PCmd::WR, cand.rank, cand.bank);
      if (c == Cmd::RDA || c == Cmd::WRA) {
        const i64 pre_at = now + (rd ? s_.rd_to_pre : s_.wr_to_pre);
        b.t_pre_done = pre_at + s_.RP;
        r.t_pre = std::max(r.t_pre, pre_at);
        close_bank(r, b);
        // DRAMPower places the auto-precharge at max(t + offset, ACT + RAS).
        power_event(ch, std::max(now + (rd ? s_.rda_pre_offset : s_.wra_pre_offset), b.t_act + s_.RAS), PCmd::PRE, cand.rank, cand.bank);
      } else {
        b.keep = false;
      }
      // Remove from the scheduler; the response is ready when the burst ends.
      b.queue.erase(std::find(b.queue.begin(), b.queue.end(), p));
      (p->write ? ch.buffered_writes : ch.buffered_reads)--;
      --r.pending;
      b.cur = nullptr;
      if (c_.cmd_mux == CmdMux::Strict) ++ch.next_cas_id;
      const i64 ready = now + think_fw_ + phy_fw_ + (rd ? s_.rd_data : s_.wr_data) + phy_bw_ + think_bw_;
      if (c_.resp_queue == RespQueue::Fifo)
        ch.resp_fifo.emplace_back(p, ready);
      else
        ch.resp_reorder.emplace(p->id, std::make_pair(p, ready));
      accept(ch, now, think_fw_);
      break;
    }
    case Cmd::REFA:
      r.t_ref = now;
      wake_banks();
      power_event(ch, now, PCmd::REF, cand.rank, 0);
      if (r.pd == PdState::ExtraRefresh) {  // the refresh that ends self refresh
        r.pd = PdState::Idle;
        r.exit = false;
        r.pulled_in = false;
        r.ref_due = now + (c_.refresh_policy == RefreshPolicy::PerBank ? s_.REFI_PB : s_.REFI);
        if (c_.refresh_policy == RefreshPolicy::NoRefresh) r.ref_due = kNever;
        break;
      }
      if (r.pulled_in)
        --r.flex;
      else
        r.pulled_in = true;
      if (r.flex == -c_.refresh_max_pulledin) {
        r.pulled_in = false;
        r.ref_due += s_.REFI;
      }
      if (r.ctrl_idle) r.entry = true;
      break;
    case Cmd::REFPB: {
      Bank& b = ch.banks[static_cast<std::size_t>(cand.bank)];
      b.t_refpb = now;
      b.blocked = false;
      r.t_refpb = now;
      r.t_act = std::max(r.t_act, now);  // tRRD applies between REFpb and ACT
      power_event(ch, now, PCmd::REFB, cand.rank, cand.bank);
      r.pb_skip = false;
      r.pb_remaining.erase(r.pb_remaining.begin() + static_cast<std::ptrdiff_t>(r.pb_pos));
      if (r.pb_remaining.empty())
        for (int i = 0; i < nb_; ++i) r.pb_remaining.push_back(i);
      if (r.pulled_in)
        --r.flex;
      else
        r.pulled_in = true;
      if (r.flex == -c_.refresh_max_pulledin * nb_) {
        r.pulled_in = false;
        r.ref_due += s_.REFI_PB;
      }
      if (r.ctrl_idle) r.entry = true;
      break;
    }
    case Cmd::PDEA:
    case Cmd::PDEP:
      r.pd = c == Cmd::PDEA ? PdState::ActivePdn : PdState::PrechargePdn;
      r.entry = false;
      (c == Cmd::PDEA ? r.t_pdea : r.t_pdep) = now;
      power_event(ch, now, c == Cmd::PDEA ? PCmd::PDN_S_ACT : PCmd::PDN_S_PRE, cand.rank, 0);
      break;
    case Cmd::SREFEN:
      r.pd = PdState::SelfRefresh;
      r.entry = false;
      r.enter_sref = false;
      r.t_srefen = now;
      r.ref_due = kNever;  // the device refreshes itself
      power_event(ch, now, PCmd::SREN, cand.rank, 0);
      break;
    case Cmd::PDXA:
    case Cmd::PDXP:
      if (c == Cmd::PDXP && r.ctrl_idle) r.enter_sref = true;
      r.pd = PdState::Idle;
      r.exit = false;
      (c == Cmd::PDXA ? r.t_pdxa : r.t_pdxp) = now;
      power_event(ch, now, c == Cmd::PDXA ? PCmd::PUP_ACT : PCmd::PUP_PRE, cand.rank, 0);
      break;
    case Cmd::SREFEX:
      r.pd = PdState::ExtraRefresh;  // exit stays set: a refresh (REFA) follows
      r.t_srefx = now;
      power_event(ch, now, PCmd::SREX, cand.rank, 0);
      break;
    case Cmd::Count: break;
  }
  if (r.pending == 0) {  // PDM triggerEntry
    r.ctrl_idle = true;
    if (r.pd == PdState::Idle) r.entry = true;
  }
}

// ---------------------------------------------------------------- energy

// DRAMPower (CommandAnalysis, MemoryPowerModel) on the channel's commands:
// sorted by time (a precharge first among equal times), ended by a NOP at
// the last command's completion - 1, counted per rank. Returns the window
// in cycles.
double Engine::channel_energy(Channel& ch, Energy& e) {
  auto& ev = ch.power;
  if (ev.empty()) return 0;
  std::stable_sort(ev.begin(), ev.end(), [](const PowerEvent& a, const PowerEvent& b) {
    return a.t != b.t ? a.t < b.t : (a.type == PCmd::PRE && b.type != PCmd::PRE);
  });
  i64 completion = 0;
  switch (ev.back().type) {
    case PCmd::RD: completion = s_.rd_completion; break;
    case PCmd::WR: completion = s_.wr_completion; break;
    case PCmd::ACT: completion = s_.RCD; break;
    case PCmd::PRE:
    case PCmd::PREA: completion = s_.RP; break;
    default: break;
  }
  const i64 t_end = ev.back().t + completion - 1;
  const i64 rfc = s_.RFC, rp = s_.RP;
  double window = 0;
  for (int ri = 0; ri < s_.ranks; ++ri) {
    enum class State { Normal, PdnAct, PdnPre, Sref } state = State::Normal;
    std::vector<bool> open(static_cast<std::size_t>(nb_), false), saved;
    int n_open = 0;
    i64 first_act = 0, last_pre = 0, pdn = 0, sref_start = 0;
    double act_cycles = 0, pre_cycles = 0, pd_act = 0, pd_pre = 0, sref_cycles = 0;
    double sref_ref_act = 0, sref_ref_pre = 0, spup_ref_act = 0, spup_ref_pre = 0;
    double n_act = 0, n_pre = 0, n_rd = 0, n_wr = 0, n_ref = 0, n_refb = 0;
    auto guard = [](i64 x) { return static_cast<double>(std::max<i64>(x, 0)); };
    // The refresh a self-refresh period contains (CmdHandlers.cc handleSREx).
    auto sref_exit = [&](i64 t) {
      const i64 d = t - sref_start;
      if (d >= rfc) {
        sref_ref_act += static_cast<double>(rfc - rp);
        sref_ref_pre += static_cast<double>(rp);
        sref_cycles += static_cast<double>(d - rfc);
        last_pre = t;
      } else if (d >= rfc - rp) {
        const i64 p = d - (rfc - rp);
        sref_ref_act += static_cast<double>(rfc - rp);
        sref_ref_pre += static_cast<double>(p);
        spup_ref_pre += static_cast<double>(rp - p);
        last_pre = t + rp - p;
      } else {
        sref_ref_act += static_cast<double>(d);
        spup_ref_act += static_cast<double>(rfc - rp - d);
        spup_ref_pre += static_cast<double>(rp);
        last_pre = t + (rfc - rp - d) + rp;
      }
    };
    for (const PowerEvent& x : ev) {
      if (x.rank != ri) continue;
      const i64 t = x.t;
      switch (x.type) {
        case PCmd::ACT:
          if (!open[x.bank]) {
            ++n_act;
            if (n_open == 0) {
              first_act = t;
              pre_cycles += guard(t - last_pre);
            }
            open[x.bank] = true;
            ++n_open;
          }
          break;
        case PCmd::RD: ++n_rd; break;
        case PCmd::WR: ++n_wr; break;
        case PCmd::PRE:
          if (open[x.bank]) {
            ++n_pre;
            if (n_open == 1) {
              act_cycles += guard(t - first_act);
              last_pre = t;
            }
            open[x.bank] = false;
            --n_open;
          }
          break;
        case PCmd::PREA:
          if (n_open > 0) {
            act_cycles += guard(t - first_act);
            last_pre = t;
            n_pre += n_open;
            std::fill(open.begin(), open.end(), false);
            n_open = 0;
          }
          break;
        case PCmd::REF:
          ++n_ref;
          first_act = t;
          pre_cycles += guard(t - last_pre);
          last_pre = t + rfc - rp;
          act_cycles += static_cast<double>(rfc - rp);
          std::fill(open.begin(), open.end(), false);
          n_open = 0;
          break;
        case PCmd::REFB: ++n_refb; break;
        case PCmd::PDN_S_ACT:
          pdn = t;
          act_cycles += guard(t - first_act);
          saved = open;
          state = State::PdnAct;
          break;
        case PCmd::PDN_S_PRE:
          pdn = t;
          pre_cycles += guard(t - last_pre);
          state = State::PdnPre;
          break;
        case PCmd::PUP_ACT:
          pd_act += guard(t - pdn);
          // The banks return to their state at the entry, even those a
          // precharge closed meanwhile (an auto-precharge placed after it).
          if (!saved.empty()) open = saved;
          n_open = static_cast<int>(std::count(open.begin(), open.end(), true));
          first_act = t;
          state = State::Normal;
          break;
        case PCmd::PUP_PRE:
          pd_pre += guard(t - pdn);
          last_pre = t;
          state = State::Normal;
          break;
        case PCmd::SREN:
          sref_start = t;
          pre_cycles += guard(t - last_pre);
          state = State::Sref;
          break;
        case PCmd::SREX:
          sref_exit(t);
          state = State::Normal;
          break;
      }
    }
    // The final NOP closes the open interval.
    switch (state) {
      case State::Normal:
        if (n_open > 0)
          act_cycles += guard(t_end - first_act);
        else
          pre_cycles += guard(t_end - last_pre);
        break;
      case State::PdnAct: pd_act += guard(t_end - pdn); break;
      case State::PdnPre: pd_pre += guard(t_end - pdn); break;
      case State::Sref: sref_exit(t_end); break;
    }
    window = std::max(window, act_cycles + pre_cycles + pd_act + pd_pre + sref_cycles + sref_ref_act + sref_ref_pre + spup_ref_act + spup_ref_pre);
    const double bl = bl_;
    for (const PowerDomain& d : s_.power) {
      const double k = d.vdd * s_.exact_tck_ns() * s_.devices;  // mA * V * ns = pJ
      e.act += k * n_act * s_.RAS * (d.idd0 - d.idd3n);
      e.pre += k * n_pre * (s_.RC - s_.RAS) * (d.idd0 - d.idd2n);
      e.read += k * n_rd * bl * (d.idd4r - d.idd3n);
      e.write += k * n_wr * bl * (d.idd4w - d.idd3n);
      e.refresh += k * (n_ref * s_.RFC * (d.idd5 - d.idd3n) + n_refb * s_.RFC_PB * (d.idd5pb - d.idd3n));
      e.act_standby += k * act_cycles * d.idd3n;
      e.pre_standby += k * pre_cycles * d.idd2n;
      e.power_down += k * (pd_act * d.idd3p + pd_pre * d.idd2p);
      e.self_refresh += k * (sref_cycles * d.idd6 + (d.idd5 - d.idd3n) * (sref_ref_act + sref_ref_pre + spup_ref_act + spup_ref_pre) +
                             sref_ref_act * d.idd3p + sref_ref_pre * d.idd2p + spup_ref_act * d.idd3n + spup_ref_pre * d.idd2n);
    }
  }
  return window;
}

// ---------------------------------------------------------------- main loop

SimResult Engine::run() {
  const std::size_t n = trace_.size();
  done_cycle_.assign(n, kNever);
  send_ps_ = time_ps_[0];  // the first request goes at its trace time
  i64 now = 0;
  // The controllers run once at time 0 before any request can reach them
  // (DRAMSys: the request path takes delta cycles): with power-down, every
  // rank enters precharge power-down at cycle 0.
  for (auto& ch : channels_) controller(ch, 0);
  std::uint64_t guard = 0;
  while (delivered_ < n) {
    if (++guard > 400000000ULL) throw Error("dram simulator: no progress after 4e8 steps at cycle " + std::to_string(now));
    for (auto& ch : channels_) deliver_responses(ch, now);
    initiator(now);
    for (auto& ch : channels_) {
      arbiter_forward(ch, now);
      accept(ch, now, 0);
    }
    initiator(now);  // Simple: the request after an accepted one
    for (auto& ch : channels_) controller(ch, now);
    if (delivered_ >= n) break;

    // The next event.
    i64 next = kNever;
    auto at = [&](i64 t) { next = std::min(next, std::max(t, now + 1)); };
    for (auto& ch : channels_) {
      for (const auto& cand : ch.ready) at(cand.time);
      if (ch.in_valid) at(ch.in_arrival);  // arrival, or retry next cycle when the buffer is full
      if (!ch.arb_queue.empty()) at(std::max(ch.arb_queue.front().second, ch.end_req));
      i64 t = kNever;
      if (c_.resp_queue == RespQueue::Fifo) {
        if (!ch.resp_fifo.empty()) t = ch.resp_fifo.front().second;
      } else if (auto it = ch.resp_reorder.find(ch.resp_next_id); it != ch.resp_reorder.end()) {
        t = it->second.second;
      }
      if (t < kNever) at(std::max(t, ch.resp_free));
      for (const auto& r : ch.ranks)
        if (r.ref_due < kNever) at(r.ref_due);
    }
    if (!slot_release_.empty()) at(slot_release_.top());
    if (!waiting_ && next_send_ < n) at(ceil_cycles(send_ps_));
    if (next >= kNever) throw Error("dram simulator: stalled at cycle " + std::to_string(now) + " with " + std::to_string(n - delivered_) + " requests outstanding");
    now = next;
  }

  // Results.
  i64 end = 0;
  double sum_all = 0, sum_rd = 0, sum_wr = 0;
  std::vector<double> rd_lat;
  rd_lat.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    end = std::max(end, done_cycle_[i]);
    const double lat = static_cast<double>(done_cycle_[i] * tck_ps_ - time_ps_[i]) / 1000.0;
    sum_all += lat;
    if (trace_[i].write) {
      sum_wr += lat;
      ++result_.writes;
    } else {
      sum_rd += lat;
      rd_lat.push_back(lat);
      ++result_.reads;
    }
    switch (payloads_[i].outcome) {
      case Outcome::Hit: ++result_.row_hits; break;
      case Outcome::Miss: ++result_.row_misses; break;
      case Outcome::Conflict: ++result_.row_conflicts; break;
      case Outcome::None: break;
    }
  }
  result_.requests = static_cast<i64>(n);
  result_.cycles = end;
  result_.total_time_ns = static_cast<double>(end) * tck_ns_;
  result_.avg_latency_ns = sum_all / static_cast<double>(n);
  if (result_.reads > 0) {
    result_.avg_read_latency_ns = sum_rd / static_cast<double>(result_.reads);
    std::sort(rd_lat.begin(), rd_lat.end());
    auto pct = [&](double q) {
      const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(rd_lat.size()))) - 1;
      return rd_lat[std::min(k, rd_lat.size() - 1)];
    };
    result_.p50_read_latency_ns = pct(0.50);
    result_.p99_read_latency_ns = pct(0.99);
    result_.max_read_latency_ns = rd_lat.back();
  }
  if (result_.writes > 0) result_.avg_write_latency_ns = sum_wr / static_cast<double>(result_.writes);
  const double bytes = static_cast<double>(n) * static_cast<double>(s_.bytes_per_burst());
  i64 data_cycles = 0;
  for (const auto& ch : channels_) data_cycles += ch.data_cycles;
  result_.bandwidth_gbps = end > 0 ? bytes / result_.total_time_ns : 0;
  result_.bus_utilization = end > 0 ? static_cast<double>(data_cycles) / static_cast<double>(end * s_.channels) : 0;
  result_.row_hit_rate = static_cast<double>(result_.row_hits) / static_cast<double>(n);
  if (s_.has_power()) {
    result_.has_energy = true;
    for (auto& ch : channels_) {
      Energy e;
      const double window = channel_energy(ch, e);
      Energy& t = result_.energy_pj;
      t.act += e.act;
      t.pre += e.pre;
      t.read += e.read;
      t.write += e.write;
      t.refresh += e.refresh;
      t.act_standby += e.act_standby;
      t.pre_standby += e.pre_standby;
      t.power_down += e.power_down;
      t.self_refresh += e.self_refresh;
      if (window > 0) result_.average_power_mw += e.total() / (window * s_.exact_tck_ns());  // pJ / ns = mW
    }
    result_.energy_nj = result_.energy_pj.total() / 1000.0;
  }
  return result_;
}

}  // namespace

json SimResult::to_json() const {
  json cmds = json::object();
  for (std::size_t i = 0; i < kNumCmds; ++i) cmds[cmd_name(static_cast<Cmd>(i))] = commands[i];
  json j = {{"requests", requests},
            {"reads", reads},
            {"writes", writes},
            {"cycles", cycles},
            {"total_time_ns", total_time_ns},
            {"avg_latency_ns", avg_latency_ns},
            {"avg_read_latency_ns", avg_read_latency_ns},
            {"p50_read_latency_ns", p50_read_latency_ns},
            {"p99_read_latency_ns", p99_read_latency_ns},
            {"max_read_latency_ns", max_read_latency_ns},
            {"avg_write_latency_ns", avg_write_latency_ns},
            {"bandwidth_gbps", bandwidth_gbps},
            {"bus_utilization", bus_utilization},
            {"row_hits", row_hits},
            {"row_misses", row_misses},
            {"row_conflicts", row_conflicts},
            {"row_hit_rate", row_hit_rate},
            {"commands", cmds},
            {"wrapped_addresses", wrapped_addresses}};
  if (has_energy) {
    j["energy_nj"] = energy_nj;
    j["average_power_mw"] = average_power_mw;
    j["energy_breakdown_pj"] = {{"act", energy_pj.act},
                                {"pre", energy_pj.pre},
                                {"read", energy_pj.read},
                                {"write", energy_pj.write},
                                {"refresh", energy_pj.refresh},
                                {"act_standby", energy_pj.act_standby},
                                {"pre_standby", energy_pj.pre_standby},
                                {"power_down", energy_pj.power_down},
                                {"self_refresh", energy_pj.self_refresh}};
  } else {
    j["energy_nj"] = nullptr;
    j["average_power_mw"] = nullptr;
  }
  j["units"] = {{"time", "ns"}, {"bandwidth", "GB/s (1e9 B/s)"}, {"energy", "nJ (breakdown: pJ)"}, {"power", "mW"}};
  return j;
}

std::int64_t first_address_beyond(const MemSpec& spec, const std::vector<Request>& trace) {
  const std::uint64_t cap = spec.capacity_bytes();
  for (std::size_t i = 0; i < trace.size(); ++i)
    if (trace[i].address >= cap) return static_cast<std::int64_t>(i);
  return -1;
}

SimResult simulate(const MemSpec& spec, const ControllerConfig& config, const AddressMapping& mapping,
                   const std::vector<Request>& trace, const SimOptions& options) {
  if (trace.empty()) throw InvalidArgument("dram simulator: the trace has no requests");
  Engine e(spec, config, mapping, trace, options);
  return e.run();
}

}  // namespace dsegym::dram
