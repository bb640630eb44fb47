#include "proxies/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/rng.hpp"

namespace dsegym::proxy {

namespace fs = std::filesystem;

std::size_t Dataset::metric_index(const std::string& name) const {
  std::string valid;
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].at("name") == name) return i;
    valid += (valid.empty() ? "" : ", ") + metrics[i].at("name").get<std::string>();
  }
  throw InvalidArgument(path + ": no metric column '" + name + "'; metrics: " + valid);
}

namespace {

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  cells.push_back(std::move(cell));
  return cells;
}

}  // namespace

CsvTable read_csv_table(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InvalidArgument(path + ": cannot open file");
  CsvTable t;
  t.path = path;
  std::string line;
  if (!std::getline(f, line)) throw InvalidArgument(path + ": empty file (a CSV with a header line is expected)");
  t.header = split_csv(line);
  std::size_t lineno = 1;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto cells = split_csv(line);
    if (cells.size() != t.header.size())
      throw InvalidArgument(path + ":" + std::to_string(lineno) + ": " + std::to_string(cells.size()) + " cells, the header has " +
                            std::to_string(t.header.size()));
    t.rows.push_back(std::move(cells));
    t.lines.push_back(lineno);
  }
  return t;
}

json cell_json(const std::string& s) {
  if (s.empty()) return nullptr;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end && *end == '\0') {
    if (s.find_first_of(".eE") == std::string::npos && std::abs(v) < 9e15) return static_cast<std::int64_t>(v);
    return v;
  }
  if (s == "true" || s == "false") return s == "true";
  return s;
}


// A scalar value as text: labels as they are, numbers without a trailing ".0".
std::string cell_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == std::floor(d) && std::abs(d) < 9e15) return std::to_string(static_cast<std::int64_t>(d));
  }
  return v.dump();
}

Dataset load_dataset(const std::string& path) {
  Dataset d;
  d.path = path;
  const fs::path p(path);
  const std::string ext = p.extension().string();
  if (ext != ".csv" && ext != ".jsonl") throw InvalidArgument(path + ": a dataset is a .csv or .jsonl file written by `dsegym dataset export`");
  const fs::path schema_path = p.parent_path() / (p.stem().string() + ".schema.json");
  if (!fs::exists(schema_path))
    throw InvalidArgument(path + ": its schema " + schema_path.string() + " is missing (dataset export writes it beside the data)");
  d.schema = read_json_file(schema_path, "dataset schema");
  if (!d.schema.is_object() || d.schema.value("format", "") != "dsegym-dataset")
    throw InvalidArgument(schema_path.string() + ": not a dsegym dataset schema");
  for (const auto& c : d.schema.at("columns")) {
    if (c.value("role", "") == "parameter") d.params.push_back(c);
    if (c.value("role", "") == "metric") d.metrics.push_back(c);
  }
  if (d.params.empty()) throw InvalidArgument(schema_path.string() + ": no parameter columns");
  auto add_row = [&](const std::function<json(const std::string&)>& get, const std::string& where) {
    std::vector<json> cells;
    for (const auto& c : d.params) {
      json v = get(c.at("name").get<std::string>());
      if (v.is_null()) throw InvalidArgument(where + ": parameter '" + c.at("name").get<std::string>() + "' is empty");
      cells.push_back(std::move(v));
    }
    std::vector<double> vals;
    for (const auto& m : d.metrics) {
      const json v = get(m.at("name").get<std::string>());
      vals.push_back(v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN());
    }
    const json st = get("status"), src = get("source");
    // Rows whose metrics a proxy predicted do not count as data.
    d.status.push_back(src.is_string() && src.get<std::string>() == "proxy" ? "proxy" : st.is_string() ? st.get<std::string>() : "ok");
    d.cells.push_back(std::move(cells));
    d.values.push_back(std::move(vals));
  };
  if (ext == ".csv") {
    const CsvTable table = read_csv_table(path);
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < table.header.size(); ++i) col[table.header[i]] = i;
    for (const auto& c : d.params)
      if (!col.count(c.at("name").get<std::string>()))
        throw InvalidArgument(path + ": the header lacks parameter column '" + c.at("name").get<std::string>() + "' of the schema");
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
      const auto& cells = table.rows[r];
      add_row([&](const std::string& name) { return col.count(name) ? cell_json(cells[col.at(name)]) : json(nullptr); },
              path + ":" + std::to_string(table.lines[r]));
    }
  } else {
    std::ifstream f(path);
    if (!f) throw InvalidArgument(path + ": cannot open file");
    std::string line;
    std::size_t lineno = 0;
    while (std::getline(f, line)) {
      ++lineno;
      if (line.empty()) continue;
      const json o = parse_json(line, path + ":" + std::to_string(lineno));
      if (!o.is_object()) throw InvalidArgument(path + ":" + std::to_string(lineno) + ": not a JSON object");
      add_row([&](const std::string& name) { return o.value(name, json(nullptr)); }, path + ":" + std::to_string(lineno));
    }
  }
  return d;
}

