#include "experiments/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "envs/core/columns.hpp"
#include "envs/core/error.hpp"
#include "envs/core/json_io.hpp"
#include "envs/core/files.hpp"
#include "envs/core/space.hpp"
#include "envs/core/trace.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

struct Column {
  std::string name;
  json schema;
};

std::string csv_cell(const json& v) {
  if (v.is_null()) return "";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n\r") != std::string::npos) {
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return s;
}

struct Source {
  std::string trace;
  json meta;
};

std::vector<Source> find_sources(const std::vector<std::string>& inputs) {
  std::vector<std::string> traces;
  for (const auto& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(in))
        if (e.is_regular_file() && e.path().filename() == "trace.jsonl") found.push_back(e.path().string());
      if (found.empty()) throw InvalidArgument(in + ": no trace.jsonl below this folder");
      std::sort(found.begin(), found.end());
      traces.insert(traces.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in)) {
      traces.push_back(in);
    } else {
      throw InvalidArgument(in + ": no such trace file or folder");
    }
  }
  std::vector<Source> out;
  for (const auto& t : traces) {
    const fs::path meta_path = fs::path(t).parent_path() / "run.json";
    if (!fs::exists(meta_path))
      throw InvalidArgument(t + ": no run.json beside it (" + meta_path.string() + "); it holds the action space and metric units");
    json meta = read_json_file(meta_path, "run metadata");
    if (!meta.is_object() || !meta.contains("env_spec"))
      throw InvalidArgument(meta_path.string() + ": not a dsegym run.json (missing env_spec)");
    out.push_back({t, std::move(meta)});
  }
  return out;
}

}  // namespace

