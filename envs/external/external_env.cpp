#include "envs/external/external_env.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <re2/re2.h>
#include <set>
#include <sstream>

#include "base/error.hpp"
#include "base/json_io.hpp"
#include "base/files.hpp"
#include "envs/core/params.hpp"
#include "base/subprocess.hpp"
#include "envs/external/units.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The last `n` characters, for reasons.
std::string tail(const std::string& s, std::size_t n = 400) { return s.size() > n ? "..." + s.substr(s.size() - n) : s; }
std::string head(const std::string& s, std::size_t n = 200) { return s.size() > n ? s.substr(0, n) + "..." : s; }

// ------------------------------------------------------------------ templates

// A template value's text: strings as they are, numbers and booleans as JSON
// writes them (the shortest form that reads back the same value).
std::string plain_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A text with {{name}} and {{name|json}} fields, split once at load
// time. |json writes the value as a JSON literal: strings quoted and
// escaped, so a path or label with quotes or backslashes stays valid JSON.
struct Template {
  struct Slot {
    std::string name;
    bool as_json = false;
  };
  std::vector<std::string> literal;  // literal[i] precedes slot[i]; one more literal than slots
  std::vector<Slot> slot;

  static Template parse(const std::string& text, const std::set<std::string>& names, const std::string& where) {
    Template t;
    std::size_t at = 0;
    for (;;) {
      const std::size_t open = text.find("{{", at);
      if (open == std::string::npos) break;
      const std::size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) throw InvalidArgument(where + ": '{{' without '}}'");
      const std::string inner = text.substr(open + 2, close - open - 2);
      const std::size_t bar = inner.find('|');
      Slot s{inner.substr(0, bar), false};
      if (bar != std::string::npos) {
        const std::string filter = inner.substr(bar + 1);
        if (filter != "json") throw InvalidArgument(where + ": unknown filter |" + filter + " in {{" + inner + "}}; valid: |json");
        s.as_json = true;
      }
      if (!names.count(s.name)) {
        std::string valid;
        for (const auto& v : names) valid += (valid.empty() ? "" : ", ") + v;
        throw InvalidArgument(where + ": unknown placeholder {{" + s.name + "}}; valid: " + valid);
      }
      t.literal.push_back(text.substr(at, open - at));
      t.slot.push_back(std::move(s));
      at = close + 2;
    }
    t.literal.push_back(text.substr(at));
    return t;
  }

  bool constant() const { return slot.empty(); }

  std::string render(const std::map<std::string, json>& values) const {
    std::string out = literal[0];
    for (std::size_t i = 0; i < slot.size(); ++i) {
      const json& v = values.at(slot[i].name);
      out += (slot[i].as_json ? v.dump() : plain_text(v)) + literal[i + 1];
    }
    return out;
  }
};

// ------------------------------------------------------------------ the spec

// Regexes run on RE2: linear time in the text, no recursion, so no output
// can make matching hang or overflow the stack.
using Regex = std::shared_ptr<const re2::RE2>;

Regex compile_regex(const std::string& text, const std::string& where) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  auto rx = std::make_shared<const re2::RE2>(text, o);
  if (!rx->ok())
    throw InvalidArgument(where + ": regex '" + text + "' does not compile: " + rx->error() +
                          " (RE2 syntax: no backreferences or lookaround)");
  return rx;
}

// The text a match stands for in a reason: its first non-empty capture
// group (patterns may have alternatives), else the whole match.
std::string match_reason(const std::vector<std::string>& groups) {
  for (std::size_t i = 1; i < groups.size(); ++i)
    if (!groups[i].empty()) return groups[i];
  return groups.at(0);
}

// The first match of rx in text: its groups (0 = the whole match), or false.
bool search(const re2::RE2& rx, const std::string& text, std::vector<std::string>& groups) {
  const int n = rx.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<std::size_t>(n));
  if (!rx.Match(text, 0, text.size(), re2::RE2::UNANCHORED, sub.data(), n)) return false;
  groups.clear();
  for (const auto& g : sub) groups.emplace_back(g.data() ? std::string(g.data(), g.size()) : std::string());
  return true;
}

struct MetricRule {
  MetricSpec spec;
  std::string source = "stdout";  // stdout, stderr or file:<path>
  std::string json_pointer;       // or
  Regex regex;
  std::string regex_text;
  int group = 1, unit_group = 0;
  std::string csv_column;         // or the first data row's value in this column of a CSV text
  std::string from_unit;          // empty: the metric's unit
  double scale = 1;               // multiplies the number read, before any unit conversion
};