Encoder::Encoder(std::vector<json> param_schemas, bool one_hot) : params_(std::move(param_schemas)), one_hot_(one_hot) {
  for (const auto& p : params_) {
    Col c;
    c.space = Space::from_json(p.at("space"), "parameter " + p.at("name").get<std::string>());
    c.element = p.value("element", std::int64_t{-1});
    c.cardinality = p.value("cardinality", std::int64_t{0});
    c.categorical = p.value("kind", "") == "categorical";
    width_ += c.categorical && one_hot_ ? static_cast<std::size_t>(c.cardinality) : 1;
    if (c.element < 0 && c.cardinality > 0 && c.cardinality <= 4096) {
      for (std::int64_t k = 0; k < c.cardinality; ++k) {
        const json v = to_json(c.space->from_indices({k}));
        c.by_label[cell_text(v)] = k;
        if (v.is_number_integer()) c.by_number[v.get<std::int64_t>()] = k;
      }
    } else if (c.element < 0 && c.cardinality == 0) {
      const json sp = p.at("space");
      if (sp.value("type", "") == "box" && sp.contains("low") && sp.at("low").is_number() && sp.at("high").is_number()) {
        c.fast_real = true;
        c.lo = sp.at("low").get<double>();
        c.hi = sp.at("high").get<double>();
        c.log = sp.value("log", false);
      }
    }
    cols_.push_back(std::move(c));
  }
}

void Encoder::encode(const std::vector<json>& cells, double* out) const {
  if (cells.size() != cols_.size())
    throw InvalidArgument("encoder: " + std::to_string(cells.size()) + " parameter values, the model has " + std::to_string(cols_.size()));
  for (std::size_t i = 0; i < cols_.size(); ++i) {
    const Col& c = cols_[i];
    if (!c.by_label.empty()) {  // a scalar discrete knob
      std::int64_t idx = -1;
      if (cells[i].is_number_integer()) {
        auto it = c.by_number.find(cells[i].get<std::int64_t>());
        if (it != c.by_number.end()) idx = it->second;
      }
      if (idx < 0) {
        auto it = cells[i].is_string() ? c.by_label.find(cells[i].get_ref<const std::string&>()) : c.by_label.find(cell_text(cells[i]));
        if (it != c.by_label.end()) idx = it->second;
      }
      if (idx >= 0) {
        if (c.categorical && one_hot_) {
          for (std::int64_t k = 0; k < c.cardinality; ++k) out[k] = k == idx ? 1.0 : 0.0;
          out += c.cardinality;
        } else {
          *out++ = c.cardinality > 1 ? static_cast<double>(idx) / static_cast<double>(c.cardinality - 1) : 0.0;
        }
        continue;
      }
    } else if (c.fast_real && cells[i].is_number()) {
      const double v = cells[i].get<double>();
      if (v >= c.lo && v <= c.hi) {
        *out++ = c.hi > c.lo ? (c.log ? std::log(v / c.lo) / std::log(c.hi / c.lo) : (v - c.lo) / (c.hi - c.lo)) : 0.0;
        continue;
      }
    }
    // The general path (vector elements, and values the fast path does not know, for the error message).
    const std::string name = params_[i].at("name").get<std::string>();
    json whole = cells[i];
    std::size_t leaf = 0;
    if (c.element >= 0) {  // a vector knob: place the element into a valid vector
      const Value lo = c.space->decode(std::vector<double>(c.space->dim(), 0.0));
      whole = to_json(lo);
      whole[static_cast<std::size_t>(c.element)] = cells[i];
      leaf = static_cast<std::size_t>(c.element);
    }
    Value v;
    try {
      v = c.space->parse(whole, name);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("parameter '" + name + "': " + e.what());
    }
    if (c.cardinality > 0) {
      const std::int64_t idx = c.space->to_indices(v)[leaf];
      if (c.categorical && one_hot_) {
        for (std::int64_t k = 0; k < c.cardinality; ++k) out[k] = k == idx ? 1.0 : 0.0;
        out += c.cardinality;
        continue;
      }
      *out++ = c.cardinality > 1 ? static_cast<double>(idx) / static_cast<double>(c.cardinality - 1) : 0.0;
    } else {
      *out++ = c.space->encode(v)[leaf];
    }
  }
}

