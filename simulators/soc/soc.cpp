#include "simulators/soc/soc.hpp"

#include <algorithm>
#include <deque>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <numeric>
#include <queue>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"
#include "base/rng.hpp"

namespace dsegym::soc {

using nlohmann::json;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
}  // namespace

// ------------------------------------------------------------------ PE types and SoCs

double PeType::slowdown() const { return opp.empty() ? 1.0 : opp.back().first / freq_mhz; }

std::vector<double> PeType::frequencies() const {
  std::vector<double> f;
  for (const auto& [mhz, mv] : opp) f.push_back(mhz);
  return f;
}

void PeType::set_frequency(double mhz) {
  for (const auto& [f, v] : opp)
    if (f == mhz) {
      freq_mhz = mhz;
      return;
    }
  std::string list;
  for (double f : frequencies()) list += (list.empty() ? "" : ", ") + fmt(f);
  throw InvalidArgument("PE type " + name + ": frequency " + fmt(mhz) + " MHz is not an operating point; valid: " +
                        (list.empty() ? std::string("none (no DVFS)") : list));
}

double PeType::voltage_v() const {
  for (const auto& [mhz, mv] : opp)
    if (mhz == freq_mhz) return mv / 1000.0;
  return 0.0;
}

int PeType::cluster_size() const { return opp.empty() ? std::max(count, 1) : static_cast<int>(power_profile.begin()->second.size()); }

std::pair<double, double> PeType::cluster_power_w(int busy, int instances, double leak_each_w) const {
  busy = std::clamp(busy, 0, instances);
  if (opp.empty()) {
    const double idle = leakage_share > 0 ? leak_each_w : idle_power_w;
    return {active_power_w * busy, idle * (instances - busy)};
  }
  if (busy == 0) {
    // Without the leakage model: idle_power_w at the highest OPP, linear in V.
    const double idle = leakage_share > 0 ? leak_each_w : idle_power_w * voltage_v() / opp.back().second * 1000.0;
    return {0.0, idle * instances};
  }
  // The lowest profiled frequency at or above the operating point (DS3's rule).
  const auto prof = power_profile.lower_bound(freq_mhz);
  double vk = 0;
  for (const auto& [mhz, mv] : opp)
    if (mhz == prof->first) vk = mv / 1000.0;
  const double vf = voltage_v();
  const double scale = (freq_mhz * vf * vf) / (prof->first * vk * vk);
  const double measured = prof->second[static_cast<std::size_t>(busy - 1)];
  if (leakage_share <= 0) return {scale * measured, 0.0};
  const double leak = leak_each_w * static_cast<double>(prof->second.size());
  return {(measured - leak) * scale, leak};
}

double PeType::power_w(int busy, double leak_each_w) const {
  busy = std::clamp(busy, 0, count);
  const int l = cluster_size();
  double w = 0;
  for (int first = 0; first < count; first += l) {
    const int inst = std::min(l, count - first);
    const auto [dyn, leak] = cluster_power_w(std::clamp(busy - first, 0, inst), inst, leak_each_w);
    w += dyn + leak;
  }
  return w;
}

double Soc::leak_w(int type, double temperature_c) const {
  const PeType& t = types[static_cast<std::size_t>(type)];
  if (!has_leakage || t.leakage_share <= 0) return 0.0;
  const double tk = 273.0 + temperature_c;  // DS3 adds 273
  const double v = t.voltage_v();
  return t.leakage_share * (v * leakage.c1 * tk * tk * std::exp(-leakage.c2 / tk) + leakage.igate * v);
}

int Soc::num_pes() const {
  int n = 0;
  for (const auto& t : types) n += t.count;
  return n;
}

int Soc::type_of(int pe) const {
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (pe < types[i].count) return static_cast<int>(i);
    pe -= types[i].count;
  }
  return -1;
}

double Soc::exec_time(int type, const std::string& task_type) const {
  const PeType& t = types[static_cast<std::size_t>(type)];
  auto it = t.exec.find(task_type);
  return it == t.exec.end() ? kNaN : it->second * t.slowdown();
}

double Soc::comm_time(double volume, int a, int b) const {
  if (volume <= 0) return 0;
  if (a == b) return bw_same > 0 ? volume / bw_same : 0;
  auto it = bw_pairs.find({type_of(a), type_of(b)});
  if (it == bw_pairs.end()) it = bw_pairs.find({type_of(b), type_of(a)});
  const double bw = it != bw_pairs.end() ? it->second : bw_default;
  return volume / bw;
}

double Soc::peak_power_w() const {
  double p = 0;
  for (std::size_t k = 0; k < types.size(); ++k) p += types[k].power_w(types[k].count, leak_w(static_cast<int>(k), leakage.temperature_c));
  return p;
}

// ------------------------------------------------------------------ loading

namespace {

std::string data_dir() {
  if (const char* env = std::getenv("DSEGYM_DATA")) return std::string(env) + "/soc";
  return std::string(DSEGYM_SOURCE_DIR) + "/data/soc";
}

json read(const std::string& path, const char* what) {
  json j = read_json_file(path, what);
  if (!j.is_object()) throw InvalidArgument(std::string(what) + " " + path + ": not a JSON object");
  return j;
}

double number(const json& j, const std::string& where, double lo) {
  if (!j.is_number() || j.get<double>() < lo)
    throw InvalidArgument(where + ": expected a number >= " + fmt(lo) + ", got " + j.dump());
  return j.get<double>();
}

}  // namespace

void set_governor(PeType& t, const json& g, const std::string& where) {
  if (!t.has_dvfs()) throw InvalidArgument(where + ": PE type " + t.name + " has no OPPs to choose from");
  t.governor_table.clear();
  if (g.is_object()) {
    check_keys(g, {"table"}, where);
    const json table = g.value("table", json());
    if (!table.is_array() || table.empty()) throw InvalidArgument(where + ".table: expected [[utilisation up to, MHz], ...]");
    for (std::size_t i = 0; i < table.size(); ++i) {
      const std::string w = where + ".table[" + std::to_string(i) + "]";
      if (!table[i].is_array() || table[i].size() != 2) throw InvalidArgument(w + ": expected [utilisation up to, MHz]");
      const double u = number(table[i][0], w + "[0]", 0), mhz = number(table[i][1], w + "[1]", 0);
      if (!t.governor_table.empty() && u <= t.governor_table.back().first) throw InvalidArgument(w + ": the bounds must ascend");
      PeType probe = t;
      probe.set_frequency(mhz);  // throws listing the OPPs
      t.governor_table.emplace_back(u, mhz);
    }
    t.governor = "table";
    return;
  }
  const std::string name = g.is_string() ? g.get<std::string>() : "";
  if (name != "performance" && name != "powersave" && name != "ondemand")
    throw InvalidArgument(where + ": " + g.dump() + " is not a governor; valid: performance, powersave, ondemand, {\"table\": [[utilisation, MHz], ...]}");
  t.governor = name;
  if (name == "performance") t.freq_mhz = t.opp.back().first;
  if (name == "powersave") t.freq_mhz = t.opp.front().first;
}

