// The dashboard page: plain HTML, CSS and script over Chart.js (Debian's
// libjs-chart.js 3.9). Live, it polls /api/state every 2 s and redraws only
// what changed; in a report it draws the state embedded in it.
//
// For tests and scripts the page exposes what it drew: <body data-ready>
// after the first state is drawn and data-updates counting redraws; each
// overview row's data-done / -running / -failed / -pending / -total; each
// chart canvas's data-marks (points given to the chart) and data-painted
// (non-blank pixels sampled from the canvas after drawing).
#include <string>

#include "experiments/dashboard.hpp"

namespace dsegym {

namespace {

const char* const kHead = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dsegym dashboard</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f3a5f;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
header h1{font-size:20px;margin:0}#status{font-size:13px;opacity:.85}
main{padding:12px 20px}section{background:#fff;border:1px solid #dde;border-radius:6px;padding:10px 14px;margin-bottom:14px}
h2{font-size:17px;margin:4px 0 8px}h3{font-size:14px;margin:4px 0}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:right}
th{background:#eef;cursor:pointer;white-space:nowrap}td.l,th.l{text-align:left}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px}
.chart{position:relative;height:300px}.note{font-size:12px;color:#555}
.ok{color:#176b2c}.failed{color:#a11}.running{color:#a60}
#trial-view{max-height:600px;overflow:auto}a{color:#1f5fa8;cursor:pointer}
</style>
)HTML";

const char* const kBody = R"HTML(</head><body data-ready="0" data-updates="0">
<header><h1>dsegym dashboard</h1><span id="status">loading...</span></header>
<main>
<section id="overview-section"><h2>Overview</h2><div id="overview"></div></section>
<div id="envs"></div>
<!--report-->
<section id="trials-section"><h2>Trials</h2>
<label class="note">status <select id="trial-status"><option value="">all</option><option>done</option><option>running</option><option>pending</option><option>failed</option><option>timeout</option><option>cancelled</option></select></label>
<div id="trials"></div></section>
<section id="trial-view-section" hidden><h2 id="trial-title">Trial</h2>
<label class="note">evaluations <select id="row-status"><option value="">all</option><option>ok</option><option>infeasible</option><option>sim_error</option><option>invalid_action</option></select></label>
<div id="trial-view"></div></section>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const api = (p) => fetch(p + (token ? (p.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : ""), {cache: "no-store"})
  .then(r => r.ok ? r.json() : r.json().then(e => { throw new Error(e.error || r.statusText); }));
const esc = (s) => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]));
const fmt = (v) => v === null || v === undefined ? "-" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+(e|$)/, "$1")) : String(v);
const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
const color = (i, a) => { const c = palette[i % palette.length]; return a === undefined ? c : c + Math.round(a * 255).toString(16).padStart(2, "0"); };
const charts = {};
const drawn = {};
let state = null;
let trialSort = {key: "id", dir: 1};
let rowSort = {key: "step", dir: 1};
let openTrial = null;

function duration(s) {
  if (s === null || s === undefined) return "-";
  s = Math.round(s);
  return s >= 3600 ? Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min" : s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
}

// Non-blank pixels of a canvas, sampled every 4th pixel in each direction.
function painted(canvas) {
  const ctx = canvas.getContext("2d");
  if (!canvas.width || !canvas.height) return 0;
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let y = 0; y < canvas.height; y += 4) for (let x = 0; x < canvas.width; x += 4) if (d[(y * canvas.width + x) * 4 + 3] > 0) n++;
  return n;
}

function chart(id, config) {
  const canvas = document.getElementById(id);
  if (charts[id]) { charts[id].data = config.data; charts[id].options = config.options; charts[id].update("none"); }
  else charts[id] = new Chart(canvas, config);
  let marks = 0;
  for (const ds of config.data.datasets) if (!ds.hidden && !ds.uncounted) marks += ds.data.filter(p => p !== null && (p.y === undefined || p.y !== null)).length;
  canvas.dataset.marks = marks;
  canvas.dataset.painted = painted(canvas);
}

