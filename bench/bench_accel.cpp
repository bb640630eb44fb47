// Accelerator model speed: evaluations per second of one mapping of one
// layer, of ResNet-50 with fixed per-layer mappings, and of the built-in
// mapper per workload (Eyeriss-like architecture).
// Usage: bench_accel
#include <chrono>
#include <cstdio>
#include <vector>

#include "simulators/accel/mapper.hpp"

using namespace dsegym::accel;
using Clock = std::chrono::steady_clock;

int main() {
  const Arch arch;
  const Workload r50 = resolve_workload("resnet50");
  const WorkloadResult mapped = run_workload(r50, arch, Dataflow::RowStationary);
  const Layer& layer = r50.layers[10];
  const Mapping& m = mapped.layers[10].mapping;
  volatile double sink = 0;
  const int n = 1000000;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) sink = sink + evaluate(layer, arch, m).energy_pj;
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("one layer (%s), fixed mapping: %.2f M evaluations/s\n", layer.name.c_str(), n / s / 1e6);
  const int reps = 20000;
  t0 = Clock::now();
  for (int k = 0; k < reps; ++k)
    for (std::size_t i = 0; i < r50.layers.size(); ++i) sink = sink + evaluate(r50.layers[i], arch, mapped.layers[i].mapping).energy_pj;
  s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("ResNet-50 (%zu layers), fixed mappings: %.0f evaluations/s\n", r50.layers.size(), reps / s);
  for (const auto& name : builtin_workloads()) {
    const Workload w = resolve_workload(name);
    t0 = Clock::now();
    const WorkloadResult r = run_workload(w, arch, Dataflow::RowStationary);
    s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::int64_t evals = 0;
    for (const auto& l : r.layers) evals += l.evaluated;
    std::printf("mapper, %-18s %6.1f ms (%lld mappings evaluated)\n", name.c_str(), s * 1000, static_cast<long long>(evals));
  }
  return 0;
}
