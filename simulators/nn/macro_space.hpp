#pragma once
// A MobileNet-style macro search space after Once-for-All (Cai et al., ICLR
// 2020): four stages of inverted-residual (MBConv) blocks; per stage the
// depth (2, 3, 4 blocks), the width (a multiplier of its base channels
// 0.75, 1, 1.25), the depthwise kernel (3, 5, 7) and the expansion ratio
// (3, 4, 6). 81^4 = 43,046,721 networks. Sized for 28 x 28 images: a 3x3
// stem to 16 channels, stages of base width 16, 24, 40, 80 with strides 1,
// 2, 2, 2, global pooling and a linear classifier. (Once-for-All's
// MobileNetV3 also has squeeze-excite and h-swish; these blocks use ReLU6
// only.)
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "simulators/accel/model.hpp"

namespace dsegym::nn {

constexpr int kStages = 4;
const std::array<int, 3>& depth_choices();       // 2, 3, 4
const std::array<double, 3>& width_choices();    // 0.75, 1.0, 1.25
const std::array<int, 3>& kernel_choices();      // 3, 5, 7
const std::array<int, 3>& expand_choices();      // 3, 4, 6
constexpr std::array<int, kStages> kBaseChannels = {16, 24, 40, 80};
constexpr std::array<int, kStages> kStrides = {1, 2, 2, 2};
constexpr int kStemChannels = 16;

struct Stage {
  int depth = 2;
  double width = 1.0;
  int kernel = 3, expand = 3;
};

// Output channels of stage s: base x width rounded to a multiple of 8 (as
// MobileNets round), at least 8.
int stage_channels(int s, double width);

struct MacroArch {
  std::array<Stage, kStages> stages;
  // "d2-w1-k3-e3|d3-w0.75-k5-e4|..." (stage by stage); parse() checks every value.
  std::string str() const;
  static MacroArch parse(const std::string& s);
};

struct MacroNetConfig {
  int image = 28, in_channels = 1, classes = 10;
};

std::int64_t parameter_count(const MacroArch& a, const MacroNetConfig& net);
std::int64_t mac_count(const MacroArch& a, const MacroNetConfig& net);
std::vector<accel::Layer> accel_layers(const MacroArch& a, const MacroNetConfig& net);

}  // namespace dsegym::nn