ExportResult export_dataset(const std::vector<std::string>& inputs, const std::string& out, const ExportOptions& opt) {
  if (inputs.empty()) throw InvalidArgument("dataset export: give at least one trace file or folder");
  const std::string ext = fs::path(out).extension().string();
  if (ext != ".csv" && ext != ".jsonl") throw InvalidArgument(out + ": the output must end in .csv or .jsonl");
  auto sources = find_sources(inputs);
  if (!opt.env.empty()) {
    std::set<std::string> envs;
    for (const auto& src : sources) envs.insert(src.meta.value("env", ""));
    sources.erase(std::remove_if(sources.begin(), sources.end(), [&](const Source& src) { return src.meta.value("env", "") != opt.env; }),
                  sources.end());
    if (sources.empty()) {
      std::string list;
      for (const auto& e : envs) list += (list.empty() ? "" : ", ") + e;
      throw InvalidArgument("dataset export: no trace of env '" + opt.env + "'; the traces are of: " + list);
    }
  }

  // Every trace must come from the same env with the same spaces and metrics.
  const json& spec = sources.front().meta.at("env_spec");
  for (const auto& s : sources) {
    const json& other = s.meta.at("env_spec");
    for (const char* key : {"id", "action_space", "metrics"})
      if (other.value(key, json()) != spec.value(key, json()))
        throw InvalidArgument(s.trace + ": its env's " + std::string(key) + " differs from that of " + sources.front().trace +
                              "; export one env at a time with --env ID");
  }
  const SpacePtr space = Space::from_json(spec.at("action_space"), "run.json env_spec.action_space");

  const std::vector<std::string> meta_cols = {"run", "env", "agent", "seed", "episode", "step", "status", "reason", "reward", "wall_time_s", "source"};
  std::vector<Column> params;
  for (auto& c : param_columns(*space)) params.push_back({std::move(c.name), std::move(c.schema)});
  std::vector<Column> metrics;
  for (const auto& m : spec.at("metrics"))
    metrics.push_back({m.at("name").get<std::string>(),
                       {{"name", m.at("name")}, {"role", "metric"}, {"unit", m.at("unit")}, {"goal", m.at("goal")},
                        {"description", m.value("description", "")}}});
  std::set<std::string> seen(meta_cols.begin(), meta_cols.end());
  for (const auto* group : {&params, &metrics})
    for (const auto& c : *group)
      if (!seen.insert(c.name).second) throw InvalidArgument("dataset export: two columns are named '" + c.name + "'");

  ExportResult res;
  res.out_path = out;
  res.schema_path = (fs::path(out).parent_path() / fs::path(out).stem()).string() + ".schema.json";
  if (!fs::path(out).parent_path().empty()) fs::create_directories(fs::path(out).parent_path());
  const std::string tmp = out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw IoError("cannot write " + out + ": " + std::strerror(errno));
    if (ext == ".csv") {
      std::string header;
      for (const auto& c : meta_cols) header += (header.empty() ? "" : ",") + c;
      for (const auto* group : {&params, &metrics})
        for (const auto& c : *group) header += "," + csv_cell(c.name);
      f << header << "\n";
    }
    std::vector<json> values;
    std::set<std::string> seen;
    for (const auto& src : sources) {
      const std::string env_options = src.meta.value("env_options", json::object()).dump();
      const TraceFile tf = read_trace(src.trace);
      res.truncated_tails += tf.truncated_tail ? 1 : 0;
      ++res.files;
      for (const auto& r : tf.rows) {
        const std::string where = src.trace + " step " + std::to_string(r.step);
        Value action;
        try {
          action = space->parse(to_json(r.action), "action");
        } catch (const InvalidArgument& e) {
          throw InvalidArgument(where + ": the action does not fit the run's action space: " + e.what());
        }
        if (opt.dedupe) {
          json m = json::object();
          for (const auto& [k, v] : r.metrics.items()) m[k] = std::isfinite(v) ? json(v) : json(nullptr);
          if (!seen.insert(env_options + to_json(action).dump() + status_name(r.status.code) + m.dump()).second) {
            ++res.duplicates;
            continue;
          }
        }
        values = {r.run, r.env, r.agent, r.seed, r.episode, r.step, status_name(r.status.code), r.status.reason,
                  std::isfinite(r.reward) ? json(r.reward) : json(nullptr), r.wall_time_s, r.source.empty() ? json("simulator") : json(r.source)};
        param_values(*space, action, values);
        for (const auto& m : metrics) {
          const double* v = r.metrics.find(m.name);
          values.push_back(v && std::isfinite(*v) ? json(*v) : json(nullptr));
        }
        if (ext == ".csv") {
          std::string line;
          for (std::size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + csv_cell(values[i]);
          f << line << "\n";
        } else {
          json o = json::object();
          std::size_t i = 0;
          for (const auto& c : meta_cols) o[c] = values[i++];
          for (const auto* group : {&params, &metrics})
            for (const auto& c : *group) o[c.name] = values[i++];
          f << o.dump() << "\n";
        }
        ++res.rows;
      }
    }
    f.close();
    check_written(f, tmp);
  }
  fs::rename(tmp, out);

  json columns = json::array();
  for (const auto& c : meta_cols) columns.push_back({{"name", c}, {"role", "meta"}});
  for (const auto* group : {&params, &metrics})
    for (const auto& c : *group) columns.push_back(c.schema);
  // The env options of the traces (a proxy trained on them applies to an env with one of these).
  json env_options = json::array();
  for (const auto& src : sources) {
    const json o = src.meta.value("env_options", json::object());
    if (std::find(env_options.begin(), env_options.end(), o) == env_options.end()) env_options.push_back(o);
  }
  const json schema = {{"format", "dsegym-dataset"}, {"version", 1}, {"env", spec.at("id")}, {"env_options", env_options},
                       {"rows", res.rows}, {"files", res.files}, {"duplicates_dropped", res.duplicates},
                       {"data", fs::path(out).filename().string()}, {"columns", columns}};
  write_json_atomically(res.schema_path, schema);
  return res;
}

}  // namespace dsegym
