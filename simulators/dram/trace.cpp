#include "simulators/dram/trace.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "envs/core/error.hpp"
#include "envs/core/rng.hpp"

namespace dsegym::dram {

using nlohmann::json;

std::vector<Request> load_stl(const std::string& path, double clk_mhz) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InvalidArgument("trace " + path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_stl(ss.str(), clk_mhz, path);
}

std::vector<Request> parse_stl(const std::string& text, double clk_mhz, const std::string& where) {
  if (!(clk_mhz >= 1e-3 && clk_mhz <= 1e6))
    throw InvalidArgument("trace " + where + ": the trace clock must be in 0.001..1000000 MHz, got " + std::to_string(clk_mhz));
  std::vector<Request> out;
  out.reserve(text.size() / 20);
  const double ns_per_cycle = 1000.0 / clk_mhz;
  std::size_t pos = 0, line_no = 0;
  std::uint64_t last_cycle = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    std::size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) continue;
    // Messages name the line, never quote it (the file may not be a trace at all).
    auto fail = [&](const std::string& why) -> void {
      throw InvalidArgument(where + ":" + std::to_string(line_no) + ": " + why + "; expected '<cycle>:<tab><read|write><tab><hex address>'");
    };
    std::uint64_t cycle = 0;
    const std::size_t start = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
      if (cycle > (kMaxTraceCycle - static_cast<std::uint64_t>(line[i] - '0')) / 10)
        fail("cycle number above " + std::to_string(kMaxTraceCycle) + " (2^53)");
      cycle = cycle * 10 + static_cast<std::uint64_t>(line[i] - '0');
      ++i;
    }
    if (i == start) fail("missing cycle number");
    if (i >= line.size() || line[i] != ':') fail("missing ':' after the cycle");
    ++i;
    auto skip_ws = [&] {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    };
    skip_ws();
    const std::size_t cmd_start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    const std::string_view cmd = line.substr(cmd_start, i - cmd_start);
    Request r;
    if (cmd == "read")
      r.write = false;
    else if (cmd == "write")
      r.write = true;
    else
      fail("the command is neither read nor write");
    skip_ws();
    if (i + 2 > line.size() || line[i] != '0' || (line[i + 1] != 'x' && line[i + 1] != 'X')) fail("missing hex address (0x...)");
    i += 2;
    const std::size_t addr_start = i;
    std::uint64_t addr = 0;
    while (i < line.size()) {
      const char c = line[i];
      int d;
      if (c >= '0' && c <= '9')
        d = c - '0';
      else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
      else
        break;
      if (i - addr_start >= 16) fail("address wider than 64 bits");
      addr = addr * 16 + static_cast<std::uint64_t>(d);
      ++i;
    }
    if (i == addr_start) fail("empty hex address");
    if (i < line.size() && line[i] != ' ' && line[i] != '\t') fail("bad character in the address");
    if (!out.empty() && cycle < last_cycle)
      fail("cycle " + std::to_string(cycle) + " is earlier than the previous request's " + std::to_string(last_cycle));
    last_cycle = cycle;
    r.time_ns = static_cast<double>(cycle) * ns_per_cycle;
    if (r.time_ns > kMaxTraceTimeNs) fail("the request comes " + std::to_string(r.time_ns) + " ns in, more than the " + std::to_string(kMaxTraceTimeNs) + " ns a trace may span");
    r.address = addr;
    out.push_back(r);
  }
  if (out.empty()) throw InvalidArgument("trace " + where + ": no requests");
  return out;
}

std::vector<Request> generate_trace(const json& spec, std::uint64_t align, std::uint64_t capacity, const std::string& where) {
  if (!spec.is_object()) throw InvalidArgument(where + ": a generator must be a JSON object");
  static const std::vector<std::string> keys = {"type", "requests", "interval", "write_fraction", "stride", "start", "seed", "clk_mhz"};
  for (auto it = spec.begin(); it != spec.end(); ++it)
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
      throw InvalidArgument(where + "." + it.key() + ": unknown field; valid: type, requests, interval, write_fraction, stride, start, seed, clk_mhz");
  auto num = [&](const char* k, double def, double lo, double hi) {
    if (!spec.contains(k)) return def;
    if (!spec.at(k).is_number()) throw InvalidArgument(where + "." + k + ": expected a number, got " + spec.at(k).dump());
    const double v = spec.at(k).get<double>();
    if (!(v >= lo && v <= hi))
      throw InvalidArgument(where + "." + k + ": " + spec.at(k).dump() + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  };
  const std::string type = spec.value("type", "");
  if (type != "stream" && type != "random" && type != "strided")
    throw InvalidArgument(where + ".type: '" + type + "' is not valid; choices: stream, random, strided");
  const auto n = static_cast<std::size_t>(num("requests", 10000, 1, 1e8));
  const double interval = num("interval", 1.0, 0.0, 1e9);
  const double write_fraction = num("write_fraction", 0.0, 0.0, 1.0);
  const double clk = num("clk_mhz", 800.0, 1e-3, 1e6);
  const auto start = static_cast<std::uint64_t>(num("start", 0, 0, static_cast<double>(capacity - 1)));
  std::uint64_t stride = align;
  if (type == "strided") {
    if (!spec.contains("stride")) throw InvalidArgument(where + ".stride: required for a strided generator");
    stride = static_cast<std::uint64_t>(num("stride", 0, 1, static_cast<double>(capacity)));
  } else if (spec.contains("stride")) {
    throw InvalidArgument(where + ".stride: only a strided generator takes a stride");
  }
  Rng rng(static_cast<std::uint64_t>(num("seed", 1, 0, 9.0e15)));
  std::vector<Request> out(n);
  const double ns_per_cycle = 1000.0 / clk;
  const std::uint64_t slots = capacity / align;
  for (std::size_t i = 0; i < n; ++i) {
    Request& r = out[i];
    // Whole trace-clock cycles, as in a .stl file.
    r.time_ns = std::floor(static_cast<double>(i) * interval) * ns_per_cycle;
    r.write = write_fraction > 0 && rng.uniform() < write_fraction;
    std::uint64_t a;
    if (type == "random")
      a = rng.below(slots) * align;
    else
      a = (start + static_cast<std::uint64_t>(i) * stride) % capacity;
    r.address = a / align * align;
  }
  return out;
}

}  // namespace dsegym::dram
