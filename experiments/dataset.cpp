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
#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/files.hpp"
#include "envs/core/space.hpp"
#include "envs/core/trace.hpp"
#include "proxies/dataset.hpp"

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

namespace {

std::int64_t gcd64(std::int64_t a, std::int64_t b) {
  while (b) a = std::exchange(b, a % b);
  return a < 0 ? -a : a;
}

bool pow2_value(std::int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

}  // namespace

ImportResult import_dataset(const std::string& file, const ImportOptions& opt, const std::string& out) {
  if (fs::path(out).extension() != ".csv") throw InvalidArgument("dataset import: --out must end in .csv, got " + out);
  std::vector<proxy::CsvTable> tables;
  tables.push_back(proxy::read_csv_table(file));
  if (tables.front().rows.empty()) throw InvalidArgument(file + ": no data rows below the header");
  for (const auto& j : opt.join) {
    tables.push_back(proxy::read_csv_table(j));
    if (tables.back().rows.size() != tables.front().rows.size())
      throw InvalidArgument("dataset import: " + j + " has " + std::to_string(tables.back().rows.size()) + " data rows, " + file + " has " +
                            std::to_string(tables.front().rows.size()) + "; --join pairs row i with row i");
  }
  // Every column: which table, which field.
  struct Col {
    std::string name;
    std::size_t table, field;
  };
  std::vector<Col> cols;
  std::map<std::string, std::size_t> by_name;
  for (std::size_t t = 0; t < tables.size(); ++t)
    for (std::size_t i = 0; i < tables[t].header.size(); ++i) {
      const std::string& n = tables[t].header[i];
      if (n.empty()) throw InvalidArgument(tables[t].path + ":1: column " + std::to_string(i + 1) + " has no name");
      if (!by_name.emplace(n, cols.size()).second) throw InvalidArgument(tables[t].path + ":1: column '" + n + "' appears twice in the inputs");
      cols.push_back({n, t, i});
    }
  std::string names;
  for (const auto& c : cols) names += (names.empty() ? "" : ", ") + c.name;
  auto need = [&](const std::string& n, const char* what) {
    if (!by_name.count(n)) throw InvalidArgument(std::string("dataset import: ") + what + " '" + n + "' is not a column; columns: " + names);
  };
  if (opt.targets.empty()) throw InvalidArgument("dataset import: give --targets, the columns to predict");
  for (const auto& n : opt.targets) need(n, "--targets");
  for (const auto& n : opt.drop) need(n, "--drop");
  const std::set<std::string> valid_kinds = {"real", "integer", "ordinal", "categorical"};
  for (const auto& [n, k] : opt.kinds) {
    need(n, "--kind");
    if (!valid_kinds.count(k)) throw InvalidArgument("dataset import: --kind " + n + "=" + k + ": valid kinds are real, integer, ordinal, categorical");
  }
  auto listed = [](const std::vector<std::string>& v, const std::string& n) { return std::find(v.begin(), v.end(), n) != v.end(); };
  const std::size_t n_rows = tables.front().rows.size();
  auto where = [&](const Col& c, std::size_t r) { return tables[c.table].path + ":" + std::to_string(tables[c.table].lines[r]); };
  auto field = [&](const Col& c, std::size_t r) -> const std::string& { return tables[c.table].rows[r][c.field]; };

  ImportResult res;
  std::vector<std::pair<Col, json>> params;  // column and its space
  std::vector<std::vector<json>> param_cells(n_rows);
  for (const auto& c : cols) {
    if (listed(opt.targets, c.name) || listed(opt.drop, c.name)) continue;
    std::vector<json> v(n_rows);
    bool numbers = true, integers = true;
    for (std::size_t r = 0; r < n_rows; ++r) {
      v[r] = proxy::cell_json(field(c, r));
      if (v[r].is_null())
        throw InvalidArgument(where(c, r) + ": column '" + c.name + "' is empty; missing values are not supported (fill them, or leave the column out with --drop " +
                              c.name + ")");
      numbers = numbers && v[r].is_number();
      integers = integers && v[r].is_number_integer();
    }
    const std::string forced = opt.kinds.count(c.name) ? opt.kinds.at(c.name) : "";
    auto first_bad = [&](auto&& ok) {
      for (std::size_t r = 0; r < n_rows; ++r)
        if (!ok(v[r])) return r;
      return n_rows;
    };
    if ((forced == "integer" || forced == "ordinal") && !integers) {
      const std::size_t r = first_bad([](const json& x) { return x.is_number_integer(); });
      throw InvalidArgument(where(c, r) + ": column '" + c.name + "' is --kind " + forced + " but holds '" + field(c, r) + "' (integers only)");
    }
    if (forced == "real" && !numbers) {
      const std::size_t r = first_bad([](const json& x) { return x.is_number(); });
      throw InvalidArgument(where(c, r) + ": column '" + c.name + "' is --kind real but holds '" + field(c, r) + "' (numbers only)");
    }
    const std::string kind = !forced.empty() ? forced : !numbers ? "categorical" : integers ? "integer" : "real";
    json space;
    if (kind == "categorical") {
      std::set<std::string> labels;
      for (std::size_t r = 0; r < n_rows; ++r) labels.insert(proxy::cell_text(v[r]));
      if (labels.size() < 2) {
        res.constant.push_back(c.name);
        continue;
      }
      for (std::size_t r = 0; r < n_rows; ++r) v[r] = proxy::cell_text(v[r]);
      space = {{"type", "categorical"}, {"labels", std::vector<std::string>(labels.begin(), labels.end())}};
    } else if (kind == "real") {
      double lo = v[0].get<double>(), hi = lo;
      for (const auto& x : v) {
        lo = std::min(lo, x.get<double>());
        hi = std::max(hi, x.get<double>());
      }
      if (!std::isfinite(lo) || !std::isfinite(hi)) throw InvalidArgument("dataset import: column '" + c.name + "' holds a value that is not finite");
      if (lo == hi) {
        res.constant.push_back(c.name);
        continue;
      }
      space = {{"type", "box"}, {"low", lo}, {"high", hi}};
      if (lo > 0 && hi / lo >= 1000) space["log"] = true;
    } else {
      std::set<std::int64_t> distinct;
      for (const auto& x : v) distinct.insert(x.get<std::int64_t>());
      if (distinct.size() < 2) {
        res.constant.push_back(c.name);
        continue;
      }
      const std::int64_t lo = *distinct.begin(), hi = *distinct.rbegin();
      const bool pow2 = std::all_of(distinct.begin(), distinct.end(), pow2_value) && (distinct.size() >= 3 || kind == "ordinal");
      if (pow2) {
        space = {{"type", "integer"}, {"low", lo}, {"high", hi}, {"scale", "pow2"}};
      } else {
        std::int64_t step = 0;
        for (auto x : distinct) step = gcd64(step, x - lo);
        space = {{"type", "integer"}, {"low", lo}, {"high", hi}, {"step", step}};
      }
    }
    res.kinds[c.name] = kind == "integer" && space.value("scale", "") == "pow2" ? "ordinal" : kind;
    params.emplace_back(c, space);
    for (std::size_t r = 0; r < n_rows; ++r) param_cells[r].push_back(std::move(v[r]));
  }
  if (params.empty()) throw InvalidArgument("dataset import: no parameter columns left (every column is a target, dropped or constant)");
  // Targets: numbers in every row.
  std::vector<Col> targets;
  std::vector<std::vector<double>> target_values(n_rows);
  for (const auto& n : opt.targets) {
    const Col& c = cols[by_name.at(n)];
    targets.push_back(c);
    for (std::size_t r = 0; r < n_rows; ++r) {
      const json x = proxy::cell_json(field(c, r));
      if (!x.is_number() || !std::isfinite(x.get<double>()))
        throw InvalidArgument(where(c, r) + ": target '" + n + "' holds '" + field(c, r) + "'; targets must be finite numbers in every row");
      target_values[r].push_back(x.get<double>());
    }
  }

  DictSpace::Children children;
  for (const auto& [c, sp] : params) children.emplace_back(c.name, Space::from_json(sp, "dataset import column '" + c.name + "'"));
  const DictSpace space(children);
  json columns = json::array();
  for (auto& pc : param_columns(space)) columns.push_back(std::move(pc.schema));
  for (const auto& c : targets) columns.push_back({{"name", c.name}, {"role", "metric"}, {"unit", "1"}, {"goal", "none"}, {"description", "imported from " + tables[c.table].path}});

  res.out_path = out;
  res.rows = n_rows;
  res.schema_path = (fs::path(out).parent_path() / fs::path(out).stem()).string() + ".schema.json";
  if (!fs::path(out).parent_path().empty()) fs::create_directories(fs::path(out).parent_path());
  std::string text;
  {
    std::string header;
    for (const auto& [c, sp] : params) header += (header.empty() ? "" : ",") + csv_cell(c.name);
    for (const auto& c : targets) header += "," + csv_cell(c.name);
    text = header + "\n";
  }
  for (std::size_t r = 0; r < n_rows; ++r) {
    std::string line;
    for (std::size_t i = 0; i < param_cells[r].size(); ++i) line += (i ? "," : "") + csv_cell(param_cells[r][i]);
    for (double x : target_values[r]) line += "," + csv_cell(json(x));
    text += line + "\n";
  }
  write_file_atomically(out, text);
  json files = json::array({file});
  for (const auto& j : opt.join) files.push_back(j);
  write_json_atomically(res.schema_path, {{"format", "dsegym-dataset"}, {"version", 1}, {"env", ""}, {"env_options", json::array()},
                                          {"rows", n_rows}, {"imported_from", files}, {"data", fs::path(out).filename().string()},
                                          {"columns", columns}});
  return res;
}

}  // namespace dsegym