const baseOptions = (xTitle, yTitle, extra) => Object.assign({
  animation: false, responsive: true, maintainAspectRatio: false, normalized: true,
  plugins: {legend: {labels: {boxWidth: 12, filter: (item, data) => !data.datasets[item.datasetIndex].uncounted}}},
  scales: {x: {type: "linear", title: {display: true, text: xTitle}}, y: {title: {display: true, text: yTitle}}}
}, extra || {});

function unitOf(env, name) {
  const m = (env.metrics || []).find(m => m.name === name);
  return m && m.unit && m.unit !== "1" ? " [" + m.unit + "]" : "";
}

function bestSoFar(id, env) {
  const datasets = [];
  env.curves.forEach((c, i) => {
    const pts = (a) => a.map((y, k) => ({x: k + 1, y: y}));
    datasets.push({label: c.agent + " q1", data: pts(c.q1), borderWidth: 0, pointRadius: 0, fill: false, uncounted: true});
    datasets.push({label: c.agent + " IQR", data: pts(c.q3), borderWidth: 0, pointRadius: 0, backgroundColor: color(i, 0.18), fill: "-1", uncounted: true});
    datasets.push({label: c.agent + " (" + c.seeds + " seeds)", data: pts(c.median), borderColor: color(i), backgroundColor: color(i), borderWidth: 2, pointRadius: 0, fill: false});
  });
  // The first few evaluations' rewards are far below the rest: start the
  // axis at the lower quartile after 5% of the evaluations, so the curves'
  // ends, where agents differ, fill the chart.
  let lo = Infinity, hi = -Infinity;
  for (const c of env.curves) {
    const k = Math.floor(0.05 * c.median.length);
    for (let i = k; i < c.median.length; i++) { if (c.q1[i] !== null) lo = Math.min(lo, c.q1[i]); if (c.q3[i] !== null) hi = Math.max(hi, c.q3[i]); }
  }
  const y = {title: {display: true, text: "best reward so far (median, IQR)"}};
  if (isFinite(lo) && hi > lo) y.min = lo - 0.05 * (hi - lo);
  chart(id, {type: "line", data: {datasets}, options: baseOptions("evaluations", "best reward so far (median, IQR)",
    {scales: {x: {type: "linear", title: {display: true, text: "evaluations"}}, y},
     plugins: {legend: {labels: {boxWidth: 12, filter: (item, data) => !data.datasets[item.datasetIndex].uncounted}},
               tooltip: {filter: (item) => !item.dataset.uncounted}}})});
}

function pareto(id, env) {
  const [ox, oy] = env.pareto.objectives;
  const datasets = env.pareto.fronts.map((f, i) => ({label: f.agent, data: f.points.map(p => ({x: p.x, y: p.y, action: p.action})),
    borderColor: color(i), backgroundColor: color(i, 0.7), showLine: true, borderWidth: 1, pointRadius: 4, stepped: false}));
  chart(id, {type: "scatter", data: {datasets}, options: baseOptions(ox + unitOf(env, ox), oy + unitOf(env, oy), {
    plugins: {tooltip: {callbacks: {label: (ctx) => {
      const p = ctx.raw;
      return [ctx.dataset.label + ": " + ox + " " + fmt(p.x) + ", " + oy + " " + fmt(p.y)].concat(Object.entries(p.action).map(([k, v]) => "  " + k + " = " + fmt(v)));
    }}}}})});
}

