#!/usr/bin/python3
"""`dsegym dashboard` in a real browser: Debian's chromium, headless, loads
the dashboard of a sweep while the sweep runs (and of a finished one next
to it); the test reads the DOM the page built and checks the trial counts
against the sweep folders, that every chart drew marks and pixels, that a
trial's evaluation table has a row per trace row with the metrics' units,
that the token rule holds, and that `dsegym report`'s HTML draws the same
charts offline. The screenshot is kept as a test artifact.

Usage: test_dashboard_browser.py DSEGYM ARTIFACT_DIR"""
import html.parser
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DSEGYM, ARTIFACTS = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    sys.exit("chromium is not installed: run scripts/setup.sh (it installs Debian's chromium)")
os.makedirs(ARTIFACTS, exist_ok=True)
work = tempfile.mkdtemp(prefix="dsegym-dashboard-")
procs = []


def start(args, **kw):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def wait_for(cond, what, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


class Dom(html.parser.HTMLParser):
    """Elements with their attributes, and the text of table cells per row."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.rows = {}  # table id -> [[cell text]]
        self.table = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "table":
            self.table = a.get("id")
            self.rows.setdefault(self.table, [])
        elif tag == "tr" and self.table is not None:
            self.rows[self.table].append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[self.table][-1].append(self.cell.strip())
            self.cell = None
        elif tag == "table":
            self.table = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def find(self, tag=None, **attrs):
        return [a for t, a in self.elements if (tag is None or t == tag) and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())]


def browse(url, screenshot=None):
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--run-all-compositor-stages-before-draw",
            "--virtual-time-budget=6000", "--window-size=1400,2000", "--dump-dom", url]
    if screenshot:
        args.insert(-2, "--screenshot=" + screenshot)
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=120, cwd=work).stdout
    dom = Dom()
    dom.feed(out)
    return dom, out


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


try:
    # A finished sweep: toy-v0, two agents x two seeds.
    finished = os.path.join(work, "finished")
    cfg = {"name": "finished", "envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}, {"id": "ga"}], "seeds": {"count": 2, "start": 1},
           "budget": {"evaluations": 30}, "objectives": ["loss", "cost"], "parallel": {"workers": 1, "isolation": "thread"}}
    with open(os.path.join(work, "finished.json"), "w") as f:
        json.dump(cfg, f)
    subprocess.run([DSEGYM, "sweep", os.path.join(work, "finished.json"), "--out", finished], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # A running sweep: dram-v0, long enough to outlast the browser.
    running = os.path.join(work, "running")
    cfg = {"name": "running", "envs": [{"id": "dram-v0"}], "agents": [{"id": "random"}, {"id": "sa"}, {"id": "ga"}], "seeds": {"count": 3, "start": 1},
           "budget": {"evaluations": 5000}, "objectives": ["latency_ns", "energy_nj"], "parallel": {"workers": 1, "isolation": "thread"}}
    with open(os.path.join(work, "running.json"), "w") as f:
        json.dump(cfg, f)
    sweep = start([DSEGYM, "sweep", os.path.join(work, "running.json"), "--out", running])
    wait_for(lambda: os.path.exists(os.path.join(running, "sweep.json")) and any(
        os.path.getsize(os.path.join(d, "trace.jsonl")) > 0 for d in [os.path.join(running, "trials", t) for t in os.listdir(os.path.join(running, "trials"))]
        if os.path.exists(os.path.join(d, "trace.jsonl"))), "the sweep's first evaluations")

    port_file = os.path.join(work, "port")
    server = start([DSEGYM, "dashboard", running, finished, "--port", "0", "--port-file", port_file])
    wait_for(lambda: os.path.exists(port_file), "the dashboard's port")
    base = "http://127.0.0.1:" + open(port_file).read().strip() + "/"

    shot = os.path.join(ARTIFACTS, "dashboard.png")
    dom, page = browse(base, shot)
    check(sweep.poll() is None, "the sweep ended before the browser read the page; the test needs it running")
    body = dom.find("body")[0]
    check(body.get("data-ready") == "1", "the page never drew a state: " + page[:2000])
    check(int(body.get("data-updates", 0)) >= 2, "the page did not poll again (data-updates " + body.get("data-updates", "") + ")")

    rows = dom.find("tr", **{"class": "overview-row"})
    check(len(rows) == 2, "expected an overview row per folder and env, got %d" % len(rows))
    live, done = rows
    n = lambda r, k: int(r["data-" + k])
    check(n(live, "total") == 9 and sum(n(live, k) for k in ("done", "running", "failed", "pending")) == 9, "running sweep's counts: %s" % live)
    check(n(live, "running") == 1 and n(live, "done") < 9, "the running sweep shows %d running, %d done" % (n(live, "running"), n(live, "done")))
    results = [t for t in os.listdir(os.path.join(finished, "trials")) if os.path.exists(os.path.join(finished, "trials", t, "result.json"))]
    check(n(done, "total") == 4 and n(done, "done") == len(results) == 4, "finished sweep's counts: %s" % done)
    best = max(json.load(open(os.path.join(finished, "trials", t, "result.json")))["result"]["best"]["reward"] for t in results)
    shown = [r for r in dom.rows["overview-table"] if r and r[0] == "finished"]
    check(shown and abs(float(shown[0][-1]) - best) <= 1e-5 * abs(best), "best reward shown %s vs the results' %s" % (shown, best))

    canvases = [a for a in dom.find("canvas")]
    check(len(canvases) == 8, "expected 4 charts per env, got %d canvases" % len(canvases))
    for c in canvases:
        check(int(c.get("data-marks", 0)) > 0 and int(c.get("data-painted", 0)) > 100, "chart %s did not render: %s" % (c.get("id"), c))
    # The finished toy sweep: 2 agents' best-so-far over 30 evaluations.
    toy_best = [c for c in canvases if c["id"].startswith("env-1-") and c["id"].endswith("-best")][0]
    check(int(toy_best["data-marks"]) == 2 * 30, "best-so-far marks %s, expected 60" % toy_best["data-marks"])

    trial_rows = dom.find("tr", **{"class": "trial-row"})
    check(len(trial_rows) == 13, "trials table has %d rows, expected 13" % len(trial_rows))

    # One trial's evaluations, opened by link: a row per trace row, units in the header.
    tid = sorted(results)[0]
    dom2, _ = browse(base + "#trial=1/" + tid)
    trace_rows = sum(1 for _ in open(os.path.join(finished, "trials", tid, "trace.jsonl")))
    shown_rows = dom2.find("tr", **{"class": "trace-row"})
    check(len(shown_rows) == trace_rows == 30, "trial table rows %d, trace rows %d" % (len(shown_rows), trace_rows))
    head = dom2.rows["trial-table"][0]
    check(any(h.startswith("loss") for h in head) and "step" in head[0], "trial table header: %s" % head)

    # The server agrees with the page; bad requests get clear errors.
    state = json.load(urllib.request.urlopen(base + "api/state"))
    check(state["folders"][1]["envs"][0]["counts"] == {"done": 4}, "api/state counts: %s" % state["folders"][1]["envs"][0]["counts"])
    try:
        urllib.request.urlopen(base + "api/trial?folder=7&id=x")
        check(False, "an unknown folder was accepted")
    except urllib.error.HTTPError as e:
        check(e.code == 404 and "valid: 0..1" in json.load(e)["error"], "unknown folder: %d" % e.code)

    # Off loopback a token is required, and the page is refused without it.
    r = subprocess.run([DSEGYM, "dashboard", finished, "--bind", "0.0.0.0", "--port", "0"], stderr=subprocess.PIPE, text=True, timeout=30)
    check(r.returncode != 0 and "--token" in r.stderr, "non-loopback without a token: rc %d, %s" % (r.returncode, r.stderr))
    port_file2 = os.path.join(work, "port2")
    start([DSEGYM, "dashboard", finished, "--bind", "0.0.0.0", "--port", "0", "--port-file", port_file2], env=dict(os.environ, DSEGYM_TOKEN="s3cret"))
    wait_for(lambda: os.path.exists(port_file2), "the second dashboard's port")
    base2 = "http://127.0.0.1:" + open(port_file2).read().strip() + "/"
    try:
        urllib.request.urlopen(base2 + "api/state")
        check(False, "a request without the token was served")
    except urllib.error.HTTPError as e:
        check(e.code == 401, "without the token: %d" % e.code)
    check(json.load(urllib.request.urlopen(base2 + "api/state?token=s3cret"))["folders"][0]["name"] == "finished", "with the token")
    dom3, _ = browse(base2 + "?token=s3cret")
    check(dom3.find("body")[0].get("data-ready") == "1", "the page opened with ?token= did not draw")

    # `dsegym report` draws the same charts from one self-contained file.
    subprocess.run([DSEGYM, "report", finished], check=True, stdout=subprocess.DEVNULL)
    dom4, _ = browse("file://" + os.path.join(finished, "report", "report.html"))
    check(dom4.find("body")[0].get("data-ready") == "1", "the report did not draw")
    report_canvases = dom4.find("canvas")
    check(len(report_canvases) == 4 and all(int(c.get("data-painted", 0)) > 100 for c in report_canvases), "report charts: %s" % report_canvases)
    check(len(dom4.find("tr", **{"class": "trial-row"})) == 4 and "report" in [a.get("id") for a in dom4.find("section")], "report tables")

    check(os.path.getsize(shot) > 10000, "the screenshot is empty")
    print("dashboard browser test passed; screenshot", shot)
finally:
    stop_all()
    shutil.rmtree(work, ignore_errors=True)
