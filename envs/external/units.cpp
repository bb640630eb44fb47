#include "envs/external/units.hpp"

#include <cctype>
#include <map>
#include <utility>

#include "envs/core/error.hpp"

namespace dsegym::units {

namespace {

// unit -> (quantity, factor to the quantity's base unit)
const std::map<std::string, std::pair<std::string, double>>& table() {
  static const std::map<std::string, std::pair<std::string, double>> t = {
      // time, energy, power, frequency, area
      {"ps", {"time", 1e-12}}, {"ns", {"time", 1e-9}}, {"us", {"time", 1e-6}}, {"µs", {"time", 1e-6}}, {"ms", {"time", 1e-3}}, {"s", {"time", 1.0}},
      {"fJ", {"energy", 1e-15}}, {"pJ", {"energy", 1e-12}}, {"nJ", {"energy", 1e-9}}, {"uJ", {"energy", 1e-6}}, {"µJ", {"energy", 1e-6}},
      {"mJ", {"energy", 1e-3}}, {"J", {"energy", 1.0}},
      {"nW", {"power", 1e-9}}, {"uW", {"power", 1e-6}}, {"µW", {"power", 1e-6}}, {"mW", {"power", 1e-3}}, {"W", {"power", 1.0}},
      {"Hz", {"frequency", 1.0}}, {"kHz", {"frequency", 1e3}}, {"MHz", {"frequency", 1e6}}, {"GHz", {"frequency", 1e9}},
      {"um^2", {"area", 1e-12}}, {"µm^2", {"area", 1e-12}}, {"mm^2", {"area", 1e-6}},
      // data in bytes (B; decimal K/k, M, G, T; binary KiB, MiB, GiB, TiB) and bits (b = 1/8 B)
      {"B", {"data", 1.0}}, {"KB", {"data", 1e3}}, {"kB", {"data", 1e3}}, {"MB", {"data", 1e6}}, {"GB", {"data", 1e9}}, {"TB", {"data", 1e12}},
      {"KiB", {"data", 1024.0}}, {"MiB", {"data", 1048576.0}}, {"GiB", {"data", 1073741824.0}}, {"TiB", {"data", 1099511627776.0}},
      {"b", {"data", 0.125}}, {"Kb", {"data", 125.0}}, {"kb", {"data", 125.0}}, {"Mb", {"data", 1.25e5}}, {"Gb", {"data", 1.25e8}},
      {"Tb", {"data", 1.25e11}},
      // data rates: the same per second
      {"B/s", {"rate", 1.0}}, {"KB/s", {"rate", 1e3}}, {"kB/s", {"rate", 1e3}}, {"MB/s", {"rate", 1e6}}, {"GB/s", {"rate", 1e9}},
      {"TB/s", {"rate", 1e12}}, {"KiB/s", {"rate", 1024.0}}, {"MiB/s", {"rate", 1048576.0}}, {"GiB/s", {"rate", 1073741824.0}},
      {"b/s", {"rate", 0.125}}, {"Kb/s", {"rate", 125.0}}, {"kb/s", {"rate", 125.0}}, {"Mb/s", {"rate", 1.25e5}}, {"Gb/s", {"rate", 1.25e8}},
      {"Tb/s", {"rate", 1.25e11}}, {"bps", {"rate", 0.125}}, {"Kbps", {"rate", 125.0}}, {"Mbps", {"rate", 1.25e5}}, {"Gbps", {"rate", 1.25e8}},
      // pure numbers (they do not convert into each other)
      {"1", {"ratio", 1.0}}, {"%", {"percent", 1.0}},
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
  if (f->second.first != t->second.first)
    throw InvalidArgument("cannot convert " + from + " (" + f->second.first + ") to " + to + " (" + t->second.first + ")");
  return value * f->second.second / t->second.second;
}

}  // namespace dsegym::units
