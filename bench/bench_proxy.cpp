// Proxy speed against the simulator: one dram-v0 step vs one proxy query
// (single design, and per design in batches of 1000), for a saved model.
// Usage: bench_proxy MODEL.json DATASET.csv
#include <chrono>
#include <cstdio>

#include "app/builtin.hpp"
#include "proxies/proxy.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

namespace {

// Seconds per call of f, the fastest of `reps` passes (the first warms the caches).
template <class F>
double fastest(int reps, F f) {
  double best = 1e300;
  for (int k = 0; k < reps; ++k) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

int bench(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_proxy MODEL.json DATASET.csv\n"
                         "  proxy query time (single designs and batches of 1000) against a dram-v0 step\n");
    return 2;
  }
  const proxy::ProxyModel m = proxy::ProxyModel::load(argv[1]);
  const proxy::Dataset d = proxy::load_dataset(argv[2]);
  m.check(d);
  const std::size_t n = std::min<std::size_t>(d.rows(), 1000);
  std::vector<std::vector<json>> rows(d.cells.begin(), d.cells.begin() + static_cast<std::ptrdiff_t>(n));
  volatile double sink = 0;
  const int reps = 5;
  const double single = fastest(reps, [&] {
                          for (const auto& r : rows) sink = sink + m.predict({r})[0].mean[0];
                        }) / static_cast<double>(n);
  const double batched = fastest(reps, [&] { sink = sink + m.predict(rows)[0].mean[0]; }) / static_cast<double>(n);
  proxy::Encoder enc(d.params, false);
  const double encode = fastest(reps, [&] { sink = sink + enc.encode_rows(rows)(0, 0); }) / static_cast<double>(n);
  std::printf("encoding alone: %.2f us per design\n", encode * 1e6);
  double sim = 0;
  if (m.env() == "dram-v0") {
    json opts = m.env_options().empty() ? json::object() : m.env_options()[0];
    auto env = make_env(env_registry(), "dram-v0", opts);
    Rng rng(1);
    const int steps = 100;
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) {
      env->reset();
      env->step(env->action_space().sample(rng));
    }
    sim = std::chrono::duration<double>(Clock::now() - t0).count() / steps;
  }
  std::printf("proxy (%zu targets): %.1f us per single query, %.2f us per design in batches of %zu\n", m.targets().size(), single * 1e6,
              batched * 1e6, n);
  if (sim > 0) std::printf("dram-v0 step: %.2f ms -> %.0fx (single), %.0fx (batched)\n", sim * 1e3, sim / single, sim / batched);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return bench(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_proxy: %s\n", e.what());
    return 1;
  }
}
