// Accelerator model speed: evaluations per second of one mapping of one
// layer and of ResNet-50 with fixed per-layer mappings (spatial and systolic
// arrays), and the built-in mapper's time per workload and dataflow
// (latency objective; Eyeriss-like 12 x 14 spatial array, 32 x 32 systolic).
// Usage: bench_accel
#include <chrono>
#include <cstdio>
#include <vector>

#include "simulators/accel/mapper.hpp"

using namespace dsegym::accel;
using Clock = std::chrono::steady_clock;

namespace {

void fixed_mappings(const char* label, const Arch& arch, Dataflow df) {
  const Workload r50 = resolve_workload("resnet50");
  const WorkloadResult mapped = run_workload(r50, arch, df);
  const Layer& layer = r50.layers[10];
  const Mapping& m = mapped.layers[10].mapping;
  volatile double sink = 0;
  const int n = 300000;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) sink = sink + evaluate(layer, arch, m).energy_pj;
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-9s one layer (%s), fixed mapping: %.2f M evaluations/s\n", label, layer.name.c_str(), n / s / 1e6);
  const int reps = 5000;
  t0 = Clock::now();
  for (int k = 0; k < reps; ++k)
    for (std::size_t i = 0; i < r50.layers.size(); ++i) sink = sink + evaluate(r50.layers[i], arch, mapped.layers[i].mapping).energy_pj;
  s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%-9s ResNet-50 (%zu layers), fixed mappings: %.0f evaluations/s\n", label, r50.layers.size(), reps / s);
}

void mapper(const char* label, const Arch& arch, const std::vector<std::string>& dataflows) {
  for (const auto& name : builtin_workloads()) {
    const Workload w = resolve_workload(name);
    std::printf("%-9s mapper, %-18s", label, name.c_str());
    for (const auto& df : dataflows) {
      const auto t0 = Clock::now();
      const WorkloadResult r = run_workload(w, arch, dataflow_from_name(df));
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      std::int64_t evals = 0;
      for (const auto& l : r.layers) evals += l.evaluated;
      std::printf("  %s %6.1f ms (%6lld mappings)", df.c_str(), s * 1000, static_cast<long long>(evals));
    }
    std::printf("\n");
  }
}

}  // namespace

int main() {
  const Arch spatial;
  Arch systolic;
  systolic.array = ArrayKind::Systolic;
  systolic.rows = systolic.cols = 32;
  fixed_mappings("spatial", spatial, Dataflow::RowStationary);
  fixed_mappings("systolic", systolic, Dataflow::WeightStationary);
  mapper("spatial", spatial, {"ws", "os", "rs", "is"});
  mapper("systolic", systolic, {"ws", "os", "is"});
  return 0;
}
