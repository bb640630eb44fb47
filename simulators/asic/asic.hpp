#pragma once
// A heterogeneous ASIC built from sub-accelerator templates (NASAIC: Yang et
// al., DAC 2020): each sub-accelerator is a dataflow template with a PE
// count, a share of the global DRAM bandwidth and its own global buffer,
// modelled by simulators/accel. Networks are assigned to sub-accelerators;
// the networks of one sub-accelerator run one after another, different
// sub-accelerators run at the same time.
#include <limits>
#include <string>
#include <vector>

#include "simulators/accel/mapper.hpp"

namespace dsegym::asic {

// Templates: "shi" (ShiDianNao-like, output stationary), "dla" (NVDLA-like,
// weight stationary), "rs" (Eyeriss-like, row stationary).
const std::vector<std::string>& template_names();
accel::Dataflow template_dataflow(const std::string& name);  // InvalidArgument listing the names

struct SubAccel {
  std::string templ;
  std::int64_t pes = 256;        // a power of two; the array is as square as powers of two allow
  double bandwidth_gbps = 16;    // its share of the DRAM bandwidth
  std::int64_t glb_kb = 128;     // its global buffer
};

struct Network {
  std::string name;
  std::vector<accel::Layer> layers;
};

struct Budget {
  std::int64_t max_pes = 4096;
  double max_bandwidth_gbps = 64;
};

// Limits a design must meet (infinity: none).
struct Specs {
  double latency_us = std::numeric_limits<double>::infinity();
  double energy_uj = std::numeric_limits<double>::infinity();
  double area_mm2 = std::numeric_limits<double>::infinity();
};

struct Tech {
  std::string node = "45nm";
  double clock_mhz = 200;
  std::int64_t rf_words = 256;
};

struct SubResult {
  double latency_us = 0, energy_uj = 0, area_mm2 = 0;
  std::vector<std::string> networks;
};

struct Result {
  bool valid = true;        // within budget and every layer mappable
  std::string reason;       // why not
  double latency_us = 0;    // slowest sub-accelerator
  double energy_uj = 0, area_mm2 = 0;
  std::vector<SubResult> subs;
  std::vector<std::string> violations;  // "latency_us 812.3 > 500", one per spec not met
  bool specs_met() const { return valid && violations.empty(); }
};

// The architecture of one sub-accelerator.
accel::Arch sub_arch(const SubAccel& s, const Tech& t);

// assignment[i]: the sub-accelerator running network i. Unused
// sub-accelerators cost area but no time. Errors in the inputs (an
// assignment out of range, an unknown template) throw InvalidArgument.
Result evaluate(const std::vector<SubAccel>& subs, const std::vector<Network>& nets, const std::vector<int>& assignment,
                const Budget& budget, const Specs& specs, const Tech& tech = {});

}  // namespace dsegym::asic
