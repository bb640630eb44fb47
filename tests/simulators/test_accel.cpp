// Checks of the accelerator model against closed forms, SCALE-Sim v2,
// MAESTRO and published chips.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
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

// A layer as SCALE-Sim's topology files give it: input H x W, filter R x S,
// C channels, K filters, stride (output = ceil((H - R + stride) / stride)).
Layer scalesim_conv(std::int64_t h, std::int64_t w, std::int64_t r, std::int64_t s, std::int64_t c, std::int64_t k, int stride) {
  Layer l;
  l.size = {1, k, c, (h - r + stride + stride - 1) / stride, (w - s + stride + stride - 1) / stride, r, s};
  l.stride = stride;
  return l;
}

Layer gemm(std::int64_t m, std::int64_t n, std::int64_t k) {
  Layer l;
  l.size = {1, n, k, m, 1, 1, 1};
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

// Bandwidths and buffers that never limit: SCALE-Sim's CALC mode and
// MAESTRO's runs with huge bandwidth.
Arch unconstrained(ArrayKind kind, int rows, int cols) {
  Arch a;
  a.array = kind;
  a.rows = rows;
  a.cols = cols;
  a.rf_words = 1 << 20;
  a.glb_words = std::int64_t{1} << 34;
  a.glb_words_per_cycle = a.noc_words_per_cycle = a.dram_words_per_cycle = 1e12;
  return a;
}

double mapped_cycles(const Layer& l, const Arch& a, Dataflow df) {
  const MappedLayer m = map_layer(l, a, df);
  REQUIRE(m.eval.valid);
  return m.eval.cycles;
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
  for (ArrayKind kind : {ArrayKind::Spatial, ArrayKind::Systolic}) {
    Arch a = unconstrained(kind, 12, 14);
    a.dram_words_per_cycle = 4;
    Mapping m = kind == ArrayKind::Spatial ? all_in(l, {1, 1, 1, 1, 1, 1, 1}) : Mapping{};
    const Evaluation e = evaluate(l, a, m);
    REQUIRE(e.valid);
    CHECK(e.access[0][0].reads == l.weight_words());
    CHECK(e.access[0][1].reads == l.input_words());
    CHECK(e.access[0][2].writes == l.output_words());
    CHECK(e.access[0][2].reads == 0);
    CHECK(e.macs == 16 * 8 * 14 * 14 * 9);
    // DRAM must move every word; on the spatial array with one tile nothing
    // overlaps the load and the write-back, which are exposed.
    const double words = static_cast<double>(l.weight_words() + l.input_words() + l.output_words());
    CHECK(e.cycles >= words / 4);
    if (kind == ArrayKind::Spatial) {
      CHECK(e.exposed_cycles >= words / 4);
      CHECK(e.cycles == doctest::Approx(e.exposed_cycles + e.compute_cycles));
    }
  }
}

TEST_CASE("a layer that fits the array exactly runs at 100% utilisation, padding costs utilisation") {
  // Weight stationary: C over the 12 rows, K over the 14 columns.
  Layer l = conv(14, 12, 28, 3);
  const Arch a = unconstrained(ArrayKind::Spatial, 12, 14);
  std::array<int, kDims> axis{};
  axis[K] = 1;
  const Evaluation e = evaluate(l, a, all_in(l, {1, 14, 12, 1, 1, 1, 1}, axis));
  REQUIRE(e.valid);
  // The 12-input reduction tree adds its depth, 4 cycles, once.
  CHECK(e.utilization == doctest::Approx(1.0).epsilon(1e-3));
  CHECK(e.compute_cycles == 28 * 28 * 9);
  l.size[K] = 15;  // one column's worth too many: two passes over K
  const Evaluation f = evaluate(l, a, all_in(l, {1, 14, 12, 1, 1, 1, 1}, axis));
  REQUIRE(f.valid);
  CHECK(f.utilization == doctest::Approx(15.0 / 28.0).epsilon(1e-3));
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

TEST_CASE("multicast: a word many PEs need crosses the NoC once, shared outputs are reduced spatially") {
  // 1x1 conv, K over 8 columns, C over 4 rows, everything else temporal:
  // every input word goes to the 8 PEs of its row in one delivery, and the 4
  // partial sums of each output are added on the way out.
  const Layer l = conv(8, 4, 6, 1);
  const Arch a = unconstrained(ArrayKind::Spatial, 4, 8);
  std::array<int, kDims> axis{};
  axis[K] = 1;
  const Evaluation e = evaluate(l, a, all_in(l, {1, 8, 4, 1, 1, 1, 1}, axis));
  REQUIRE(e.valid);
  const double inputs = static_cast<double>(l.input_words()), weights = static_cast<double>(l.weight_words());
  const double outputs = static_cast<double>(l.output_words());
  CHECK(e.access[1][1].reads == doctest::Approx(inputs));   // GLB -> array: each input once
  CHECK(e.access[2][1].writes == doctest::Approx(inputs * 8));  // RF writes: each of the 8 PEs gets it
  CHECK(e.access[1][0].reads == doctest::Approx(weights));
  CHECK(e.noc_words == doctest::Approx(inputs + weights + outputs));
  CHECK(e.reduction_adds == doctest::Approx(outputs * 3));  // 4 partial sums -> 3 adds per output
  // Without multicast the NoC time would be per receiving PE: 8x more.
  CHECK(e.noc_cycles == doctest::Approx(std::max({inputs, weights, outputs}) / a.noc_words_per_cycle));
}

TEST_CASE("double buffering: a refilled GLB tile needs room for two") {
  const Layer l = conv(8, 8, 16, 1);
  Arch a;
  a.glb_words = 1 << 20;
  Mapping m = all_in(l, {1, 1, 1, 1, 1, 1, 1});
  const double one_tile = static_cast<double>(l.weight_words() + l.input_words() + l.output_words());
  a.glb_words = static_cast<std::int64_t>(one_tile);
  CHECK(evaluate(l, a, m).valid);  // one tile of everything, never refilled
  // Split P in two at the DRAM level: inputs and outputs are refilled (2 x
  // half), weights stay (1 x all).
  m.factors[0][P] = 2;
  m.factors[1][P] = 8;
  const double need = static_cast<double>(l.weight_words()) + 2 * (8 * 8 * 16) + 2 * (8 * 8 * 16);
  a.glb_words = static_cast<std::int64_t>(need) - 1;
  CHECK(evaluate(l, a, m).reason.find("double-buffered") != std::string::npos);
  a.glb_words = static_cast<std::int64_t>(need);
  CHECK(evaluate(l, a, m).valid);
}

TEST_CASE("impossible mappings are rejected with a reason") {
  const Layer l = conv(16, 16, 8, 3);
  Arch a;
  Mapping m = all_in(l, {1, 1, 1, 1, 1, 1, 1});
  a.glb_words = 100;
  CHECK(!evaluate(l, a, m).valid);
  CHECK(evaluate(l, a, m).reason.find("global buffer tiles need") != std::string::npos);
  a.glb_words = 1 << 20;
  m.factors[1][K] = 2;  // covers 2 of 16
  CHECK(evaluate(l, a, m).reason.find("the factors of K cover 2 of its 16") != std::string::npos);
  Mapping sp = all_in(l, {1, 16, 16, 1, 1, 1, 1});
  CHECK(evaluate(l, a, sp).reason.find("array is 12 x 14") != std::string::npos);
  a.array = ArrayKind::Systolic;
  CHECK(evaluate(l, a, sp).reason.find("it has no tiling factors") != std::string::npos);
  Mapping rs;
  rs.dataflow = Dataflow::RowStationary;
  CHECK(evaluate(l, a, rs).reason.find("row stationary needs a spatial array") != std::string::npos);
  CHECK(map_layer(l, a, Dataflow::RowStationary).eval.reason.find("row stationary needs a spatial array") != std::string::npos);
}

TEST_CASE("workload, layer and architecture inputs are checked, never wrapped") {
  CHECK_THROWS_WITH_AS(resolve_workload("resnet51"), doctest::Contains("neither a built-in name"), InvalidArgument);
  using nlohmann::json;
  CHECK_THROWS_WITH_AS(parse_arch(json{{"rows", 1e10}}, "--arch"), doctest::Contains("--arch.rows: expected an integer in 1..65536"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_arch(json{{"rows", 2.5}}, "--arch"), doctest::Contains("--arch.rows"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_arch(json{{"rows", 65536}, {"cols", 65536}}, "--arch"), doctest::Contains("2^26"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_arch(json{{"glb_words", -1}}, "--arch"), doctest::Contains("--arch.glb_words"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_arch(json{{"array", "mesh"}}, "--arch"), doctest::Contains("choices: spatial, systolic"), InvalidArgument);
  CHECK_THROWS_WITH_AS(parse_arch(json{{"dram_words_per_cycle", 0}}, "--arch"), doctest::Contains("dram_words_per_cycle"), InvalidArgument);
  Layer huge = conv(1 << 20, 1 << 20, 1 << 12, 1 << 10);  // 2^72 MACs
  CHECK_THROWS_WITH_AS(huge.check("layer"), doctest::Contains("more than 2^62 MACs"), InvalidArgument);
  Layer big = conv(1, 1, 1, 1);
  big.size[K] = kMaxDimSize + 1;
  CHECK_THROWS_WITH_AS(big.check("layer"), doctest::Contains("layer.K"), InvalidArgument);
  // A large but legal layer gives exact counts, positive area and latency.
  Layer wide = gemm(1 << 20, 1 << 20, 1 << 16);  // 2^56 MACs
  CHECK_NOTHROW(wide.check("layer"));
  const Arch tpu = [] {
    Arch a;
    a.array = ArrayKind::Systolic;
    a.rows = a.cols = 256;
    return a;
  }();
  const MappedLayer m = map_layer(wide, tpu, Dataflow::OutputStationary);
  REQUIRE(m.eval.valid);
  CHECK(m.eval.macs == std::int64_t{1} << 56);
  CHECK(m.eval.cycles >= std::ldexp(1.0, 56) / 65536);
  CHECK(area(tpu).total_mm2 > 0);
}

// SCALE-Sim v2 (scalesim-project/scale-sim-v2, commit 22f88b17f1dd, run
// locally with InterfaceBandwidth CALC, i.e. no bandwidth stalls, and 6 MiB
// operand SRAMs): total cycles per layer. SCALE-Sim counts from cycle 0, one
// below the number of cycles; the model here has the same folds.
TEST_CASE("systolic arrays: SCALE-Sim v2's cycles for WS, OS and IS on conv and GEMM shapes") {
  struct Case {
    const char* name;
    Layer layer;
    int rows, cols;
    Dataflow df;
    double scalesim;
  };
  const Layer res2 = scalesim_conv(58, 58, 3, 3, 64, 64, 1), res2_1x1 = scalesim_conv(56, 56, 1, 1, 64, 256, 1);
  const Layer conv1 = scalesim_conv(227, 227, 11, 11, 3, 96, 4), odd = scalesim_conv(30, 30, 5, 5, 20, 50, 1);
  const Layer res5 = scalesim_conv(9, 9, 3, 3, 512, 512, 1), pw = scalesim_conv(14, 14, 1, 1, 576, 160, 1);
  const Layer g256 = gemm(256, 256, 256), rect = gemm(1000, 64, 300);
  using D = Dataflow;
  const Case cases[] = {
      {"res2 3x3 ws", res2, 32, 32, D::WeightStationary, 116279},  {"res2 3x3 os", res2, 32, 32, D::OutputStationary, 125047},
      {"gemm256 ws", g256, 32, 32, D::WeightStationary, 22399},    {"gemm256 os", g256, 32, 32, D::OutputStationary, 20351},
      {"gemm256 is", g256, 32, 32, D::InputStationary, 22399},     {"res2 1x1 ws", res2_1x1, 32, 32, D::WeightStationary, 51679},
      {"res2 1x1 is", res2_1x1, 32, 32, D::InputStationary, 68599}, {"alexnet conv1 ws", conv1, 32, 32, D::WeightStationary, 112283},
      {"res5 3x3 os", res5, 32, 32, D::OutputStationary, 149439},  {"pointwise is", pw, 32, 32, D::InputStationary, 32003},
      {"odd 5x5 os", odd, 32, 32, D::OutputStationary, 24727},     {"gemm 1000x64x300 is", rect, 32, 32, D::InputStationary, 50559},
      {"res2 3x3 ws 64x16", res2, 64, 16, D::WeightStationary, 118007}, {"res2 3x3 os 128x128", res2, 128, 128, D::OutputStationary, 20749},
      {"gemm256 os 16x64", g256, 16, 64, D::OutputStationary, 21375}, {"res2 1x1 is 64x16", res2_1x1, 64, 16, D::InputStationary, 78007},
      {"odd 5x5 is 128x128", odd, 128, 128, D::InputStationary, 10367}, {"res2 1x1 os 64x64", res2_1x1, 64, 64, D::OutputStationary, 37239},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Arch a = unconstrained(ArrayKind::Systolic, c.rows, c.cols);
    CHECK(mapped_cycles(c.layer, a, c.df) == doctest::Approx(c.scalesim + 1).epsilon(1e-4));
    // As in SCALE-Sim, the fold schedule does not depend on the buffer's
    // size: a 108 kB buffer only costs DRAM traffic, which is free here.
    a.glb_words = 55296;
    const MappedLayer small = map_layer(c.layer, a, c.df);
    REQUIRE(small.eval.valid);
    CHECK(small.eval.compute_cycles == doctest::Approx(c.scalesim + 1).epsilon(1e-4));
    CHECK(small.eval.cycles == doctest::Approx(c.scalesim + 1).epsilon(1e-4));
  }
}

TEST_CASE("systolic arrays: a small buffer re-fetches re-streamed operands, chunking the stream trades fills for traffic") {
  // ResNet-50's res2 3x3 conv, weight stationary on 32 x 32: 18 row folds
  // (576 window rows) x 2 column folds (64 filters). The inputs are streamed
  // once per column fold, the partial sums accumulate over the 18 row folds.
  const Layer res2 = conv(64, 64, 56, 3);
  Arch a = unconstrained(ArrayKind::Systolic, 32, 32);
  Mapping m;  // ws, row folds outermost, one chunk
  const Evaluation big = evaluate(res2, a, m);
  const double weights = static_cast<double>(res2.weight_words()), inputs = static_cast<double>(res2.input_words());
  const double outputs = static_cast<double>(res2.output_words());
  CHECK(big.access[0][0].reads == doctest::Approx(weights));  // everything kept: each word once
  CHECK(big.access[0][1].reads == doctest::Approx(inputs));
  CHECK(big.access[0][2].writes == doctest::Approx(outputs));
  // No room beyond the held 32 x 32 block: the inputs come again for the
  // second column fold, and every row fold after the first reads and
  // writes the partial sums back.
  a.glb_words = 1024;
  const Evaluation none = evaluate(res2, a, m);
  CHECK(none.access[0][1].reads == doctest::Approx(2 * inputs));
  CHECK(none.access[0][2].writes == doctest::Approx(18 * outputs));
  CHECK(none.access[0][2].reads == doctest::Approx(17 * outputs));
  CHECK(none.compute_cycles == big.compute_cycles);
  // Four chunks of the stream: each runs the 36 folds (3 more fills of
  // 2 x 32 + 32 - 2 cycles per fold), and the chunk's partial sums, a quarter
  // of them, are what must stay.
  m.stream_chunks = 4;
  a.glb_words = 1024 + static_cast<std::int64_t>(outputs / 4);
  const Evaluation chunked = evaluate(res2, a, m);
  CHECK(chunked.compute_cycles == doctest::Approx(big.compute_cycles + 36 * 3 * 94));
  CHECK(chunked.access[0][2].writes == doctest::Approx(outputs));
  CHECK(chunked.access[0][2].reads == doctest::Approx(0));
  CHECK(chunked.access[0][0].reads == doctest::Approx(4 * weights));  // the held weights reloaded per chunk (no room left)
}

// SCALE-Sim v2 (same runs) ranks the dataflows of ResNet-50's res2 3x3 conv
// WS < OS < IS and of the 256^3 GEMM OS < WS = IS on a 32 x 32 array; MAESTRO
// (maestro-project/maestro, commit 4eb08d17c87c, 1024 PEs, NoC and off-chip
// bandwidth 1e9) ranks the conv's weight-stationary KC-P (125,441 cycles)
// before output-stationary YK-P (143,361) and YX-P (286,721).
TEST_CASE("dataflow rankings agree with SCALE-Sim (systolic) and MAESTRO (spatial)") {
  const Layer res2 = conv(64, 64, 56, 3), g256 = gemm(256, 256, 256);
  const Arch sys = unconstrained(ArrayKind::Systolic, 32, 32);
  const double ws = mapped_cycles(res2, sys, Dataflow::WeightStationary), os = mapped_cycles(res2, sys, Dataflow::OutputStationary);
  const double is = mapped_cycles(res2, sys, Dataflow::InputStationary);
  CHECK(ws < os);
  CHECK(os < is);
  CHECK(mapped_cycles(g256, sys, Dataflow::OutputStationary) < mapped_cycles(g256, sys, Dataflow::WeightStationary));
  const Arch sp = unconstrained(ArrayKind::Spatial, 32, 32);
  const double sws = mapped_cycles(res2, sp, Dataflow::WeightStationary), sos = mapped_cycles(res2, sp, Dataflow::OutputStationary);
  CHECK(sws < sos);
  // MAESTRO's zero-latency KC-P runs the conv at its ideal 112,896 cycles (every PE busy): so does the model's WS.
  CHECK(sws == doctest::Approx(64.0 * 64 * 9 * 56 * 56 / 1024).epsilon(0.001));
  // AlexNet conv1 (C = 3): MAESTRO's output-stationary YK-P 120,781 cycles beats its KC-P (2.2 M).
  const Layer c1 = conv(96, 3, 55, 11, 4);
  const double c1_os = mapped_cycles(c1, sp, Dataflow::OutputStationary);
  CHECK(c1_os == doctest::Approx(120781).epsilon(0.05));
  CHECK(c1_os < mapped_cycles(c1, sp, Dataflow::WeightStationary));
}

// Google TPU v1 (Jouppi et al., "In-Datacenter Performance Analysis of a
// Tensor Processing Unit", ISCA 2017, Tables 1-3): a 256 x 256 systolic array
// of 8-bit MACs at 700 MHz, 92 TOPS peak; weights stream from DDR3 at
// 34 GB/s; MLP0 (5 fully connected layers, 20 M weights, batch 200) runs at
// 12.3 TOPS. The layer widths are not published: five 2000 x 2000 layers
// (20 M weights) are assumed.
TEST_CASE("TPU v1: peak throughput and MLP0's memory-bound 12.3 TOPS") {
  Arch tpu;
  tpu.array = ArrayKind::Systolic;
  tpu.rows = tpu.cols = 256;
  tpu.word_bits = 8;
  tpu.clock_mhz = 700;
  tpu.glb_words = 24 * 1048576;          // the 24 MiB unified buffer, 8-bit words
  tpu.glb_words_per_cycle = 1e6;         // on-chip paths do not limit (the paper's roofline)
  tpu.dram_words_per_cycle = 34e9 / 700e6;  // 34 GB/s of 8-bit words
  const double peak_tops = 2.0 * 65536 * 700e6 / 1e12;
  CHECK(peak_tops == doctest::Approx(92).epsilon(0.01));
  // The roofline's flat part: with memory not limiting, a large GEMM reaches
  // most of the peak (SCALE-Sim's weight-stationary folds: 65,536 rows of
  // inputs stream through each of 256 weight loads).
  Arch roof = tpu;
  roof.dram_words_per_cycle = 1e9;
  roof.glb_words = std::int64_t{1} << 32;
  const Layer big = gemm(65536, 4096, 4096);
  const MappedLayer b = map_layer(big, roof, Dataflow::WeightStationary);
  REQUIRE(b.eval.valid);
  const double big_tops = 2.0 * static_cast<double>(big.macs()) / (b.eval.latency_ns * 1e-9) / 1e12;
  CHECK(big_tops > 0.9 * peak_tops);
  CHECK(big_tops <= peak_tops);
  Workload mlp0;
  for (int i = 0; i < 5; ++i) mlp0.layers.push_back(gemm(200, 2000, 2000));
  const WorkloadResult r = run_workload(mlp0, tpu, Dataflow::WeightStationary);
  REQUIRE(r.valid);
  const double tops = 2.0 * static_cast<double>(r.macs) / (r.latency_ns * 1e-9) / 1e12;
  MESSAGE("TPU v1 MLP0: " << tops << " TOPS (published 12.3)");
  CHECK(tops == doctest::Approx(12.3).epsilon(0.15));
}

TEST_CASE("Eyeriss running AlexNet's conv layers: active PEs and frame time near the published chip") {
  // Chen et al., "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for
  // Deep Convolutional Neural Networks", ISSCC 2016 (Fig. 14.5.6) / JSSC 2017:
  // 666 M MACs per 227x227 image in the conv layers; at batch 4, 200 MHz,
  // 168 PEs (12 x 14), 108 kB global buffer, row-stationary: conv1 uses 154
  // PEs and the five layers take 115.3 ms (28.8 ms per frame, DRAM time
  // included).
  const Workload alex = resolve_workload("alexnet");
  std::int64_t conv_macs = 0;
  for (const auto& l : alex.layers)
    if (l.name.rfind("conv", 0) == 0) conv_macs += l.macs();
  CHECK(static_cast<double>(conv_macs) == doctest::Approx(666e6).epsilon(0.001));
  Arch eyeriss;  // the defaults are Eyeriss'
  const WorkloadResult r = run_workload(alex, eyeriss, Dataflow::RowStationary);
  REQUIRE(r.valid);
  CHECK(r.layers[0].eval.pes_used == 154);  // 11 filter rows x 14 output rows, as on the chip
  double conv_ns = 0;
  for (std::size_t i = 0; i < alex.layers.size(); ++i)
    if (alex.layers[i].name.rfind("conv", 0) == 0) conv_ns += r.layers[i].eval.latency_ns;
  // The model has no control overhead and no stalls of the chip's DRAM link:
  // it is 25-30 % below the measured frame time (the ideal at 168 busy PEs
  // is 19.8 ms).
  MESSAGE("AlexNet conv layers on the Eyeriss-like array: " << conv_ns / 1e6 << " ms per frame (chip: 28.8 ms)");
  CHECK(conv_ns / 1e6 >= 28.8 * 0.70);
  CHECK(conv_ns / 1e6 <= 28.8 * 0.80);
}

TEST_CASE("latency never increases when the PEs double (ResNet-50, every dataflow, default bandwidths)") {
  const Workload r50 = resolve_workload("resnet50");
  for (ArrayKind kind : {ArrayKind::Spatial, ArrayKind::Systolic})
    for (const auto& df : dataflow_names()) {
      if (kind == ArrayKind::Systolic && df == "rs") continue;
      double prev = std::numeric_limits<double>::infinity();
      for (int n = 4; n <= 64; n *= 2) {
        Arch a;
        a.array = kind;
        a.rows = a.cols = n;
        const WorkloadResult r = run_workload(r50, a, dataflow_from_name(df));
        INFO(array_kind_name(kind), " ", df, " ", n, "x", n);
        REQUIRE(r.valid);
        CHECK(r.latency_ns <= prev);
        prev = r.latency_ns;
      }
    }
  // Doubling one axis at a time, every layer of AlexNet and every objective.
  const Workload alex = resolve_workload("alexnet");
  for (const auto& obj : objective_names())
    for (const Layer& l : alex.layers) {
      Arch small, tall, wide;
      small.rows = 8, small.cols = 8;
      tall.rows = 16, tall.cols = 8;
      wide.rows = 8, wide.cols = 16;
      for (const auto& df : dataflow_names()) {
        INFO(obj, " ", l.name, " ", df);
        const Objective o = objective_from_name(obj);
        const auto score = [&](const Arch& a) {
          const Evaluation e = map_layer(l, a, dataflow_from_name(df), o).eval;
          return o == Objective::Latency ? e.latency_ns : o == Objective::Energy ? e.energy_pj : e.latency_ns * e.energy_pj;
        };
        const double s = score(small);
        CHECK(score(tall) <= s * (1 + 1e-9));
        CHECK(score(wide) <= s * (1 + 1e-9));
      }
    }
}

TEST_CASE("the mapper finds a mapping whenever one exists") {
  // AlexNet conv1 on a 32 x 64 output-stationary array with a 16 kB buffer:
  // small tiles fit.
  Arch a;
  a.rows = 32, a.cols = 64, a.glb_words = 8192;
  const WorkloadResult r = run_workload(resolve_workload("alexnet"), a, Dataflow::OutputStationary);
  CHECK(r.valid);
  // The smallest mapping needs 3 RF words (one of each tensor) and 6 GLB
  // words (one of each, double-buffered): it maps with exactly that...
  const Layer l = conv(16, 8, 14, 3, 2);
  Arch tiny;
  tiny.rf_words = 3, tiny.glb_words = 6;
  for (const auto& df : dataflow_names()) CHECK(map_layer(l, tiny, dataflow_from_name(df)).eval.valid);
  tiny.array = ArrayKind::Systolic;
  CHECK(map_layer(l, tiny, Dataflow::OutputStationary).eval.valid);
  // ... and with less nothing maps, and the reason says why.
  tiny.array = ArrayKind::Spatial;
  tiny.rf_words = 2;
  CHECK(map_layer(l, tiny, Dataflow::WeightStationary).eval.reason.find("RF tile needs 3 words") != std::string::npos);
  // Every shipped workload maps on both families with every dataflow they run.
  for (ArrayKind kind : {ArrayKind::Spatial, ArrayKind::Systolic}) {
    Arch d;
    d.array = kind;
    for (const auto& w : builtin_workloads())
      for (const auto& df : dataflow_names()) {
        if (kind == ArrayKind::Systolic && df == "rs") continue;
        INFO(w, " ", df, " ", array_kind_name(kind));
        const WorkloadResult wr = run_workload(resolve_workload(w), d, dataflow_from_name(df));
        CHECK(wr.valid);
        CHECK(wr.utilization > 0);
        CHECK(wr.utilization <= 1.0 + 1e-9);
      }
  }
}

// Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): a 64-bit
// access of an 8 KB SRAM 10 pJ, 32 KB 20 pJ, 1 MB 100 pJ.
TEST_CASE("SRAM access energy grows with the square root of the capacity") {
  const EnergyTable& t = energy_tables().front();
  CHECK(sram_energy(t, 8192, 64) == doctest::Approx(10));
  CHECK(sram_energy(t, 32768, 64) == doctest::Approx(20));
  CHECK(sram_energy(t, 1048576, 64) == doctest::Approx(100).epsilon(0.15));
  CHECK(sram_energy(t, 8192, 16) == doctest::Approx(2.5));  // a 16-bit word: a quarter of the width
  // A bigger GLB costs more per access, so the same mapping costs more energy.
  const Layer l = conv(16, 8, 14, 3);
  Arch small = unconstrained(ArrayKind::Spatial, 12, 14), big = small;
  small.glb_words = 1 << 16;
  big.glb_words = 1 << 18;
  const Mapping m = all_in(l, {1, 1, 1, 1, 1, 1, 1});
  CHECK(evaluate(l, big, m).energy_breakdown[3] == doctest::Approx(2 * evaluate(l, small, m).energy_breakdown[3]));
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
  tpu.array = ArrayKind::Systolic;
  tpu.rows = tpu.cols = 256;
  tpu.word_bits = 8;
  tpu.glb_words = 1;
  tpu.energy.nm = 28;
  const double published_mxu_mm2 = 0.24 * 331;
  CHECK(area(tpu).mac_mm2 == doctest::Approx(published_mxu_mm2).epsilon(0.10));
  CHECK(area(tpu).rf_mm2 == 0);  // systolic PEs hold operands in registers

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
