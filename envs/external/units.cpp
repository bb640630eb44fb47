#include "envs/external/units.hpp"

#include <cctype>
#include <cmath>
#include <map>
#include <utility>

#include "base/error.hpp"

namespace dsegym::units {

namespace {

// unit -> its quantity and its size in the quantity's base unit, as
// mult x 10^exp10 (so that decimal prefixes convert exactly: 77833750 ps
// is 77833.75 ns, not 77833.74999999999).
struct Unit {
  std::string quantity;
  double mult;
  int exp10;
};

const std::map<std::string, Unit>& table() {
  static const std::map<std::string, Unit> t = {
      {"ps", {"time", 1, -12}}, {"ns", {"time", 1, -9}}, {"us", {"time", 1, -6}}, {"µs", {"time", 1, -6}}, {"ms", {"time", 1, -3}},
      {"s", {"time", 1, 0}}, {"fJ", {"energy", 1, -15}}, {"pJ", {"energy", 1, -12}}, {"nJ", {"energy", 1, -9}}, {"uJ", {"energy", 1, -6}},
      {"µJ", {"energy", 1, -6}}, {"mJ", {"energy", 1, -3}}, {"J", {"energy", 1, 0}}, {"nW", {"power", 1, -9}}, {"uW", {"power", 1, -6}},
      {"µW", {"power", 1, -6}}, {"mW", {"power", 1, -3}}, {"W", {"power", 1, 0}}, {"Hz", {"frequency", 1, 0}}, {"kHz", {"frequency", 1, 3}},
      {"MHz", {"frequency", 1, 6}}, {"GHz", {"frequency", 1, 9}}, {"um^2", {"area", 1, -12}}, {"µm^2", {"area", 1, -12}},
      {"mm^2", {"area", 1, -6}}, {"B", {"data", 1, 0}}, {"KB", {"data", 1, 3}}, {"kB", {"data", 1, 3}}, {"MB", {"data", 1, 6}},
      {"GB", {"data", 1, 9}}, {"TB", {"data", 1, 12}}, {"KiB", {"data", 1024, 0}}, {"MiB", {"data", 1048576, 0}},
      {"GiB", {"data", 1073741824, 0}}, {"TiB", {"data", 1099511627776, 0}}, {"b", {"data", 0.125, 0}}, {"Kb", {"data", 0.125, 3}},
      {"kb", {"data", 0.125, 3}}, {"Mb", {"data", 0.125, 6}}, {"Gb", {"data", 0.125, 9}}, {"Tb", {"data", 0.125, 12}},
      {"B/s", {"rate", 1, 0}}, {"KB/s", {"rate", 1, 3}}, {"kB/s", {"rate", 1, 3}}, {"MB/s", {"rate", 1, 6}}, {"GB/s", {"rate", 1, 9}},
      {"TB/s", {"rate", 1, 12}}, {"KiB/s", {"rate", 1024, 0}}, {"MiB/s", {"rate", 1048576, 0}}, {"GiB/s", {"rate", 1073741824, 0}},
      {"b/s", {"rate", 0.125, 0}}, {"Kb/s", {"rate", 0.125, 3}}, {"kb/s", {"rate", 0.125, 3}}, {"Mb/s", {"rate", 0.125, 6}},
      {"Gb/s", {"rate", 0.125, 9}}, {"Tb/s", {"rate", 0.125, 12}}, {"bps", {"rate", 0.125, 0}}, {"Kbps", {"rate", 0.125, 3}},
      {"Mbps", {"rate", 0.125, 6}}, {"Gbps", {"rate", 0.125, 9}}, {"1", {"ratio", 1, 0}}, {"%", {"percent", 1, 0}},
  };
  return t;
}

std::string valid_units() {
  std::string v;
  for (const auto& [u, q] : table()) v += (v.empty() ? "" : ", ") + u;
  return v;
}

}  // namespace

bool known(const std::string& unit) { return table().count(unit) > 0; }

void check_label(const std::string& unit) {
  if (known(unit)) return;
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::string near;
  for (const auto& [u, q] : table())
    if (lower(u) == lower(unit)) near += (near.empty() ? "" : " or ") + ("'" + u + "'");
  if (!near.empty()) throw InvalidArgument("unit '" + unit + "' is not known (units are case-sensitive: b is a bit, B a byte); did you mean " + near + "?");
  if (unit.empty() || unit.find_first_of(" \t\n") != std::string::npos)
    throw InvalidArgument("unit '" + unit + "' must be a non-empty word without blanks, e.g. ns, Gb/s or cycles");
}

double convert(double value, const std::string& from, const std::string& to) {
  const auto f = table().find(from), t = table().find(to);
  if (f == table().end()) throw InvalidArgument("unit '" + from + "' is not known; known units: " + valid_units());
  if (t == table().end()) throw InvalidArgument("unit '" + to + "' is not known; known units: " + valid_units());
  if (f->second.quantity != t->second.quantity)
    throw InvalidArgument("cannot convert " + from + " (" + f->second.quantity + ") to " + to + " (" + t->second.quantity + ")");
  const double v = value * (f->second.mult / t->second.mult);  // powers of two: exact
  const int e = f->second.exp10 - t->second.exp10;
  return e >= 0 ? v * std::pow(10.0, e) : v / std::pow(10.0, -e);  // 10^e is exact up to 10^22
}

}  // namespace dsegym::units