// One entry of "files": a rendered text, or a file or folder placed by
// copy, hard link or symbolic link. Entries apply in order, each replacing
// what earlier ones put at its paths (an overlay).
struct FileRule {
  enum class Kind { Text, Copy, Link, Symlink };
  std::string path;  // relative to the working directory
  Kind kind = Kind::Text;
  Template text;     // Text: the content; otherwise the source path (relative: to the spec's folder)
};

struct ExternalSpec {
  std::string id, description, path;
  fs::path dir;
  SpacePtr action_space;
  std::vector<std::string> knob_names;
  std::string program;  // command[0], rendered like the arguments
  std::vector<Template> command;
  std::vector<FileRule> files;
  json constants = json::object();  // name -> default value, each also an env option
  std::map<std::string, std::string> env;
  bool inherit_env = true;
  std::vector<MetricRule> metrics;
  std::set<int> infeasible_codes;
  Regex infeasible_stdout, infeasible_stderr;  // null: none
  Regex error_regex;  // a match in stdout or stderr fails the evaluation
  double timeout_s = 60;
  std::int64_t max_output_bytes = kDefaultMaxOutputBytes;  // per stdout, stderr or metric file
  int retries = 0;
  json default_reward;
  std::string workdir_root;  // defaults of the env options of the same names
  bool keep_workdirs = false;
};

