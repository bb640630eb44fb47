#include "simulators/nn/cell_space.hpp"

#include <algorithm>

#include "base/error.hpp"

namespace dsegym::nn {

namespace {
constexpr int kFrom[kEdges] = {0, 0, 1, 0, 1, 2};
constexpr int kTo[kEdges] = {1, 2, 2, 3, 3, 3};

accel::Layer conv(const std::string& name, std::int64_t k, std::int64_t c, std::int64_t out_hw, std::int64_t rs, int stride) {
  accel::Layer l;
  l.name = name;
  l.size = {1, k, c, out_hw, out_hw, rs, rs};
  l.stride = stride;
  return l;
}

// Every layer of the network in order; `live_only` drops dead cell ops.
std::vector<accel::Layer> network_layers(const Cell& cell, const NetConfig& net, bool live_only) {
  std::vector<accel::Layer> out;
  std::int64_t c = net.channels, hw = net.image;
  out.push_back(conv("stem", c, net.in_channels, hw, 3, 1));
  const auto live = cell.live();
  for (int stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      // ResNet basic block with stride 2; shortcut: 2x2 average pool, 1x1 conv.
      const std::string p = "reduce" + std::to_string(stage);
      hw = (hw + 1) / 2;
      out.push_back(conv(p + ".a", 2 * c, c, hw, 3, 2));
      out.push_back(conv(p + ".b", 2 * c, 2 * c, hw, 3, 1));
      out.push_back(conv(p + ".shortcut", 2 * c, c, hw, 1, 1));
      c *= 2;
    }
    for (int k = 0; k < net.cells_per_stage; ++k)
      for (int e = 0; e < kEdges; ++e) {
        if (live_only && !live[static_cast<std::size_t>(e)]) continue;
        const std::string name = "s" + std::to_string(stage) + ".c" + std::to_string(k) + ".e" + std::to_string(kFrom[e]) + std::to_string(kTo[e]);
        const Op op = cell.ops[static_cast<std::size_t>(e)];
        if (op == Op::Conv1x1) out.push_back(conv(name, c, c, hw, 1, 1));
        if (op == Op::Conv3x3) out.push_back(conv(name, c, c, hw, 3, 1));
      }
  }
  accel::Layer fc;  // a GEMM: P = M = 1, K = classes, C = features
  fc.name = "classifier";
  fc.size = {1, net.classes, c, 1, 1, 1, 1};
  out.push_back(fc);
  return out;
}
}  // namespace

const std::array<std::string, kOps>& op_names() {
  static const std::array<std::string, kOps> names = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};
  return names;
}

Op op_from_name(const std::string& name) {
  const auto& n = op_names();
  const auto it = std::find(n.begin(), n.end(), name);
  if (it == n.end()) throw InvalidArgument("cell operation '" + name + "' is not valid; choices: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3");
  return static_cast<Op>(it - n.begin());
}

int edge_from(int e) { return kFrom[e]; }
int edge_to(int e) { return kTo[e]; }

Cell Cell::from_index(std::int64_t index) {
  if (index < 0 || index >= kCells) throw InvalidArgument("cell index " + std::to_string(index) + " is not in [0, 15624]");
  Cell c;
  for (int e = kEdges - 1; e >= 0; --e) {
    c.ops[static_cast<std::size_t>(e)] = static_cast<Op>(index % kOps);
    index /= kOps;
  }
  return c;
}

std::int64_t Cell::index() const {
  std::int64_t i = 0;
  for (const Op op : ops) i = i * kOps + static_cast<int>(op);
  return i;
}

std::string Cell::str() const {
  std::string s;
  for (int node = 1; node <= 3; ++node) {
    if (node > 1) s += "+";
    s += "|";
    for (int e = 0; e < kEdges; ++e)
      if (kTo[e] == node) s += op_names()[static_cast<std::size_t>(ops[static_cast<std::size_t>(e)])] + "~" + std::to_string(kFrom[e]) + "|";
  }
  return s;
}

