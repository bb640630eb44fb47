#include "experiments/slurm.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "base/files.hpp"
#include "envs/core/trace.hpp"
#include "base/subprocess.hpp"
#include "experiments/progress.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

struct CmdResult {
  int code = -1;
  std::string out, err;
};

// Runs a Slurm client command and captures what it prints.
CmdResult run_cmd(const std::vector<std::string>& argv, const fs::path& tmp_dir) {
  fs::create_directories(tmp_dir);
  ProcessSpec ps;
  ps.program = argv[0];
  ps.args.assign(argv.begin() + 1, argv.end());
  ps.stdout_path = (tmp_dir / ".cmd.out").string();
  ps.stderr_path = (tmp_dir / ".cmd.err").string();
  ProcessResult pr;
  try {
    pr = run_process(ps);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string("Slurm backend: ") + e.what() + " (is this a Slurm submit host?)");
  }
  CmdResult r;
  r.code = pr.signalled ? 128 + pr.code : pr.code;
  std::ifstream o(ps.stdout_path), e(ps.stderr_path);
  r.out.assign(std::istreambuf_iterator<char>(o), std::istreambuf_iterator<char>());
  r.err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// "3", "4-7", "0-9%2", "1,3,5-6" -> task ids.
std::vector<int> parse_task_ids(std::string spec) {
  std::vector<int> out;
  if (const auto pct = spec.find('%'); pct != std::string::npos) spec.resize(pct);
  std::stringstream ss(spec);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    try {
      if (dash == std::string::npos) {
        out.push_back(std::stoi(part));
      } else {
        for (int i = std::stoi(part.substr(0, dash)), e = std::stoi(part.substr(dash + 1)); i <= e; ++i) out.push_back(i);
      }
    } catch (const std::exception&) {
      // not a task list (e.g. "N/A"); skip
    }
  }
  return out;
}

struct TaskState {
  std::string state;   // Slurm's, e.g. COMPLETED, CANCELLED, TIMEOUT, RUNNING
  std::string reason;  // Slurm's reason or "by <uid>"
};

bool active(const std::string& state) {
  static const std::set<std::string> a = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT"};
  return a.count(state) > 0;
}

