#include "simulators/dram/trace.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/rng.hpp"

namespace dsegym::dram {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxTraceRequests = 100'000'000;
constexpr std::uint64_t kMaxRequestBytes = 4096;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> t;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t s = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > s) t.push_back(line.substr(s, i - s));
  }
  return t;
}

// Walks the request lines of a trace: comments ('#' to the end of the line)
// and blank lines are skipped.
template <class F>
void for_each_line(const std::string& text, F&& f) {
  std::size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    auto t = tokens_of(line);
    if (t.empty()) continue;
    if (!f(line_no, t)) return;
  }
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Decimal number; nullopt-like failure via the bool.
bool parse_dec(std::string_view s, std::uint64_t limit, std::uint64_t& out) {
  if (!all_digits(s)) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// Hexadecimal number with an optional 0x prefix, at most 64 bits.
bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    v = v * 16 + static_cast<std::uint64_t>(d);
  }
  out = v;
  return true;
}

// Any number of hex digits with an optional 0x prefix (write data).
bool all_hex(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

bool is_hex_literal(std::string_view s) {
  std::uint64_t v;
  return s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && parse_hex(s, v);
}

// DRAMsim3's operation names (src/common.cc, operator>>): these are writes,
// the DRAMSim2 read types are reads.
bool dramsim3_op(std::string_view op, bool& write) {
  static const std::vector<std::string_view> writes = {"WRITE", "write", "P_MEM_WR", "BOFF"};
  static const std::vector<std::string_view> reads = {"READ", "read", "P_MEM_RD", "P_FETCH", "P_LOCK_RD", "P_LOCK_WR"};
  if (std::find(writes.begin(), writes.end(), op) != writes.end()) return write = true, true;
  if (std::find(reads.begin(), reads.end(), op) != reads.end()) return write = false, true;
  return false;
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

const char* format_syntax(TraceFormat f) {
  switch (f) {
    case TraceFormat::Stl: return "'<cycle>: [(<bytes>)] read|write <hex address>'";
    case TraceFormat::Dramsim3: return "'<hex address> READ|WRITE <cycle>'";
    case TraceFormat::Ramulator2: return "'LD|ST <address>'";
    case TraceFormat::Auto: break;
  }
  return "";
}

}  // namespace

const std::vector<std::string>& trace_format_names() {
  static const std::vector<std::string> names = {"auto", "stl", "dramsim3", "ramulator2"};
  return names;
}

TraceFormat parse_trace_format(const std::string& name, const std::string& where) {
  const auto& names = trace_format_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    if (name == names[i]) return static_cast<TraceFormat>(i);
  throw InvalidArgument(where + ": trace format '" + excerpt(name, 40) + "' is not valid; choices: auto, stl, dramsim3, ramulator2");
}

std::int64_t period_ps(double clk_mhz) { return static_cast<std::int64_t>(std::floor(1e6 / clk_mhz + 0.5)); }

TraceFormat detect_trace_format(const std::string& text, const std::string& where) {
  if (ends_with(where, ".stl")) return TraceFormat::Stl;
  if (ends_with(where, ".rstl"))
    throw InvalidArgument("trace " + where + ": relative (.rstl) traces are not supported; convert the cycles to absolute ones (.stl)");
  TraceFormat found = TraceFormat::Auto;
  std::size_t first_line = 0;
  for_each_line(text, [&](std::size_t line_no, const std::vector<std::string_view>& t) {
    first_line = line_no;
    bool w;
    if (t[0] == "LD" || t[0] == "ST")
      found = TraceFormat::Ramulator2;
    else if (t[0].back() == ':' || (t.size() >= 2 && t[1].front() == '('))
      found = TraceFormat::Stl;
    else if (t.size() >= 3 && all_digits(t[0]) && (t[1] == "read" || t[1] == "write") && (is_hex_literal(t[2]) || t[2].front() == '('))
      found = TraceFormat::Stl;
    else if (t.size() == 3 && dramsim3_op(t[1], w) && all_digits(t[2]))
      found = TraceFormat::Dramsim3;
    return false;
  });
  if (found == TraceFormat::Auto) {
    if (first_line == 0) throw InvalidArgument("trace " + where + ": no requests");
    throw InvalidArgument("trace " + where + ":" + std::to_string(first_line) +
                          ": cannot tell the trace format from this line; expected stl " + format_syntax(TraceFormat::Stl) + ", dramsim3 " +
                          format_syntax(TraceFormat::Dramsim3) + " or ramulator2 " + format_syntax(TraceFormat::Ramulator2) +
                          ", or name the format");
  }
  return found;
}

std::vector<Request> load_trace(const std::string& path, const TraceOptions& options) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InvalidArgument("trace " + path + ": cannot open file");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw InvalidArgument("trace " + path + ": cannot read file");
  return parse_trace(ss.str(), options, path);
}

