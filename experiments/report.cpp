#include "experiments/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agents/pareto.hpp"
#include "base/error.hpp"
#include "base/files.hpp"
#include "envs/core/trace.hpp"
#include "experiments/dashboard.hpp"
#include "experiments/svg_plot.hpp"
#include "experiments/sweep.hpp"

namespace dsegym {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double v) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

// The report as blocks, rendered to Markdown and HTML.
struct Doc {
  std::ostringstream md, html;
  void heading(int level, const std::string& t) {
    md << std::string(static_cast<std::size_t>(level), '#') << " " << t << "\n\n";
    html << "<h" << level << ">" << esc(t) << "</h" << level << ">\n";
  }
  void para(const std::string& t) {
    md << t << "\n\n";
    html << "<p>" << esc(t) << "</p>\n";
  }
  void table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
    md << "|";
    for (const auto& h : head) md << " " << h << " |";
    md << "\n|";
    for (std::size_t i = 0; i < head.size(); ++i) md << " --- |";
    md << "\n";
    html << "<table><tr>";
    for (const auto& h : head) html << "<th>" << esc(h) << "</th>";
    html << "</tr>\n";
    for (const auto& r : rows) {
      md << "|";
      html << "<tr>";
      for (const auto& c : r) {
        md << " " << c << " |";
        html << "<td>" << link(c) << "</td>";
      }
      md << "\n";
      html << "</tr>\n";
    }
    md << "\n";
    html << "</table>\n";
  }
  // Markdown only: the HTML report draws its charts with the dashboard's.
  void image(const std::string& path, const std::string& caption) { md << "![" << caption << "](" << path << ")\n\n"; }
  static std::string esc(const std::string& s) {
    std::string o;
    for (char c : s) o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return o;
  }
  // Markdown links [t](u) in table cells become <a> in HTML.
  static std::string link(const std::string& c) {
    if (c.size() > 4 && c[0] == '[') {
      const auto mid = c.find("](");
      if (mid != std::string::npos && c.back() == ')')
        return "<a href=\"" + esc(c.substr(mid + 2, c.size() - mid - 3)) + "\">" + esc(c.substr(1, mid - 1)) + "</a>";
    }
    return esc(c);
  }
};

struct TrialData {
  json spec;
  std::string status, reason;
  std::vector<double> best_so_far;  // running max of the reward per evaluation
  double final_best = kNaN;
  double reward_sum = 0;  // over ok evaluations with a finite reward
  std::int64_t rewarded = 0;
  json pareto;
  std::map<std::string, double> signs;  // objective -> +1 min / -1 max
};

std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return o;
}

}  // namespace

