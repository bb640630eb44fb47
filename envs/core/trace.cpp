#include "envs/core/trace.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/error.hpp"
#include "base/json_io.hpp"

namespace dsegym {

namespace {

int open_append(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw IoError("cannot create folder " + parent.string() + ": " + ec.message());
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError("cannot open " + path + " for appending: " + std::strerror(errno));
  return fd;
}

void write_all(int fd, const std::string& text, const std::string& path) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot write to " + path + ": " + std::strerror(errno));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

json number_or_null(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

}  // namespace

json trace_row_to_json(const TraceRow& r) {
  json metrics = json::object();
  for (const auto& [k, v] : r.metrics.items()) metrics[k] = number_or_null(v);
  json j = {{"run", r.run},
          {"env", r.env},
          {"agent", r.agent},
          {"seed", r.seed},
          {"episode", r.episode},
          {"step", r.step},
          {"action", to_json(r.action)},
          {"metrics", metrics},
          {"reward", number_or_null(r.reward)},
          {"status", status_name(r.status.code)},
          {"reason", r.status.reason},
          {"wall_time_s", r.wall_time_s}};
  if (!r.source.empty()) j["source"] = r.source;
  return j;
}

TraceRow trace_row_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) throw InvalidArgument(where + ": a trace row must be a JSON object");
  TraceRow r;
  auto field = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw InvalidArgument(where + ": missing field '" + key + "'");
    return j.at(key);
  };
  try {
    r.run = field("run").get<std::string>();
    r.env = field("env").get<std::string>();
    r.agent = field("agent").get<std::string>();
    r.seed = field("seed").get<std::uint64_t>();
    r.episode = field("episode").get<std::int64_t>();
    r.step = field("step").get<std::int64_t>();
    r.action = value_from_json(field("action"));
    const json& m = field("metrics");
    for (auto it = m.begin(); it != m.end(); ++it)
      r.metrics.set(it.key(), it.value().is_null() ? std::nan("") : it.value().get<double>());
    const json& rew = field("reward");
    r.reward = rew.is_null() ? std::nan("") : rew.get<double>();
    r.status.code = status_from_name(field("status").get<std::string>());
    r.status.reason = field("reason").get<std::string>();
    r.wall_time_s = field("wall_time_s").get<double>();
    r.source = j.value("source", "");
  } catch (const json::exception& e) {
    throw InvalidArgument(where + ": a field has the wrong type: " + e.what());
  }
  return r;
}

TraceWriter::TraceWriter(const std::string& path) : path_(path) {
  // A row cut short by a crash (no newline at the end) is dropped, so that
  // appending continues on a line of its own.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > 0) {
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!content.empty() && content.back() != '\n') {
      const auto keep = content.rfind('\n');
      std::filesystem::resize_file(path, keep == std::string::npos ? 0 : keep + 1, ec);
      if (ec) throw IoError("cannot drop the cut-short last row of " + path + ": " + ec.message());
    }
  }
  fd_ = open_append(path);
}

TraceWriter::~TraceWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void TraceWriter::write(const TraceRow& row) { write_all(fd_, trace_row_to_json(row).dump() + "\n", path_); }

void append_line(const std::string& path, const std::string& text) {
  const int fd = open_append(path);
  try {
    write_all(fd, text + "\n", path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

TraceFile resume_trace(const std::string& path) {
  TraceFile t = read_trace(path);
  std::size_t keep = 0;
  while (keep < t.rows.size() && t.rows[keep].step == static_cast<std::int64_t>(keep)) ++keep;
  if (keep == t.rows.size() && !t.truncated_tail) return t;
  // Cut the file after the last row of the run's own sequence: rows written
  // twice or out of order (a second writer) and a cut-short tail go.
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t offset = 0, seen = 0;
  while (seen < keep) {
    const std::size_t nl = content.find('\n', offset);
    if (nl == std::string::npos) break;
    if (nl > offset) ++seen;  // empty lines are not rows
    offset = nl + 1;
  }
  std::error_code ec;
  std::filesystem::resize_file(path, offset, ec);
  if (ec) throw IoError("cannot cut " + path + " after its last good row: " + ec.message());
  t.dropped = t.rows.size() - keep;
  t.rows.resize(keep);
  t.truncated_tail = false;
  return t;
}

TraceFile read_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument("cannot open trace " + path + ": " + std::strerror(errno));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TraceFile out;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < content.size()) {
    const std::size_t nl = content.find('\n', pos);
    const bool last = nl == std::string::npos;
    std::string line = content.substr(pos, last ? std::string::npos : nl - pos);
    pos = last ? content.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    json j;
    try {
      j = parse_json(line, where);
    } catch (const InvalidArgument&) {
      j = json(json::value_t::discarded);
    }
    if (j.is_discarded()) {
      // A line with no newline at the end of the file is the row that was in
      // flight when a writer died.
      if (last) {
        out.truncated_tail = true;
        break;
      }
      throw InvalidArgument(where + ": not valid JSON");
    }
    out.rows.push_back(trace_row_from_json(j, where));
  }
  return out;
}

}  // namespace dsegym
