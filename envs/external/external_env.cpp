#include "envs/external/external_env.hpp"

#include <unistd.h>

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

#include "envs/core/error.hpp"
#include "envs/core/json_io.hpp"
#include "envs/core/files.hpp"
#include "envs/core/params.hpp"
#include "envs/core/subprocess.hpp"
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

// A text with {{name}} placeholders, split once at load time.
struct Template {
  std::vector<std::string> literal;  // literal[i] precedes name[i]; one more literal than names
  std::vector<std::string> name;

  static Template parse(const std::string& text, const std::set<std::string>& names, const std::string& where) {
    Template t;
    std::size_t at = 0;
    for (;;) {
      const std::size_t open = text.find("{{", at);
      if (open == std::string::npos) break;
      const std::size_t close = text.find("}}", open + 2);
      if (close == std::string::npos) throw InvalidArgument(where + ": '{{' without '}}'");
      const std::string n = text.substr(open + 2, close - open - 2);
      if (!names.count(n)) {
        std::string valid;
        for (const auto& v : names) valid += (valid.empty() ? "" : ", ") + v;
        throw InvalidArgument(where + ": unknown placeholder {{" + n + "}}; valid: " + valid);
      }
      t.literal.push_back(text.substr(at, open - at));
      t.name.push_back(n);
      at = close + 2;
    }
    t.literal.push_back(text.substr(at));
    return t;
  }

  std::string render(const std::map<std::string, std::string>& values) const {
    std::string out = literal[0];
    for (std::size_t i = 0; i < name.size(); ++i) out += values.at(name[i]) + literal[i + 1];
    return out;
  }
};

std::string format_value(const Value& v) {
  switch (v.type()) {
    case Value::Type::Bool: return v.as_bool() ? "true" : "false";
    case Value::Type::Int: return std::to_string(v.as_int());
    case Value::Type::Double: {
      std::ostringstream o;
      o.precision(17);
      o << v.as_double();
      return o.str();
    }
    case Value::Type::String: return v.as_string();
    default: return v.dump();
  }
}

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
  std::string from_unit;          // empty: the metric's unit
};

struct ExternalSpec {
  std::string id, description, path;
  fs::path dir;
  SpacePtr action_space;
  std::vector<std::string> knob_names;
  std::string program;  // command[0], rendered like the arguments
  std::vector<Template> command;
  std::vector<std::pair<std::string, Template>> files;  // relative path -> content
  std::map<std::string, std::string> env;
  bool inherit_env = true;
  std::vector<MetricRule> metrics;
  std::set<int> infeasible_codes;
  Regex infeasible_stdout, infeasible_stderr;  // null: none
  double timeout_s = 60;
  std::int64_t max_output_bytes = kDefaultMaxOutputBytes;  // per stdout, stderr or metric file
  int retries = 0;
  json default_reward;
};