namespace {

void load_dvfs(PeType& t, const json& p, const std::string& where) {
  const json& opp = p.at("opp");
  if (!opp.is_array() || opp.empty()) throw InvalidArgument(where + ".opp: expected a non-empty list of [MHz, mV]");
  for (std::size_t i = 0; i < opp.size(); ++i) {
    const std::string w = where + ".opp[" + std::to_string(i) + "]";
    if (!opp[i].is_array() || opp[i].size() != 2) throw InvalidArgument(w + ": expected [MHz, mV], got " + opp[i].dump());
    const double f = number(opp[i][0], w + "[0]", 1e-9), v = number(opp[i][1], w + "[1]", 1e-9);
    if (!t.opp.empty() && f <= t.opp.back().first) throw InvalidArgument(w + ": frequencies must ascend");
    t.opp.emplace_back(f, v);
  }
  if (!p.contains("power_profile") || !p.at("power_profile").is_object() || p.at("power_profile").empty())
    throw InvalidArgument(where + ".power_profile: a PE type with OPPs needs {\"MHz\": [W with 1, 2, ... busy]}");
  for (const auto& [key, list] : p.at("power_profile").items()) {
    const std::string w = where + ".power_profile." + key;
    double f = 0;
    try {
      f = std::stod(key);
    } catch (const std::exception&) {
      throw InvalidArgument(w + ": the key must be a frequency in MHz");
    }
    if (std::none_of(t.opp.begin(), t.opp.end(), [&](const auto& o) { return o.first == f; }))
      throw InvalidArgument(w + ": " + key + " MHz is not one of the OPP frequencies");
    if (!list.is_array() || list.empty()) throw InvalidArgument(w + ": expected a list of watts for 1, 2, ... busy instances");
    std::vector<double> watts;
    for (std::size_t i = 0; i < list.size(); ++i) watts.push_back(number(list[i], w + "[" + std::to_string(i) + "]", 0));
    if (!t.power_profile.empty() && t.power_profile.begin()->second.size() != watts.size())
      throw InvalidArgument(w + ": every profile needs the same number of entries (the cluster size)");
    t.power_profile[f] = std::move(watts);
  }
  if (t.power_profile.rbegin()->first < t.opp.back().first)
    throw InvalidArgument(where + ".power_profile: needs a profile at the highest OPP (" + fmt(t.opp.back().first) + " MHz)");
  t.freq_mhz = t.opp.back().first;
  if (p.contains("frequency_mhz")) t.set_frequency(number(p.at("frequency_mhz"), where + ".frequency_mhz", 0));
}

// base_power_w, leakage, thermal and dvfs of a SoC file.
void load_power_model(Soc& s, const json& j, const std::string& path) {
  if (j.contains("dvfs")) {
    const json& d = j.at("dvfs");
    const std::string w = path + ".dvfs";
    if (!d.is_object()) throw InvalidArgument(w + ": expected {interval_us, up, down}");
    check_keys(d, {"interval_us", "up", "down"}, w);
    if (d.contains("interval_us")) s.dvfs.interval_us = number(d.at("interval_us"), w + ".interval_us", 1e-6);
    if (d.contains("up")) s.dvfs.up = number(d.at("up"), w + ".up", 0);
    if (d.contains("down")) s.dvfs.down = number(d.at("down"), w + ".down", 0);
    if (s.dvfs.down > s.dvfs.up) throw InvalidArgument(w + ": down (" + fmt(s.dvfs.down) + ") must not exceed up (" + fmt(s.dvfs.up) + ")");
  }
  const json base = j.value("base_power_w", json::object());
  if (!base.is_object()) throw InvalidArgument(path + ".base_power_w: expected {source: watts}");
  for (auto it = base.begin(); it != base.end(); ++it) s.base_power_w.emplace_back(it.key(), number(it.value(), path + ".base_power_w." + it.key(), 0));
  if (j.contains("leakage")) {
    const json& l = j.at("leakage");
    const std::string w = path + ".leakage";
    if (!l.is_object()) throw InvalidArgument(w + ": expected {c1, c2, igate, temperature_c}");
    check_keys(l, {"c1", "c2", "igate", "temperature_c", "source"}, w);
    for (const char* key : {"c1", "c2", "igate"})
      if (!l.contains(key)) throw InvalidArgument(w + "." + key + ": missing");
    s.leakage.c1 = number(l.at("c1"), w + ".c1", 0);
    s.leakage.c2 = number(l.at("c2"), w + ".c2", 0);
    s.leakage.igate = number(l.at("igate"), w + ".igate", 0);
    if (l.contains("temperature_c")) s.leakage.temperature_c = number(l.at("temperature_c"), w + ".temperature_c", -273);
    s.has_leakage = true;
  }
  if (!j.contains("thermal")) return;
  const json& th = j.at("thermal");
  const std::string w = path + ".thermal";
  if (!th.is_object()) throw InvalidArgument(w + ": expected {ambient_c, step_us, a, b}");
  check_keys(th, {"ambient_c", "step_us", "a", "b", "trip_c", "hysteresis_c", "source"}, w);
  auto numbers = [&](const char* key) {
    std::vector<double> v;
    const json list = th.value(key, json::array());
    if (!list.is_array()) throw InvalidArgument(w + "." + key + ": expected a list of numbers");
    for (std::size_t i = 0; i < list.size(); ++i) v.push_back(number(list[i], w + "." + key + "[" + std::to_string(i) + "]", -273));
    return v;
  };
  s.thermal.trip_c = numbers("trip_c");
  s.thermal.hysteresis_c = numbers("hysteresis_c");
  if (s.thermal.hysteresis_c.size() != s.thermal.trip_c.size())
    throw InvalidArgument(w + ": give one hysteresis_c per trip_c (" + std::to_string(s.thermal.trip_c.size()) + ")");
  for (std::size_t i = 1; i < s.thermal.trip_c.size(); ++i)
    if (s.thermal.trip_c[i] <= s.thermal.trip_c[i - 1]) throw InvalidArgument(w + ".trip_c: must ascend");
  for (const auto& t : s.types)
    if (!t.trip_mhz.empty() && t.trip_mhz.size() != s.thermal.trip_c.size())
      throw InvalidArgument(path + ": PE type " + t.name + " has " + std::to_string(t.trip_mhz.size()) + " trip_mhz for " +
                            std::to_string(s.thermal.trip_c.size()) + " thermal.trip_c");
  if (th.contains("ambient_c")) s.thermal.ambient_c = number(th.at("ambient_c"), w + ".ambient_c", -273);
  if (th.contains("step_us")) s.thermal.step_us = number(th.at("step_us"), w + ".step_us", 1e-6);
  const json a = th.value("a", json());
  if (!a.is_array() || a.empty()) throw InvalidArgument(w + ".a: expected a square matrix (a list of rows)");
  for (std::size_t r = 0; r < a.size(); ++r) {
    if (!a[r].is_array() || a[r].size() != a.size()) throw InvalidArgument(w + ".a[" + std::to_string(r) + "]: expected " + std::to_string(a.size()) + " numbers");
    auto& row = s.thermal.a.emplace_back();
    for (std::size_t c = 0; c < a.size(); ++c) {
      if (!a[r][c].is_number()) throw InvalidArgument(w + ".a[" + std::to_string(r) + "][" + std::to_string(c) + "]: expected a number");
      row.push_back(a[r][c].get<double>());
    }
  }
  const json b = th.value("b", json::object());
  if (!b.is_object()) throw InvalidArgument(w + ".b: expected {source: column}, a source being a base_power_w entry or a PE type");
  for (auto it = b.begin(); it != b.end(); ++it) {
    const std::string wb = w + ".b." + it.key();
    const bool known = std::any_of(s.base_power_w.begin(), s.base_power_w.end(), [&](const auto& x) { return x.first == it.key(); }) ||
                       std::any_of(s.types.begin(), s.types.end(), [&](const PeType& t) { return t.name == it.key(); });
    if (!known) throw InvalidArgument(wb + ": neither a base_power_w source nor a PE type");
    if (!it.value().is_array() || it.value().size() != a.size()) throw InvalidArgument(wb + ": expected " + std::to_string(a.size()) + " numbers");
    std::vector<double> col;
    for (const auto& v : it.value()) {
      if (!v.is_number()) throw InvalidArgument(wb + ": expected numbers");
      col.push_back(v.get<double>());
    }
    s.thermal.b.emplace_back(it.key(), std::move(col));
  }
}

}  // namespace

App load_app(const std::string& path) { return parse_app(read(path, "application"), path); }

App parse_app(const json& j, const std::string& path) {
  if (!j.is_object()) throw InvalidArgument("application " + path + ": not a JSON object");
  check_keys(j, {"name", "source", "time_unit", "tasks", "edges"}, path);
  App a;
  a.name = j.value("name", std::filesystem::path(path).stem().string());
  a.source = j.value("source", "");
  if (!j.contains("tasks") || !j.at("tasks").is_array() || j.at("tasks").empty())
    throw InvalidArgument(path + ".tasks: expected a non-empty list of {\"name\", \"type\"}");
  for (std::size_t i = 0; i < j.at("tasks").size(); ++i) {
    const json& t = j.at("tasks")[i];
    check_keys(t, {"name", "type"}, path + ".tasks[" + std::to_string(i) + "]");
    a.task_names.push_back(t.value("name", "task" + std::to_string(i)));
    a.task_types.push_back(t.value("type", a.task_names.back()));
  }
  const int n = static_cast<int>(a.task_types.size());
  a.preds.resize(static_cast<std::size_t>(n));
  a.succs.resize(static_cast<std::size_t>(n));
  const json edges = j.value("edges", json::array());
  for (std::size_t i = 0; i < edges.size(); ++i) {
    const json& e = edges[i];
    const std::string where = path + ".edges[" + std::to_string(i) + "]";
    check_keys(e, {"from", "to", "volume"}, where);
    // An index is an integer JSON number (a 90-digit one reads as a float: refused before any conversion).
    auto index = [&](const char* key) {
      if (!e.contains(key) || !e.at(key).is_number_integer()) return -1;
      const auto v = e.at(key).get<std::int64_t>();
      return v >= 0 && v < n ? static_cast<int>(v) : -1;
    };
    const int from = index("from"), to = index("to");
    if (from < 0 || to < 0 || from == to)
      throw InvalidArgument(where + ": 'from' and 'to' must be distinct task indices in 0.." + std::to_string(n - 1));
    const double v = e.contains("volume") ? number(e.at("volume"), where + ".volume", 0) : 0.0;
    a.preds[static_cast<std::size_t>(to)].emplace_back(from, v);
    a.succs[static_cast<std::size_t>(from)].emplace_back(to, v);
  }
  // Reject cycles: Kahn's algorithm must visit every task.
  std::vector<int> indeg(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) indeg[static_cast<std::size_t>(i)] = static_cast<int>(a.preds[static_cast<std::size_t>(i)].size());
  std::vector<int> q;
  for (int i = 0; i < n; ++i)
    if (indeg[static_cast<std::size_t>(i)] == 0) q.push_back(i);
  for (std::size_t k = 0; k < q.size(); ++k)
    for (auto [s, v] : a.succs[static_cast<std::size_t>(q[k])])
      if (--indeg[static_cast<std::size_t>(s)] == 0) q.push_back(s);
  if (static_cast<int>(q.size()) != n) throw InvalidArgument(path + ".edges: the task graph has a cycle");
  return a;
}

