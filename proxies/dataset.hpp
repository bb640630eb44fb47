#pragma once
// Datasets for proxy models: the CSV (or JSONL) that `dsegym dataset
// export` writes plus its schema sidecar; parameter encodings; deterministic
// splits.
#include <cstdint>
#include <unordered_map>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "envs/core/space.hpp"

namespace dsegym::proxy {

struct Dataset {
  std::string path;
  json schema;                              // the sidecar
  std::vector<json> params;                 // parameter column schemas, in order
  std::vector<json> metrics;                // metric column schemas (name, unit, goal)
  std::vector<std::vector<json>> cells;     // per row: one scalar per parameter
  std::vector<std::vector<double>> values;  // per row: one number per metric, NaN when empty
  std::vector<std::string> status;          // per row

  std::size_t rows() const { return cells.size(); }
  // Index of a metric column; throws naming the valid ones.
  std::size_t metric_index(const std::string& name) const;
};

// A scalar cell as text (labels as they are, integral numbers without ".0").
std::string cell_text(const json& v);
// A CSV file read whole: its header and its rows of fields (RFC 4180
// quoting), each row with its line number; blank lines skipped. A row with
// another number of fields than the header is an error naming path:line.
struct CsvTable {
  std::string path;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> lines;
};
CsvTable read_csv_table(const std::string& path);
// A CSV field as JSON: null when empty, a number when all of it reads as
// one (an integer without '.', 'e' or 'E'), true/false, else the text.
json cell_json(const std::string& s);

// Reads `path` (.csv or .jsonl) and its schema (<path without extension>.schema.json).
Dataset load_dataset(const std::string& path);

// Parameters -> numbers. Categorical knobs one-hot (or their index, for
// trees), ordinal ones by position in [0,1] (powers of two evenly), real
// ones by their space's [0,1] encoding (logarithmic where the space is).
class Encoder {
public:
  Encoder() = default;
  Encoder(std::vector<json> param_schemas, bool one_hot);
  std::size_t width() const { return width_; }
  const std::vector<json>& params() const { return params_; }
  bool one_hot() const { return one_hot_; }
  // Throws InvalidArgument naming the column and the value.
  void encode(const std::vector<json>& cells, double* out) const;
  Eigen::MatrixXd encode_rows(const std::vector<std::vector<json>>& rows) const;

private:
  struct Col {
    SpacePtr space;
    std::int64_t element = -1;  // inside a vector space
    std::int64_t cardinality = 0;
    bool categorical = false;
    // Fast path for scalar knobs: the value's text -> its index (discrete),
    // or the bounds of a real knob.
    std::unordered_map<std::string, std::int64_t> by_label;
    std::unordered_map<std::int64_t, std::int64_t> by_number;
    bool fast_real = false, log = false;
    double lo = 0, hi = 1;
  };
  std::vector<json> params_;
  std::vector<Col> cols_;
  bool one_hot_ = false;
  std::size_t width_ = 0;
};

// Row indices of a seeded permutation cut into train / validation / test.
struct Split {
  std::vector<std::size_t> train, validation, test;
};
Split split_rows(std::size_t n, double validation_fraction, double test_fraction, std::uint64_t seed);
// k folds of a seeded permutation (each row in exactly one fold).
std::vector<std::vector<std::size_t>> k_folds(std::size_t n, int k, std::uint64_t seed);

// Quality of predictions.
struct Scores {
  std::size_t n = 0;
  double rmse = 0, rel_rmse_pct = 0, mape_pct = 0, r2 = 0, kendall_tau = 0;
  json to_json() const;
};
Scores score(const std::vector<double>& truth, const std::vector<double>& pred);

}  // namespace dsegym::proxy