function parallel(id, env) {
  const axes = env.parallel.axes, rows = env.parallel.rows;
  const n = axes.length;
  const ranges = axes.map((a, i) => {
    if (a.labels.length) return null;
    const v = rows.map(r => r[i]).filter(x => x !== null);
    const lo = Math.min(...v), hi = Math.max(...v);
    return {lo, hi, log: lo > 0 && hi / lo >= 16};
  });
  const rewards = rows.map(r => r[n]).filter(x => x !== null);
  const rlo = Math.min(...rewards), rhi = Math.max(...rewards);
  const norm = (v, i) => {
    if (v === null) return null;
    if (axes[i].labels.length) return axes[i].labels.length > 1 ? v / (axes[i].labels.length - 1) : 0.5;
    const r = ranges[i];
    if (r.hi === r.lo) return 0.5;
    return r.log ? Math.log(v / r.lo) / Math.log(r.hi / r.lo) : (v - r.lo) / (r.hi - r.lo);
  };
  const order = rows.map((r, k) => k).sort((a, b) => (rows[a][n] ?? -Infinity) - (rows[b][n] ?? -Infinity));
  const datasets = order.map(k => {
    const r = rows[k];
    const t = rhi > rlo && r[n] !== null ? (r[n] - rlo) / (rhi - rlo) : 0;
    return {data: r.slice(0, n).map((v, i) => norm(v, i)).concat([rhi > rlo && r[n] !== null ? t : 0.5]),
            borderColor: "hsla(" + Math.round(t * 120) + ",75%,42%," + (0.2 + 0.6 * t) + ")", borderWidth: 1, pointRadius: 0, fill: false};
  });
  const labels = axes.map((a, i) => a.labels.length ? [a.name, a.labels[0] + " .. " + a.labels[a.labels.length - 1]]
    : [a.name, fmt(ranges[i].lo) + " .. " + fmt(ranges[i].hi) + (ranges[i].log ? " (log)" : "")]).concat([["reward", fmt(rlo) + " .. " + fmt(rhi)]]);
  chart(id, {type: "line", data: {labels, datasets}, options: {animation: false, responsive: true, maintainAspectRatio: false, normalized: true,
    plugins: {legend: {display: false}, tooltip: {enabled: false}},
    scales: {x: {type: "category", ticks: {autoSkip: false, maxRotation: 40, font: {size: 10}}}, y: {min: 0, max: 1, ticks: {display: false}}}}});
}

function lottery(id, env) {
  const l = env.lottery;
  const labels = l.map(a => a.agent + " (" + a.configurations + ")");
  chart(id, {type: "bar", data: {labels, datasets: [
    {label: "min .. max", data: l.map(a => [a.min, a.max]), backgroundColor: "#9ab", barPercentage: 0.12, grouped: false},
    {label: "q1 .. q3", data: l.map(a => [a.q1, a.q3]), backgroundColor: "#4a78b0aa", barPercentage: 0.5, grouped: false},
    {type: "line", label: "median", data: l.map(a => a.median), showLine: false, pointStyle: "line", pointRadius: 14, borderWidth: 3, borderColor: "#111"}]},
    options: {animation: false, responsive: true, maintainAspectRatio: false,
      scales: {y: {beginAtZero: false, title: {display: true, text: "median best reward per configuration"}}}}});
}

function envSection(f, e) {
  const id = "env-" + f.index + "-" + e.key.replace(/[^A-Za-z0-9_-]/g, "_");
  let sec = document.getElementById(id);
  if (!sec) {
    sec = document.createElement("section");
    sec.id = id;
    sec.className = "env";
    sec.innerHTML = "<h2></h2><div class='grid'>" +
      ["best", "pareto", "parallel", "lottery"].map(k => "<div><h3>" + {best: "Best reward so far per agent", pareto: "Pareto front per agent (hover a point for its design)",
        parallel: "Knobs vs reward (parallel coordinates)", lottery: "Hyperparameter lottery"}[k] + "</h3><div class='note' id='" + id + "-" + k + "-note'></div><div class='chart'><canvas id='" + id + "-" + k + "'></canvas></div></div>").join("") + "</div>";
    document.getElementById("envs").appendChild(sec);
  }
  sec.querySelector("h2").textContent = f.name + ": " + e.key + " (" + e.env + ")";
  const key = JSON.stringify(e);
  if (drawn[id] === key) return;
  drawn[id] = key;
  bestSoFar(id + "-best", e);
  if (e.pareto && e.pareto.fronts.length) pareto(id + "-pareto", e);
  document.getElementById(id + "-pareto-note").textContent = e.pareto ? e.pareto.objectives.join(" vs ") : "no objectives (the sweep's \"objectives\", or two metrics with a goal)";
  if (e.parallel) { parallel(id + "-parallel", e); document.getElementById(id + "-parallel-note").textContent = e.parallel.rows.length + " of " + e.parallel.of + " designs; colour from red (worst reward) to green (best)"; }
  lottery(id + "-lottery", e);
  document.getElementById(id + "-lottery-note").textContent = "spread of each agent's configurations (median best over seeds)";
}