ExternalSpec load_spec(const std::string& path) {
  const std::string where = "env spec " + path;
  if (!fs::exists(path)) throw InvalidArgument(where + ": no such file");
  const json j = read_json_file(path, "env spec");
  check_keys(j, {"id", "description", "knobs", "constants", "command", "files", "env", "inherit_env", "metrics", "infeasible", "error_regex",
                 "timeout_s", "retries", "default_reward", "max_output_bytes", "workdir_root", "keep_workdirs"},
             where);
  ExternalSpec s;
  s.path = path;
  s.dir = fs::absolute(fs::path(path)).parent_path();
  auto need = [&](const char* key) -> const json& {
    if (!j.contains(key)) throw InvalidArgument(where + ": field '" + key + "' is required");
    return j.at(key);
  };
  s.id = need("id").is_string() ? need("id").get<std::string>() : "";
  if (s.id.empty()) throw InvalidArgument(where + ": field 'id' must be a non-empty string, e.g. \"my-sim-v0\"");
  s.description = j.value("description", "external simulator " + s.id);

  const json& knobs = need("knobs");
  if (!knobs.is_array() || knobs.empty()) throw InvalidArgument(where + ": field 'knobs' must be a non-empty list of {\"name\", \"space\"}");
  for (const auto& k : knobs) {
    check_keys(k, {"name", "space"}, where + " knob");
    const std::string n = k.value("name", "");
    if (n.empty() || n.find("{") != std::string::npos || n.find("}") != std::string::npos)
      throw InvalidArgument(where + ": every knob needs a name without braces, got " + k.dump());
    if (n == "workdir" || n == "spec_dir" || n == "seed" || n == "dsegym")
      throw InvalidArgument(where + ": knob name '" + n + "' is reserved for a placeholder");
    s.knob_names.push_back(n);
  }
  s.action_space = Space::from_json({{"type", "dict"}, {"spaces", knobs}}, where + " field 'knobs'");

  std::set<std::string> names(s.knob_names.begin(), s.knob_names.end());
  names.insert({"workdir", "spec_dir", "seed", "dsegym"});
  s.constants = j.value("constants", json::object());
  if (!s.constants.is_object()) throw InvalidArgument(where + ": field 'constants' must be an object of name: value, e.g. {\"CmdMux\": \"Oldest\"}");
  for (const auto& [k, v] : s.constants.items()) {
    if (k.empty() || k.find_first_of("{}|") != std::string::npos) throw InvalidArgument(where + ": constant name '" + k + "' must be non-empty, without braces or '|'");
    if (names.count(k) || k == "workdir_root" || k == "keep_workdirs")
      throw InvalidArgument(where + ": constant '" + k + "' has the name of a knob, a reserved template name or an env option");
    if (!v.is_string() && !v.is_number() && !v.is_boolean())
      throw InvalidArgument(where + ": constant '" + k + "' must be a string, number or boolean, got " + v.dump().substr(0, 80));
    names.insert(k);
  }
  const json& cmd = need("command");
  if (!cmd.is_array() || cmd.empty()) throw InvalidArgument(where + ": field 'command' must be a non-empty list of arguments (no shell)");
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    if (!cmd[i].is_string()) throw InvalidArgument(where + ": command[" + std::to_string(i) + "] must be a string, got " + cmd[i].dump());
    s.command.push_back(Template::parse(cmd[i].get<std::string>(), names, where + " command[" + std::to_string(i) + "]"));
  }
  const json files = j.value("files", json::array());
  if (!files.is_array()) throw InvalidArgument(where + ": field 'files' must be a list of {\"path\", and one of \"template\", \"content\", \"copy\", \"link\", \"symlink\"}");
  for (const auto& f : files) {
    check_keys(f, {"path", "template", "content", "copy", "link", "symlink"}, where + " files[]");
    FileRule rule;
    rule.path = f.value("path", "");
    const std::string fw = where + " files[] '" + rule.path + "'";
    if (rule.path.empty() || fs::path(rule.path).is_absolute() || rule.path.find("..") != std::string::npos)
      throw InvalidArgument(where + ": files[].path must be a relative path inside the working directory (\".\" for the folder itself), got '" +
                            rule.path + "'");
    const std::vector<std::pair<const char*, FileRule::Kind>> kinds = {{"template", FileRule::Kind::Text},
                                                                       {"content", FileRule::Kind::Text},
                                                                       {"copy", FileRule::Kind::Copy},
                                                                       {"link", FileRule::Kind::Link},
                                                                       {"symlink", FileRule::Kind::Symlink}};
    std::string given;
    for (const auto& [key, kind] : kinds)
      if (f.contains(key)) {
        if (!given.empty()) throw InvalidArgument(fw + ": gives both '" + given + "' and '" + key + "'; give exactly one");
        given = key;
        rule.kind = kind;
      }
    if (given.empty()) throw InvalidArgument(fw + ": needs one of 'template' (a file beside the spec), 'content', 'copy', 'link' or 'symlink'");
    if (given == "template") {
      const fs::path t = s.dir / f.at("template").get<std::string>();
      if (!fs::is_regular_file(t)) throw InvalidArgument(fw + ": template " + t.string() + " does not exist");
      rule.text = Template::parse(read_file(t), names, fw);
    } else {
      rule.text = Template::parse(f.at(given).get<std::string>(), names, fw);
    }
    if (rule.kind != FileRule::Kind::Text && rule.text.constant()) {  // a fixed source must exist now
      const fs::path src = s.dir / rule.text.render({});
      if (!fs::exists(src)) throw InvalidArgument(fw + ": " + given + " source " + src.string() + " does not exist");
    }
    if (rule.kind == FileRule::Kind::Text && rule.path == ".") throw InvalidArgument(fw + ": a text needs a file name as its path");
    s.files.push_back(std::move(rule));
  }
  const json env_vars = j.value("env", json::object());  // items() of a temporary would dangle
  for (const auto& [k, v] : env_vars.items()) {
    if (!v.is_string()) throw InvalidArgument(where + ": env." + k + " must be a string");
    s.env[k] = v.get<std::string>();
  }
  s.inherit_env = j.value("inherit_env", true);

  const json& ms = need("metrics");
  if (!ms.is_array() || ms.empty()) throw InvalidArgument(where + ": field 'metrics' must be a non-empty list");
  for (const auto& m : ms) {
    check_keys(m, {"name", "unit", "goal", "description", "source", "json", "regex", "csv_column", "group", "unit_group", "from_unit", "scale"},
               where + " metric");
    MetricRule r;
    r.spec.name = m.value("name", "");
    const std::string mw = where + " metric '" + r.spec.name + "'";
    if (r.spec.name.empty()) throw InvalidArgument(where + ": every metric needs a name");
    r.spec.unit = m.value("unit", "");
    if (r.spec.unit.empty()) throw InvalidArgument(mw + ": 'unit' is required (e.g. \"ns\"; \"1\" for a pure number)");
    const std::string goal = m.value("goal", "none");
    if (goal != "min" && goal != "max" && goal != "none") throw InvalidArgument(mw + ": goal '" + goal + "' is not valid; choices: min, max, none");
    r.spec.goal = goal == "min" ? Goal::Minimize : goal == "max" ? Goal::Maximize : Goal::None;
    r.spec.description = m.value("description", "from " + s.id);
    r.source = m.value("source", "stdout");
    if (r.source != "stdout" && r.source != "stderr" && r.source.rfind("file:", 0) != 0)
      throw InvalidArgument(mw + ": source '" + r.source + "' is not valid; choices: stdout, stderr, file:<path in the working directory>");
    if (m.contains("json") + m.contains("regex") + m.contains("csv_column") != 1)
      throw InvalidArgument(mw + ": give exactly one of 'json' (a JSON pointer), 'regex' or 'csv_column' (a column of a CSV's first data row)");
    if (m.contains("csv_column")) {
      r.csv_column = m.at("csv_column").get<std::string>();
      if (r.csv_column.empty()) throw InvalidArgument(mw + ": 'csv_column' must name a column of the CSV's header");
    } else if (m.contains("json")) {
      r.json_pointer = m.at("json").get<std::string>();
      try {
        (void)json::json_pointer(r.json_pointer);
      } catch (const json::exception& e) {
        throw InvalidArgument(mw + ": 'json' is not a JSON pointer (like \"/stats/latency\"): " + e.what());
      }
    } else {
      r.regex_text = m.at("regex").get<std::string>();
      r.regex = compile_regex(r.regex_text, mw);
      r.group = m.value("group", 1);
      r.unit_group = m.value("unit_group", 0);
      const int groups = r.regex->NumberOfCapturingGroups();
      if (r.group < 0 || r.group > groups || r.unit_group < 0 || r.unit_group > groups)
        throw InvalidArgument(mw + ": the regex has " + std::to_string(groups) + " groups; 'group' and 'unit_group' must name one");
    }
    r.from_unit = m.value("from_unit", "");
    if (!r.from_unit.empty() && r.unit_group) throw InvalidArgument(mw + ": give 'from_unit' or 'unit_group', not both");
    if (m.contains("scale")) {
      if (!m.at("scale").is_number() || !std::isfinite(m.at("scale").get<double>()) || m.at("scale").get<double>() == 0)
        throw InvalidArgument(mw + ": 'scale' must be a finite non-zero number (it multiplies the value read), got " + m.at("scale").dump());
      r.scale = m.at("scale").get<double>();
    }
    try {
      units::check_label(r.spec.unit);  // a known unit, or a label that is no misspelt one
      if (!r.from_unit.empty() || r.unit_group) {
        units::convert(1, r.spec.unit, r.spec.unit);                           // a conversion needs a known unit
        if (!r.from_unit.empty()) units::convert(1, r.from_unit, r.spec.unit);  // and a compatible one
      }
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(mw + ": " + e.what() + "; for another unit give a 'scale' (e.g. cycles at 1 GHz to ns: \"unit\": \"ns\", \"scale\": 1)");
    }
    s.metrics.push_back(std::move(r));
  }
  if (j.contains("infeasible")) {
    const json& inf = j.at("infeasible");
    check_keys(inf, {"exit_codes", "stdout_regex", "stderr_regex"}, where + " field 'infeasible'");
    for (const auto& c : inf.value("exit_codes", json::array())) s.infeasible_codes.insert(c.get<int>());
    if (inf.contains("stdout_regex")) s.infeasible_stdout = compile_regex(inf.at("stdout_regex").get<std::string>(), where + " infeasible.stdout_regex");
    if (inf.contains("stderr_regex")) s.infeasible_stderr = compile_regex(inf.at("stderr_regex").get<std::string>(), where + " infeasible.stderr_regex");
  }
  if (j.contains("error_regex")) s.error_regex = compile_regex(j.at("error_regex").get<std::string>(), where + " error_regex");
  s.timeout_s = j.value("timeout_s", 60.0);
  if (!(s.timeout_s > 0) || !std::isfinite(s.timeout_s)) throw InvalidArgument(where + ": timeout_s must be a positive number of seconds");
  if (j.contains("max_output_bytes")) {
    const json& v = j.at("max_output_bytes");
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1024 || v.get<std::int64_t>() > (std::int64_t{1} << 32))
      throw InvalidArgument(where + ": max_output_bytes must be an integer in 1024..4294967296, got " + v.dump().substr(0, 80));
    s.max_output_bytes = v.get<std::int64_t>();
  }
  s.retries = j.value("retries", 0);
  if (s.retries < 0 || s.retries > 10) throw InvalidArgument(where + ": retries must be in 0..10");
  s.default_reward = j.value("default_reward", json());
  if (s.default_reward.is_null()) {
    for (const auto& m : s.metrics)
      if (m.spec.goal != Goal::None) {
        s.default_reward = {{"type", "metric"}, {"metric", m.spec.name}};
        break;
      }
    if (s.default_reward.is_null()) throw InvalidArgument(where + ": no metric has a goal; give one a goal or set default_reward");
  }
  if (j.contains("workdir_root")) {
    const std::string root = j.at("workdir_root").get<std::string>();
    s.workdir_root = root.empty() ? root : (s.dir / root).lexically_normal().string();
  }
  s.keep_workdirs = j.value("keep_workdirs", false);
  return s;
}

