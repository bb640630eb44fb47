// Closed-form checks of the accelerator model.
#include <doctest/doctest.h>

#include "envs/core/error.hpp"
#include "simulators/accel/mapper.hpp"
#include "simulators/accel/model.hpp"
#include "simulators/accel/workload.hpp"

using namespace dsegym;
using namespace dsegym::accel;

namespace {

Layer conv(std::int64_t k, std::int64_t c, std::int64_t p, std::int64_t r, int stride = 1) {
  Layer l;
  l.size = {1, k, c, p, p, r, r};
  l.stride = stride;
  return l;
}

// Everything at the RF level except the given spatial factors; one GLB tile.
Mapping all_in(const Layer& l, std::array<std::int64_t, kDims> spatial, std::array<int, kDims> axis = {}) {
  Mapping m;
  for (int d = 0; d < kDims; ++d) {
    m.factors[2][d] = spatial[d];
    m.factors[1][d] = (l.size[d] + spatial[d] - 1) / spatial[d];
  }
  m.spatial_axis = axis;
  return m;
}

}  // namespace

TEST_CASE("MAC counts of known networks match their published totals") {
  // AlexNet conv1: 96 x 3 x 55 x 55 x 11 x 11 = 105,415,200 MACs.
  const Workload alex = resolve_workload("alexnet");
  CHECK(alex.layers[0].macs() == 105415200);
  CHECK(alex.layers[0].size[P] == 55);
  // ResNet-50 at 224x224 with the stride in the 3x3 convolutions and the
  // projection shortcuts counted: 4.09 G multiply-accumulates (He et al. 2016
  // quote 3.8 G for the variant with the stride in the first 1x1 conv).
  CHECK(resolve_workload("resnet50").macs() == doctest::Approx(4.09e9).epsilon(0.01));
  // MobileNetV2 1.0: 300 M multiply-adds (Sandler et al. 2018, Table 3).
  CHECK(resolve_workload("mobilenetv2").macs() == doctest::Approx(300e6).epsilon(0.01));
  // VGG16: 15.5 G multiply-adds.
  CHECK(resolve_workload("vgg16").macs() == doctest::Approx(15.47e9).epsilon(0.01));
  // BERT-base encoder layer at sequence 128: 4 x 128 x 768^2 + 2 x 12 x 128^2 x 64 + 2 x 128 x 768 x 3072.
  CHECK(resolve_workload("bert_base_encoder").macs() == 4LL * 128 * 768 * 768 + 2LL * 12 * 128 * 128 * 64 + 2LL * 128 * 768 * 3072);
}

TEST_CASE("with every tile on chip each tensor crosses the DRAM interface once (the minimum traffic)") {
  const Layer l = conv(16, 8, 14, 3);
  Arch a;
  a.glb_words = 1 << 20;
  a.rf_words = 1 << 20;
  const Evaluation e = evaluate(l, a, all_in(l, {1, 1, 1, 1, 1, 1, 1}));
  REQUIRE(e.valid);
  CHECK(e.access[0][0].reads == l.weight_words());
  CHECK(e.access[0][1].reads == l.input_words());
  CHECK(e.access[0][2].writes == l.output_words());
  CHECK(e.access[0][2].reads == 0);
  CHECK(e.macs == 16 * 8 * 14 * 14 * 9);
}

TEST_CASE("a layer that fits the array exactly runs at 100% utilisation; padding costs utilisation") {
  // Weight stationary: C over the 12 rows, K over the 14 columns.
  Layer l = conv(14, 12, 28, 3);
  Arch a;
  a.glb_words_per_cycle = a.noc_words_per_cycle = a.dram_words_per_cycle = 1e9;  // compute bound
  a.rf_words = 1 << 20;
  a.glb_words = 1 << 22;
  std::array<int, kDims> axis{};
  axis[K] = 1;
  std::array<std::int64_t, kDims> sp{1, 14, 12, 1, 1, 1, 1};
  const Evaluation e = evaluate(l, a, all_in(l, sp, axis));
  REQUIRE(e.valid);
  CHECK(e.utilization == doctest::Approx(1.0));
  CHECK(e.compute_cycles == 28 * 28 * 9);
  l.size[K] = 15;  // one column's worth too many: two passes over K
  std::array<std::int64_t, kDims> sp2{1, 14, 12, 1, 1, 1, 1};
  const Evaluation f = evaluate(l, a, all_in(l, sp2, axis));
  REQUIRE(f.valid);
  CHECK(f.utilization == doctest::Approx(15.0 / 28.0));
}