Soc load_soc(const std::string& path) { return parse_soc(read(path, "SoC"), path); }

Soc parse_soc(const json& j, const std::string& path) {
  if (!j.is_object()) throw InvalidArgument("SoC " + path + ": not a JSON object");
  check_keys(j, {"name", "source", "time_unit", "pe_types", "bandwidth", "base_power_w", "leakage", "thermal", "dvfs"}, path);
  Soc s;
  s.name = j.value("name", std::filesystem::path(path).stem().string());
  s.source = j.value("source", "");
  if (!j.contains("pe_types") || !j.at("pe_types").is_array() || j.at("pe_types").empty())
    throw InvalidArgument(path + ".pe_types: expected a non-empty list");
  for (std::size_t i = 0; i < j.at("pe_types").size(); ++i) {
    const json& p = j.at("pe_types")[i];
    const std::string where = path + ".pe_types[" + std::to_string(i) + "]";
    check_keys(p,
               {"name", "count", "active_power_w", "idle_power_w", "leakage_share", "opp", "power_profile", "frequency_mhz", "governor", "trip_mhz",
                "exec", "source"},
               where);
    PeType t;
    t.name = p.value("name", "PE" + std::to_string(i));
    for (const auto& other : s.types)
      if (other.name == t.name) throw InvalidArgument(where + ".name: duplicate PE type '" + t.name + "'");
    if (p.contains("count")) {
      if (!p.at("count").is_number_integer() || p.at("count").get<int>() < 0)
        throw InvalidArgument(where + ".count: expected a non-negative integer, got " + p.at("count").dump());
      t.count = p.at("count").get<int>();
    }
    if (p.contains("idle_power_w")) t.idle_power_w = number(p.at("idle_power_w"), where + ".idle_power_w", 0);
    if (p.contains("leakage_share")) {
      t.leakage_share = number(p.at("leakage_share"), where + ".leakage_share", 0);
      if (!j.contains("leakage")) throw InvalidArgument(where + ".leakage_share: needs the SoC's \"leakage\" model {c1, c2, igate}");
      if (!p.contains("opp")) throw InvalidArgument(where + ".leakage_share: needs an opp list (leakage follows the voltage)");
      if (p.contains("idle_power_w")) throw InvalidArgument(where + ": give either idle_power_w or leakage_share, not both");
    }
    if (p.contains("opp")) {
      if (p.contains("active_power_w"))
        throw InvalidArgument(where + ": give either active_power_w (no DVFS) or opp + power_profile, not both");
      load_dvfs(t, p, where);
    } else {
      if (p.contains("power_profile") || p.contains("frequency_mhz"))
        throw InvalidArgument(where + ": power_profile and frequency_mhz need an opp list");
      if (p.contains("active_power_w")) t.active_power_w = number(p.at("active_power_w"), where + ".active_power_w", 0);
    }
    if (p.contains("governor")) set_governor(t, p.at("governor"), where + ".governor");
    if (p.contains("trip_mhz")) {
      const json& list = p.at("trip_mhz");
      if (!list.is_array()) throw InvalidArgument(where + ".trip_mhz: expected a list of MHz (-1: no cap)");
      for (std::size_t k = 0; k < list.size(); ++k) {
        if (!list[k].is_number()) throw InvalidArgument(where + ".trip_mhz[" + std::to_string(k) + "]: expected MHz or -1");
        const double f = list[k].get<double>();
        if (f > 0) {
          PeType probe = t;
          probe.set_frequency(f);  // throws listing the OPPs
        }
        t.trip_mhz.push_back(f);
      }
    }
    const json exec = p.value("exec", json::object());
    if (!exec.is_object()) throw InvalidArgument(where + ".exec: expected {task type: time in us}");
    for (auto it = exec.begin(); it != exec.end(); ++it) t.exec[it.key()] = number(it.value(), where + ".exec." + it.key(), 0);
    s.types.push_back(std::move(t));
  }
  load_power_model(s, j, path);
  const json bw = j.value("bandwidth", json::object());
  check_keys(bw, {"same_pe", "default", "pairs"}, path + ".bandwidth");
  if (bw.contains("same_pe")) s.bw_same = number(bw.at("same_pe"), path + ".bandwidth.same_pe", 0);
  if (bw.contains("default")) s.bw_default = number(bw.at("default"), path + ".bandwidth.default", 0);
  if (!(s.bw_default > 0)) throw InvalidArgument(path + ".bandwidth.default: must be positive");
  const json pairs = bw.value("pairs", json::array());
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const json& p = pairs[k];
    const std::string where = path + ".bandwidth.pairs[" + std::to_string(k) + "]";
    check_keys(p, {"from", "to", "value"}, where);
    int a = -1, b = -1;
    for (std::size_t i = 0; i < s.types.size(); ++i) {
      if (s.types[i].name == p.value("from", "")) a = static_cast<int>(i);
      if (s.types[i].name == p.value("to", "")) b = static_cast<int>(i);
    }
    if (a < 0 || b < 0) throw InvalidArgument(where + ": unknown PE type in " + p.dump());
    const double v = number(p.value("value", json()), where + ".value", 0);
    if (!(v > 0)) throw InvalidArgument(where + ".value: must be positive");
    s.bw_pairs[{a, b}] = v;
  }
  return s;
}

std::vector<std::string> builtin_apps() { return {"wifi_tx", "wifi_rx", "range_detection", "sc_tx", "sc_rx", "temporal_mitigation", "topcuoglu"}; }
std::vector<std::string> builtin_socs() { return {"ds3_multiple_bal", "topcuoglu_3p"}; }

namespace {
template <class F>
auto resolve(const std::string& name, const std::vector<std::string>& builtins, const std::string& folder, const char* what, F load) {
  for (const auto& b : builtins)
    if (b == name) return load(data_dir() + "/" + folder + "/" + b + ".json");
  const std::string path = user_file(name, what);
  if (std::filesystem::exists(path)) return load(path);
  std::string list;
  for (const auto& b : builtins) list += (list.empty() ? "" : ", ") + b;
  throw InvalidArgument(std::string(what) + " '" + excerpt(name, 120) + "' is neither a built-in name (" + list + ") nor an existing file");
}
}  // namespace

App resolve_app(const std::string& n) { return resolve(n, builtin_apps(), "apps", "application", load_app); }
Soc resolve_soc(const std::string& n) { return resolve(n, builtin_socs(), "socs", "SoC", load_soc); }

const std::vector<std::string>& policy_names() {
  static const std::vector<std::string> v = {"met", "etf", "heft", "random", "rr", "eft", "stf", "etf_lb"};
  return v;
}

Policy policy_from_name(const std::string& name) {
  const auto& v = policy_names();
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == name) return static_cast<Policy>(i);
  std::string list;
  for (const auto& n : v) list += (list.empty() ? "" : ", ") + n;
  throw InvalidArgument("scheduler '" + name + "' is not valid; choices: " + list);
}

Workload default_workload(double rate_per_ms, std::int64_t jobs, double noise, std::uint64_t seed) {
  Workload w;
  for (const char* a : {"wifi_tx", "wifi_rx", "range_detection", "sc_tx", "sc_rx"}) w.mix.emplace_back(resolve_app(a), 1.0);
  w.rate_per_ms = rate_per_ms;
  w.jobs = jobs;
  w.noise = noise;
  w.seed = seed;
  return w;
}