// ------------------------------------------------------------------ running

// What one run of the simulator gave.
struct RunOutcome {
  ProcessResult process;
  std::string out, err;
};

// The cell of `column` in the first data row of a CSV text (comma-separated,
// no quoted commas; names and cells compared without surrounding blanks).
bool csv_cell(const std::string& text, const std::string& column, std::string& cell, std::string& why) {
  auto split = [](const std::string& line) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (;;) {
      const std::size_t comma = line.find(',', at);
      std::string c = line.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      const std::size_t b = c.find_first_not_of(" \t\r"), e = c.find_last_not_of(" \t\r");
      out.push_back(b == std::string::npos ? std::string() : c.substr(b, e - b + 1));
      if (comma == std::string::npos) return out;
      at = comma + 1;
    }
  };
  std::istringstream in(text);
  std::string header, row;
  std::getline(in, header);
  while (std::getline(in, row) && row.find_first_not_of(" \t\r") == std::string::npos) {
  }
  const auto names = split(header);
  const auto it = std::find(names.begin(), names.end(), column);
  if (it == names.end()) {
    why = "has no column '" + column + "'; its header: " + head(header);
    return false;
  }
  const auto cells = split(row);
  const auto i = static_cast<std::size_t>(it - names.begin());
  if (i >= cells.size()) {
    why = "has no data row with a column '" + column + "'";
    return false;
  }
  cell = cells[i];
  return true;
}

