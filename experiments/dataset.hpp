#pragma once
// Dataset export: traces -> one CSV (or JSONL) table with one column per
// action parameter and per metric, plus a schema sidecar (parameter kinds
// and ranges, metric units and goals). Rows keep their status; a failed or
// infeasible evaluation has empty metric cells, never a magic number.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dsegym {

struct ExportResult {
  std::string out_path;
  std::string schema_path;
  std::size_t rows = 0;
  std::size_t files = 0;
  std::size_t truncated_tails = 0;  // traces whose last row was cut short
  std::size_t duplicates = 0;       // identical evaluations dropped
};

struct ExportOptions {
  std::string env;        // keep only traces of this env id ("" = all; they must then share one env)
  bool dedupe = true;     // drop evaluations identical to an earlier one (same env options, action, status, metrics)
};

// `inputs` are trace files or folders (searched recursively for
// trace.jsonl); each trace needs its run.json beside it. `out` ends in .csv
// or .jsonl; the schema goes to <out without extension>.schema.json.
ExportResult export_dataset(const std::vector<std::string>& inputs, const std::string& out, const ExportOptions& opt = {});

}  // namespace dsegym

namespace dsegym {

// Dataset import: any CSV table (plus others joined row by row) -> a
// dataset with its schema, ready for `proxy train`.
struct ImportOptions {
  std::vector<std::string> join;     // more CSV files; row i of each belongs to row i of the first
  std::vector<std::string> targets;  // columns that are metrics (numbers); the rest are parameters
  std::vector<std::string> drop;     // columns to leave out
  std::map<std::string, std::string> kinds;  // column -> real, integer, ordinal or categorical (else inferred)
};

struct ImportResult {
  std::string out_path, schema_path;
  std::size_t rows = 0;
  nlohmann::json kinds = nlohmann::json::object();  // parameter -> the kind it got
  std::vector<std::string> constant;                // parameters left out because they hold one value
};

// Kinds: text -> categorical; integers -> integer (ordinal, a powers-of-two
// scale, when they all are powers of two, at least three distinct);
// other numbers -> real (a logarithmic scale when positive over at least
// three decades). An empty cell, a row with the wrong number of cells or a
// value that does not fit a forced kind is an error naming file:line and
// the column; no row is dropped.
ImportResult import_dataset(const std::string& file, const ImportOptions& opt, const std::string& out);

}  // namespace dsegym