Cell Cell::parse(const std::string& s) {
  const std::string expect = "expected NAS-Bench-201's form |op~0|+|op~0|op~1|+|op~0|op~1|op~2|";
  Cell c;
  std::vector<std::string> nodes;
  std::size_t start = 0;
  for (std::size_t plus; (plus = s.find('+', start)) != std::string::npos; start = plus + 1) nodes.push_back(s.substr(start, plus - start));
  nodes.push_back(s.substr(start));
  if (nodes.size() != 3) throw InvalidArgument("cell '" + s + "': " + expect);
  int e = 0;
  for (int node = 1; node <= 3; ++node) {
    const std::string& part = nodes[static_cast<std::size_t>(node - 1)];
    if (part.size() < 2 || part.front() != '|' || part.back() != '|') throw InvalidArgument("cell '" + s + "': " + expect);
    std::vector<std::string> terms;
    std::size_t at = 1;
    for (std::size_t bar; (bar = part.find('|', at)) != std::string::npos; at = bar + 1) terms.push_back(part.substr(at, bar - at));
    if (static_cast<int>(terms.size()) != node) throw InvalidArgument("cell '" + s + "': node " + std::to_string(node) + " needs " + std::to_string(node) + " inputs; " + expect);
    for (int j = 0; j < node; ++j, ++e) {
      const std::string& t = terms[static_cast<std::size_t>(j)];
      const auto tilde = t.find('~');
      if (tilde == std::string::npos || t.substr(tilde + 1) != std::to_string(j))
        throw InvalidArgument("cell '" + s + "': term '" + t + "' should be op~" + std::to_string(j));
      c.ops[static_cast<std::size_t>(e)] = op_from_name(t.substr(0, tilde));
    }
  }
  return c;
}

std::string Cell::canonical() const {
  // Each node's value as the sorted sum of its incoming terms: a zero edge or
  // a zero input gives "#", a skip passes its input's expression through,
  // any other op wraps it: "(x)@op".
  std::array<std::string, 4> node{"0", "", "", ""};
  for (int n = 1; n <= 3; ++n) {
    std::vector<std::string> terms;
    for (int e = 0; e < kEdges; ++e) {
      if (kTo[e] != n) continue;
      const Op op = ops[static_cast<std::size_t>(e)];
      const std::string& x = node[static_cast<std::size_t>(kFrom[e])];
      if (op == Op::None || x == "#") terms.push_back("#");
      else if (op == Op::Skip) terms.push_back(x);
      else terms.push_back("(" + x + ")@" + op_names()[static_cast<std::size_t>(op)]);
    }
    std::sort(terms.begin(), terms.end());
    std::string v;
    for (const auto& t : terms) v += (v.empty() ? "" : "+") + t;
    node[static_cast<std::size_t>(n)] = v;
  }
  return node[3];
}

std::array<bool, kEdges> Cell::live() const {
  // A node is reachable when a non-zero edge from a reachable node enters
  // it; it is useful when a non-zero edge leaves it to a useful node.
  std::array<bool, 4> reach{true, false, false, false}, useful{false, false, false, true};
  for (int e = 0; e < kEdges; ++e)
    if (ops[static_cast<std::size_t>(e)] != Op::None && reach[static_cast<std::size_t>(kFrom[e])]) reach[static_cast<std::size_t>(kTo[e])] = true;
  for (int e = kEdges - 1; e >= 0; --e)
    if (ops[static_cast<std::size_t>(e)] != Op::None && useful[static_cast<std::size_t>(kTo[e])]) useful[static_cast<std::size_t>(kFrom[e])] = true;
  std::array<bool, kEdges> out{};
  for (int e = 0; e < kEdges; ++e)
    out[static_cast<std::size_t>(e)] =
        ops[static_cast<std::size_t>(e)] != Op::None && reach[static_cast<std::size_t>(kFrom[e])] && useful[static_cast<std::size_t>(kTo[e])];
  return out;
}

std::int64_t parameter_count(const Cell& cell, const NetConfig& net) {
  std::int64_t p = 0;
  for (const auto& l : network_layers(cell, net, false)) {
    const std::int64_t k = l.size[accel::K], c = l.size[accel::C];
    if (l.name == "classifier") p += k * c + k;
    else if (l.name.size() > 9 && l.name.substr(l.name.size() - 9) == ".shortcut") p += k * c;  // no batch norm
    else p += k * c * l.size[accel::R] * l.size[accel::S] + 2 * k;  // weights + batch-norm scale and shift
  }
  // The head's batch norm before pooling.
  return p + 2 * (static_cast<std::int64_t>(net.channels) * 4);
}

std::int64_t mac_count(const Cell& cell, const NetConfig& net) {
  std::int64_t m = 0;
  for (const auto& l : network_layers(cell, net, true)) m += l.macs();
  return m;
}

std::vector<accel::Layer> accel_layers(const Cell& cell, const NetConfig& net) { return network_layers(cell, net, true); }

}  // namespace dsegym::nn
