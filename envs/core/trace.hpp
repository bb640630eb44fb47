#pragma once
// Trace logging: one JSON Lines row per evaluation, appended with a single
// write(2) per row so that a process killed at any moment leaves every row
// written before it intact (at most the row in flight is cut short; readers
// skip a cut-short last line and say so).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "envs/core/env.hpp"

namespace dsegym {

struct TraceRow {
  std::string run;    // run id
  std::string env;    // env id incl. version, e.g. "toy-v0"
  std::string agent;
  std::uint64_t seed = 0;
  std::int64_t episode = 0;
  std::int64_t step = 0;  // evaluation index within the run
  Value action;
  Metrics metrics;
  double reward = 0;  // NaN is written as null
  EvalStatus status;
  double wall_time_s = 0;  // time spent in the evaluation
  std::string source;      // where the metrics came from: "" (the simulator) or "proxy"
};

json trace_row_to_json(const TraceRow& row);
// `where` names the file and line for messages.
TraceRow trace_row_from_json(const json& j, const std::string& where);

class TraceWriter {
public:
  // Creates the file (and its folder) or appends to it, first dropping a
  // cut-short last row left by a crashed writer.
  explicit TraceWriter(const std::string& path);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void write(const TraceRow& row);
  const std::string& path() const { return path_; }

private:
  std::string path_;
  int fd_ = -1;
};

struct TraceFile {
  std::vector<TraceRow> rows;
  bool truncated_tail = false;  // the last line was cut short and skipped
  std::size_t dropped = 0;      // resume_trace: rows past the run's own sequence, removed
};

// Reads a trace. A malformed line other than a cut-short last line is an
// error naming the file and line.
TraceFile read_trace(const std::string& path);

// Reads a run's trace to resume it: keeps the rows whose step is their
// index (0, 1, 2, ...) and cuts the file after the last of them, so that a
// resumed run can never hold an evaluation twice (rows a second writer
// appended, or a cut-short tail, are removed).
TraceFile resume_trace(const std::string& path);

// Appends `text` to `path` with one write(2); creates folders as needed.
void append_line(const std::string& path, const std::string& text);

}  // namespace dsegym
