#include "simulators/nn/macro_space.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "base/error.hpp"

namespace dsegym::nn {

const std::array<int, 3>& depth_choices() {
  static const std::array<int, 3> v = {2, 3, 4};
  return v;
}
const std::array<double, 3>& width_choices() {
  static const std::array<double, 3> v = {0.75, 1.0, 1.25};
  return v;
}
const std::array<int, 3>& kernel_choices() {
  static const std::array<int, 3> v = {3, 5, 7};
  return v;
}
const std::array<int, 3>& expand_choices() {
  static const std::array<int, 3> v = {3, 4, 6};
  return v;
}

int stage_channels(int s, double width) {
  return std::max(8, 8 * static_cast<int>(std::lround(kBaseChannels[static_cast<std::size_t>(s)] * width / 8.0)));
}

namespace {

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

accel::Layer layer(const std::string& name, std::int64_t k, std::int64_t c, std::int64_t out_hw, std::int64_t rs, int stride, bool dw) {
  accel::Layer l;
  l.name = name;
  l.size = {1, k, dw ? 1 : c, out_hw, out_hw, rs, rs};
  l.stride = stride;
  l.depthwise = dw;
  return l;
}

// Every convolution of the network and the classifier.
std::vector<accel::Layer> layers(const MacroArch& a, const MacroNetConfig& net) {
  std::vector<accel::Layer> out;
  std::int64_t hw = net.image, c = kStemChannels;
  out.push_back(layer("stem", c, net.in_channels, hw, 3, 1, false));
  for (int s = 0; s < kStages; ++s) {
    const Stage& st = a.stages[static_cast<std::size_t>(s)];
    const std::int64_t cout = stage_channels(s, st.width);
    for (int b = 0; b < st.depth; ++b) {
      const int stride = b == 0 ? kStrides[static_cast<std::size_t>(s)] : 1;
      const std::int64_t mid = c * st.expand, out_hw = (hw + stride - 1) / stride;
      const std::string p = "s" + std::to_string(s) + ".b" + std::to_string(b);
      out.push_back(layer(p + ".expand", mid, c, hw, 1, 1, false));
      out.push_back(layer(p + ".dw", mid, 1, out_hw, st.kernel, stride, true));
      out.push_back(layer(p + ".project", cout, mid, out_hw, 1, 1, false));
      c = cout;
      hw = out_hw;
    }
  }
  accel::Layer fc;
  fc.name = "classifier";
  fc.size = {1, net.classes, c, 1, 1, 1, 1};
  out.push_back(fc);
  return out;
}

}  // namespace

std::string MacroArch::str() const {
  std::string s;
  for (int i = 0; i < kStages; ++i) {
    const Stage& st = stages[static_cast<std::size_t>(i)];
    s += (i ? "|" : "") + std::string("d") + std::to_string(st.depth) + "-w" + num(st.width) + "-k" + std::to_string(st.kernel) + "-e" +
         std::to_string(st.expand);
  }
  return s;
}

MacroArch MacroArch::parse(const std::string& text) {
  const std::string form = "expected 4 stages like d3-w1-k5-e4 joined by '|' (d 2/3/4, w 0.75/1/1.25, k 3/5/7, e 3/4/6)";
  MacroArch a;
  std::size_t start = 0;
  for (int i = 0; i < kStages; ++i) {
    const std::size_t bar = text.find('|', start);
    if ((bar == std::string::npos) != (i == kStages - 1)) throw InvalidArgument("architecture '" + text + "': " + form);
    const std::string part = text.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    start = bar + 1;
    Stage st;
    char d, w, k, e;
    double width = 0;
    int depth = 0, kernel = 0, expand = 0, used = 0;
    if (std::sscanf(part.c_str(), "%c%d-%c%lf-%c%d-%c%d%n", &d, &depth, &w, &width, &k, &kernel, &e, &expand, &used) != 8 || d != 'd' || w != 'w' ||
        k != 'k' || e != 'e' || used != static_cast<int>(part.size()))
      throw InvalidArgument("architecture '" + text + "': stage '" + part + "': " + form);
    auto in = [](const auto& choices, auto v) { return std::find(choices.begin(), choices.end(), v) != choices.end(); };
    if (!in(depth_choices(), depth) || !in(width_choices(), width) || !in(kernel_choices(), kernel) || !in(expand_choices(), expand))
      throw InvalidArgument("architecture '" + text + "': stage '" + part + "': " + form);
    a.stages[static_cast<std::size_t>(i)] = {depth, width, kernel, expand};
  }
  return a;
}

std::int64_t parameter_count(const MacroArch& a, const MacroNetConfig& net) {
  std::int64_t p = 0;
  for (const auto& l : layers(a, net)) {
    const std::int64_t k = l.size[accel::K], c = l.size[accel::C], rs = l.size[accel::R] * l.size[accel::S];
    if (l.name == "classifier") p += k * c + k;
    else p += k * c * rs + 2 * k;  // bias-free convolution + batch norm (depthwise: C = 1)
  }
  return p;
}

std::int64_t mac_count(const MacroArch& a, const MacroNetConfig& net) {
  std::int64_t m = 0;
  for (const auto& l : layers(a, net)) m += l.macs();
  return m;
}

std::vector<accel::Layer> accel_layers(const MacroArch& a, const MacroNetConfig& net) { return layers(a, net); }

}  // namespace dsegym::nn