Workload load_workload(const std::string& path, const Workload& defaults) {
  const json j = read(path, "workload");
  check_keys(j, {"apps", "rate_per_ms", "interval_us", "jobs", "noise", "seed", "arrivals", "max_in_system", "inject_asap", "warmup_us", "source"},
             path);
  Workload w = defaults;
  if (j.contains("apps")) {
    const json& apps = j.at("apps");
    w.mix.clear();
    if (apps.is_array()) {
      for (const auto& a : apps) {
        if (!a.is_string()) throw InvalidArgument(path + ".apps: expected application names or files, got " + a.dump());
        w.mix.emplace_back(resolve_app(a.get<std::string>()), 1.0);
      }
    } else if (apps.is_object()) {
      for (const auto& [name, weight] : apps.items()) {
        const double wt = number(weight, path + ".apps." + name, 0);
        if (!(wt > 0)) throw InvalidArgument(path + ".apps." + name + ": the weight must be positive");
        w.mix.emplace_back(resolve_app(name), wt);
      }
    } else {
      throw InvalidArgument(path + ".apps: expected a list of names or {name: weight}");
    }
    if (w.mix.empty()) throw InvalidArgument(path + ".apps: no applications");
  }
  if (j.contains("rate_per_ms")) w.rate_per_ms = number(j.at("rate_per_ms"), path + ".rate_per_ms", 0);
  if (j.contains("interval_us")) {
    w.interval_us = number(j.at("interval_us"), path + ".interval_us", 0);
    if (!j.contains("rate_per_ms")) w.rate_per_ms = 0;
  }
  if (j.contains("jobs")) {
    if (!j.at("jobs").is_number_integer() || j.at("jobs").get<std::int64_t>() < 1)
      throw InvalidArgument(path + ".jobs: expected a positive integer, got " + j.at("jobs").dump());
    w.jobs = j.at("jobs").get<std::int64_t>();
  }
  if (j.contains("noise")) w.noise = number(j.at("noise"), path + ".noise", 0);
  if (j.contains("max_in_system")) {
    if (!j.at("max_in_system").is_number_integer() || j.at("max_in_system").get<std::int64_t>() < 0)
      throw InvalidArgument(path + ".max_in_system: expected a non-negative integer (0: no cap), got " + j.at("max_in_system").dump());
    w.max_in_system = j.at("max_in_system").get<std::int64_t>();
  }
  if (j.contains("inject_asap")) {
    if (!j.at("inject_asap").is_boolean()) throw InvalidArgument(path + ".inject_asap: expected true or false");
    w.inject_asap = j.at("inject_asap").get<bool>();
  }
  if (j.contains("warmup_us")) w.warmup_us = number(j.at("warmup_us"), path + ".warmup_us", 0);
  if (j.contains("seed")) {
    if (!j.at("seed").is_number_unsigned()) throw InvalidArgument(path + ".seed: expected a non-negative integer");
    w.seed = j.at("seed").get<std::uint64_t>();
  }
  if (j.contains("arrivals")) {
    const json& arr = j.at("arrivals");
    if (!arr.is_array() || arr.empty()) throw InvalidArgument(path + ".arrivals: expected a non-empty list of {\"time_us\", \"app\"}");
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const std::string where = path + ".arrivals[" + std::to_string(i) + "]";
      check_keys(arr[i], {"time_us", "app"}, where);
      if (!arr[i].contains("time_us") || !arr[i].contains("app")) throw InvalidArgument(where + ": needs time_us and app");
      const double t = number(arr[i].at("time_us"), where + ".time_us", 0);
      const std::string app = arr[i].at("app").is_string() ? arr[i].at("app").get<std::string>() : "";
      int idx = -1;
      for (std::size_t k = 0; k < w.mix.size(); ++k)
        if (w.mix[k].first.name == app) idx = static_cast<int>(k);
      if (idx < 0) {
        std::string names;
        for (const auto& [a, wt] : w.mix) names += (names.empty() ? "" : ", ") + a.name;
        throw InvalidArgument(where + ".app: '" + app + "' is not in the workload's apps (" + names + ")");
      }
      w.trace.emplace_back(t, idx);
    }
  }
  return w;
}

// ------------------------------------------------------------------ engine

namespace {

struct TaskState {
  int pe = -1;
  int waiting = 0;  // unfinished predecessors
  double finish = 0;
};

struct Job {
  int app = 0;
  double arrival = 0;
  std::vector<TaskState> tasks;
  int left = 0;
};

struct Pe {
  std::vector<std::pair<double, std::pair<int, int>>> queue;  // (planned start, (job, task)), sorted
  bool busy = false;
  double avail = 0;      // when its queued work should end (mean execution times)
  double busy_time = 0;
  double running_end = 0;  // expected end (mean execution time) of the running task
  // The running task's row in the schedule (job, task, start, actual end)
  // and the DVFS slowdown it runs at; a frequency change moves the end.
  std::size_t run_row = 0;
  double run_slow = 1;
  double window_busy = 0, busy_from = 0;  // busy time in the governor's current window
  std::int64_t assigned = 0;               // tasks given to it (ETF_LB's tie-break)
};

struct Event {
  double time;
  int kind;  // 0 arrival, 1 finish, 2 wake, 3 thermal step, 4 governors, 5 end of warm-up
  int job, task;
  // Simultaneous events in a fixed order (kind, then job and task), whatever
  // else the queue holds.
  bool operator>(const Event& o) const {
    if (time != o.time) return time > o.time;
    if (kind != o.kind) return kind > o.kind;
    if (job != o.job) return job > o.job;
    return task > o.task;
  }
};

}  // namespace

struct Emulator::Impl {
  Soc s;
  Workload w;
  Policy policy;
  Rng noise_rng, policy_rng;
  std::vector<int> pe_type;
  std::vector<std::vector<std::vector<double>>> exec;  // [app][task][pe], NaN: unsupported
  std::vector<std::vector<double>> rank;                // [app][task]
  std::vector<Job> jobs;
  std::vector<Pe> pes;
  std::vector<std::pair<int, int>> ready;  // ready, unassigned (dynamic policies); FIFO
  std::size_t ready_head = 0;
  int rr_next = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events;
  double now = 0, last_t = 0, area = 0, completed_latency = 0;
  std::int64_t in_system = 0, done = 0, arrived = 0;
  // Energy, integrated exactly between events: each type's clusters from
  // power_since[type], the base power from base_since.
  std::vector<double> power_since;
  double base_since = 0;
  std::vector<double> pe_mj, type_mj, base_mj;
  double dynamic_mj = 0, static_mj = 0;
  // Temperatures of the thermal model's nodes; leakage follows the hottest.
  std::vector<double> temps;
  double temp_c = 42, peak_temp_c = 42, step_start = 0;
  std::vector<double> type_mj_at_step;
  std::vector<double> init_slow;  // each type's slowdown when the execution table was made
  // Generated arrivals are released one at a time: job k + 1 comes gap[k]
  // after job k actually arrived (the same times as drawn unless a cap or
  // inject_asap moves one). A trace's arrivals are all queued at once.
  std::vector<double> gap;
  std::deque<int> deferred;  // arrived beyond max_in_system, waiting for a slot
  int next_generated = -1;   // the generated job whose arrival event is pending
  // Totals at the end of the warm-up, subtracted in the result.
  bool warm = false;
  std::vector<double> warm_pe_mj, warm_type_mj, warm_base_mj;
  double warm_dynamic_mj = 0, warm_static_mj = 0;
  bool governed = false;           // some type has a run-time governor
  int throttle = -1;               // the trip point in force (-1: none)
  std::vector<double> policy_mhz;  // each type's frequency as its governor wants it
  std::vector<Result::FrequencyChange> freq_trace;
  bool finished = false;
  std::vector<TaskRecord> schedule;

  Impl(Soc soc, Workload wl, Policy p)
      : s(std::move(soc)), w(std::move(wl)), policy(p), noise_rng(derive_seed(w.seed, 1)), policy_rng(derive_seed(w.seed, 2)) {
    if (w.mix.empty()) throw InvalidArgument("workload: no applications");
    if (w.trace.empty() && w.window_us <= 0 && w.jobs < 1) throw InvalidArgument("workload: at least one job");
    if (w.trace.empty() && !(w.rate_per_ms > 0) && !(w.interval_us >= 0))
      throw InvalidArgument("workload: give a positive rate_per_ms or a non-negative interval_us");
    if (w.trace.empty() && w.window_us > 0 && !(w.rate_per_ms > 0) && !(w.interval_us > 0))
      throw InvalidArgument("workload: a window of arrivals needs a positive rate_per_ms or interval_us");
    if (w.noise < 0) throw InvalidArgument("workload: noise must not be negative");
    for (int pe = 0; pe < s.num_pes(); ++pe) pe_type.push_back(s.type_of(pe));
    pes.resize(pe_type.size());
    for (const auto& [app, weight] : w.mix) {
      if (!(weight > 0)) throw InvalidArgument("workload: application '" + app.name + "' needs a positive weight");
      auto& table = exec.emplace_back();
      for (std::size_t t = 0; t < app.task_types.size(); ++t) {
        auto& row = table.emplace_back();
        bool ok = false;
        for (int type : pe_type) {
          row.push_back(s.exec_time(type, app.task_types[t]));
          ok = ok || !std::isnan(row.back());
        }
        if (!ok) {
          std::string names;
          for (const auto& pt : s.types) names += (names.empty() ? "" : ", ") + pt.name + " x" + std::to_string(pt.count);
          throw InvalidArgument("application '" + app.name + "': task '" + app.task_names[t] + "' (" + app.task_types[t] +
                                ") runs on no PE of SoC '" + s.name + "' (" + names + ")");
        }
      }
      rank.push_back(upward_ranks(app, table));
    }
    arrivals();
    const double start = events.empty() ? 0.0 : events.top().time;
    power_since.assign(s.types.size(), start);
    base_since = step_start = last_t = start;
    pe_mj.assign(pes.size(), 0.0);
    type_mj.assign(s.types.size(), 0.0);
    type_mj_at_step.assign(s.types.size(), 0.0);
    base_mj.assign(s.base_power_w.size(), 0.0);
    temp_c = peak_temp_c = s.thermal.enabled() ? s.thermal.ambient_c : s.leakage.temperature_c;
    if (s.thermal.enabled()) {
      temps.assign(s.thermal.a.size(), s.thermal.ambient_c);
      if (!events.empty()) events.push({start + s.thermal.step_us, 3, 0, -1});
    }
    for (const auto& t : s.types) {
      policy_mhz.push_back(t.freq_mhz);
      init_slow.push_back(t.slowdown());
      governed = governed || t.governor == "ondemand" || t.governor == "table";
    }
    for (auto& p : pes) p.busy_from = start;
    if (w.warmup_us > 0 && !events.empty()) events.push({w.warmup_us, 5, 0, -1});
    if (governed && !events.empty()) events.push({start + s.dvfs.interval_us, 4, 0, -1});
  }

