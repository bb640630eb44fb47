#include "simulators/asic/asic.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "base/error.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/accel/workload.hpp"

namespace dsegym::asic {

const std::vector<std::string>& template_names() {
  static const std::vector<std::string> n = {"shi", "dla", "rs"};
  return n;
}

accel::Dataflow template_dataflow(const std::string& name) {
  if (name == "shi") return accel::dataflow_from_name("os");
  if (name == "dla") return accel::dataflow_from_name("ws");
  if (name == "rs") return accel::dataflow_from_name("rs");
  throw InvalidArgument("sub-accelerator template '" + name + "' is not valid; choices: shi, dla, rs");
}

accel::Arch sub_arch(const SubAccel& s, const Tech& t) {
  if (s.pes < 1 || (s.pes & (s.pes - 1)) != 0) throw InvalidArgument("sub-accelerator PEs must be a power of two, got " + std::to_string(s.pes));
  accel::Arch a;
  accel::apply_energy_table(a, t.node);
  int rows = 1;
  while (static_cast<std::int64_t>(rows) * rows * 4 <= s.pes) rows *= 2;  // rows = 2^floor(log2(pes)/2)
  a.rows = rows;
  a.cols = static_cast<int>(s.pes / rows);
  a.rf_words = t.rf_words;
  a.glb_words = s.glb_kb * 1024 / (a.word_bits / 8);
  a.clock_mhz = t.clock_mhz;
  // GB/s -> 16-bit words per cycle.
  a.dram_words_per_cycle = s.bandwidth_gbps * 1e9 / (a.word_bits / 8.0) / (t.clock_mhz * 1e6);
  return a;
}

namespace {
std::string fmt(double v) {
  std::ostringstream o;
  o.precision(6);
  o << v;
  return o.str();
}
}  // namespace

Result evaluate(const std::vector<SubAccel>& subs, const std::vector<Network>& nets, const std::vector<int>& assignment,
                const Budget& budget, const Specs& specs, const Tech& tech) {
  if (assignment.size() != nets.size())
    throw InvalidArgument("ASIC: " + std::to_string(assignment.size()) + " assignments for " + std::to_string(nets.size()) + " networks");
  Result r;
  std::int64_t pes = 0;
  double bw = 0;
  for (const auto& s : subs) {
    template_dataflow(s.templ);
    pes += s.pes;
    bw += s.bandwidth_gbps;
  }
  r.subs.resize(subs.size());
  if (pes > budget.max_pes) {
    r.valid = false;
    r.reason = "the sub-accelerators have " + std::to_string(pes) + " PEs; the budget is " + std::to_string(budget.max_pes);
    return r;
  }
  if (bw > budget.max_bandwidth_gbps + 1e-9) {
    r.valid = false;
    r.reason = "the sub-accelerators use " + fmt(bw) + " GB/s of DRAM bandwidth; the budget is " + fmt(budget.max_bandwidth_gbps);
    return r;
  }
  for (std::size_t i = 0; i < subs.size(); ++i) r.subs[i].area_mm2 = accel::area(sub_arch(subs[i], tech)).total_mm2;
  for (std::size_t n = 0; n < nets.size(); ++n) {
    const int s = assignment[n];
    if (s < 0 || s >= static_cast<int>(subs.size()))
      throw InvalidArgument("ASIC: network '" + nets[n].name + "' is assigned to sub-accelerator " + std::to_string(s) + "; there are " +
                            std::to_string(subs.size()));
    accel::Workload w;
    w.name = nets[n].name;
    w.layers = nets[n].layers;
    const accel::WorkloadResult wr = accel::run_workload(w, sub_arch(subs[static_cast<std::size_t>(s)], tech), template_dataflow(subs[static_cast<std::size_t>(s)].templ));
    if (!wr.valid) {
      r.valid = false;
      r.reason = "network '" + nets[n].name + "' on sub-accelerator " + std::to_string(s) + ": " + wr.reason;
      return r;
    }
    auto& sr = r.subs[static_cast<std::size_t>(s)];
    sr.latency_us += wr.latency_ns / 1000;
    sr.energy_uj += wr.energy_pj / 1e6;
    sr.networks.push_back(nets[n].name);
  }
  for (const auto& sr : r.subs) {
    r.latency_us = std::max(r.latency_us, sr.latency_us);
    r.energy_uj += sr.energy_uj;
    r.area_mm2 += sr.area_mm2;
  }
  auto check = [&](const char* name, double v, double limit) {
    if (v > limit) r.violations.push_back(std::string(name) + " " + fmt(v) + " > " + fmt(limit));
  };
  check("latency_us", r.latency_us, specs.latency_us);
  check("energy_uj", r.energy_uj, specs.energy_uj);
  check("area_mm2", r.area_mm2, specs.area_mm2);
  return r;
}

}  // namespace dsegym::asic