std::vector<Request> parse_trace(const std::string& text, const TraceOptions& options, const std::string& where) {
  if (!(options.clk_mhz >= 1e-3 && options.clk_mhz <= 1e6))
    throw InvalidArgument("trace " + where + ": the trace clock must be in 0.001..1000000 MHz, got " + std::to_string(options.clk_mhz));
  const TraceFormat format = options.format == TraceFormat::Auto ? detect_trace_format(text, where) : options.format;
  const double ns_per_cycle = static_cast<double>(period_ps(options.clk_mhz)) / 1000.0;
  std::vector<Request> out;
  out.reserve(text.size() / 20);
  std::uint64_t max_cycle = 0;  // cycles that go backwards play as the running maximum (DRAMSys' StlPlayer)
  for_each_line(text, [&](std::size_t line_no, const std::vector<std::string_view>& t) {
    // Messages name the line, never quote it (the file may not be a trace at all).
    auto fail = [&](const std::string& why) {
      throw InvalidArgument(where + ":" + std::to_string(line_no) + ": " + why + "; expected " + format_syntax(format));
    };
    std::uint64_t cycle = 0, address = 0, bytes = 0;
    bool write = false;
    switch (format) {
      case TraceFormat::Stl: {
        std::size_t k = 0;
        std::string_view c = t[k++];
        if (c.back() == ':') c.remove_suffix(1);
        if (!all_digits(c)) fail("the line does not start with a cycle number");
        if (!parse_dec(c, kMaxTraceCycle, cycle)) fail("cycle number above " + std::to_string(kMaxTraceCycle) + " (2^53)");
        auto length = [&] {
          if (k >= t.size() || t[k].front() != '(') return;
          std::string_view l = t[k++];
          if (l.size() < 3 || l.back() != ')' || !parse_dec(l.substr(1, l.size() - 2), kMaxRequestBytes, bytes) || bytes == 0)
            fail("the data length must be '(<bytes>)' with 1.." + std::to_string(kMaxRequestBytes) + " bytes");
        };
        length();
        if (k >= t.size() || (t[k] != "read" && t[k] != "write")) fail("the command is neither read nor write");
        write = t[k++] == "write";
        if (bytes == 0) length();
        if (k >= t.size()) fail("missing hex address");
        if (!parse_hex(t[k++], address)) fail("the address is not a hex number of at most 64 bits");
        if (k < t.size() && !all_hex(t[k++])) fail("the data after the address is not hex");
        if (k < t.size()) fail("unexpected text after the data");
        break;
      }
      case TraceFormat::Dramsim3:
        if (t.size() != 3) fail("expected 3 fields, got " + std::to_string(t.size()));
        if (!parse_hex(t[0], address)) fail("the address is not a hex number of at most 64 bits");
        if (!dramsim3_op(t[1], write)) fail("unknown operation; valid: READ, WRITE (and DRAMsim3's read, write, P_MEM_RD, P_MEM_WR, P_FETCH, P_LOCK_RD, P_LOCK_WR, BOFF)");
        if (!all_digits(t[2])) fail("the cycle is not a decimal number");
        if (!parse_dec(t[2], kMaxTraceCycle, cycle)) fail("cycle number above " + std::to_string(kMaxTraceCycle) + " (2^53)");
        break;
      case TraceFormat::Ramulator2:
        if (t.size() != 2) fail("expected 2 fields, got " + std::to_string(t.size()));
        if (t[0] != "LD" && t[0] != "ST") fail("the operation is neither LD nor ST");
        write = t[0] == "ST";
        if (t[1].size() > 2 && t[1][0] == '0' && (t[1][1] == 'x' || t[1][1] == 'X') ? !parse_hex(t[1], address)
                                                                                      : !parse_dec(t[1], ~std::uint64_t{0}, address))
          fail("the address is neither a decimal nor a 0x hex number of at most 64 bits");
        break;
      case TraceFormat::Auto: break;
    }
    max_cycle = std::max(max_cycle, cycle);
    Request r;
    r.time_ns = static_cast<double>(max_cycle) * ns_per_cycle;
    if (r.time_ns > kMaxTraceTimeNs)
      fail("the request comes " + std::to_string(r.time_ns) + " ns in, more than the " + std::to_string(kMaxTraceTimeNs) + " ns a trace may span");
    r.write = write;
    std::uint64_t first = address, count = 1;
    if (bytes > 0 && options.burst_bytes > 0) {
      const std::uint64_t b = options.burst_bytes;
      first = address / b * b;
      const std::uint64_t last = address > ~std::uint64_t{0} - (bytes - 1) ? ~std::uint64_t{0} : address + bytes - 1;
      count = last / b - address / b + 1;
    }
    if (out.size() + count > kMaxTraceRequests) fail("more than " + std::to_string(kMaxTraceRequests) + " requests in the trace");
    for (std::uint64_t i = 0; i < count; ++i) {
      r.address = first + i * options.burst_bytes;
      out.push_back(r);
    }
    return true;
  });
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