// The number `rule` extracts, in the metric's unit; a reason in *why when it cannot.
bool extract(const MetricRule& rule, const RunOutcome& run, const fs::path& dir, std::int64_t cap, double& value, std::string& why) {
  std::string text;
  if (rule.source == "stdout") text = run.out;
  else if (rule.source == "stderr") text = run.err;
  else {
    const fs::path f = dir / rule.source.substr(5);
    if (!fs::exists(f)) {
      why = "metric '" + rule.spec.name + "': the simulator wrote no " + rule.source.substr(5);
      return false;
    }
    std::error_code ec;
    if (static_cast<std::int64_t>(fs::file_size(f, ec)) > cap) {
      why = "metric '" + rule.spec.name + "': " + rule.source.substr(5) + " is larger than the spec's max_output_bytes (" + std::to_string(cap) + ")";
      return false;
    }
    text = read_file(f);
  }
  const std::string src = rule.source == "stdout" || rule.source == "stderr" ? rule.source : rule.source.substr(5);
  std::string number, unit = rule.from_unit.empty() ? rule.spec.unit : rule.from_unit;
  if (!rule.json_pointer.empty()) {
    json j;
    try {
      j = parse_json(text, src, static_cast<std::size_t>(cap));
    } catch (const InvalidArgument&) {
      why = "metric '" + rule.spec.name + "': " + src + " is not JSON (or nests deeper than " + std::to_string(kMaxJsonDepth) + "); it begins: " + head(text);
      return false;
    }
    const json::json_pointer ptr(rule.json_pointer);
    if (!j.contains(ptr) || !j.at(ptr).is_number()) {
      why = "metric '" + rule.spec.name + "': " + src + " has no number at " + rule.json_pointer;
      return false;
    }
    value = j.at(ptr).get<double>();
  } else {
    const bool file = src != "stdout" && src != "stderr";  // the output streams' tails go into every reason anyway
    if (!rule.csv_column.empty()) {
      if (!csv_cell(text, rule.csv_column, number, why)) {
        why = "metric '" + rule.spec.name + "': " + src + " " + why;
        return false;
      }
    } else {
      std::vector<std::string> m;
      if (!search(*rule.regex, text, m)) {
        why = "metric '" + rule.spec.name + "': regex " + rule.regex_text + " found nothing in " + src + (file ? "; it begins: " + head(text) : "");
        return false;
      }
      number = m[static_cast<std::size_t>(rule.group)];
      if (rule.unit_group) unit = m[static_cast<std::size_t>(rule.unit_group)];
    }
    const std::size_t b = number.find_first_not_of(" \t\r"), e = number.find_last_not_of(" \t\r");
    number = b == std::string::npos ? std::string() : number.substr(b, e - b + 1);
    char* end = nullptr;
    value = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size()) {
      why = "metric '" + rule.spec.name + "': '" + number + "' in " + src + " is not a number";
      return false;
    }
  }
  if (!std::isfinite(value)) {
    why = "metric '" + rule.spec.name + "': " + src + " gave " + (number.empty() ? std::to_string(value) : number);
    return false;
  }
  value *= rule.scale;
  if (unit != rule.spec.unit) {
    try {
      value = units::convert(value, unit, rule.spec.unit);
    } catch (const InvalidArgument& e) {
      why = "metric '" + rule.spec.name + "': " + e.what();
      return false;
    }
  }
  return true;
}