  // Topcuoglu et al. 2002, eq. 3-5: mean execution time over the PEs that
  // support the task plus the largest (mean communication + rank) of a successor.
  std::vector<double> upward_ranks(const App& a, const std::vector<std::vector<double>>& table) const {
    const std::size_t n = a.task_types.size();
    std::vector<double> wbar(n), r(n, -1);
    for (std::size_t t = 0; t < n; ++t) {
      double sum = 0;
      int cnt = 0;
      for (double e : table[t])
        if (!std::isnan(e)) {
          sum += e;
          ++cnt;
        }
      wbar[t] = sum / cnt;
    }
    std::function<double(std::size_t)> up = [&](std::size_t t) {
      if (r[t] >= 0) return r[t];
      double m = 0;
      for (auto [succ, vol] : a.succs[t]) m = std::max(m, vol / s.bw_default + up(static_cast<std::size_t>(succ)));
      return r[t] = wbar[t] + m;
    };
    for (std::size_t t = 0; t < n; ++t) up(t);
    return r;
  }

  void arrivals() {
    Rng rng(derive_seed(w.seed, 0));
    std::vector<std::pair<double, int>> list = w.trace;
    if (list.empty()) {
      double total = 0;
      for (const auto& [app, weight] : w.mix) total += weight;
      double t = 0;
      for (std::int64_t k = 0; w.window_us > 0 ? t < w.window_us : k < w.jobs; ++k) {
        double r = rng.uniform() * total;
        int app = static_cast<int>(w.mix.size()) - 1;
        for (std::size_t i = 0; i < w.mix.size(); ++i)
          if ((r -= w.mix[i].second) < 0) {
            app = static_cast<int>(i);
            break;
          }
        list.emplace_back(t, app);
        t += w.rate_per_ms > 0 ? -std::log1p(-rng.uniform()) * 1000.0 / w.rate_per_ms : w.interval_us;
      }
    } else {
      std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    for (std::size_t k = 0; k < list.size(); ++k) {
      const auto [t, app] = list[k];
      Job job;
      job.app = app;
      job.arrival = t;
      const App& a = w.mix[static_cast<std::size_t>(app)].first;
      job.tasks.resize(a.task_types.size());
      for (std::size_t i = 0; i < a.task_types.size(); ++i) job.tasks[i].waiting = static_cast<int>(a.preds[i].size());
      job.left = static_cast<int>(a.task_types.size());
      if (w.trace.empty()) {
        if (k + 1 < list.size()) gap.push_back(list[k + 1].first - t);
      } else {
        events.push({t, 0, static_cast<int>(jobs.size()), -1});
      }
      jobs.push_back(std::move(job));
    }
    if (w.trace.empty() && !jobs.empty()) {
      next_generated = 0;
      events.push({jobs[0].arrival, 0, 0, -1});
    }
  }

  // Job j enters the system now (its latency counts from here).
  void inject(int j) {
    Job& job = jobs[static_cast<std::size_t>(j)];
    job.arrival = now;
    ++arrived;
    ++in_system;
    if (policy == Policy::HEFT) {
      plan_heft(j);
    } else {
      for (std::size_t i = 0; i < job.tasks.size(); ++i)
        if (job.tasks[i].waiting == 0) ready.emplace_back(j, static_cast<int>(i));
    }
    if (w.trace.empty() && j + 1 < static_cast<int>(jobs.size())) release_next(j + 1, now + gap[static_cast<std::size_t>(j)]);
  }

  void release_next(int j, double t) {
    next_generated = j;
    jobs[static_cast<std::size_t>(j)].arrival = t;
    events.push({t, 0, j, -1});
  }

  // An arrival: in, or in the queue while the system holds max_in_system jobs.
  void arrive(int j) {
    if (w.max_in_system > 0 && (in_system >= w.max_in_system || !deferred.empty())) {
      deferred.push_back(j);
      return;
    }
    inject(j);
  }

  // A job finished: a waiting arrival takes its slot; with inject_asap the
  // next generated arrival comes now.
  void job_finished() {
    while (!deferred.empty() && (w.max_in_system == 0 || in_system < w.max_in_system)) {
      const int j = deferred.front();
      deferred.pop_front();
      inject(j);
    }
    if (w.inject_asap && w.trace.empty() && next_generated >= 0 && next_generated < static_cast<int>(jobs.size()) &&
        jobs[static_cast<std::size_t>(next_generated)].arrival > now && arrived <= next_generated)
      release_next(next_generated, now);
  }

  // The energy totals at the end of the warm-up.
  void end_warmup() {
    account_all();
    warm = true;
    warm_pe_mj = pe_mj;
    warm_type_mj = type_mj;
    warm_base_mj = base_mj;
    warm_dynamic_mj = dynamic_mj;
    warm_static_mj = static_mj;
  }

  const App& app_of(int j) const { return w.mix[static_cast<std::size_t>(jobs[static_cast<std::size_t>(j)].app)].first; }
  double ex(int pe, int j, int t) const {
    return exec[static_cast<std::size_t>(jobs[static_cast<std::size_t>(j)].app)][static_cast<std::size_t>(t)][static_cast<std::size_t>(pe)];
  }
  bool supports(int pe, int j, int t) const { return !std::isnan(ex(pe, j, t)); }

  // When task t of job j could start on pe: data from every predecessor.
  double data_ready(int j, int t, int pe) const {
    const Job& job = jobs[static_cast<std::size_t>(j)];
    double r = job.arrival;
    for (auto [p, vol] : app_of(j).preds[static_cast<std::size_t>(t)]) {
      const TaskState& ps = job.tasks[static_cast<std::size_t>(p)];
      r = std::max(r, ps.finish + s.comm_time(vol, ps.pe, pe));
    }
    return r;
  }

  double est_finish(int j, int t, int pe) const {
    return std::max({now, pes[static_cast<std::size_t>(pe)].avail, data_ready(j, t, pe)}) + ex(pe, j, t);
  }

  void enqueue(int j, int t, int pe, double planned) {
    jobs[static_cast<std::size_t>(j)].tasks[static_cast<std::size_t>(t)].pe = pe;
    auto& q = pes[static_cast<std::size_t>(pe)].queue;
    const auto item = std::make_pair(planned, std::make_pair(j, t));
    q.insert(std::upper_bound(q.begin(), q.end(), item, [](const auto& a, const auto& b) { return a.first < b.first; }), item);
  }

  void commit(int j, int t, int pe) {
    Pe& p = pes[static_cast<std::size_t>(pe)];
    const double finish = est_finish(j, t, pe);
    enqueue(j, t, pe, finish - ex(pe, j, t));
    p.avail = finish;
  }

  void assign_builtin();
  void plan_heft(int j);
  void try_start();
  // Adds each cluster's energy since power_since[type] (constant power in
  // between: the busy set and the temperature change only at events).
  void account_power(int type) {
    const std::size_t k = static_cast<std::size_t>(type);
    const double dt_ms = (now - power_since[k]) * 1e-3;  // W * us = 1e-3 mJ
    power_since[k] = now;
    if (dt_ms <= 0) return;
    const PeType& t = s.types[k];
    const double leak = s.leak_w(type, temp_c);
    const int l = t.cluster_size();
    int first_pe = 0;
    for (std::size_t i = 0; i < k; ++i) first_pe += s.types[i].count;
    for (int first = 0; first < t.count; first += l) {
      const int inst = std::min(l, t.count - first);
      int busy = 0;
      for (int i = 0; i < inst; ++i) busy += pes[static_cast<std::size_t>(first_pe + first + i)].busy ? 1 : 0;
      const auto [dyn, stat] = t.cluster_power_w(busy, inst, leak);
      dynamic_mj += dyn * dt_ms;
      static_mj += stat * dt_ms;
      type_mj[k] += (dyn + stat) * dt_ms;
      // Per PE: the dynamic part shared by the busy instances, the static part by all.
      for (int i = 0; i < inst; ++i) {
        const bool b = pes[static_cast<std::size_t>(first_pe + first + i)].busy;
        pe_mj[static_cast<std::size_t>(first_pe + first + i)] += ((b ? dyn / busy : 0.0) + stat / inst) * dt_ms;
      }
    }
  }
  void account_base() {
    for (std::size_t i = 0; i < s.base_power_w.size(); ++i) base_mj[i] += s.base_power_w[i].second * (now - base_since) * 1e-3;
    base_since = now;
  }
  void account_all() {
    for (int k = 0; k < static_cast<int>(s.types.size()); ++k) account_power(k);
    account_base();
  }
  double total_mj() const {
    double e = dynamic_mj + static_mj;
    for (double b : base_mj) e += b;
    return e;
  }
  // The governors: each governed type's busiest cluster's summed core
  // utilisation over the last interval picks its next frequency.
  void govern() {
    int first_pe = 0;
    for (std::size_t k = 0; k < s.types.size(); ++k) {
      PeType& t = s.types[k];
      const int l = t.cluster_size();
      double u = 0;
      for (int first = 0; first < t.count; first += l) {
        double sum = 0;
        for (int i = first; i < std::min(first + l, t.count); ++i) {
          Pe& p = pes[static_cast<std::size_t>(first_pe + i)];
          if (p.busy) {
            p.window_busy += now - p.busy_from;
            p.busy_from = now;
          }
          sum += p.window_busy / s.dvfs.interval_us;
          p.window_busy = 0;
        }
        u = std::max(u, sum);
      }
      first_pe += t.count;
      const auto& opp = t.opp;
      double f = t.freq_mhz;
      if (t.governor == "ondemand") {
        if (u > s.dvfs.up) {
          f = opp.back().first;
        } else if (u < s.dvfs.down) {
          for (std::size_t i = 1; i < opp.size(); ++i)
            if (opp[i].first == t.freq_mhz) f = opp[i - 1].first;
        }
      } else if (t.governor == "table") {
        f = t.governor_table.back().second;
        for (const auto& [bound, mhz] : t.governor_table)
          if (u <= bound) {
            f = mhz;
            break;
          }
      }
      // While throttled ondemand does not jump up (DS3), and no governor passes the cap.
      if (t.governor == "ondemand" && throttle >= 0 && f > t.freq_mhz) f = t.freq_mhz;
      policy_mhz[k] = f;
      f = capped(static_cast<int>(k), f);
      if (f != t.freq_mhz) change_frequency(static_cast<int>(k), f);
    }
  }

  // A frequency under the throttling cap in force.
  double capped(int type, double mhz) const {
    const PeType& t = s.types[static_cast<std::size_t>(type)];
    if (throttle < 0 || t.trip_mhz.empty()) return mhz;
    const double cap = t.trip_mhz[static_cast<std::size_t>(throttle)];
    return cap > 0 ? std::min(mhz, cap) : mhz;
  }

  // DS3's evaluate_throttling after each thermal step: past a trip point the
  // caps of that point apply; below it less the hysteresis, the point below's.
  void throttle_step() {
    const auto& trip = s.thermal.trip_c;
    const int before = throttle;
    for (int i = 0; i < static_cast<int>(trip.size()); ++i) {
      if (temp_c > trip[static_cast<std::size_t>(i)] && throttle < i)
        throttle = i;
      else if (throttle == i && temp_c < trip[static_cast<std::size_t>(i)] - s.thermal.hysteresis_c[static_cast<std::size_t>(i)])
        throttle = i - 1;
    }
    if (throttle == before) return;
    for (int k = 0; k < static_cast<int>(s.types.size()); ++k) {
      if (s.types[static_cast<std::size_t>(k)].trip_mhz.empty()) continue;
      const double f = capped(k, policy_mhz[static_cast<std::size_t>(k)]);
      if (f != s.types[static_cast<std::size_t>(k)].freq_mhz) change_frequency(k, f);
    }
  }

  // A new operating point: energy so far at the old one, and running tasks
  // finish their remaining work at the new speed.
  void change_frequency(int type, double mhz) {
    account_power(type);
    PeType& t = s.types[static_cast<std::size_t>(type)];
    t.set_frequency(mhz);
    freq_trace.push_back({now, type, mhz});
    const double slow = t.slowdown();
    for (std::size_t pe = 0; pe < pes.size(); ++pe) {
      Pe& p = pes[pe];
      if (!p.busy || pe_type[pe] != type) continue;
      TaskRecord& run = schedule[p.run_row];
      run.finish_us = now + (run.finish_us - now) / p.run_slow * slow;
      p.run_slow = slow;
      jobs[static_cast<std::size_t>(run.job)].tasks[static_cast<std::size_t>(run.task)].finish = run.finish_us;
      events.push({run.finish_us, 1, run.job, run.task});
    }
  }

  // One step of the thermal model with each source's mean power over it.
  void thermal_step() {
    account_all();
    const double dt_ms = (now - step_start) * 1e-3;
    const auto n = temps.size();
    std::vector<double> next(n, s.thermal.ambient_c);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < n; ++c) next[r] += s.thermal.a[r][c] * (temps[c] - s.thermal.ambient_c);
    for (const auto& [source, col] : s.thermal.b) {
      double watts = 0;
      for (const auto& [name, w] : s.base_power_w)
        if (name == source) watts = w;
      for (std::size_t k = 0; k < s.types.size(); ++k)
        if (s.types[k].name == source && dt_ms > 0) watts = (type_mj[k] - type_mj_at_step[k]) / dt_ms;
      for (std::size_t r = 0; r < n; ++r) next[r] += col[r] * watts;
    }
    temps = std::move(next);
    temp_c = *std::max_element(temps.begin(), temps.end());
    peak_temp_c = std::max(peak_temp_c, temp_c);
    type_mj_at_step = type_mj;
    step_start = now;
  }
  bool pending() const { return ready_head < ready.size(); }
  void drop_assigned() {
    if (ready_head == ready.size()) {
      ready.clear();
      ready_head = 0;
    }
  }
  bool run();
  Result result() const;
};