ReportFiles write_report(const std::string& sweep_dir) {
  const fs::path root(sweep_dir);
  const json sweep = read_json(root / "sweep.json");
  if (sweep.is_null()) throw InvalidArgument(sweep_dir + ": no sweep.json; give the --out folder of a `dsegym sweep`");
  write_summary(sweep_dir);
  const fs::path out = root / "report";
  fs::create_directories(out / "plots");

  std::vector<TrialData> trials;
  for (const auto& t : sweep.at("trials")) {
    TrialData d;
    d.spec = t;
    const fs::path dir = root / "trials" / t.at("id").get<std::string>();
    const json r = read_json(dir / "result.json");
    d.status = r.is_null() ? "pending" : r.value("status", "failed");
    d.reason = r.is_null() ? "" : r.value("reason", "");
    if (!r.is_null() && r.contains("result")) d.pareto = r.at("result").value("pareto", json());
    if (fs::exists(dir / "trace.jsonl")) {
      double best = kNaN;
      for (const auto& row : read_trace((dir / "trace.jsonl").string()).rows) {
        if (row.status.ok() && std::isfinite(row.reward)) {
          if (!(row.reward <= best)) best = row.reward;
          d.reward_sum += row.reward;
          ++d.rewarded;
        }
        d.best_so_far.push_back(best);
      }
      if (!d.best_so_far.empty()) d.final_best = d.best_so_far.back();
    }
    const json run = read_json(dir / "run.json");
    if (!run.is_null())
      for (const auto& m : run.at("env_spec").at("metrics")) d.signs[m.at("name")] = m.at("goal") == "max" ? -1.0 : 1.0;
    trials.push_back(std::move(d));
  }

  Doc doc;
  ReportFiles files;
  std::map<std::string, int> status_count;
  for (const auto& t : trials) ++status_count[t.status];
  doc.heading(1, "Sweep report: " + sweep.value("name", std::string("sweep")));
  std::string counts;
  for (const auto& [k, v] : status_count) counts += (counts.empty() ? "" : ", ") + std::to_string(v) + " " + k;
  doc.para(std::to_string(trials.size()) + " trials (" + counts + "). Rewards are maximised; each trial's result is its best reward. "
           "Data: summary.csv, summary.json and trials/<id>/trace.jsonl in the sweep folder.");

  std::map<std::string, std::vector<std::size_t>> by_env;
  for (std::size_t i = 0; i < trials.size(); ++i) by_env[trials[i].spec.at("env_key").get<std::string>()].push_back(i);
  for (const auto& [env_key, idx] : by_env) {
    doc.heading(2, "Env " + env_key);
    doc.para("env " + trials[idx[0]].spec.at("env").get<std::string>() + ", options " + trials[idx[0]].spec.at("env_options").dump() +
             (trials[idx[0]].spec.at("reward").is_null() ? ", the env's default reward" : ", reward " + trials[idx[0]].spec.at("reward").dump()));
    // agent -> config -> trial indices
    std::map<std::string, std::map<std::string, std::vector<std::size_t>>> groups;
    for (auto i : idx) groups[trials[i].spec.at("agent").get<std::string>()][trials[i].spec.at("agent_key").get<std::string>()].push_back(i);

    // Baselines from the random-search trials: the mean of their best
    // rewards, and the mean reward of a random design (every evaluation;
    // Yang et al., "NAS evaluation is frustratingly hard", ICLR 2020, report
    // NAS methods against the average randomly sampled architecture).
    double random_mean = kNaN, random_design = kNaN;
    if (groups.count("random")) {
      double sum = 0, all = 0;
      std::int64_t n = 0, evals = 0;
      for (const auto& [cfg, ts] : groups.at("random"))
        for (auto i : ts) {
          if (std::isfinite(trials[i].final_best)) {
            sum += trials[i].final_best;
            ++n;
          }
          all += trials[i].reward_sum;
          evals += trials[i].rewarded;
        }
      if (n > 0) random_mean = sum / static_cast<double>(n);
      if (evals > 0) random_design = all / static_cast<double>(evals);
    }

    // Per configuration table.
    std::vector<std::vector<std::string>> rows;
    std::vector<Series> curves;
    std::vector<BoxStats> lottery;
    for (const auto& [agent, cfgs] : groups) {
      std::string best_cfg;
      double best_median = -std::numeric_limits<double>::infinity();
      std::vector<double> cfg_medians;
      for (const auto& [cfg, ts] : cfgs) {
        std::vector<double> finals;
        for (auto i : ts) finals.push_back(trials[i].final_best);
        const double med = quantile(finals, 0.5);
        cfg_medians.push_back(med);
        if (std::isfinite(med) && med > best_median) {
          best_median = med;
          best_cfg = cfg;
        }
        std::string hp = trials[ts[0]].spec.at("hyperparameters").dump();
        auto rel = [&](double base) {
          const double r = std::isfinite(base) && base != 0 ? (med - base) / std::fabs(base) : kNaN;
          return std::isfinite(r) ? fmt(100 * r) + "%" : std::string("-");
        };
        rows.push_back({agent, cfg, hp, std::to_string(ts.size()), fmt(med), fmt(quantile(finals, 0.25)) + " .. " + fmt(quantile(finals, 0.75)),
                        rel(random_mean), rel(random_design)});
      }
      lottery.push_back({agent, quantile(cfg_medians, 0), quantile(cfg_medians, 0.25), quantile(cfg_medians, 0.5), quantile(cfg_medians, 0.75),
                         quantile(cfg_medians, 1), cfg_medians.size()});
      if (best_cfg.empty()) continue;
      const auto& ts = cfgs.at(best_cfg);
      std::size_t len = 0;
      for (auto i : ts) len = std::max(len, trials[i].best_so_far.size());
      Series s;
      s.label = agent;
      for (std::size_t k = 0; k < len; ++k) {
        std::vector<double> v;
        for (auto i : ts)
          if (k < trials[i].best_so_far.size()) v.push_back(trials[i].best_so_far[k]);
        s.x.push_back(static_cast<double>(k + 1));
        s.y.push_back(quantile(v, 0.5));
        s.lo.push_back(quantile(v, 0.25));
        s.hi.push_back(quantile(v, 0.75));
      }
      curves.push_back(std::move(s));
    }
    doc.heading(3, "Results per agent configuration");
    doc.para(std::isfinite(random_mean)
                 ? "vs random search: relative improvement of the median best over the mean best of random search (" + fmt(random_mean) +
                       "). vs random design: over the mean reward of a randomly sampled design (" + fmt(random_design) +
                       "), the protocol of Yang et al. (ICLR 2020) for NAS."
                 : "No random-search trials in this env, so no relative improvement is given.");
    doc.table({"agent", "configuration", "hyperparameters", "seeds", "median best", "IQR", "vs random search", "vs random design"}, rows);

    const std::string base = slug(env_key);
    {
      write_file_atomically(out / "plots" / (base + "_best_so_far.svg"), svg_line_chart("Best reward so far (median, IQR over seeds; best configuration per agent)", "evaluations", "best reward", curves));
      doc.image("plots/" + base + "_best_so_far.svg", "best-so-far reward vs evaluations, " + env_key);
      write_file_atomically(out / "plots" / (base + "_lottery.svg"),
                            svg_box_chart("Hyperparameter lottery: median best per configuration", "median best reward", lottery));
      doc.image("plots/" + base + "_lottery.svg", "spread of results over hyperparameter configurations, " + env_key);
      files.plots += 2;
    }

    // Pareto fronts per agent, over the first two objectives.
    std::map<std::string, std::vector<Point>> fronts;
    std::vector<std::string> objectives;
    for (auto i : idx) {
      const json& p = trials[i].pareto;
      if (p.is_null() || p.at("objectives").size() < 2) continue;
      objectives = {p.at("objectives")[0].get<std::string>(), p.at("objectives")[1].get<std::string>()};
      for (const auto& f : p.at("front"))
        fronts[trials[i].spec.at("agent").get<std::string>()].push_back(
            {f.at("metrics").at(objectives[0]).get<double>(), f.at("metrics").at(objectives[1]).get<double>()});
    }
    if (!fronts.empty()) {
      std::vector<Series> pts;
      const auto& signs = trials[idx[0]].signs;
      for (const auto& entry : fronts) {
        const auto& agent = entry.first;
        const auto& all = entry.second;  // plain references: clang 14 lambdas cannot capture structured bindings
        std::vector<Point> minimised;
        for (const auto& q : all) minimised.push_back({signs.at(objectives[0]) * q[0], signs.at(objectives[1]) * q[1]});
        Series s;
        s.label = agent;
        s.points = true;
        std::vector<std::size_t> nd = pareto_front(minimised);
        std::sort(nd.begin(), nd.end(), [&](std::size_t a, std::size_t b) { return all[a][0] < all[b][0]; });
        for (auto k : nd) {
          s.x.push_back(all[k][0]);
          s.y.push_back(all[k][1]);
        }
        pts.push_back(std::move(s));
      }
      write_file_atomically(out / "plots" / (base + "_pareto.svg"),
                            svg_line_chart("Pareto fronts (all seeds of each agent)", objectives[0], objectives[1], pts));
      doc.image("plots/" + base + "_pareto.svg", "Pareto fronts, " + env_key);
      ++files.plots;
    }
  }

  doc.heading(2, "Trials");
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : trials) {
    const std::string id = t.spec.at("id").get<std::string>();
    rows.push_back({"[" + id + "](../trials/" + id + "/trace.jsonl)", t.spec.at("agent").get<std::string>(), std::to_string(t.spec.at("seed").get<std::uint64_t>()),
                    t.status, std::to_string(t.best_so_far.size()), fmt(t.final_best), t.reason});
  }
  doc.table({"trial", "agent", "seed", "status", "evaluations", "best reward", "reason"}, rows);

  files.markdown = (out / "report.md").string();
  files.html = (out / "report.html").string();
  write_file_atomically(files.markdown, doc.md.str());
  // The HTML report is the dashboard's page with this sweep's state and
  // Chart.js inlined (one self-contained file), and the tables above.
  write_file_atomically(files.html, dashboard_snapshot(DashboardData({sweep_dir}).state(), doc.html.str()));
  return files;
}

}  // namespace dsegym