// The last `lines` lines of a text (trailing newlines dropped), at most `cap` characters of them.
std::string last_lines(const std::string& text, std::size_t lines = 20, std::size_t cap = 2000) {
  const std::size_t end = text.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  std::size_t begin = 0;
  std::size_t at = end;
  for (std::size_t n = 0; n < lines; ++n) {
    const std::size_t nl = text.rfind('\n', at);
    if (nl == std::string::npos || nl == 0) {
      begin = nl == 0 ? 1 : 0;
      break;
    }
    begin = nl + 1;
    at = nl - 1;
  }
  std::string out = text.substr(begin, end + 1 - begin);
  return out.size() > cap ? "..." + out.substr(out.size() - cap) : out;
}

// What a failed run printed last, for its reason.
std::string output_tails(const RunOutcome& run) {
  auto part = [](const char* what, const std::string& text) {
    const std::string t = last_lines(text);
    return std::string("\n") + what + (t.empty() ? ": (empty)" : " (last lines):\n" + t);
  };
  return part("stdout", run.out) + part("stderr", run.err);
}

// Removes whatever is at p (a link is removed, never followed).
void clear_path(const fs::path& p) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(p, ec);
  if (fs::is_directory(st)) fs::remove_all(p);
  else if (fs::exists(st) || fs::is_symlink(st)) fs::remove(p);
}

void place_file(const fs::path& src, const fs::path& dst, FileRule::Kind kind) {
  fs::create_directories(dst.parent_path());
  clear_path(dst);
  switch (kind) {
    case FileRule::Kind::Copy: fs::copy_file(src, dst); break;
    case FileRule::Kind::Link: {
      std::error_code ec;
      fs::create_hard_link(fs::canonical(src), dst, ec);
      if (ec == std::errc::cross_device_link)
        throw std::runtime_error("cannot hard-link " + src.string() + " into " + dst.parent_path().string() +
                                 ": another file system (use \"copy\" or \"symlink\", or a workdir_root on the same file system)");
      if (ec) throw fs::filesystem_error("hard link", src, dst, ec);
      break;
    }
    case FileRule::Kind::Symlink: fs::create_symlink(fs::absolute(src), dst); break;
    case FileRule::Kind::Text: break;
  }
}

// Puts one files[] entry into the working directory `dir`. A folder is
// placed file by file (its links are per file), so that later entries can
// replace single files inside it without touching the source.
void place(const FileRule& rule, const std::map<std::string, json>& values, const fs::path& dir) {
  const fs::path dst = (dir / rule.path).lexically_normal();
  if (rule.kind == FileRule::Kind::Text) {
    fs::create_directories(dst.parent_path());
    clear_path(dst);
    std::ofstream f(dst, std::ios::binary);
    f << rule.text.render(values);
    check_written(f, dst);
    return;
  }
  fs::path src = rule.text.render(values);
  if (src.is_relative()) src = fs::path(values.at("spec_dir").get<std::string>()) / src;
  if (!fs::exists(src)) throw std::runtime_error("source " + src.string() + " does not exist");
  if (!fs::is_directory(src)) {
    place_file(src, dst, rule.kind);
    return;
  }
  if (!fs::is_directory(fs::symlink_status(dst))) {
    clear_path(dst);
    fs::create_directories(dst);
  }
  for (auto it = fs::recursive_directory_iterator(src); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path to = dst / it->path().lexically_relative(src);
    if (it->is_symlink() && fs::is_directory(it->path())) {  // a linked folder stays a link (no loops followed)
      clear_path(to);
      fs::create_symlink(fs::canonical(it->path()), to);
    } else if (it->is_directory()) {
      if (!fs::is_directory(fs::symlink_status(to))) {
        clear_path(to);
        fs::create_directories(to);
      }
    } else {
      place_file(it->path(), to, rule.kind);
    }
  }
}

std::atomic<std::uint64_t> workdir_counter{0};