ExternalSpec load_spec(const std::string& path) {
  const std::string where = "env spec " + path;
  if (!fs::exists(path)) throw InvalidArgument(where + ": no such file");
  const json j = read_json_file(path, "env spec");
  check_keys(j, {"id", "description", "knobs", "command", "files", "env", "inherit_env", "metrics", "infeasible", "timeout_s", "retries",
                 "default_reward", "max_output_bytes"},
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
  const json& cmd = need("command");
  if (!cmd.is_array() || cmd.empty()) throw InvalidArgument(where + ": field 'command' must be a non-empty list of arguments (no shell)");
  for (std::size_t i = 0; i < cmd.size(); ++i) {
    if (!cmd[i].is_string()) throw InvalidArgument(where + ": command[" + std::to_string(i) + "] must be a string, got " + cmd[i].dump());
    s.command.push_back(Template::parse(cmd[i].get<std::string>(), names, where + " command[" + std::to_string(i) + "]"));
  }
  for (const auto& f : j.value("files", json::array())) {
    check_keys(f, {"path", "template", "content"}, where + " files[]");
    const std::string rel = f.value("path", "");
    if (rel.empty() || fs::path(rel).is_absolute() || rel.find("..") != std::string::npos)
      throw InvalidArgument(where + ": files[].path must be a relative path inside the working directory, got '" + rel + "'");
    std::string text;
    if (f.contains("template") == f.contains("content"))
      throw InvalidArgument(where + ": files[] '" + rel + "' needs exactly one of 'template' (a file beside the spec) or 'content'");
    if (f.contains("template")) {
      const fs::path t = s.dir / f.at("template").get<std::string>();
      if (!fs::exists(t)) throw InvalidArgument(where + ": template " + t.string() + " of '" + rel + "' does not exist");
      text = read_file(t);
    } else {
      text = f.at("content").get<std::string>();
    }
    s.files.emplace_back(rel, Template::parse(text, names, where + " file '" + rel + "'"));
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
    check_keys(m, {"name", "unit", "goal", "description", "source", "json", "regex", "group", "unit_group", "from_unit"}, where + " metric");
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
    if (m.contains("json") == m.contains("regex")) throw InvalidArgument(mw + ": give exactly one of 'json' (a JSON pointer) or 'regex'");
    if (m.contains("json")) {
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
    if (!r.from_unit.empty() || r.unit_group) {
      if (!units::known(r.spec.unit)) units::convert(1, r.spec.unit, r.spec.unit);  // throws naming the known units
      if (!r.from_unit.empty()) units::convert(1, r.from_unit, r.spec.unit);        // throws when incompatible
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
  return s;
}

// ------------------------------------------------------------------ running

// What one run of the simulator gave.
struct RunOutcome {
  ProcessResult process;
  std::string out, err;
};

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
    std::vector<std::string> m;
    if (!search(*rule.regex, text, m)) {
      why = "metric '" + rule.spec.name + "': regex " + rule.regex_text + " found nothing in " + src + "; it begins: " + head(text);
      return false;
    }
    number = m[static_cast<std::size_t>(rule.group)];
    if (rule.unit_group) unit = m[static_cast<std::size_t>(rule.unit_group)];
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

std::atomic<std::uint64_t> workdir_counter{0};

class ExternalEnv final : public Env {
public:
  ExternalEnv(std::shared_ptr<const EnvSpec> spec, std::shared_ptr<const ExternalSpec> ext, fs::path root, bool keep)
      : Env(std::move(spec)), ext_(std::move(ext)), root_(std::move(root)), keep_(keep) {}

protected:
  std::pair<Value, Value> do_reset(std::optional<std::uint64_t> seed, const Value&) override {
    if (seed) seed_ = *seed;
    return {Value(std::vector<double>(spec().metrics.size(), 0.0)), Value()};
  }

  StepResult do_step(const Value& act) override {
    StepResult r;
    r.terminated = true;
    std::map<std::string, std::string> values = {{"spec_dir", ext_->dir.string()}, {"seed", std::to_string(seed_)}, {"dsegym", dsegym_program()}};
    for (const auto& k : ext_->knob_names) values[k] = format_value(act.at(k));
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
  bool attempt_once(const std::map<std::string, std::string>& values, const fs::path& dir, StepResult& r) {
    for (const auto& [rel, t] : ext_->files) {
      const fs::path p = dir / rel;
      fs::create_directories(p.parent_path());
      std::ofstream f(p, std::ios::binary);
      f << t.render(values);
      check_written(f, p);
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
        r.status = EvalStatus::infeasible(std::string(what) + ": " + m[m.size() > 1 ? 1 : 0]);
        return true;
      }
    if (pr.signalled || pr.code != 0) {
      r.status = EvalStatus::sim_error(pr.describe() + "; stderr: " + (run.err.empty() ? "(empty)" : tail(run.err)));
      return false;
    }
    for (const auto& rule : ext_->metrics) {
      double v = 0;
      std::string why;
      if (!extract(rule, run, dir, ext_->max_output_bytes, v, why)) {
        r.metrics = Metrics{};
        r.status = EvalStatus::sim_error(why);
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
      {"workdir_root", "folder for the per-evaluation working directories (default: the system temp folder)", "", nullptr},
      {"keep_workdirs", "keep each evaluation's working directory (for debugging)", false, nullptr},
  };
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
                     return std::make_unique<ExternalEnv>(std::move(spec), ext,
                                                          root.empty() ? fs::temp_directory_path() / "dsegym-external" : fs::path(root),
                                                          p.get_bool("keep_workdirs"));
                   }});
  return ext->id;
}

}  // namespace dsegym
