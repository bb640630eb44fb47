#include "simulators/accel/workload.hpp"

#include <filesystem>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/files.hpp"
#include "base/json_io.hpp"

namespace dsegym::accel {

using nlohmann::json;

std::int64_t Workload::macs() const {
  std::int64_t m = 0;
  for (const auto& l : layers) m += l.macs();
  return m;
}

namespace {

std::string data_dir() {
  if (const char* env = std::getenv("DSEGYM_DATA")) return std::string(env) + "/accel";
  return std::string(DSEGYM_SOURCE_DIR) + "/data/accel";
}

std::int64_t positive(const json& l, const char* key, const std::string& where, std::int64_t fallback) {
  if (!l.contains(key)) {
    if (fallback > 0) return fallback;
    throw InvalidArgument(where + "." + key + ": missing (required)");
  }
  if (!l.at(key).is_number_integer() || l.at(key).get<std::int64_t>() < 1)
    throw InvalidArgument(where + "." + key + ": expected a positive integer, got " + l.at(key).dump());
  return l.at(key).get<std::int64_t>();
}

}  // namespace

std::vector<std::string> builtin_workloads() {
  return {"alexnet", "vgg16", "resnet18", "resnet50", "mobilenetv2", "bert_base_encoder"};
}

Workload load_workload(const std::string& path) { return parse_workload(read_json_file(path, "workload"), path); }

Workload parse_workload(const json& j, const std::string& path) {
  if (!j.is_object()) throw InvalidArgument("workload " + path + ": expected a JSON object with 'layers'");
  check_keys(j, {"name", "source", "layers"}, path);
  Workload w;
  w.name = j.value("name", std::filesystem::path(path).stem().string());
  w.source = j.value("source", "");
  if (!j.contains("layers") || !j.at("layers").is_array() || j.at("layers").empty())
    throw InvalidArgument(path + ".layers: expected a non-empty list of layers");
  for (std::size_t i = 0; i < j.at("layers").size(); ++i) {
    const json& l = j.at("layers")[i];
    const std::string where = path + ".layers[" + std::to_string(i) + "]";
    const std::string type = l.value("type", "");
    Layer layer;
    layer.name = l.value("name", "layer" + std::to_string(i));
    if (type == "gemm") {
      check_keys(l, {"name", "type", "M", "N", "K", "batch"}, where);
      layer.size[P] = positive(l, "M", where, 0);
      layer.size[K] = positive(l, "N", where, 0);
      layer.size[C] = positive(l, "K", where, 0);
      layer.size[N] = positive(l, "batch", where, 1);
    } else if (type == "conv" || type == "depthwise") {
      check_keys(l, {"name", "type", "N", "K", "C", "P", "Q", "R", "S", "stride"}, where);
      layer.size[N] = positive(l, "N", where, 1);
      layer.size[K] = positive(l, "K", where, 0);
      layer.size[C] = positive(l, "C", where, 0);
      layer.size[P] = positive(l, "P", where, 0);
      layer.size[Q] = positive(l, "Q", where, 0);
      layer.size[R] = positive(l, "R", where, 0);
      layer.size[S] = positive(l, "S", where, 0);
      const std::int64_t stride = positive(l, "stride", where, 1);
      if (stride > (1 << 20)) throw InvalidArgument(where + ".stride: " + std::to_string(stride) + " is outside 1..1048576");
      layer.stride = static_cast<int>(stride);
      layer.depthwise = type == "depthwise";
      if (layer.depthwise && layer.size[C] != 1)
        throw InvalidArgument(where + ".C: a depthwise layer has C = 1 (one input channel per output channel), got " + std::to_string(layer.size[C]));
    } else {
      throw InvalidArgument(where + ".type: '" + type + "' is not valid; choices: conv, depthwise, gemm");
    }
    layer.check(where);
    w.layers.push_back(layer);
  }
  return w;
}

Workload resolve_workload(const std::string& name) {
  for (const auto& b : builtin_workloads())
    if (b == name) return load_workload(data_dir() + "/workloads/" + b + ".json");
  const std::string path = user_file(name, "workload");
  if (std::filesystem::exists(path)) return load_workload(path);
  std::string list;
  for (const auto& b : builtin_workloads()) list += (list.empty() ? "" : ", ") + b;
  throw InvalidArgument("workload '" + excerpt(name, 120) + "' is neither a built-in name (" + list + ") nor an existing file");
}

}  // namespace dsegym::accel