void Emulator::Impl::assign_builtin() {
  const int npes = static_cast<int>(pes.size());
  if (policy == Policy::ETF || policy == Policy::ETF_LB || policy == Policy::STF) {
    // ETF: repeatedly commit the (task, PE) pair that finishes earliest;
    // ETF_LB the same at the current speeds, ties to the PE given the fewest
    // tasks; STF the pair with the shortest execution time.
    while (pending()) {
      double best = kInf;
      std::size_t bi = ready_head;
      int bpe = -1;
      for (std::size_t i = ready_head; i < ready.size(); ++i)
        for (int pe = 0; pe < npes; ++pe) {
          const auto [j, t] = ready[i];
          if (!supports(pe, j, t)) continue;
          double f = 0;
          if (policy == Policy::STF) {
            f = ex(pe, j, t);
          } else if (policy == Policy::ETF_LB) {
            const std::size_t k = static_cast<std::size_t>(pe_type[static_cast<std::size_t>(pe)]);
            f = est_finish(j, t, pe) - ex(pe, j, t) + ex(pe, j, t) / init_slow[k] * s.types[k].slowdown();
          } else {
            f = est_finish(j, t, pe);
          }
          const bool tie_fewer = policy == Policy::ETF_LB && f == best && i == bi && bpe >= 0 &&
                                 pes[static_cast<std::size_t>(pe)].assigned < pes[static_cast<std::size_t>(bpe)].assigned;
          if (f < best || tie_fewer) {
            best = f;
            bi = i;
            bpe = pe;
          }
        }
      ++pes[static_cast<std::size_t>(bpe)].assigned;
      commit(ready[bi].first, ready[bi].second, bpe);
      // Move it to the head, keeping the others in the order they became ready.
      std::rotate(ready.begin() + static_cast<std::ptrdiff_t>(ready_head), ready.begin() + static_cast<std::ptrdiff_t>(bi),
                  ready.begin() + static_cast<std::ptrdiff_t>(bi) + 1);
      ++ready_head;
    }
    drop_assigned();
    return;
  }
  for (; ready_head < ready.size(); ++ready_head) {
    const auto [j, t] = ready[ready_head];
    int chosen = -1;
    switch (policy) {
      case Policy::MET: {
        // The fastest PE type; of its instances the one free first.
        double best_exec = kInf, best_avail = kInf;
        for (int pe = 0; pe < npes; ++pe) {
          if (!supports(pe, j, t)) continue;
          const double e = ex(pe, j, t), a = std::max(now, pes[static_cast<std::size_t>(pe)].avail);
          if (e < best_exec || (e == best_exec && a < best_avail)) {
            best_exec = e;
            best_avail = a;
            chosen = pe;
          }
        }
        break;
      }
      case Policy::EFT: {
        // This task's earliest estimated finish (ties to the lowest PE).
        double best = kInf;
        for (int pe = 0; pe < npes; ++pe)
          if (supports(pe, j, t) && est_finish(j, t, pe) < best) {
            best = est_finish(j, t, pe);
            chosen = pe;
          }
        break;
      }
      case Policy::Random: {
        std::vector<int> ok;
        for (int pe = 0; pe < npes; ++pe)
          if (supports(pe, j, t)) ok.push_back(pe);
        chosen = ok[policy_rng.below(ok.size())];
        break;
      }
      default: {  // round robin over the PEs that support the task
        for (int k = 0; k < npes && chosen < 0; ++k) {
          const int pe = (rr_next + k) % npes;
          if (supports(pe, j, t)) chosen = pe;
        }
        rr_next = (chosen + 1) % npes;
        break;
      }
    }
    commit(j, t, chosen);
  }
  drop_assigned();
}

