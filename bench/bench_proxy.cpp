// Proxy speed against the simulator: one dram-v0 step vs one proxy query
// (single design, and per design in batches of 1000), for a saved model.
// Usage: bench_proxy MODEL.json DATASET.csv
#include <chrono>
#include <cstdio>

#include "envs/builtin.hpp"
#include "proxies/proxy.hpp"

using namespace dsegym;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_proxy MODEL.json DATASET.csv\n");
    return 2;
  }
  const proxy::ProxyModel m = proxy::ProxyModel::load(argv[1]);
  const proxy::Dataset d = proxy::load_dataset(argv[2]);
  m.check(d);
  const std::size_t n = std::min<std::size_t>(d.rows(), 1000);
  std::vector<std::vector<json>> rows(d.cells.begin(), d.cells.begin() + static_cast<std::ptrdiff_t>(n));
  volatile double sink = 0;
  auto t0 = Clock::now();
  for (const auto& r : rows) sink = sink + m.predict({r})[0].mean[0];
  const double single = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(n);
  t0 = Clock::now();
  const int reps = 5;
  for (int k = 0; k < reps; ++k) sink = sink + m.predict(rows)[0].mean[0];
  const double batched = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(n * reps);

  proxy::Encoder enc(d.params, false);
  t0 = Clock::now();
  for (int k = 0; k < reps; ++k) sink = sink + enc.encode_rows(rows)(0, 0);
  const double encode = std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(n * reps);
  std::printf("encoding alone: %.2f us per design\n", encode * 1e6);
  double sim = 0;
  if (m.env() == "dram-v0") {
    json opts = m.env_options().empty() ? json::object() : m.env_options()[0];
    auto env = make_env(env_registry(), "dram-v0", opts);
    Rng rng(1);
    const int steps = 100;
    t0 = Clock::now();
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
