// The NAS-Bench-201 cell space and the Fashion-MNIST loader.
#include <doctest/doctest.h>

#include <set>

#include "base/error.hpp"
#include "simulators/nn/cell_space.hpp"
#include "simulators/nn/fashion_mnist.hpp"

using namespace dsegym;
using namespace dsegym::nn;

// NAS-Bench-201 (Dong & Yang, ICLR 2020) has 15,625 cells; NATS-Bench
// (Dong et al., TPAMI 2021) counts 6,466 unique ones after isomorphism.
TEST_CASE("the cell space has 15,625 members and 6,466 non-isomorphic ones") {
  std::set<std::string> strings, canon;
  for (std::int64_t i = 0; i < kCells; ++i) {
    const Cell c = Cell::from_index(i);
    CHECK_EQ(c.index(), i);
    strings.insert(c.str());
    canon.insert(c.canonical());
  }
  CHECK(strings.size() == 15625);
  CHECK(canon.size() == 6466);
  // Round trip of the text form, and two cells that differ only in the
  // order of summed terms are isomorphic.
  const Cell a = Cell::parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  CHECK(Cell::parse(a.str()) == a);
  const Cell b = Cell::parse("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
  CHECK(a.canonical() != b.canonical());
  const Cell c = Cell::parse("|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  const Cell d = Cell::parse("|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  CHECK(c.canonical() != d.canonical());
  const Cell e = Cell::parse("|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  const Cell f = Cell::parse("|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|");
  CHECK(e.canonical() == f.canonical());  // node 1 feeds nothing
  CHECK_THROWS_WITH_AS(Cell::parse("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"), doctest::Contains("'conv' is not valid"), InvalidArgument);
  CHECK_THROWS_WITH_AS(Cell::parse("|none~0|+|none~0|+|none~0|none~1|none~2|"), doctest::Contains("node 2 needs 2 inputs"), InvalidArgument);
}

TEST_CASE("live edges, parameter and MAC counts of a network of cells") {
  NetConfig net;
  net.channels = 16;
  net.cells_per_stage = 5;
  net.image = 32;
  net.in_channels = 3;
  // NAS-Bench-201's network (C = 16, N = 5, CIFAR-10) with the all-3x3 cell:
  // by hand, per stage s with c = 16 * 2^s channels, 5 cells x 6 convs x
  // (9c^2 + 2c); stem 3*16*9 + 32; reductions (9*c*2c + 2*2c) + (9*2c*2c + 2*2c) + c*2c;
  // head BN 2*64; classifier 64*10 + 10.
  const Cell all3 = Cell::parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
  std::int64_t expect = 3 * 16 * 9 + 32 + 2 * 64 + 64 * 10 + 10;
  for (std::int64_t c : {16, 32, 64}) expect += 5 * 6 * (9 * c * c + 2 * c);
  for (std::int64_t c : {16, 32}) expect += (9 * c * 2 * c + 4 * c) + (9 * 4 * c * c + 4 * c) + 2 * c * c;
  CHECK(parameter_count(all3, net) == expect);
  // NAS-Bench-201 reports 1.53 M parameters for this cell on CIFAR-10 (its
  // largest); ours counts the same modules.
  CHECK(static_cast<double>(expect) == doctest::Approx(1.53e6).epsilon(0.01));

  const Cell dead = Cell::parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  const auto live = dead.live();
  CHECK_FALSE(live[0]);  // 0->1 leads nowhere: 1->2 and 1->3 are none
  CHECK(live[3]);
  // With only a skip edge live, the cell computes nothing: MACs are the stem,
  // reductions and classifier alone, the same as the all-none-but-skip cell.
  const Cell skip = Cell::parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  CHECK(mac_count(dead, net) == mac_count(skip, net));
  CHECK(parameter_count(dead, net) > parameter_count(skip, net));  // the dead conv still has weights
  CHECK(mac_count(all3, net) > mac_count(skip, net));
}

TEST_CASE("Fashion-MNIST loads from the Debian package") {
  const ImageSet train = load_fashion_mnist("train"), test = load_fashion_mnist("test");
  CHECK(train.count == 60000);
  CHECK(test.count == 10000);
  CHECK(train.rows == 28);
  CHECK(train.cols == 28);
  // Ten balanced classes: 6,000 training and 1,000 test images each (Xiao et al., 2017).
  std::array<int, 10> counts{};
  for (const auto l : test.labels) ++counts[l];
  for (const int n : counts) CHECK(n == 1000);
  CHECK_THROWS_WITH_AS(load_fashion_mnist("val"), doctest::Contains("choices: train, test"), InvalidArgument);
}
