#pragma once
// `dsegym report DIR`: a Markdown and an HTML report of a sweep. The
// Markdown has SVG plots (a Markdown viewer runs no script); the HTML is the
// dashboard's page with the sweep's state and Chart.js inlined, so it draws
// the same interactive charts as `dsegym dashboard`, offline. Both show:
// best-so-far reward against evaluations per agent (median and
// inter-quartile range over seeds, for the agent's best hyperparameter
// configuration), the hyperparameter lottery (spread of results over each
// agent's configurations), each agent's relative improvement over the mean of
// random search (as "NAS evaluation is frustratingly hard", Yang et al. 2020,
// recommends), Pareto fronts of multi-objective runs, and every trial.
#include <string>

namespace dsegym {

struct ReportFiles {
  std::string markdown, html;
  std::size_t plots = 0;
};

ReportFiles write_report(const std::string& sweep_dir);

}  // namespace dsegym