function overview() {
  let html = "<p class='note'>" + fmt(state.evaluations) + " evaluations done, " + fmt(state.remaining_evaluations) + " to go" +
    (state.evaluations_per_s > 0 ? ", " + state.evaluations_per_s.toFixed(1) + " per s, ETA " + duration(state.eta_s) : "") + "</p>";
  html += "<table id='overview-table'><tr><th class='l'>folder</th><th class='l'>env</th><th>trials</th><th>done</th><th>running</th><th>failed</th><th>pending</th><th>best reward</th></tr>";
  for (const f of state.folders) for (const e of f.envs) {
    // Trials that timed out or were cancelled count as failed here (the trials table names each status).
    const c = (k) => k === "failed" ? (e.counts.failed || 0) + (e.counts.timeout || 0) + (e.counts.cancelled || 0) : e.counts[k] || 0;
    const bests = f.trials.filter(t => t.env_key === e.key && t.best !== null).map(t => t.best);
    html += "<tr class='overview-row' data-total='" + e.trials + "' data-done='" + c("done") + "' data-running='" + c("running") + "' data-failed='" + c("failed") +
      "' data-pending='" + c("pending") + "'><td class='l'>" + esc(f.name) + "</td><td class='l'>" + esc(e.key) + "</td><td>" + e.trials + "</td><td class='ok'>" + c("done") +
      "</td><td class='running'>" + c("running") + "</td><td class='failed'>" + c("failed") + "</td><td>" + c("pending") + "</td><td>" + (bests.length ? fmt(Math.max(...bests)) : "-") + "</td></tr>";
  }
  document.getElementById("overview").innerHTML = html + "</table>";
}

function sortRows(rows, s, get) {
  return rows.slice().sort((a, b) => { const x = get(a, s.key), y = get(b, s.key); return (x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1) * s.dir; });
}

function header(cols, s, onSort) {
  return "<tr>" + cols.map(c => "<th class='" + (c.l ? "l" : "") + "' data-key='" + esc(c.key) + "'>" + esc(c.title) + (s.key === c.key ? (s.dir > 0 ? " &#9650;" : " &#9660;") : "") + "</th>").join("") + "</tr>";
}

function bindSort(table, s, redraw) {
  table.querySelectorAll("th").forEach(th => th.onclick = () => { const k = th.dataset.key; s.dir = s.key === k ? -s.dir : 1; s.key = k; redraw(); });
}

function trialsTable() {
  const filter = document.getElementById("trial-status").value;
  const cols = [{key: "folder", title: "folder", l: 1}, {key: "id", title: "trial", l: 1}, {key: "agent", title: "agent", l: 1}, {key: "seed", title: "seed"},
    {key: "status", title: "status", l: 1}, {key: "evaluations", title: "evaluations"}, {key: "budget", title: "budget"}, {key: "best", title: "best reward"}, {key: "reason", title: "reason", l: 1}];
  let rows = [];
  for (const f of state.folders) for (const t of f.trials) if (!filter || t.status === filter) rows.push(Object.assign({folder: f.name, folderIndex: f.index}, t));
  rows = sortRows(rows, trialSort, (r, k) => r[k]);
  const live = !window.DSEGYM_STATE;
  const el = document.getElementById("trials");
  el.innerHTML = "<table id='trials-table'>" + header(cols, trialSort) + rows.map(r => "<tr class='trial-row' data-status='" + esc(r.status) + "'>" + cols.map(c => {
    const v = c.key === "id" && live ? "<a data-folder='" + r.folderIndex + "' data-id='" + esc(r.id) + "'>" + esc(r.id) + "</a>" : esc(fmt(r[c.key]));
    return "<td class='" + (c.l ? "l " : "") + (c.key === "status" ? esc(r.status) : "") + "'>" + v + "</td>";
  }).join("") + "</tr>").join("") + "</table>";
  bindSort(el.querySelector("table"), trialSort, trialsTable);
  el.querySelectorAll("a[data-id]").forEach(a => a.onclick = () => showTrial(+a.dataset.folder, a.dataset.id));
}

