#!/usr/bin/python3
"""dsegym's proxy models against scikit-learn on identical train/test rows.

Both sides see the same rows: the data is imported (or exported) once, split
with scikit-learn's train_test_split(test_size=0.2, random_state=SEED), and
written as two dsegym datasets with one schema. dsegym trains with
`proxy train TRAIN --test-file TEST` (--model auto unless --model is given);
scikit-learn fits RandomForestRegressor and HistGradientBoostingRegressor
(defaults, random_state=SEED) on the same rows, text columns one-hot. Scores on the test rows: R^2 and Kendall's tau-b (scipy).

Usage:
  PYTHONPATH= /usr/bin/python3 bench/compare_sklearn.py astrasim [--seeds 123,7,2024] [--model auto] [--budget S]
  PYTHONPATH= /usr/bin/python3 bench/compare_sklearn.py ENV ROWS [--targets a,b] [--seeds ...] [--model auto]
    ENV: dram-v0 or accel-v0 (ROWS random designs, run seed 7); targets default latency_ns,energy_nj.
The AstraSim data is ArchGym's (../shared/data/proxy/astrasim, or --astrasim DIR)."""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print(__doc__)
    sys.exit(0)

import numpy as np
from scipy.stats import kendalltau
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DSEGYM = os.environ.get("DSEGYM_BIN", os.path.join(ROOT, "build", "bin", "dsegym"))


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


seeds = [int(s) for s in arg("--seeds", "123,7,2024").split(",")]
model = arg("--model", "auto")
budget = arg("--budget", None)  # None: dsegym's default, by the training rows
work = tempfile.mkdtemp(prefix="dsegym-sklearn-")


def dsegym(*args):
    r = subprocess.run([DSEGYM, *args], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"dsegym {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def build_dataset():
    """The dataset (CSV path) and its targets."""
    if sys.argv[1] == "astrasim":
        src = arg("--astrasim", os.path.join(ROOT, "..", "shared", "data", "proxy", "astrasim"))
        out = os.path.join(work, "astra.csv")
        dsegym("dataset", "import", os.path.join(src, "actions_feasible.csv"), "--join", os.path.join(src, "observations_feasible.csv"),
               "--targets", "observation-1", "--drop", "observation-2,observation-3,observation-4,observation-5", "--out", out)
        return out, ["observation-1"]
    env, rows = sys.argv[1], int(sys.argv[2])
    targets = arg("--targets", "latency_ns,energy_nj").split(",")
    run = os.path.join(work, "run")
    dsegym("run", "--env", env, "--agent", "random", "--budget", str(rows), "--seed", "7", "--out", run)
    out = os.path.join(work, "data.csv")
    dsegym("dataset", "export", run, "--out", out)
    return out, targets


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def write_part(path, header, rows, schema):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    shutil.copy(schema, path[:-4] + ".schema.json")


data, targets = build_dataset()
schema_path = data[:-4] + ".schema.json"
schema = json.load(open(schema_path))
params = [c for c in schema["columns"] if c["role"] == "parameter"]
header, rows = read(data)
if "status" in header:
    rows = [r for r in rows if r[header.index("status")] == "ok" and all(r[header.index(t)] != "" for t in targets)]
pcols = [header.index(c["name"]) for c in params]


def features(rs):
    """Numbers as they are, labels one-hot (as pandas.get_dummies would)."""
    out = []
    for r in rs:
        x = []
        for c, i in zip(params, pcols):
            labels = c["space"].get("labels") if c["space"]["type"] == "categorical" else None
            if labels:
                x.extend(1.0 if r[i] == label else 0.0 for label in labels)
            else:
                x.append(float(r[i]))
        out.append(x)
    return np.array(out)


results = {}
for seed in seeds:
    train_idx, test_idx = train_test_split(np.arange(len(rows)), test_size=0.2, random_state=seed)
    tr, te = [rows[i] for i in train_idx], [rows[i] for i in test_idx]
    trp, tep = os.path.join(work, f"train{seed}.csv"), os.path.join(work, f"test{seed}.csv")
    write_part(trp, header, tr, schema_path)
    write_part(tep, header, te, schema_path)
    args = ["proxy", "train", trp, "--test-file", tep, "--model", model, "--out", os.path.join(work, f"m{seed}.json"), "--seed", str(seed)]
    if model == "auto" and budget:
        args += ["--budget", budget]
    for t in targets:
        args += ["--target", t]
    rep = json.loads(dsegym(*args))
    Xtr, Xte = features(tr), features(te)
    for t in targets:
        ytr = np.array([float(r[header.index(t)]) for r in tr])
        yte = np.array([float(r[header.index(t)]) for r in te])
        ours = rep["targets"][t]["test"]
        chosen = rep["targets"][t]["model"]
        what = (" + ".join(f"{c['weight']:.2f}x {c['model']} {c['transform']}" for c in chosen["ensemble"]) if "ensemble" in chosen
                else f"{chosen['model']} {chosen['transform']}")
        results.setdefault((t, f"dsegym {model}"), []).append((ours["r2"], ours["kendall_tau"], what))
        for name, reg in (("sklearn RF", RandomForestRegressor(random_state=seed, n_jobs=2)),
                          ("sklearn HGB", HistGradientBoostingRegressor(random_state=seed))):
            p = reg.fit(Xtr, ytr).predict(Xte)
            results.setdefault((t, name), []).append((r2_score(yte, p), kendalltau(yte, p)[0], ""))

print(f"{sys.argv[1]}: {len(rows)} rows, test 20 %, split seeds {seeds}; R^2 / Kendall tau on the test rows")
print("| target | model | " + " | ".join(f"seed {s}" for s in seeds) + " |")
print("| --- | --- |" + " --- |" * len(seeds))
for (t, name), vals in results.items():
    # R^2 above 0.999 with 5 decimals: that is where the models differ.
    cells = [(f"{r2:.5f}" if r2 > 0.999 else f"{r2:.4f}") + f" / {tau:.3f}" + (f" ({what})" if what else "") for r2, tau, what in vals]
    print(f"| {t} | {name} | " + " | ".join(cells) + " |")
if os.environ.get("KEEP"): print("kept", work)
else: shutil.rmtree(work, ignore_errors=True)