TEST_CASE("stationarity: an inner loop that does not index a tensor does not refetch it") {
  const Layer l = conv(8, 8, 16, 1);
  Arch a;
  a.glb_words = 1 << 20;
  Mapping m;
  // DRAM level: K outer, P inner. Weights do not depend on P: fetched once.
  m.factors[0][K] = 4;
  m.factors[0][P] = 4;
  m.factors[1][K] = 2;
  m.factors[1][C] = 8;
  m.factors[1][P] = 4;
  m.factors[1][Q] = 16;
  m.dram_order = {N, C, Q, R, S, K, P};
  const Evaluation ws = evaluate(l, a, m);
  REQUIRE(ws.valid);
  CHECK(ws.access[0][0].reads == l.weight_words());
  CHECK(ws.access[0][1].reads == 4 * l.input_words());  // inputs refetched for each K block
  // With P outer and K inner, the weights come 4 times and the inputs once.
  m.dram_order = {N, C, Q, R, S, P, K};
  const Evaluation is = evaluate(l, a, m);
  CHECK(is.access[0][0].reads == 4 * l.weight_words());
  CHECK(is.access[0][1].reads == l.input_words());
}

TEST_CASE("impossible mappings are rejected with a reason") {
  const Layer l = conv(16, 16, 8, 3);
  Arch a;
  Mapping m = all_in(l, {1, 1, 1, 1, 1, 1, 1});
  a.glb_words = 100;
  CHECK(!evaluate(l, a, m).valid);
  CHECK(evaluate(l, a, m).reason.find("global buffer tile needs") != std::string::npos);
  a.glb_words = 1 << 20;
  m.factors[1][K] = 2;  // covers 2 of 16
  CHECK(evaluate(l, a, m).reason.find("the factors of K cover 2 of its 16") != std::string::npos);
  Mapping sp = all_in(l, {1, 16, 16, 1, 1, 1, 1});
  CHECK(evaluate(l, a, sp).reason.find("array is 12 x 14") != std::string::npos);
}

TEST_CASE("workload files are checked") {
  CHECK_THROWS_WITH_AS(resolve_workload("resnet51"), doctest::Contains("neither a built-in name"), InvalidArgument);
}

TEST_CASE("Eyeriss running AlexNet's conv layers: MACs and frame time near the published chip") {
  // Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for
  // Deep Convolutional Neural Networks", ISSCC 2016 / JSSC 2017: 666 M MACs per
  // 227x227 image in the conv layers; 34.7 frames/s (28.8 ms per frame) at
  // 200 MHz with 168 PEs (12 x 14) and a 108 kB global buffer, row-stationary.
  const Workload alex = resolve_workload("alexnet");
  std::int64_t conv_macs = 0;
  for (const auto& l : alex.layers)
    if (l.name.rfind("conv", 0) == 0) conv_macs += l.macs();
  CHECK(static_cast<double>(conv_macs) == doctest::Approx(666e6).epsilon(0.001));
  Arch eyeriss;  // the defaults are Eyeriss'
  const WorkloadResult r = run_workload(alex, eyeriss, Dataflow::RowStationary);
  REQUIRE(r.valid);
  double conv_ns = 0;
  for (std::size_t i = 0; i < alex.layers.size(); ++i)
    if (alex.layers[i].name.rfind("conv", 0) == 0) conv_ns += r.layers[i].eval.latency_ns;
  // The model is ideal (no stalls beyond bandwidth limits): within 30% below the measured chip.
  CHECK(conv_ns / 1e6 <= 28.8 * 1.05);
  CHECK(conv_ns / 1e6 >= 28.8 * 0.70);
  MESSAGE("AlexNet conv layers on the Eyeriss-like array: " << conv_ns / 1e6 << " ms per frame (chip: 28.8 ms)");
}

