#include "simulators/dram/simulator.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <queue>

#include <nlohmann/json.hpp>

#include "envs/core/error.hpp"

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

enum class Outcome : std::uint8_t { None, Hit, Miss, Conflict };

struct Payload {
  i64 id = 0;  // acceptance order at the controller (1-based; refresh uses 0)
  std::uint32_t index = 0;  // position in the trace
  bool write = false;
  std::uint32_t rank = 0, bankgroup = 0, bank = 0, row = 0;
  Outcome outcome = Outcome::None;
};

struct Bank {
  bool open = false;
  std::uint32_t row = 0;
  Payload* cur = nullptr;
  bool keep = false;     // DRAMSys keepTrans: the open row was activated for `cur`
  bool blocked = false;  // by the refresh manager
  std::vector<Payload*> queue;  // scheduler buffer, arrival order
  i64 t_act = kPast, t_rd = kPast, t_wr = kPast, t_pre_issue = kPast, t_pre_done = kPast, t_refpb = kPast;
  i64 open_since = 0;
  // Candidate command of this bank for the current cycle.
  bool has_cmd = false;
  Cmd cmd = Cmd::ACT;
};

enum class PdState { Awake, PdnA, PdnP, Sref };

struct Rank {
  i64 t_act = kPast, t_rd = kPast, t_wr = kPast, t_ref = kPast, t_refpb = kPast, t_pre = kPast;
  i64 t_pde = kPast, t_pdx = kPast, t_srefen = kPast, t_srefx = kPast;
  std::array<i64, 4> faw{kPast, kPast, kPast, kPast};
  int faw_pos = 0;
  std::vector<i64> bg_act, bg_rd, bg_wr;
  int open_banks = 0;
  int pending = 0;  // requests of this rank in the scheduler
  PdState pd = PdState::Awake;
  bool sref_next = false;
  i64 pd_since = 0;
  // Refresh bookkeeping.
  i64 next_due = 0;
  int owed = 0, pulled = 0;
  int pb_bank = 0;  // next bank for per-bank refresh (within the rank)
  bool ref_want = false, ref_urgent = false;
  // Energy.
  std::vector<std::pair<i64, i64>> busy;  // bank-open and refresh intervals
  i64 pdna_cycles = 0, pdnp_cycles = 0, sref_cycles = 0;
};

struct Candidate {
  Cmd cmd;
  int rank;
  int bank;  // channel bank index, -1 for rank commands
  i64 time;
  i64 prio;  // payload id; 0 for refresh and power-down
};