namespace dsegym::accel {

Arch parse_arch(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgument(where + ": expected an architecture object, got " + j.dump().substr(0, 80));
  check_keys(j, {"array", "rows", "cols", "rf_words", "glb_words", "glb_words_per_cycle", "noc_words_per_cycle", "dram_words_per_cycle",
                 "clock_mhz", "node"},
             where);
  Arch a;
  // Numbers are range-checked as doubles before any conversion, so 1e10 rows
  // is an error, never a wrapped integer.
  auto num = [&](const char* key, double lo, double hi, bool integer) -> std::optional<double> {
    if (!j.contains(key)) return std::nullopt;
    const json& v = j.at(key);
    const double x = v.is_number() ? v.get<double>() : std::nan("");
    if (!(x >= lo && x <= hi) || (integer && x != std::floor(x))) {
      std::ostringstream range;
      range << (integer ? "an integer " : "a number ") << "in " << lo << ".." << hi;
      throw InvalidArgument(where + "." + key + ": expected " + range.str() + ", got " + v.dump().substr(0, 80));
    }
    return x;
  };
  if (j.contains("array")) {
    if (!j.at("array").is_string()) throw InvalidArgument(where + ".array: expected \"spatial\" or \"systolic\", got " + j.at("array").dump().substr(0, 80));
    a.array = array_kind_from_name(j.at("array").get<std::string>());
  }
  if (auto v = num("rows", 1, 65536, true)) a.rows = static_cast<int>(*v);
  if (auto v = num("cols", 1, 65536, true)) a.cols = static_cast<int>(*v);
  if (auto v = num("rf_words", 1, 1099511627776.0, true)) a.rf_words = static_cast<std::int64_t>(*v);
  if (auto v = num("glb_words", 1, 1099511627776.0, true)) a.glb_words = static_cast<std::int64_t>(*v);
  if (auto v = num("glb_words_per_cycle", 1e-6, 1e12, false)) a.glb_words_per_cycle = *v;
  if (auto v = num("noc_words_per_cycle", 1e-6, 1e12, false)) a.noc_words_per_cycle = *v;
  if (auto v = num("dram_words_per_cycle", 1e-6, 1e12, false)) a.dram_words_per_cycle = *v;
  if (auto v = num("clock_mhz", 1e-6, 1e6, false)) a.clock_mhz = *v;
  if (j.contains("node") && !j.at("node").is_string()) throw InvalidArgument(where + ".node: expected \"45nm\" or \"16nm\", got " + j.at("node").dump().substr(0, 80));
  apply_energy_table(a, j.value("node", "45nm"));
  a.check(where);
  return a;
}

nlohmann::json arch_to_json(const Arch& a) {
  return {{"array", array_kind_name(a.array)},
          {"rows", a.rows},
          {"cols", a.cols},
          {"rf_words", a.rf_words},
          {"glb_words", a.glb_words},
          {"glb_words_per_cycle", a.glb_words_per_cycle},
          {"noc_words_per_cycle", a.noc_words_per_cycle},
          {"dram_words_per_cycle", a.dram_words_per_cycle},
          {"clock_mhz", a.clock_mhz},
          {"node", a.energy.node},
          {"energy_pj", {{"mac", a.energy.mac}, {"add", a.energy.add}, {"hop", a.energy.hop}, {"rf", a.array == ArrayKind::Spatial ? a.e_rf() : 0.0},
                         {"glb", a.e_glb()}, {"dram", a.energy.dram}}}};
}

namespace {
const char* const kLevels[] = {"dram", "glb", "spatial", "rf"};

int dim_of(const std::string& name) {
  for (int d = 0; d < kDims; ++d)
    if (name == dim_name(d)) return d;
  return -1;
}

std::string order_string(const std::array<int, kDims>& o) {
  std::string s;
  for (int d : o) s += dim_name(d);
  return s;
}

std::array<int, kDims> parse_order(const json& j, const std::string& where) {
  const std::string s = j.is_string() ? j.get<std::string>() : "";
  std::array<int, kDims> o{};
  std::array<bool, kDims> seen{};
  bool ok = s.size() == kDims;
  for (std::size_t i = 0; ok && i < s.size(); ++i) {
    const int d = dim_of(std::string(1, s[i]));
    ok = d >= 0 && !seen[static_cast<std::size_t>(d)];
    if (ok) {
      seen[static_cast<std::size_t>(d)] = true;
      o[i] = d;
    }
  }
  if (!ok) throw InvalidArgument(where + ": expected the 7 loops N, K, C, P, Q, R, S in some order, outermost first (e.g. \"NKCPQRS\"), got " + j.dump());
  return o;
}
}  // namespace

Mapping parse_mapping(const json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgument(where + ": expected a mapping object, got " + j.dump());
  check_keys(j, {"dataflow", "fold_order", "stream_chunks", "rows_used", "cols_used", "dram", "glb", "spatial", "rf", "rows", "cols", "dram_order", "glb_order"}, where);
  Mapping m;
  if (j.contains("dataflow")) {
    if (!j.at("dataflow").is_string()) throw InvalidArgument(where + ".dataflow: expected ws, os or is, got " + j.at("dataflow").dump().substr(0, 80));
    m.dataflow = dataflow_from_name(j.at("dataflow").get<std::string>());
  }
  if (j.contains("stream_chunks")) {
    const json& v = j.at("stream_chunks");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > kMaxDimSize)
      throw InvalidArgument(where + ".stream_chunks: expected an integer in 1.." + std::to_string(kMaxDimSize) + ", got " + v.dump().substr(0, 80));
    m.stream_chunks = v.get<std::int64_t>();
  }
  for (const char* key : {"rows_used", "cols_used"})
    if (j.contains(key)) {
      const json& v = j.at(key);
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 65536)
        throw InvalidArgument(where + "." + key + ": expected an integer in 1..65536, got " + v.dump().substr(0, 80));
      (std::string(key) == "rows_used" ? m.rows_used : m.cols_used) = v.get<std::int64_t>();
    }
  if (j.contains("fold_order")) {
    const json& v = j.at("fold_order");
    if (!v.is_string() || (v != "rows" && v != "cols"))
      throw InvalidArgument(where + ".fold_order: expected \"rows\" or \"cols\" (the outer fold loop), got " + v.dump().substr(0, 80));
    m.fold_rows_outer = v == "rows";
  }
  for (int lvl = 0; lvl < 4; ++lvl) {
    if (!j.contains(kLevels[lvl])) continue;
    const json& f = j.at(kLevels[lvl]);
    const std::string w = where + "." + kLevels[lvl];
    if (!f.is_object()) throw InvalidArgument(w + ": expected {dimension: factor}, got " + f.dump());
    for (const auto& [key, v] : f.items()) {
      const int d = dim_of(key);
      if (d < 0) throw InvalidArgument(w + "." + key + ": not a dimension; valid: N, K, C, P, Q, R, S");
      if (!v.is_number_integer() || v.get<std::int64_t>() < 1) throw InvalidArgument(w + "." + key + ": expected a positive integer, got " + v.dump());
      m.factors[static_cast<std::size_t>(lvl)][static_cast<std::size_t>(d)] = v.get<std::int64_t>();
    }
  }
  for (const char* axis : {"rows", "cols"}) {
    if (!j.contains(axis)) continue;
    const json& list = j.at(axis);
    if (!list.is_array()) throw InvalidArgument(where + "." + axis + ": expected a list of dimensions, got " + list.dump());
    for (const auto& v : list) {
      const int d = v.is_string() ? dim_of(v.get<std::string>()) : -1;
      if (d < 0) throw InvalidArgument(where + "." + axis + ": " + v.dump() + " is not a dimension; valid: N, K, C, P, Q, R, S");
      m.spatial_axis[static_cast<std::size_t>(d)] = std::string(axis) == "rows" ? 0 : 1;
    }
  }
  if (j.contains("dram_order")) m.dram_order = parse_order(j.at("dram_order"), where + ".dram_order");
  if (j.contains("glb_order")) m.glb_order = parse_order(j.at("glb_order"), where + ".glb_order");
  return m;
}

