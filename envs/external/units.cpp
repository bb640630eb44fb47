#include "envs/external/units.hpp"

#include <map>
#include <utility>

#include "envs/core/error.hpp"

namespace dsegym::units {

namespace {

// unit -> (quantity, factor to the quantity's base unit)
const std::map<std::string, std::pair<std::string, double>>& table() {
  static const std::map<std::string, std::pair<std::string, double>> t = {
      {"ps", {"time", 1e-12}},     {"ns", {"time", 1e-9}},     {"us", {"time", 1e-6}},     {"µs", {"time", 1e-6}},
      {"ms", {"time", 1e-3}},      {"s", {"time", 1.0}},       {"fJ", {"energy", 1e-15}},  {"pJ", {"energy", 1e-12}},
      {"nJ", {"energy", 1e-9}},    {"uJ", {"energy", 1e-6}},   {"µJ", {"energy", 1e-6}},   {"mJ", {"energy", 1e-3}},
      {"J", {"energy", 1.0}},      {"uW", {"power", 1e-6}},    {"µW", {"power", 1e-6}},    {"mW", {"power", 1e-3}},
      {"W", {"power", 1.0}},       {"B/s", {"rate", 1.0}},     {"KB/s", {"rate", 1e3}},    {"MB/s", {"rate", 1e6}},
      {"GB/s", {"rate", 1e9}},     {"TB/s", {"rate", 1e12}},   {"Hz", {"frequency", 1.0}}, {"kHz", {"frequency", 1e3}},
      {"MHz", {"frequency", 1e6}}, {"GHz", {"frequency", 1e9}}, {"um^2", {"area", 1e-12}}, {"mm^2", {"area", 1e-6}},
      {"B", {"data", 1.0}},        {"KB", {"data", 1e3}},      {"MB", {"data", 1e6}},      {"GB", {"data", 1e9}},
      {"1", {"ratio", 1.0}},       {"%", {"percent", 1.0}},
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

double convert(double value, const std::string& from, const std::string& to) {
  const auto f = table().find(from), t = table().find(to);
  if (f == table().end()) throw InvalidArgument("unit '" + from + "' is not known; known units: " + valid_units());
  if (t == table().end()) throw InvalidArgument("unit '" + to + "' is not known; known units: " + valid_units());
  if (f->second.first != t->second.first)
    throw InvalidArgument("cannot convert " + from + " (" + f->second.first + ") to " + to + " (" + t->second.first + ")");
  return value * f->second.second / t->second.second;
}

}  // namespace dsegym::units