void Emulator::Impl::plan_heft(int j) {
  const Job& job = jobs[static_cast<std::size_t>(j)];
  const App& a = app_of(j);
  const auto& r = rank[static_cast<std::size_t>(job.app)];
  const int n = static_cast<int>(a.task_types.size());
  std::vector<int> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return r[static_cast<std::size_t>(x)] > r[static_cast<std::size_t>(y)]; });
  // Each PE's timeline as it stands: the running task to its expected end,
  // then the queued tasks in order, none before its planned start. Built
  // from the actual state, so that late tasks (noise) push the plan back.
  std::vector<std::vector<std::pair<double, double>>> plans(pes.size());
  std::vector<double> free_from(pes.size());
  for (std::size_t pe = 0; pe < pes.size(); ++pe) {
    double t = free_from[pe] = pes[pe].busy ? std::max(now, pes[pe].running_end) : now;
    for (const auto& [planned, jt] : pes[pe].queue) {
      const double st = std::max(t, planned);
      t = st + ex(static_cast<int>(pe), jt.first, jt.second);
      plans[pe].emplace_back(st, t);
    }
  }
  // Insertion-based earliest finish time on each PE.
  std::vector<double> planned_finish(static_cast<std::size_t>(n), 0);
  std::vector<int> planned_pe(static_cast<std::size_t>(n), -1);
  for (int t : order) {
    double best_eft = kInf, best_est = 0;
    int best_pe = -1;
    for (int pe = 0; pe < static_cast<int>(pes.size()); ++pe) {
      if (!supports(pe, j, t)) continue;
      double ready_t = std::max(now, job.arrival);
      for (auto [p, vol] : a.preds[static_cast<std::size_t>(t)])
        ready_t = std::max(ready_t, planned_finish[static_cast<std::size_t>(p)] + s.comm_time(vol, planned_pe[static_cast<std::size_t>(p)], pe));
      const double wt = ex(pe, j, t);
      double est = std::max(ready_t, free_from[static_cast<std::size_t>(pe)]);
      for (const auto& [st, fi] : plans[static_cast<std::size_t>(pe)]) {
        // A gap must end by the next interval's start and begin before it
        // (a zero-length task at st would be queued after that interval).
        if (est + wt <= st && est < st) break;
        est = std::max(est, fi);
      }
      if (est + wt < best_eft) {
        best_eft = est + wt;
        best_est = est;
        best_pe = pe;
      }
    }
    auto& plan = plans[static_cast<std::size_t>(best_pe)];
    plan.insert(std::upper_bound(plan.begin(), plan.end(), std::make_pair(best_est, best_eft)), {best_est, best_eft});
    planned_finish[static_cast<std::size_t>(t)] = best_eft;
    planned_pe[static_cast<std::size_t>(t)] = best_pe;
    enqueue(j, t, best_pe, best_est);
  }
}

void Emulator::Impl::try_start() {
  for (int pe = 0; pe < static_cast<int>(pes.size()); ++pe) {
    Pe& p = pes[static_cast<std::size_t>(pe)];
    if (p.busy || p.queue.empty()) continue;
    const auto [j, t] = p.queue.front().second;
    Job& job = jobs[static_cast<std::size_t>(j)];
    if (job.tasks[static_cast<std::size_t>(t)].waiting > 0) continue;  // its inputs are not computed yet
    const double start = data_ready(j, t, pe);
    if (start > now) {
      events.push({start, 2, j, t});
      continue;
    }
    p.queue.erase(p.queue.begin());
    account_power(pe_type[static_cast<std::size_t>(pe)]);
    p.busy = true;
    double dur = ex(pe, j, t);
    p.running_end = now + dur;
    // The actual time at the type's frequency now (a governor may have moved it).
    const std::size_t k = static_cast<std::size_t>(pe_type[static_cast<std::size_t>(pe)]);
    const double slow = s.types[k].slowdown();
    if (slow != init_slow[k]) dur = dur / init_slow[k] * slow;
    if (w.noise > 0 && dur > 0) dur *= std::max(0.05, 1.0 + w.noise * noise_rng.normal());
    p.run_slow = slow;
    p.run_row = schedule.size();
    p.busy_from = now;
    schedule.push_back({j, t, pe, now, now + dur});
    job.tasks[static_cast<std::size_t>(t)].finish = now + dur;
    events.push({now + dur, 1, j, t});
  }
}

bool Emulator::Impl::run() {
  if (policy == Policy::External && pending()) return true;
  while (!events.empty()) {
    if (events.top().kind >= 3 && done == static_cast<std::int64_t>(jobs.size())) {  // no thermal, governor or warm-up steps past the last job
      events.pop();
      continue;
    }
    now = events.top().time;
    area += static_cast<double>(in_system) * (now - last_t);
    last_t = now;
    while (!events.empty() && events.top().time == now) {
      const Event e = events.top();
      events.pop();
      if (e.kind == 3) {
        thermal_step();
        if (!s.thermal.trip_c.empty()) throttle_step();
        if (done < static_cast<std::int64_t>(jobs.size())) events.push({now + s.thermal.step_us, 3, 0, -1});
        continue;
      }
      if (e.kind == 4) {
        govern();
        if (done < static_cast<std::int64_t>(jobs.size())) events.push({now + s.dvfs.interval_us, 4, 0, -1});
        continue;
      }
      Job& job = jobs[static_cast<std::size_t>(e.job)];
      if (e.kind == 5) {
        end_warmup();
        continue;
      }
      if (e.kind == 0) {
        if (w.trace.empty() && (e.job != next_generated || e.time != job.arrival)) continue;  // brought forward by inject_asap
        if (w.trace.empty()) next_generated = -1;
        arrive(e.job);
      } else if (e.kind == 1) {
        if (e.time != job.tasks[static_cast<std::size_t>(e.task)].finish) continue;  // moved by a frequency change
        const int pe = job.tasks[static_cast<std::size_t>(e.task)].pe;
        Pe& p = pes[static_cast<std::size_t>(pe)];
        account_power(pe_type[static_cast<std::size_t>(pe)]);
        p.busy = false;
        p.busy_time += now - schedule[p.run_row].start_us;
        p.window_busy += now - p.busy_from;
        // Re-estimate when the PE frees up from the work still queued.
        double queued = 0;
        for (const auto& [planned, jt] : p.queue) queued += ex(pe, jt.first, jt.second);
        p.avail = now + queued;
        for (auto [succ, vol] : app_of(e.job).succs[static_cast<std::size_t>(e.task)])
          if (--job.tasks[static_cast<std::size_t>(succ)].waiting == 0 && policy != Policy::HEFT) ready.emplace_back(e.job, succ);
        if (--job.left == 0) {
          ++done;
          completed_latency += now - job.arrival;
          --in_system;
          job_finished();
        }
      }
    }
    try_start();
    if (policy == Policy::External) {
      if (pending()) return true;
    } else if (policy != Policy::HEFT) {
      assign_builtin();
      try_start();
    }
  }
  if (!finished) {
    account_all();
    finished = true;
  }
  if (done != static_cast<std::int64_t>(jobs.size()))
    throw Error("soc emulator: " + std::to_string(static_cast<std::int64_t>(jobs.size()) - done) + " jobs did not finish");
  return false;
}