function trialView(t) {
  const filter = document.getElementById("row-status").value;
  const names = (t.metrics.length ? t.metrics.map(m => m.name) : Object.keys((t.rows[0] || {metrics: {}}).metrics));
  const knobs = Object.keys((t.rows.find(r => Object.keys(r.action).length) || {action: {}}).action);
  const unit = (n) => { const m = t.metrics.find(m => m.name === n); return m && m.unit && m.unit !== "1" ? " [" + m.unit + "]" : ""; };
  const cols = [{key: "step", title: "step"}, {key: "status", title: "status", l: 1}, {key: "reward", title: "reward"}]
    .concat(names.map(n => ({key: "m:" + n, title: n + unit(n)}))).concat(knobs.map(k => ({key: "a:" + k, title: k, l: 1})))
    .concat([{key: "wall_time_s", title: "time [s]"}, {key: "reason", title: "reason", l: 1}]);
  const get = (r, k) => k.startsWith("m:") ? r.metrics[k.slice(2)] : k.startsWith("a:") ? r.action[k.slice(2)] : r[k];
  const rows = sortRows(t.rows.filter(r => !filter || r.status === filter), rowSort, get);
  document.getElementById("trial-title").textContent = "Trial " + t.id + " (" + t.rows.length + " evaluations)";
  const el = document.getElementById("trial-view");
  el.innerHTML = "<table id='trial-table'>" + header(cols, rowSort) + rows.map(r => "<tr class='trace-row' data-status='" + esc(r.status) + "'>" +
    cols.map(c => "<td class='" + (c.l ? "l" : "") + "'>" + esc(fmt(get(r, c.key))) + "</td>").join("") + "</tr>").join("") + "</table>";
  bindSort(el.querySelector("table"), rowSort, () => trialView(t));
  document.getElementById("trial-view-section").hidden = false;
}

function showTrial(folder, id) {
  openTrial = {folder, id};
  history.replaceState(null, "", "#trial=" + folder + "/" + encodeURIComponent(id));
  api("api/trial?folder=" + folder + "&id=" + encodeURIComponent(id)).then(t => { openTrial.data = t; trialView(t); document.body.dataset.trialRows = t.rows.length; })
    .catch(e => { document.getElementById("trial-view").textContent = "cannot load the trial: " + e.message; });
}

function draw(s) {
  state = s;
  overview();
  for (const f of s.folders) for (const e of f.envs) envSection(f, e);
  trialsTable();
  document.body.dataset.updates = +document.body.dataset.updates + 1;
  document.body.dataset.ready = "1";
}

document.getElementById("trial-status").onchange = () => state && trialsTable();
document.getElementById("row-status").onchange = () => openTrial && openTrial.data && trialView(openTrial.data);

function poll() {
  api("api/state").then(s => {
    draw(s);
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
    if (openTrial && s.folders[openTrial.folder] && s.folders[openTrial.folder].trials.some(t => t.id === openTrial.id && t.status === "running")) showTrial(openTrial.folder, openTrial.id);
  }).catch(e => { document.getElementById("status").textContent = "cannot reach the dashboard server: " + e.message; })
    .finally(() => setTimeout(poll, 2000));
}

if (window.DSEGYM_STATE) { draw(window.DSEGYM_STATE); document.getElementById("status").textContent = "report (a snapshot)"; }
else {
  // A link to one trial's evaluations: #trial=FOLDER/ID.
  const m = location.hash.match(/^#trial=(\d+)\/(.+)$/);
  if (m) showTrial(+m[1], decodeURIComponent(m[2]));
  poll();
}
</script></body></html>
)HTML";

}  // namespace

std::string dashboard_page() { return std::string(kHead) + "<script src=\"static/chart.min.js\"></script>\n" + kBody; }

std::string dashboard_snapshot(const json& state, const std::string& extra_html) {
  // Inside <script>, "</" would end the element: JSON allows "<\/".
  std::string data = state.dump(-1, ' ', false, json::error_handler_t::replace);
  for (std::size_t i = 0; (i = data.find("</", i)) != std::string::npos; i += 3) data.replace(i, 2, "<\\/");
  std::string body = kBody;
  const std::string marker = "<!--report-->";
  body.replace(body.find(marker), marker.size(), extra_html.empty() ? "" : "<section id=\"report\">\n" + extra_html + "</section>");
  return std::string(kHead) + "<script>\n" + chart_js() + "\n</script>\n<script>window.DSEGYM_STATE = " + data + ";</script>\n" + body;
}

}  // namespace dsegym