// The state of every array task of `job` Slurm still knows: sacct when
// accounting is on, else scontrol (which forgets jobs MinJobAge after they end).
std::map<int, TaskState> job_states(const std::string& job, const fs::path& tmp) {
  std::map<int, TaskState> out;
  const CmdResult acct = run_cmd({"sacct", "-n", "-P", "-X", "-j", job, "--format=JobID,State,Reason"}, tmp);
  if (acct.code == 0 && acct.err.find("disabled") == std::string::npos) {
    std::stringstream ss(acct.out);
    std::string line;
    while (std::getline(ss, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      std::string x;
      while (std::getline(ls, x, '|')) f.push_back(x);
      if (f.size() < 2) continue;
      const auto us = f[0].find('_');
      if (us == std::string::npos) continue;
      std::string ids = f[0].substr(us + 1);
      if (!ids.empty() && ids.front() == '[') ids = ids.substr(1, ids.find(']') - 1);
      std::string state = f[1], by;
      if (const auto sp = state.find(' '); sp != std::string::npos) {
        by = state.substr(sp + 1);
        state.resize(sp);
      }
      const std::string reason = f.size() > 2 && f[2] != "None" ? f[2] : by;
      for (int t : parse_task_ids(ids)) out[t] = {state, reason};
    }
    return out;
  }
  const CmdResult sc = run_cmd({"scontrol", "-o", "show", "job", job}, tmp);
  if (sc.code != 0) return out;  // not known (any more)
  std::stringstream ss(sc.out);
  std::string line;
  while (std::getline(ss, line)) {
    std::map<std::string, std::string> kv;
    std::stringstream ls(line);
    std::string tok;
    while (ls >> tok)
      if (const auto eq = tok.find('='); eq != std::string::npos) kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    if (!kv.count("ArrayTaskId") || !kv.count("JobState")) continue;
    const std::string reason = kv.count("Reason") && kv["Reason"] != "None" ? kv["Reason"] : "";
    for (int t : parse_task_ids(kv["ArrayTaskId"])) out[t] = {kv["JobState"], reason};
  }
  return out;
}

std::string result_status(const std::string& slurm_state) {
  if (slurm_state == "CANCELLED" || slurm_state == "PREEMPTED" || slurm_state == "NODE_FAIL" || slurm_state == "BOOT_FAIL" ||
      slurm_state == "DEADLINE")
    return "cancelled";
  if (slurm_state == "TIMEOUT") return "timeout";
  return "failed";
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

void append_event(const fs::path& p, const std::string& line) { append_line(p.string(), line); }

// Checks one submitted job: trials of its active array tasks go to `queued`;
// trials of ended tasks that wrote no result get one with Slurm's state and
// reason (and a line in events.jsonl and `events`). A job with no active
// task is marked settled.
void reconcile(json& job, const fs::path& root, std::vector<std::string>& events, std::set<std::string>& queued) {
  const fs::path sl = root / "slurm";
  const std::string id = job.at("job").get<std::string>();
  const auto states = job_states(id, sl);
  const auto& chunks = job.at("chunks");
  bool any_active = false;
  for (std::size_t t = 0; t < chunks.size(); ++t) {
    const auto it = states.find(static_cast<int>(t));
    const bool still = it != states.end() && active(it->second.state);
    any_active = any_active || still;
    for (const auto& trial : chunks[t]) {
      const std::string tid = trial.get<std::string>();
      const fs::path rdir = root / "trials" / tid;
      if (still) {
        queued.insert(tid);
        continue;
      }
      if (fs::exists(rdir / "result.json")) continue;  // ended with its own result
      const std::string state = it == states.end() ? "UNKNOWN" : it->second.state;
      const std::string why = "Slurm job " + id + "_" + std::to_string(t) + " ended " + state +
                              (it != states.end() && !it->second.reason.empty() ? " (" + it->second.reason + ")" : "") +
                              (it == states.end() ? " (no longer known to Slurm)" : "") + " before the trial wrote its result";
      fs::create_directories(rdir);
      write_json_atomically(rdir / "result.json", {{"trial", tid}, {"status", result_status(state)}, {"reason", why}});
      append_event(sl / "events.jsonl", json{{"trial", tid}, {"job", id}, {"task", t}, {"state", state}, {"reason", why}}.dump());
      events.push_back(tid + ": " + result_status(state) + ": " + why);
    }
  }
  if (!any_active) job["settled"] = true;
}

}  // namespace

SlurmSubmission run_sweep_slurm(const SweepConfig& cfg, const std::string& out_dir, const SlurmOptions& opt) {
  if (opt.chunk < 1) throw InvalidArgument("--chunk must be at least 1");
  const fs::path root = fs::absolute(out_dir), sl = root / "slurm";
  FolderLock lock(root / ".lock", "sweep folder " + out_dir, "another sweep");  // one submitter at a time
  prepare_sweep_dir(cfg, root.string());
  fs::create_directories(sl / "logs");
  SlurmSubmission sub;

  // 1. Reconcile earlier submissions.
  json jobs = read_json(sl / "jobs.json");
  if (jobs.is_null()) jobs = json::array();
  std::set<std::string> queued;
  for (auto& job : jobs)
    if (!job.value("settled", false)) reconcile(job, root, sub.events, queued);
  write_json_atomically(sl / "jobs.json", jobs);

  // 2. What runs now.
  std::vector<std::string> todo;
  for (const auto& t : cfg.trials) {
    if (queued.count(t.id)) {
      ++sub.queued;
      continue;
    }
    const json r = read_json(root / "trials" / t.id / "result.json");
    if (needs_run(r.is_null() ? "" : r.value("status", ""), opt.retry_failed)) todo.push_back(t.id);
  }
  auto settle_summary = [&] {
    write_summary(root.string());
    sub.summary.trials = cfg.trials.size();
    for (const auto& t : cfg.trials) {
      const json r = read_json(root / "trials" / t.id / "result.json");
      const std::string s = r.is_null() ? "" : r.value("status", "");
      if (s == "done") ++sub.summary.done;
      else if (s == "timeout") ++sub.summary.timeout;
      else if (!s.empty()) ++sub.summary.failed;
    }
    sub.summary.summary_csv = (root / "summary.csv").string();
  };
  if (todo.empty()) {
    settle_summary();
    return sub;
  }

  // 3. One job array over chunks of the trials.
  const std::size_t n = jobs.size();
  const fs::path list = sl / ("trials-" + std::to_string(n) + ".txt"), script = sl / ("submit-" + std::to_string(n) + ".sh");
  {
    std::string text;
    for (const auto& id : todo) text += id + "\n";
    write_file_atomically(list, text);
  }
  for (const auto& id : todo) {
    fs::create_directories(root / "trials" / id);
    std::error_code ec;
    fs::remove(root / "trials" / id / "result.json", ec);  // an old cancelled/failed result; the task writes the new one
    for (const auto& t : cfg.trials)
      if (t.id == id) write_json_atomically(root / "trials" / id / "trial.json", t.to_json());
  }
  const std::size_t tasks = (todo.size() + static_cast<std::size_t>(opt.chunk) - 1) / static_cast<std::size_t>(opt.chunk);
  std::string worker = shell_quote(opt.self_exe);
  for (const auto& p : cfg.plugins) worker += " --plugin " + shell_quote(fs::absolute(p).string());
  for (const auto& e : cfg.env_specs) worker += " --env-spec " + shell_quote(fs::absolute(e).string());
  {
    std::ostringstream f;
    f << "#!/bin/bash\n"
      << "# dsegym sweep '" << cfg.name << "': " << todo.size() << " trials in " << tasks << " array tasks of up to " << opt.chunk << "\n"
      << "#SBATCH --job-name=dsegym-" << cfg.name << "\n"
      << "#SBATCH --array=0-" << tasks - 1 << (opt.array_max > 0 ? "%" + std::to_string(opt.array_max) : "") << "\n"
      << "#SBATCH --output=" << (sl / "logs" / "%A_%a.out").string() << "\n"
      << "#SBATCH --ntasks=1\n";
    if (!opt.partition.empty()) f << "#SBATCH --partition=" << opt.partition << "\n";
    if (!opt.time.empty()) f << "#SBATCH --time=" << opt.time << "\n";
    f << "export " << kSweepWorkerVar << "=slurm  # tasks run under the sweep, not its local folder lock\n"
      << "first=$(( SLURM_ARRAY_TASK_ID * " << opt.chunk << " + 1 ))\n"
      << "last=$(( first + " << opt.chunk - 1 << " ))\n"
      << "status=0\n"
      << "for id in $(sed -n \"${first},${last}p\" " << shell_quote(list.string()) << "); do\n"
      << "  " << worker << " trial " << shell_quote((root / "trials").string()) << "/\"$id\" || status=1\n"
      << "done\n"
      << "exit $status\n";
    write_file_atomically(script, f.str());
  }
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), opt.sbatch_args.begin(), opt.sbatch_args.end());
  argv.push_back(script.string());
  const CmdResult sb = run_cmd(argv, sl);
  if (sb.code != 0) throw InvalidArgument("sbatch refused the job (exit " + std::to_string(sb.code) + "): " + trim(sb.err) + "; script: " + script.string());
  sub.job_id = trim(sb.out);
  if (const auto semi = sub.job_id.find(';'); semi != std::string::npos) sub.job_id.resize(semi);  // "id;cluster"
  sub.submitted = todo.size();
  json chunks = json::array();
  for (std::size_t t = 0; t < tasks; ++t) {
    json c = json::array();
    for (std::size_t k = t * static_cast<std::size_t>(opt.chunk); k < std::min(todo.size(), (t + 1) * static_cast<std::size_t>(opt.chunk)); ++k)
      c.push_back(todo[k]);
    chunks.push_back(c);
  }
  jobs.push_back({{"job", sub.job_id}, {"script", script.string()}, {"chunks", chunks}, {"settled", false}});
  write_json_atomically(sl / "jobs.json", jobs);

  // 4. Optionally wait, showing progress.
  if (opt.wait) {
    Progress progress(static_cast<std::int64_t>(todo.size()), cfg.name + " (Slurm job " + sub.job_id + ")", opt.progress);
    for (;;) {
      std::int64_t ended = 0;
      for (const auto& id : todo) ended += fs::exists(root / "trials" / id / "result.json");
      const CmdResult q = run_cmd({"squeue", "-h", "-j", sub.job_id, "-o", "%i %T"}, sl);
      std::int64_t running = 0, pending = 0;
      std::stringstream ss(q.out);
      std::string jid, st;
      while (ss >> jid >> st) (st == "RUNNING" ? running : pending) += 1;
      progress.update(ended, std::to_string(running) + " running, " + std::to_string(pending) + " queued");
      if (q.code == 0 && trim(q.out).empty()) break;
      if (q.code != 0 && ended == static_cast<std::int64_t>(todo.size())) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    progress.finish();
    // Record the tasks that ended without results, as the next call would.
    json js = read_json(sl / "jobs.json");
    std::set<std::string> still;
    for (auto& j : js)
      if (j.at("job") == sub.job_id) reconcile(j, root, sub.events, still);
    write_json_atomically(sl / "jobs.json", js);
  }
  settle_summary();
  return sub;
}

}  // namespace dsegym