Eigen::MatrixXd Encoder::encode_rows(const std::vector<std::vector<json>>& rows) const {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(width_));
  for (std::size_t r = 0; r < rows.size(); ++r) encode(rows[r], X.row(static_cast<Eigen::Index>(r)).data());
  return X;
}

namespace {
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  Rng rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng.below(i)]);
  return p;
}
}  // namespace

Split split_rows(std::size_t n, double validation_fraction, double test_fraction, std::uint64_t seed) {
  if (validation_fraction < 0 || test_fraction < 0 || validation_fraction + test_fraction >= 1)
    throw InvalidArgument("split: validation and test fractions must be >= 0 and sum below 1");
  const auto p = permutation(n, seed);
  const auto nt = static_cast<std::size_t>(std::round(test_fraction * static_cast<double>(n)));
  const auto nv = static_cast<std::size_t>(std::round(validation_fraction * static_cast<double>(n)));
  Split s;
  s.test.assign(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(nt));
  s.validation.assign(p.begin() + static_cast<std::ptrdiff_t>(nt), p.begin() + static_cast<std::ptrdiff_t>(nt + nv));
  s.train.assign(p.begin() + static_cast<std::ptrdiff_t>(nt + nv), p.end());
  return s;
}

std::vector<std::vector<std::size_t>> k_folds(std::size_t n, int k, std::uint64_t seed) {
  if (k < 2 || static_cast<std::size_t>(k) > n) throw InvalidArgument("k-fold: need 2 <= k <= rows (" + std::to_string(n) + ")");
  const auto p = permutation(n, seed);
  std::vector<std::vector<std::size_t>> folds(static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < n; ++i) folds[i % static_cast<std::size_t>(k)].push_back(p[i]);
  return folds;
}

json Scores::to_json() const {
  return {{"n", n}, {"rmse", rmse}, {"rel_rmse_pct", rel_rmse_pct}, {"mape_pct", mape_pct}, {"r2", r2}, {"kendall_tau", kendall_tau}};
}

Scores score(const std::vector<double>& t, const std::vector<double>& p) {
  Scores s;
  s.n = t.size();
  if (t.empty()) return s;
  const double n = static_cast<double>(t.size());
  double se = 0, ape = 0, mean = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    se += (t[i] - p[i]) * (t[i] - p[i]);
    ape += t[i] != 0 ? std::abs((t[i] - p[i]) / t[i]) : 0;
    mean += t[i];
  }
  mean /= n;
  double ss = 0;
  for (double x : t) ss += (x - mean) * (x - mean);
  s.rmse = std::sqrt(se / n);
  s.rel_rmse_pct = mean != 0 ? 100.0 * s.rmse / std::abs(mean) : 0;
  s.mape_pct = 100.0 * ape / n;
  s.r2 = ss > 0 ? 1.0 - se / ss : 0;
  // Kendall's tau-b over all pairs (ties in either ranking count as neither).
  double concordant = 0, discordant = 0, ties_t = 0, ties_p = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    for (std::size_t j = i + 1; j < t.size(); ++j) {
      const double a = t[i] - t[j], b = p[i] - p[j];
      if (a == 0 && b == 0) continue;
      if (a == 0) ties_t += 1;
      else if (b == 0) ties_p += 1;
      else if ((a > 0) == (b > 0)) concordant += 1;
      else discordant += 1;
    }
  const double denom = std::sqrt((concordant + discordant + ties_t) * (concordant + discordant + ties_p));
  s.kendall_tau = denom > 0 ? (concordant - discordant) / denom : 0;
  return s;
}

}  // namespace dsegym::proxy
