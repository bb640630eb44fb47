#pragma once
// Dataset export: traces -> one CSV (or JSONL) table with one column per
// action parameter and per metric, plus a schema sidecar (parameter kinds
// and ranges, metric units and goals). Rows keep their status; a failed or
// infeasible evaluation has empty metric cells, never a magic number.
#include <string>
#include <vector>

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