Result Emulator::Impl::result() const {
  if (!finished) throw Error("soc emulator: result() before the last job finished");
  Result res;
  res.schedule = schedule;
  // Energy from the end of the warm-up (or the first arrival) to the last completion.
  auto since_warm = [&](const std::vector<double>& now_v, const std::vector<double>& warm_v) {
    std::vector<double> out = now_v;
    if (warm)
      for (std::size_t i = 0; i < out.size(); ++i) out[i] -= warm_v[i];
    return out;
  };
  res.pe_energy_mj = since_warm(pe_mj, warm_pe_mj);
  res.type_energy_mj = since_warm(type_mj, warm_type_mj);
  res.dynamic_energy_mj = dynamic_mj - (warm ? warm_dynamic_mj : 0.0);
  res.static_energy_mj = static_mj - (warm ? warm_static_mj : 0.0);
  const std::vector<double> base = since_warm(base_mj, warm_base_mj);
  res.energy_mj = res.dynamic_energy_mj + res.static_energy_mj;
  for (std::size_t i = 0; i < base.size(); ++i) {
    res.base_energy_mj.emplace_back(s.base_power_w[i].first, base[i]);
    res.energy_mj += base[i];
  }
  res.peak_temperature_c = peak_temp_c;
  res.final_temperature_c = temp_c;
  res.frequency_trace = freq_trace;
  for (const auto& [app, wt] : w.mix) res.app_names.push_back(app.name);
  // Statistics over the jobs that finish from the warm-up on (all without one).
  std::vector<double> lat;
  double first = kInf, last = 0;
  for (const auto& job : jobs) {
    double fin = job.arrival;
    for (const auto& ts : job.tasks) fin = std::max(fin, ts.finish);
    last = std::max(last, fin);
    if (fin < w.warmup_us) continue;
    res.job_arrival_us.push_back(job.arrival);
    res.job_finish_us.push_back(fin);
    res.job_app.push_back(job.app);
    lat.push_back(fin - job.arrival);
    first = std::min(first, job.arrival);
  }
  if (lat.empty()) throw InvalidArgument("soc emulator: no job finished after the warm-up of " + fmt(w.warmup_us) + " us; shorten it or add jobs");
  first = std::max(first, w.warmup_us);
  res.jobs = static_cast<std::int64_t>(lat.size());
  res.makespan_us = last - first;
  res.avg_latency_us = std::accumulate(lat.begin(), lat.end(), 0.0) / static_cast<double>(lat.size());
  std::sort(lat.begin(), lat.end());
  res.p95_latency_us = lat[std::min(lat.size() - 1, static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(lat.size()))) - 1)];
  res.max_latency_us = lat.back();
  res.throughput_jobs_per_ms = res.makespan_us > 0 ? static_cast<double>(res.jobs) / (res.makespan_us / 1000.0) : 0;
  double u = 0;
  for (const auto& p : pes) {
    res.pe_utilization.push_back(res.makespan_us > 0 ? p.busy_time / res.makespan_us : 0);
    u += res.pe_utilization.back();
  }
  res.utilization = pes.empty() ? 0 : u / static_cast<double>(pes.size());
  return res;
}

// ------------------------------------------------------------------ public API

Emulator::Emulator(Soc soc, Workload w, Policy policy) : impl_(std::make_unique<Impl>(std::move(soc), std::move(w), policy)) {}
Emulator::~Emulator() = default;

bool Emulator::run() { return impl_->run(); }
std::size_t Emulator::num_pending() const { return impl_->ready.size() - impl_->ready_head; }

std::pair<int, int> Emulator::pending() const {
  if (!impl_->pending()) throw Error("soc emulator: no task is waiting for a PE");
  return impl_->ready[impl_->ready_head];
}

void Emulator::assign(int pe) {
  Impl& m = *impl_;
  if (m.policy != Policy::External) throw Error("soc emulator: assign() needs Policy::External");
  const auto [j, t] = pending();
  if (pe < 0 || pe >= static_cast<int>(m.pes.size()) || !m.supports(pe, j, t)) {
    std::string ok;
    for (int p = 0; p < static_cast<int>(m.pes.size()); ++p)
      if (m.supports(p, j, t)) ok += (ok.empty() ? "" : ", ") + std::to_string(p) + " (" + m.s.types[static_cast<std::size_t>(m.pe_type[static_cast<std::size_t>(p)])].name + ")";
    throw InvalidArgument("PE " + std::to_string(pe) + " cannot run task '" + m.app_of(j).task_names[static_cast<std::size_t>(t)] + "' of job " +
                          std::to_string(j) + "; PEs that can: " + ok);
  }
  m.commit(j, t, pe);
  ++m.ready_head;
  m.drop_assigned();
  m.try_start();
}

const Soc& Emulator::soc() const { return impl_->s; }
const Workload& Emulator::workload() const { return impl_->w; }
double Emulator::now() const { return impl_->now; }
bool Emulator::supports(int pe, int job, int task) const { return impl_->supports(pe, job, task); }
double Emulator::mean_exec(int pe, int job, int task) const { return impl_->ex(pe, job, task); }
double Emulator::pe_available(int pe) const { return std::max(impl_->now, impl_->pes[static_cast<std::size_t>(pe)].avail); }
std::size_t Emulator::pe_queue(int pe) const { return impl_->pes[static_cast<std::size_t>(pe)].queue.size(); }
double Emulator::estimated_finish(int pe, int job, int task) const { return impl_->est_finish(job, task, pe); }
double Emulator::upward_rank(int job, int task) const {
  return impl_->rank[static_cast<std::size_t>(impl_->jobs[static_cast<std::size_t>(job)].app)][static_cast<std::size_t>(task)];
}
double Emulator::job_arrival(int job) const { return impl_->jobs[static_cast<std::size_t>(job)].arrival; }
int Emulator::job_app(int job) const { return impl_->jobs[static_cast<std::size_t>(job)].app; }
int Emulator::job_tasks_left(int job) const { return impl_->jobs[static_cast<std::size_t>(job)].left; }
std::int64_t Emulator::jobs_arrived() const { return impl_->arrived; }
std::int64_t Emulator::jobs_done() const { return impl_->done; }
std::int64_t Emulator::jobs_total() const { return static_cast<std::int64_t>(impl_->jobs.size()); }
double Emulator::latency_accrued_us() const { return impl_->area; }
double Emulator::completed_latency_us() const { return impl_->completed_latency; }
double Emulator::energy_mj() {
  impl_->account_all();
  return impl_->total_mj();
}
Result Emulator::result() const { return impl_->result(); }

Result simulate(const Soc& soc, const Workload& w, Policy policy) {
  if (policy == Policy::External) throw InvalidArgument("simulate() needs a builtin scheduler (policy_names())");
  Emulator e(soc, w, policy);
  while (e.run()) {
  }
  return e.result();
}

json Result::energy_json(const Soc& soc) const {
  json by_type = json::object(), by_pe = json::array(), base = json::object();
  for (std::size_t k = 0; k < type_energy_mj.size(); ++k) by_type[soc.types[k].name] = type_energy_mj[k];
  for (std::size_t pe = 0; pe < pe_energy_mj.size(); ++pe)
    by_pe.push_back({{"pe", pe}, {"type", soc.types[static_cast<std::size_t>(soc.type_of(static_cast<int>(pe)))].name}, {"energy_mj", pe_energy_mj[pe]}});
  for (const auto& [name, mj] : base_energy_mj) base[name] = mj;
  return {{"total_mj", energy_mj}, {"dynamic_mj", dynamic_energy_mj}, {"static_mj", static_energy_mj}, {"base_mj", base},
          {"by_type_mj", by_type}, {"by_pe", by_pe}};
}

json Result::to_json(const Soc& soc, bool with_schedule) const {
  json per_app = json::object();
  for (std::size_t a = 0; a < app_names.size(); ++a) {
    double sum = 0;
    std::int64_t n = 0;
    for (std::size_t j = 0; j < job_app.size(); ++j)
      if (job_app[j] == static_cast<int>(a)) {
        sum += job_finish_us[j] - job_arrival_us[j];
        ++n;
      }
    if (n > 0) per_app[app_names[a]] = {{"jobs", n}, {"avg_latency_us", sum / static_cast<double>(n)}};
  }
  json pe_util = json::array();
  for (std::size_t pe = 0; pe < pe_utilization.size(); ++pe)
    pe_util.push_back({{"pe", pe}, {"type", soc.types[static_cast<std::size_t>(soc.type_of(static_cast<int>(pe)))].name}, {"utilization", pe_utilization[pe]}});
  json j = {{"jobs", jobs},
            {"avg_latency_us", avg_latency_us},
            {"p95_latency_us", p95_latency_us},
            {"max_latency_us", max_latency_us},
            {"makespan_us", makespan_us},
            {"throughput_jobs_per_ms", throughput_jobs_per_ms},
            {"energy_mj", energy_mj},
            {"energy", energy_json(soc)},
            {"peak_temperature_c", peak_temperature_c},
            {"final_temperature_c", final_temperature_c},
            {"utilization", utilization},
            {"per_app", per_app},
            {"pe_utilization", pe_util}};
  if (!frequency_trace.empty()) {
    json f = json::array();
    for (const auto& c : frequency_trace) f.push_back({{"time_us", c.time_us}, {"type", soc.types[static_cast<std::size_t>(c.type)].name}, {"mhz", c.mhz}});
    j["frequency_trace"] = f;
  }
  if (with_schedule) {
    json s = json::array();
    for (const auto& r : schedule)
      s.push_back({{"job", r.job}, {"task", r.task}, {"pe", r.pe}, {"pe_type", soc.types[static_cast<std::size_t>(soc.type_of(r.pe))].name},
                   {"start_us", r.start_us}, {"finish_us", r.finish_us}});
    j["schedule"] = s;
  }
  return j;
}

}  // namespace dsegym::soc