json mapping_to_json(const Mapping& m, ArrayKind kind) {
  json j = json::object();
  if (kind == ArrayKind::Systolic) {
    json j = {{"dataflow", dataflow_name(m.dataflow)}, {"fold_order", m.fold_rows_outer ? "rows" : "cols"}, {"stream_chunks", m.stream_chunks}};
    if (m.rows_used > 0) j["rows_used"] = m.rows_used;
    if (m.cols_used > 0) j["cols_used"] = m.cols_used;
    return j;
  }
  for (int lvl = 0; lvl < 4; ++lvl) {
    json f = json::object();
    for (int d = 0; d < kDims; ++d)
      if (m.factors[static_cast<std::size_t>(lvl)][static_cast<std::size_t>(d)] > 1) f[dim_name(d)] = m.factors[static_cast<std::size_t>(lvl)][static_cast<std::size_t>(d)];
    j[kLevels[lvl]] = f;
  }
  json rows = json::array(), cols = json::array();
  for (int d = 0; d < kDims; ++d)
    if (m.factors[2][static_cast<std::size_t>(d)] > 1) (m.spatial_axis[static_cast<std::size_t>(d)] == 0 ? rows : cols).push_back(dim_name(d));
  j["rows"] = rows;
  j["cols"] = cols;
  j["dram_order"] = order_string(m.dram_order);
  j["glb_order"] = order_string(m.glb_order);
  return j;
}

}  // namespace dsegym::accel