class Engine {
public:
  Engine(const MemSpec& s, const ControllerConfig& c, const AddressMapping& m, const std::vector<Request>& trace,
         const SimOptions& o)
      : s_(s), c_(c), trace_(trace), opt_(o) {
    c_.validate(s_, "controller config");
    m.validate(s_, "address mapping");
    nb_ = s_.banks;
    banks_.resize(static_cast<std::size_t>(s_.ranks * nb_));
    ranks_.resize(static_cast<std::size_t>(s_.ranks));
    for (auto& r : ranks_) {
      r.bg_act.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
      r.bg_rd.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
      r.bg_wr.assign(static_cast<std::size_t>(s_.bank_groups), kPast);
      r.next_due = c_.refresh_policy == RefreshPolicy::PerBank ? s_.REFI_PB : s_.REFI;
    }
    bl_ = s_.burst_cycles();
    rd_wr_ = s_.RTW > 0 ? s_.RTW : s_.RL + bl_ + 2 - s_.WL;
    wr_rd_s_ = s_.WL + bl_ + s_.WTR_S;
    wr_rd_l_ = s_.WL + bl_ + s_.WTR_L;
    wr_pre_ = s_.WL + bl_ + s_.WR;
    tck_ = s_.tck_ns();
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
    for (const auto* v : {&m.byte_bits, &m.column_bits, &m.row_bits, &m.bank_bits, &m.bankgroup_bits, &m.rank_bits})
      for (int b : *v) used |= std::uint64_t{1} << b;
    payloads_.resize(trace_.size());
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
      p.rank = gather(a, m.rank_bits);
      p.bankgroup = gather(a, m.bankgroup_bits);
      const std::uint32_t bank_in_group = gather(a, m.bank_bits);
      p.bank = p.rank * static_cast<std::uint32_t>(nb_) + p.bankgroup * static_cast<std::uint32_t>(s_.banks_per_group()) + bank_in_group;
      p.row = gather(a, m.row_bits);
    }
  }

  i64 to_cycles(double ns) const { return static_cast<i64>(std::ceil(ns / tck_ - 1e-9)); }

  // ------------------------------------------------------------ timing checker
  i64 bus_free(Cmd c) const {
    const bool column = c == Cmd::RD || c == Cmd::RDA || c == Cmd::WR || c == Cmd::WRA;
    return (column && s_.separate_row_column_bus() ? last_col_cmd_ : last_row_cmd_) + 1;
  }

  i64 earliest(Cmd c, int rank, int bank) const {
    const Rank& r = ranks_[static_cast<std::size_t>(rank)];
    i64 t = bus_free(c);
    auto at_least = [&t](i64 x) { t = std::max(t, x); };
    switch (c) {
      case Cmd::ACT: {
        const Bank& b = banks_[static_cast<std::size_t>(bank)];
        const auto bg = static_cast<std::size_t>((bank % nb_) / s_.banks_per_group());
        at_least(b.t_act + s_.RC);
        at_least(b.t_pre_done);
        at_least(r.t_act + s_.RRD_S);
        at_least(r.bg_act[bg] + s_.RRD_L);
        at_least(r.faw[static_cast<std::size_t>(r.faw_pos)] + s_.FAW);
        at_least(r.t_ref + s_.RFC);
        at_least(b.t_refpb + s_.RFC_PB);
        at_least(r.t_pdx + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      }
      case Cmd::PRE: {
        const Bank& b = banks_[static_cast<std::size_t>(bank)];
        at_least(b.t_act + s_.RAS);
        at_least(b.t_rd + s_.RTP);
        at_least(b.t_wr + wr_pre_);
        at_least(r.t_pre + s_.PPD);
        at_least(r.t_pdx + s_.XP);
        break;
      }
      case Cmd::PREA:
        for (int i = 0; i < nb_; ++i) {
          const Bank& b = banks_[static_cast<std::size_t>(rank * nb_ + i)];
          if (!b.open) continue;
          at_least(b.t_act + s_.RAS);
          at_least(b.t_rd + s_.RTP);
          at_least(b.t_wr + wr_pre_);
        }
        at_least(r.t_pre + s_.PPD);
        at_least(r.t_pdx + s_.XP);
        break;
      case Cmd::RD:
      case Cmd::RDA:
      case Cmd::WR:
      case Cmd::WRA: {
        const bool rd = c == Cmd::RD || c == Cmd::RDA;
        const Bank& b = banks_[static_cast<std::size_t>(bank)];
        const auto bg = static_cast<std::size_t>((bank % nb_) / s_.banks_per_group());
        at_least(b.t_act + (rd ? s_.RCD : s_.RCD_WR));
        if (rd) {
          at_least(r.t_rd + s_.CCD_S);
          at_least(r.bg_rd[bg] + s_.CCD_L);
          at_least(r.t_wr + wr_rd_s_);
          at_least(r.bg_wr[bg] + wr_rd_l_);
        } else {
          at_least(r.t_wr + s_.CCD_S);
          at_least(r.bg_wr[bg] + s_.CCD_L);
          at_least(r.t_rd + rd_wr_);
        }
        // Data bus shared with the other ranks: a rank switch costs RTRS.
        if (last_cas_rank_ >= 0 && last_cas_rank_ != rank) {
          if (rd) {
            at_least(last_rd_ + bl_ + s_.RTRS);
            at_least(last_wr_ + s_.WL + bl_ + s_.RTRS - s_.RL);
          } else {
            at_least(last_wr_ + bl_ + s_.RTRS);
            at_least(last_rd_ + s_.RL + bl_ + s_.RTRS - s_.WL);
          }
        }
        at_least(r.t_pdx + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      }
      case Cmd::REFA:
        for (int i = 0; i < nb_; ++i) {
          const Bank& b = banks_[static_cast<std::size_t>(rank * nb_ + i)];
          at_least(b.t_pre_done);
          at_least(b.t_refpb + s_.RFC_PB);
        }
        at_least(r.t_ref + s_.RFC);
        at_least(r.t_pdx + s_.XP);
        at_least(r.t_srefx + s_.XS);
        break;
      case Cmd::REFPB: {
        const Bank& b = banks_[static_cast<std::size_t>(bank)];
        at_least(b.t_pre_done);
        at_least(b.t_refpb + s_.RFC_PB);
        at_least(r.t_ref + s_.RFC);
        at_least(r.t_refpb + (s_.RREFD > 0 ? s_.RREFD : s_.RRD_S));
        at_least(r.t_act + s_.RRD_S);
        at_least(r.t_pdx + s_.XP);
        break;
      }
      case Cmd::PDEA:
      case Cmd::PDEP:
      case Cmd::SREFEN:
        at_least(r.t_act + s_.ACTPDEN);
        at_least(r.t_pre + s_.PRPDEN);
        at_least(r.t_rd + s_.RL + bl_ + 1);
        at_least(r.t_wr + wr_pre_ + 1);
        at_least(r.t_ref + (c == Cmd::SREFEN ? s_.RFC : s_.REFPDEN));
        at_least(r.t_refpb + (c == Cmd::SREFEN ? s_.RFC_PB : s_.REFPDEN));
        at_least(r.t_pdx + s_.CKE);
        at_least(r.t_srefx + s_.XS);
        if (c == Cmd::SREFEN)
          for (int i = 0; i < nb_; ++i) at_least(banks_[static_cast<std::size_t>(rank * nb_ + i)].t_pre_done);
        break;
      case Cmd::PDXA:
      case Cmd::PDXP: at_least(r.t_pde + s_.CKE); break;
      case Cmd::SREFEX: at_least(r.t_srefen + s_.CKESR); break;
      case Cmd::Count: break;
    }
    return t;
  }

  // ------------------------------------------------------------ scheduler
  bool has_buffer_space() const {
    switch (c_.scheduler_buffer) {
      case SchedulerBuffer::Bankwise:
        // DRAMSys checks the bank of the request stored last.
        return static_cast<int>(banks_[static_cast<std::size_t>(last_stored_bank_)].queue.size()) < c_.request_buffer_size;
      case SchedulerBuffer::ReadWrite: return buffered_reads_ < c_.request_buffer_size && buffered_writes_ < c_.request_buffer_size;
      case SchedulerBuffer::Shared: return buffered_reads_ + buffered_writes_ < c_.request_buffer_size;
    }
    return false;
  }

  Payload* pick(const Bank& b) const {
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
        if (p->write == last_cas_write_) {
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
  void evaluate_bank(Bank& b, bool sleeping) {
    b.has_cmd = false;
    if (sleeping || b.blocked) return;
    Payload* p = pick(b);
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

  // ------------------------------------------------------------ front end
  void frontend(i64 now);
  void accept(i64 now, i64 end_req_delay);
  void deliver_responses(i64 now);
  void refresh_and_power_down(i64 now);
  void issue(const Candidate& cand, i64 now);
  void close_bank(Rank& r, Bank& b, i64 at) {
    b.open = false;
    b.keep = false;
    --r.open_banks;
    r.busy.emplace_back(b.open_since, at);
  }
  void finish_energy(i64 end);

  const MemSpec& s_;
  ControllerConfig c_;
  const std::vector<Request>& trace_;
  SimOptions opt_;
  int nb_ = 8, bl_ = 4;
  int rd_wr_ = 0, wr_rd_s_ = 0, wr_rd_l_ = 0, wr_pre_ = 0;
  double tck_ = 1;

  std::vector<Payload> payloads_;
  std::vector<Bank> banks_;
  std::vector<Rank> ranks_;
  i64 last_row_cmd_ = kPast, last_col_cmd_ = kPast;
  i64 last_rd_ = kPast, last_wr_ = kPast;
  int last_cas_rank_ = -1;
  bool last_cas_write_ = false;
  int last_stored_bank_ = 0;
  int buffered_reads_ = 0, buffered_writes_ = 0;
  i64 next_id_ = 1;
  bool dirty_ = true;  // candidate commands must be re-derived

  // Front end.
  std::size_t next_send_ = 0;        // next trace request the initiator sends
  i64 init_ready_ = 0;               // initiator may send (END_REQ of the previous one received)
  std::deque<std::pair<std::size_t, i64>> channel_queue_;  // arbiter queue (Fifo/Reorder): request, arrival
  int active_ = 0;                   // transactions between END_REQ and END_RESP (Fifo/Reorder arbiters)
  std::priority_queue<i64, std::vector<i64>, std::greater<>> slot_release_;
  std::size_t in_idx_ = 0;           // request waiting at the controller input
  bool in_valid_ = false;
  i64 in_arrival_ = 0;
  i64 ctrl_end_req_ = kPast;         // last END_REQ sent by the controller

  // Responses.
  std::deque<std::pair<Payload*, i64>> resp_fifo_;
  std::map<i64, std::pair<Payload*, i64>> resp_reorder_;
  i64 resp_next_id_ = 1;
  i64 resp_busy_until_ = kPast;  // END_RESP of the response in flight
  std::map<std::uint32_t, i64> arb_reorder_;  // arbiter Reorder: trace index -> arrival
  std::uint32_t arb_next_index_ = 0;
  i64 arb_last_ = kPast;
  std::vector<i64> done_cycle_;
  std::size_t delivered_ = 0;
  i64 data_cycles_ = 0;
  SimResult result_;
};

void Engine::frontend(i64 now) {
  const std::size_t n = trace_.size();
  if (c_.arbiter == Arbiter::Simple) {
    // The initiator sends the next request once the previous one was
    // accepted (END_REQ), at its trace time at the earliest.
    if (!in_valid_ && next_send_ < n) {
      const i64 send = std::max(to_cycles(trace_[next_send_].time_ns), std::max<i64>(ctrl_end_req_, 0));
      in_idx_ = next_send_++;
      in_valid_ = true;
      in_arrival_ = send + c_.arbitration_delay_fw + c_.think_delay_fw;
    }
    return;
  }
  // Fifo / Reorder arbiters: at most MaxActiveTransactions between END_REQ
  // and END_RESP; accepted requests queue in the arbiter.
  while (!slot_release_.empty() && slot_release_.top() <= now) {
    slot_release_.pop();
    --active_;
  }
  while (next_send_ < n) {
    const i64 send = std::max(to_cycles(trace_[next_send_].time_ns), init_ready_);
    if (send > now || active_ >= c_.max_active_transactions) break;
    ++active_;
    init_ready_ = std::max(send, now);
    channel_queue_.emplace_back(next_send_, init_ready_ + c_.arbitration_delay_fw);
    ++next_send_;
  }
  if (!in_valid_ && !channel_queue_.empty()) {
    const auto [idx, arrive] = channel_queue_.front();
    channel_queue_.pop_front();
    in_idx_ = idx;
    in_valid_ = true;
    in_arrival_ = std::max(arrive, ctrl_end_req_ + 1) + c_.think_delay_fw;
  }
}

void Engine::accept(i64 now, i64 end_req_delay) {
  if (!in_valid_ || in_arrival_ > now || !has_buffer_space()) return;
  Payload& p = payloads_[in_idx_];
  p.id = next_id_++;
  Bank& b = banks_[p.bank];
  b.queue.push_back(&p);
  last_stored_bank_ = static_cast<int>(p.bank);
  (p.write ? buffered_writes_ : buffered_reads_)++;
  ++ranks_[p.rank].pending;
  in_valid_ = false;
  dirty_ = true;
  ctrl_end_req_ = now + end_req_delay;
  if (c_.arbiter == Arbiter::Simple) frontend(now);
}

void Engine::deliver_responses(i64 now) {
  for (;;) {
    if (resp_busy_until_ > now) return;
    Payload* p = nullptr;
    if (c_.resp_queue == RespQueue::Fifo) {
      if (resp_fifo_.empty() || resp_fifo_.front().second > now) return;
      p = resp_fifo_.front().first;
      resp_fifo_.pop_front();
    } else {
      auto it = resp_reorder_.find(resp_next_id_);
      if (it == resp_reorder_.end() || it->second.second > now) return;
      p = it->second.first;
      resp_reorder_.erase(it);
      ++resp_next_id_;
    }
    // BEGIN_RESP to the arbiter now; the initiator answers END_RESP at once.
    i64 at_initiator;
    if (c_.arbiter == Arbiter::Simple) {
      at_initiator = now + c_.arbitration_delay_bw;
      resp_busy_until_ = at_initiator;
      done_cycle_[p->index] = at_initiator;
      ++delivered_;
    } else if (c_.arbiter == Arbiter::Fifo) {
      resp_busy_until_ = now;  // the arbiter takes it immediately
      at_initiator = std::max(now + c_.arbitration_delay_bw, arb_last_ + 1);
      arb_last_ = at_initiator;
      done_cycle_[p->index] = at_initiator;
      slot_release_.push(at_initiator);
      ++delivered_;
    } else {
      resp_busy_until_ = now;
      arb_reorder_[p->index] = now + c_.arbitration_delay_bw;
      // Responses reach the initiator in its own request order.
      for (auto it = arb_reorder_.find(arb_next_index_); it != arb_reorder_.end(); it = arb_reorder_.find(arb_next_index_)) {
        at_initiator = std::max(it->second, arb_last_ + 1);
        arb_last_ = at_initiator;
        done_cycle_[it->first] = at_initiator;
        slot_release_.push(at_initiator);
        ++delivered_;
        arb_reorder_.erase(it);
        ++arb_next_index_;
      }
    }
    if (resp_busy_until_ > now) return;
    if (c_.resp_queue == RespQueue::Fifo ? resp_fifo_.empty() : resp_reorder_.empty()) return;
    // Same-cycle responses need a fresh END_RESP; with zero arbitration delay
    // they may follow in the same cycle.
  }
}

void Engine::refresh_and_power_down(i64 now) {
  const bool per_bank = c_.refresh_policy == RefreshPolicy::PerBank;
  const i64 interval = per_bank ? s_.REFI_PB : s_.REFI;
  for (int ri = 0; ri < s_.ranks; ++ri) {
    Rank& r = ranks_[static_cast<std::size_t>(ri)];
    const bool was_want = r.ref_want, was_urgent = r.ref_urgent;
    const int was_owed = r.owed, was_pulled = r.pulled;
    r.ref_want = r.ref_urgent = false;
    if (c_.refresh_policy != RefreshPolicy::NoRefresh && r.pd != PdState::Sref) {
      while (now >= r.next_due) {
        r.next_due += interval;
        if (r.pulled > 0)
          --r.pulled;
        else
          ++r.owed;
      }
      const bool busy = per_bank ? !banks_[static_cast<std::size_t>(ri * nb_ + r.pb_bank)].queue.empty() : r.pending > 0;
      r.ref_urgent = r.owed > c_.refresh_max_postponed;
      r.ref_want = r.ref_urgent || (!busy && r.owed > 0) ||
                   (!busy && r.owed == 0 && r.pulled < c_.refresh_max_pulledin && r.pd == PdState::Awake);
      if (r.pd != PdState::Awake && r.owed == 0) r.ref_want = false;  // no pull-in from power-down
    }
    if (was_want != r.ref_want || was_urgent != r.ref_urgent || was_owed != r.owed || was_pulled != r.pulled) dirty_ = true;
    // Block the banks a forced refresh needs.
    for (int i = 0; i < nb_; ++i) {
      Bank& b = banks_[static_cast<std::size_t>(ri * nb_ + i)];
      b.blocked = r.ref_urgent && (!per_bank || i == r.pb_bank);
    }
  }
}

void Engine::issue(const Candidate& cand, i64 now) {
  const Cmd c = cand.cmd;
  Rank& r = ranks_[static_cast<std::size_t>(cand.rank)];
  dirty_ = true;
  ++result_.commands[static_cast<std::size_t>(c)];
  const bool column = c == Cmd::RD || c == Cmd::RDA || c == Cmd::WR || c == Cmd::WRA;
  if (column && s_.separate_row_column_bus())
    last_col_cmd_ = now;
  else
    last_row_cmd_ = now;
  if (opt_.record_commands) {
    const std::uint32_t row = cand.bank >= 0 ? banks_[static_cast<std::size_t>(cand.bank)].row : 0;
    result_.command_log.push_back({now, c, static_cast<std::uint16_t>(cand.rank),
                                   static_cast<std::uint16_t>(cand.bank >= 0 ? cand.bank : 0), row});
  }
  switch (c) {
    case Cmd::ACT: {
      Bank& b = banks_[static_cast<std::size_t>(cand.bank)];
      const auto bg = static_cast<std::size_t>((cand.bank % nb_) / s_.banks_per_group());
      b.open = true;
      b.row = b.cur->row;
      b.keep = true;
      b.t_act = now;
      b.open_since = now;
      if (b.cur->outcome == Outcome::None) b.cur->outcome = Outcome::Miss;
      if (opt_.record_commands) result_.command_log.back().row = b.row;
      r.t_act = now;
      r.bg_act[bg] = now;
      r.faw[static_cast<std::size_t>(r.faw_pos)] = now;
      r.faw_pos = (r.faw_pos + 1) % 4;
      ++r.open_banks;
      break;
    }
    case Cmd::PRE: {
      Bank& b = banks_[static_cast<std::size_t>(cand.bank)];
      if (b.cur && b.cur->row != b.row) b.cur->outcome = Outcome::Conflict;
      b.t_pre_issue = now;
      b.t_pre_done = now + s_.RP;
      r.t_pre = now;
      close_bank(r, b, now);
      break;
    }
    case Cmd::PREA:
      for (int i = 0; i < nb_; ++i) {
        Bank& b = banks_[static_cast<std::size_t>(cand.rank * nb_ + i)];
        if (!b.open) continue;
        b.t_pre_issue = now;
        b.t_pre_done = now + s_.RP_AB;
        close_bank(r, b, now);
        ++result_.commands[static_cast<std::size_t>(Cmd::PRE)];  // counted as bank precharges for energy
      }
      r.t_pre = now;
      break;
    case Cmd::RD:
    case Cmd::RDA:
    case Cmd::WR:
    case Cmd::WRA: {
      Bank& b = banks_[static_cast<std::size_t>(cand.bank)];
      Payload* p = b.cur;
      const bool rd = c == Cmd::RD || c == Cmd::RDA;
      const auto bg = static_cast<std::size_t>((cand.bank % nb_) / s_.banks_per_group());
      if (opt_.record_commands) result_.command_log.back().row = b.row;
      if (p->outcome == Outcome::None) p->outcome = Outcome::Hit;
      if (rd) {
        b.t_rd = now;
        r.t_rd = now;
        r.bg_rd[bg] = now;
        last_rd_ = now;
      } else {
        b.t_wr = now;
        r.t_wr = now;
        r.bg_wr[bg] = now;
        last_wr_ = now;
      }
      last_cas_rank_ = cand.rank;
      last_cas_write_ = !rd;
      data_cycles_ += bl_;
      if (c == Cmd::RDA || c == Cmd::WRA) {
        const i64 pre_at = rd ? now + s_.RTP : now + wr_pre_;
        b.t_pre_issue = pre_at;
        b.t_pre_done = pre_at + s_.RP;
        r.t_pre = std::max(r.t_pre, pre_at);
        close_bank(r, b, pre_at);
      } else {
        b.keep = false;
      }
      // Remove from the scheduler; the response is ready when the burst ends.
      b.queue.erase(std::find(b.queue.begin(), b.queue.end(), p));
      (p->write ? buffered_writes_ : buffered_reads_)--;
      --r.pending;
      b.cur = nullptr;
      const i64 ready = now + c_.phy_delay_fw + (rd ? s_.RL : s_.WL) + bl_ + c_.phy_delay_bw + c_.think_delay_bw;
      if (c_.resp_queue == RespQueue::Fifo)
        resp_fifo_.emplace_back(p, ready);
      else
        resp_reorder_.emplace(p->id, std::make_pair(p, ready));
      accept(now, c_.think_delay_fw);
      break;
    }
    case Cmd::REFA:
      r.t_ref = now;
      r.busy.emplace_back(now, now + s_.RFC);
      if (r.owed > 0)
        --r.owed;
      else
        ++r.pulled;
      break;
    case Cmd::REFPB: {
      Bank& b = banks_[static_cast<std::size_t>(cand.bank)];
      b.t_refpb = now;
      r.t_refpb = now;
      r.t_act = std::max(r.t_act, now);  // tRRD applies between REFpb and ACT
      r.busy.emplace_back(now, now + s_.RFC_PB);
      if (r.owed > 0)
        --r.owed;
      else
        ++r.pulled;
      r.pb_bank = (r.pb_bank + 1) % nb_;
      break;
    }
    case Cmd::PDEA:
    case Cmd::PDEP:
      r.pd = c == Cmd::PDEA ? PdState::PdnA : PdState::PdnP;
      r.t_pde = now;
      r.pd_since = now;
      break;
    case Cmd::SREFEN:
      r.pd = PdState::Sref;
      r.t_srefen = now;
      r.pd_since = now;
      r.sref_next = false;
      break;
    case Cmd::PDXA:
    case Cmd::PDXP:
      (r.pd == PdState::PdnA ? r.pdna_cycles : r.pdnp_cycles) += now - r.pd_since;
      r.pd = PdState::Awake;
      r.t_pdx = now;
      break;
    case Cmd::SREFEX:
      r.sref_cycles += now - r.pd_since;
      r.pd = PdState::Awake;
      r.t_srefx = now;
      // The device refreshed itself; restart the refresh schedule.
      r.owed = 0;
      r.pulled = 0;
      r.next_due = now + (c_.refresh_policy == RefreshPolicy::PerBank ? s_.REFI_PB : s_.REFI);
      break;
    case Cmd::Count: break;
  }
}

void Engine::finish_energy(i64 end) {
  result_.cycles = end;
  if (!s_.has_power()) return;
  result_.has_energy = true;
  const double dev = s_.devices;
  Energy& e = result_.energy_pj;
  const auto n = [&](Cmd c) { return static_cast<double>(result_.commands[static_cast<std::size_t>(c)]); };
  const double n_act = n(Cmd::ACT);
  const double n_pre = n(Cmd::PRE) + n(Cmd::RDA) + n(Cmd::WRA);
  const double n_rd = n(Cmd::RD) + n(Cmd::RDA);
  const double n_wr = n(Cmd::WR) + n(Cmd::WRA);
  double act_stby = 0, pre_stby = 0, pdna = 0, pdnp = 0, sref = 0;
  for (auto& r : ranks_) {
    // Close what is still open at the end.
    if (r.pd == PdState::PdnA) r.pdna_cycles += end - r.pd_since;
    if (r.pd == PdState::PdnP) r.pdnp_cycles += end - r.pd_since;
    if (r.pd == PdState::Sref) r.sref_cycles += end - r.pd_since;
    std::sort(r.busy.begin(), r.busy.end());
    i64 busy = 0, cur_s = kPast, cur_e = kPast;
    for (auto [a, b] : r.busy) {
      a = std::min(a, end);
      b = std::min(b, end);
      if (a > cur_e) {
        busy += cur_e - cur_s;
        cur_s = a;
        cur_e = b;
      } else {
        cur_e = std::max(cur_e, b);
      }
    }
    busy += cur_e - cur_s;
    act_stby += static_cast<double>(busy - r.pdna_cycles);
    pre_stby += static_cast<double>(end - busy - r.pdnp_cycles - r.sref_cycles);
    pdna += static_cast<double>(r.pdna_cycles);
    pdnp += static_cast<double>(r.pdnp_cycles);
    sref += static_cast<double>(r.sref_cycles);
  }
  for (const PowerDomain& d : s_.power) {
    const double k = d.vdd * tck_ * dev;  // mA * V * ns = pJ
    e.act += k * n_act * s_.RAS * (d.idd0 - d.idd3n);
    e.pre += k * n_pre * (s_.RC - s_.RAS) * (d.idd0 - d.idd2n);
    e.read += k * n_rd * bl_ * (d.idd4r - d.idd3n);
    e.write += k * n_wr * bl_ * (d.idd4w - d.idd3n);
    e.refresh += k * n(Cmd::REFA) * s_.RFC * (d.idd5 - d.idd3n);
    e.refresh += k * n(Cmd::REFPB) * s_.RFC_PB * (d.idd5pb - d.idd3n);
    e.act_standby += k * act_stby * d.idd3n;
    e.pre_standby += k * pre_stby * d.idd2n;
    e.power_down += k * (pdna * d.idd3p + pdnp * d.idd2p);
    e.self_refresh += k * sref * d.idd6;
  }
}

SimResult Engine::run() {
  const std::size_t n = trace_.size();
  done_cycle_.assign(n, kNever);
  i64 now = 0;
  std::vector<Candidate> ready;
  ready.reserve(banks_.size() + 2 * ranks_.size());
  const bool power_down = c_.power_down_policy == PowerDownPolicy::Staggered;
  std::uint64_t guard = 0;
  while (delivered_ < n) {
    if (++guard > 400000000ULL) throw Error("dram simulator: no progress after 4e8 steps at cycle " + std::to_string(now));
    deliver_responses(now);
    frontend(now);
    accept(now, 0);
    refresh_and_power_down(now);

    // Gather candidate commands and their earliest legal cycles; they only
    // change when a request arrives, a command issues or refresh state moves.
    i64 next = kNever;
    if (dirty_) ready.clear();
    for (int ri = 0; dirty_ && ri < s_.ranks; ++ri) {
      Rank& r = ranks_[static_cast<std::size_t>(ri)];
      if (power_down) {
        Cmd pdc = Cmd::Count;
        if (r.pd == PdState::Awake) {
          if (r.pending == 0 && !r.ref_want && (r.t_rd > kPast || r.t_wr > kPast || r.t_ref > kPast))
            pdc = r.open_banks > 0 ? Cmd::PDEA : (r.sref_next ? Cmd::SREFEN : Cmd::PDEP);
        } else if (r.pd == PdState::Sref) {
          if (r.pending > 0) pdc = Cmd::SREFEX;
        } else if (r.pending > 0 || r.owed > 0) {
          if (r.owed > 0 && r.pending == 0) r.sref_next = true;
          pdc = r.pd == PdState::PdnA ? Cmd::PDXA : Cmd::PDXP;
        }
        if (pdc != Cmd::Count) {
          ready.push_back({pdc, ri, -1, earliest(pdc, ri, -1), 0});
          continue;  // a power-down transition goes first on this rank
        }
        if (r.pd != PdState::Awake) continue;
      }
      if (r.ref_want) {
        if (c_.refresh_policy == RefreshPolicy::PerBank) {
          const int bi = ri * nb_ + r.pb_bank;
          const Cmd rc = banks_[static_cast<std::size_t>(bi)].open ? Cmd::PRE : Cmd::REFPB;
          if (rc == Cmd::REFPB || r.ref_urgent) ready.push_back({rc, ri, bi, earliest(rc, ri, bi), 0});
        } else {
          const Cmd rc = r.open_banks > 0 ? Cmd::PREA : Cmd::REFA;
          if (rc == Cmd::REFA || r.ref_urgent) ready.push_back({rc, ri, -1, earliest(rc, ri, -1), 0});
        }
      }
      for (int i = 0; i < nb_; ++i) {
        const int bi = ri * nb_ + i;
        Bank& b = banks_[static_cast<std::size_t>(bi)];
        evaluate_bank(b, false);
        if (!b.has_cmd) continue;
        ready.push_back({b.cmd, ri, bi, earliest(b.cmd, ri, bi), b.cur->id});
      }
    }

    dirty_ = false;
    // Command multiplexer: the oldest ready command (refresh and power-down
    // first), one per command bus.
    bool issued_row = false, issued_col = false;
    for (int pass = 0; pass < (s_.separate_row_column_bus() ? 2 : 1); ++pass) {
      const Candidate* best = nullptr;
      for (const auto& cand : ready) {
        if (cand.time > now) continue;
        const bool column = cand.cmd == Cmd::RD || cand.cmd == Cmd::RDA || cand.cmd == Cmd::WR || cand.cmd == Cmd::WRA;
        if (s_.separate_row_column_bus() ? (column ? issued_col : issued_row) : (issued_row || issued_col)) continue;
        if (!best || cand.prio < best->prio) best = &cand;
      }
      if (!best) break;
      const Candidate chosen = *best;
      const bool column = chosen.cmd == Cmd::RD || chosen.cmd == Cmd::RDA || chosen.cmd == Cmd::WR || chosen.cmd == Cmd::WRA;
      (column ? issued_col : issued_row) = true;
      issue(chosen, now);
      // Later candidates on the same bank or rank must be re-derived.
      for (auto& cand : ready)
        if (cand.rank == chosen.rank) cand.time = std::max(cand.time, now + 1);
    }
    for (const auto& cand : ready) next = std::min(next, std::max(cand.time, now + 1));

    // Other events.
    if (in_valid_ && in_arrival_ > now) next = std::min(next, in_arrival_);
    if (in_valid_ && in_arrival_ <= now && has_buffer_space()) next = std::min(next, now + 1);
    if (c_.resp_queue == RespQueue::Fifo ? !resp_fifo_.empty() : !resp_reorder_.empty()) {
      i64 t = c_.resp_queue == RespQueue::Fifo ? resp_fifo_.front().second : kNever;
      if (c_.resp_queue == RespQueue::Reorder) {
        auto it = resp_reorder_.find(resp_next_id_);
        if (it != resp_reorder_.end()) t = it->second.second;
      }
      if (t < kNever) next = std::min(next, std::max({t, resp_busy_until_, now + 1}));
    }
    if (c_.refresh_policy != RefreshPolicy::NoRefresh)
      for (const auto& r : ranks_)
        if (r.pd != PdState::Sref) next = std::min(next, std::max(r.next_due, now + 1));
    if (c_.arbiter != Arbiter::Simple) {
      if (!slot_release_.empty()) next = std::min(next, std::max(slot_release_.top(), now + 1));
      if (next_send_ < n && active_ < c_.max_active_transactions)
        next = std::min(next, std::max({to_cycles(trace_[next_send_].time_ns), init_ready_, now + 1}));
      if (!in_valid_ && !channel_queue_.empty()) next = std::min(next, now + 1);
    } else if (!in_valid_ && next_send_ < n) {
      next = std::min(next, now + 1);
    }
    if (delivered_ >= n) break;
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
    const double lat = static_cast<double>(done_cycle_[i]) * tck_ - trace_[i].time_ns;
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
  result_.total_time_ns = static_cast<double>(end) * tck_;
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
  result_.bandwidth_gbps = end > 0 ? bytes / result_.total_time_ns : 0;
  result_.bus_utilization = end > 0 ? static_cast<double>(data_cycles_) / static_cast<double>(end) : 0;
  result_.row_hit_rate = static_cast<double>(result_.row_hits) / static_cast<double>(n);
  for (auto& b : banks_)
    if (b.open) close_bank(ranks_[static_cast<std::size_t>(&b - banks_.data()) / static_cast<std::size_t>(nb_)], b, end);
  finish_energy(end);
  result_.energy_nj = result_.energy_pj.total() / 1000.0;
  result_.average_power_mw = end > 0 ? result_.energy_pj.total() / result_.total_time_ns : 0;  // pJ / ns = mW
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