class ExternalEnv final : public Env {
public:
  ExternalEnv(std::shared_ptr<const EnvSpec> spec, std::shared_ptr<const ExternalSpec> ext, json constants, fs::path root, bool keep)
      : Env(std::move(spec)), ext_(std::move(ext)), constants_(std::move(constants)), root_(std::move(root)), keep_(keep) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value&) override {
    if (seed) seed_ = *seed;
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }

  StepResult do_step(const Value& act) override {
    StepResult r;
    r.terminated = true;
    std::map<std::string, json> values = {{"spec_dir", ext_->dir.string()}, {"seed", seed_}, {"dsegym", dsegym_program()}};
    for (const auto& [k, v] : constants_.items()) values[k] = v;
    for (const auto& k : ext_->knob_names) values[k] = to_json(act.at(k));
    std::string last_reason;
    for (int attempt = 0; attempt <= ext_->retries; ++attempt) {
      const fs::path dir = root_ / (ext_->id + "-" + std::to_string(::getpid()) + "-" + std::to_string(workdir_counter++));
      fs::create_directories(dir);
      values["workdir"] = dir.string();
      const bool done = attempt_once(values, dir, r);
      if (!keep_) {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
      if (done) break;
      last_reason = r.status.reason;
      if (attempt < ext_->retries) r = StepResult{};
      r.terminated = true;
    }
    if (ext_->retries > 0 && !r.status.ok() && r.status.code != Status::Infeasible)
      r.status.reason = "after " + std::to_string(ext_->retries + 1) + " attempts: " + r.status.reason;
    r.obs = spec().metric_observation(r.metrics);
    return r;
  }

private:
  // One run; false when it should be retried (a crash, a timeout, output that does not parse).
  bool attempt_once(const std::map<std::string, json>& values, const fs::path& dir, StepResult& r) {
    for (const auto& rule : ext_->files) {
      try {
        place(rule, values, dir);
      } catch (const std::exception& e) {  // a missing source, a link across file systems, a full disk
        r.status = EvalStatus::sim_error("files[] '" + rule.path + "': " + e.what() + " (spec " + ext_->path + ")");
        return true;  // the same files would fail again
      }
    }
    std::vector<std::string> args;
    for (std::size_t i = 1; i < ext_->command.size(); ++i) args.push_back(ext_->command[i].render(values));
    ProcessSpec ps;
    ps.program = ext_->command[0].render(values);
    ps.args = std::move(args);
    ps.dir = dir.string();
    ps.env = ext_->env;
    ps.env["DSEGYM_WORKDIR"] = dir.string();
    ps.inherit_env = ext_->inherit_env;
    ps.stdout_path = (dir / ".stdout").string();
    ps.stderr_path = (dir / ".stderr").string();
    ps.timeout_s = ext_->timeout_s;
    ps.max_output_bytes = ext_->max_output_bytes;
    const auto started = std::chrono::steady_clock::now();
    RunOutcome run;
    try {
      run.process = run_process(ps);
    } catch (const InvalidArgument& e) {  // the program is missing or cannot start: a failed evaluation, named
      r.status = EvalStatus::sim_error(std::string(e.what()) + " (spec " + ext_->path + ")");
      return true;  // retrying would not help
    }
    const ProcessResult& pr = run.process;
    r.info = Value(Value::Dict{{"seconds", pr.seconds}});
    if (pr.output_capped) {
      r.status = EvalStatus::sim_error("the simulator wrote more than the spec's max_output_bytes (" + std::to_string(ext_->max_output_bytes) +
                                       " bytes) to stdout or stderr; killed with its process group");
      return true;  // the same run would write as much again
    }
    if (pr.timed_out) {
      r.status = {Status::Timeout, "killed with its process group after the spec's timeout of " + std::to_string(ext_->timeout_s) + " s"};
      return false;
    }
    run.out = read_file(ps.stdout_path);
    run.err = read_file(ps.stderr_path);
    std::vector<std::string> m;
    if (!pr.signalled && ext_->infeasible_codes.count(pr.code)) {
      r.status = EvalStatus::infeasible(pr.describe() + (run.err.empty() ? "" : ": " + tail(run.err, 300)));
      return true;
    }
    for (const auto& [rx, text, what] : {std::tuple{ext_->infeasible_stdout, &run.out, "stdout"}, std::tuple{ext_->infeasible_stderr, &run.err, "stderr"}})
      if (rx && search(*rx, *text, m)) {
        r.status = EvalStatus::infeasible(std::string(what) + ": " + match_reason(m));
        return true;
      }
    if (ext_->error_regex)
      for (const auto& [text, what] : {std::pair{&run.out, "stdout"}, std::pair{&run.err, "stderr"}})
        if (search(*ext_->error_regex, *text, m)) {
          r.status = EvalStatus::sim_error(std::string(what) + " matched error_regex: " + match_reason(m) + " (" + pr.describe() + ")");
          return true;  // the simulator said what is wrong: running it again would say it again
        }
    if (pr.signalled || pr.code != 0) {
      r.status = EvalStatus::sim_error(pr.describe() + output_tails(run));
      return false;
    }
    for (const auto& rule : ext_->metrics) {
      double v = 0;
      std::string why;
      if (!extract(rule, run, dir, ext_->max_output_bytes, v, why)) {
        r.metrics = Metrics{};
        r.status = EvalStatus::sim_error(why + output_tails(run));
        return false;
      }
      r.metrics.set(rule.spec.name, v);
    }
    // The timeout covers reading the results too.
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() > ext_->timeout_s) {
      r.metrics = Metrics{};
      r.status = {Status::Timeout, "the run and the parsing of its output took longer than the spec's timeout of " + std::to_string(ext_->timeout_s) + " s"};
      return false;
    }
    return true;
  }

  std::shared_ptr<const ExternalSpec> ext_;
  json constants_;  // the spec's constants with the env options' values
  fs::path root_;
  bool keep_;
  std::uint64_t seed_ = 0;
};

}  // namespace