TEST_CASE("the mapper finds valid mappings for every shipped workload and dataflow") {
  Arch a;
  for (const auto& w : builtin_workloads())
    for (const auto& df : dataflow_names()) {
      INFO(w, " ", df);
      const WorkloadResult r = run_workload(resolve_workload(w), a, dataflow_from_name(df));
      CHECK(r.valid);
      CHECK(r.utilization > 0);
      CHECK(r.utilization <= 1.0 + 1e-9);
    }
}

TEST_CASE("the 16 nm table scales on-chip energy by Stillmaker and Baas's 45 -> 16 nm factor and keeps DRAM") {
  // Stillmaker and Baas, Integration 58 (2017), energy fits a V^2 + b V + c:
  // 45 nm (1.103, -0.362, 0.2767) at 1.0 V, 16 nm (0.2958, -0.1241, 0.03024) at 0.8 V.
  const double k = (0.2958 * 0.8 * 0.8 - 0.1241 * 0.8 + 0.03024) / (1.103 * 1.0 - 0.362 * 1.0 + 0.2767);
  CHECK(k == doctest::Approx(0.11818).epsilon(1e-3));
  const Layer l = conv(16, 8, 14, 3);
  Arch a45, a16;
  a45.glb_words = a16.glb_words = 1 << 20;
  a45.rf_words = a16.rf_words = 1 << 20;
  apply_energy_table(a16, "16nm");
  const Evaluation e45 = evaluate(l, a45, all_in(l, {1, 1, 1, 1, 1, 1, 1}));
  const Evaluation e16 = evaluate(l, a16, all_in(l, {1, 1, 1, 1, 1, 1, 1}));
  REQUIRE(e45.valid);
  REQUIRE(e16.valid);
  for (int i = 0; i < 4; ++i) CHECK(e16.energy_breakdown[i] == doctest::Approx(k * e45.energy_breakdown[i]));
  CHECK(e16.energy_breakdown[4] == doctest::Approx(e45.energy_breakdown[4]));
  CHECK(e16.latency_ns == e45.latency_ns);
  CHECK_THROWS_WITH_AS(apply_energy_table(a16, "7nm"), doctest::Contains("choices: 45nm, 16nm"), InvalidArgument);
}

// The area model against two published chips. TPU v1 (Jouppi et al., ISCA
// 2017): a 256 x 256 array of 8-bit MACs took 24 % of a < 331 mm^2, 28 nm
// die, i.e. ~1,212 um^2 per MAC; the model's MAC (MAESTRO's 16-bit figure
// scaled to 8 bits) must land within 10 % of that. (Its SRAM density comes
// from the same die's unified buffer, so only the MAC is a check here.)
// Eyeriss (Chen et al., JSSC 2017): 168 16-bit PEs and 181.5 kB of SRAM in
// a 3.5 x 3.5 mm^2 core in 65 nm. The model counts MACs and buffers only,
// not the NoC, control and I/O, so it must fall between half the core and
// the core (measured: 8.1 of 12.25 mm^2, 66 %).
TEST_CASE("area: TPU v1's MAC array and Eyeriss' core from the model's 28 nm figures") {
  Arch tpu;
  tpu.rows = tpu.cols = 256;
  tpu.word_bits = 8;
  tpu.rf_words = tpu.glb_words = 0;
  tpu.energy.nm = 28;
  const double published_mxu_mm2 = 0.24 * 331;
  CHECK(area(tpu).mac_mm2 == doctest::Approx(published_mxu_mm2).epsilon(0.10));

  Arch eyeriss;  // the defaults are Eyeriss': 12 x 14 PEs, 256-word RFs, 108 kB global buffer
  eyeriss.energy.nm = 65;
  const Area a = area(eyeriss);
  MESSAGE("Eyeriss-like area in 65 nm: " << a.total_mm2 << " mm^2 (MACs " << a.mac_mm2 << ", RFs " << a.rf_mm2 << ", GLB " << a.glb_mm2 << ")");
  CHECK(a.total_mm2 > 0.5 * 12.25);
  CHECK(a.total_mm2 < 12.25);
  // Scaling: the 16 nm table's area is (16/45)^2 of the 45 nm one.
  Arch a45, a16;
  apply_energy_table(a45, "45nm");
  apply_energy_table(a16, "16nm");
  CHECK(area(a16).total_mm2 == doctest::Approx(area(a45).total_mm2 * (16.0 / 45) * (16.0 / 45)));
}