std::string dsegym_program() {
  if (const char* b = std::getenv("DSEGYM_BIN"); b && *b) return b;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "dsegym" : (self.parent_path() / "dsegym").string();
}

std::string register_external_env(EnvRegistry& reg, const std::string& spec_path) {
  std::shared_ptr<const ExternalSpec> ext;
  try {
    ext = std::make_shared<const ExternalSpec>(load_spec(spec_path));
  } catch (const json::exception& e) {  // a field of the wrong type
    throw InvalidArgument("env spec " + spec_path + ": a field has the wrong type (" + excerpt(std::string_view(e.what()), 200) + ")");
  }
  // The same spec given twice (on the command line and in a sweep config) registers once.
  static std::mutex mutex;
  static std::map<std::string, std::string> registered;  // id -> absolute spec path
  std::lock_guard<std::mutex> lock(mutex);
  const std::string abs = fs::weakly_canonical(fs::absolute(spec_path)).string();
  if (const auto it = registered.find(ext->id); it != registered.end()) {
    if (it->second == abs) return ext->id;
    throw InvalidArgument("env spec " + spec_path + ": id '" + ext->id + "' is already registered by " + it->second);
  }
  if (reg.contains(ext->id)) throw InvalidArgument("env spec " + spec_path + ": id '" + ext->id + "' is already a registered env; choose another id");
  registered[ext->id] = abs;
  std::vector<ParamSpec> options = {
      {"workdir_root", "folder for the per-evaluation working directories (empty: the system temp folder)", ext->workdir_root, nullptr},
      {"keep_workdirs", "keep each evaluation's working directory (for debugging)", ext->keep_workdirs, nullptr},
  };
  for (const auto& [k, v] : ext->constants.items()) options.push_back({k, "the spec's constant {{" + k + "}}", v, nullptr});
  reg.add(EnvEntry{ext->id, ext->description + " (external, " + spec_path + ")", options, [ext, options](const Params& p) -> EnvPtr {
                     auto spec = std::make_shared<EnvSpec>();
                     spec->id = ext->id;
                     spec->description = ext->description;
                     spec->action_space = ext->action_space;
                     for (const auto& m : ext->metrics) spec->metrics.push_back(m.spec);
                     const auto n = static_cast<std::int64_t>(spec->metrics.size());
                     spec->observation_space = std::make_shared<Box>(std::vector<double>(static_cast<std::size_t>(n), -std::numeric_limits<double>::infinity()),
                                                                     std::vector<double>(static_cast<std::size_t>(n), std::numeric_limits<double>::infinity()),
                                                                     std::vector<std::int64_t>{n});
                     spec->options = options;
                     spec->default_reward = ext->default_reward;
                     spec->resolved_options = p.resolved();
                     spec->max_episode_steps = 1;
                     const std::string root =
                         p.get_string("workdir_root").empty() ? std::string() : user_file(p.get_string("workdir_root"), "option 'workdir_root'");
                     json constants = json::object();
                     for (const auto& [k, v] : ext->constants.items()) constants[k] = p.get(k);
                     return std::make_unique<ExternalEnv>(std::move(spec), ext, std::move(constants),
                                                          root.empty() ? fs::temp_directory_path() / "dsegym-external" : fs::path(root),
                                                          p.get_bool("keep_workdirs"));
                   }});
  return ext->id;
}

}  // namespace dsegym
