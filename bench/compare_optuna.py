#!/usr/bin/python3
"""dsegym's agents against Optuna 3.1's TPE (default and multivariate with
group=True) at equal budget, in process through the `dsegym` module: median
best reward (and IQR) over seeds. Ordinal knobs go to Optuna as ordered
integers (their index), categorical ones as categoricals.

Usage: PYTHONPATH=build/python /usr/bin/python3 bench/compare_optuna.py [--only NAME,NAME] [--first-seed S] [budget] [seeds] [env ...]
       (defaults: every method, seeds from 1, 100 10 dram-v0 accel-v0 soc-design-v0)
Example: ... bench/compare_optuna.py --only bo,"optuna tpe mv" 100 10 accel-v0"""
import math
import statistics
import sys

if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__)
    sys.exit(0)
args = sys.argv[1:]
only = None
if args[:1] == ["--only"] and len(args) > 1:
    only = args[1].split(",")
    args = args[2:]
first_seed = 1
if args[:1] == ["--first-seed"] and len(args) > 1:
    first_seed = int(args[1])
    args = args[2:]
try:
    budget = int(args[0]) if len(args) > 0 else 100
    n_seeds = int(args[1]) if len(args) > 1 else 10
except ValueError:
    print(__doc__, file=sys.stderr)
    sys.exit(2)
envs = args[2:] or ["dram-v0", "accel-v0", "soc-design-v0"]

import optuna

import dsegym

optuna.logging.set_verbosity(optuna.logging.WARNING)


def finite(r):
    return r is not None and not math.isnan(r)


def ours(env_id, agent, hp, seed):
    env = dsegym.make(env_id)
    ag = dsegym.make_agent(agent, env, hp, seed=seed)
    best = -math.inf
    for i in range(budget):
        [s] = ag.ask(1)
        env.reset(seed=i)
        _, r, _, _, info = env.step(s["action"])
        if finite(r):
            best = max(best, r)
        # The metrics go along: an over-budget design's peak power is data for bo.
        ag.tell([{"id": s["id"], "reward": r if finite(r) else None, "metrics": info.get("metrics", {}), "status": info.get("status", "ok")}])
    return best


def with_optuna(env_id, multivariate, seed, constrained=False):
    env = dsegym.make(env_id)
    knobs = env.action_space.spaces
    best = -math.inf
    # constrained: Optuna's constraints_func gets each declared constraint
    # (a metric's upper_limit) as value - limit, as bo models it.
    limits = {m["name"]: m["upper_limit"] for m in env.metrics if "upper_limit" in m} if constrained else {}

    def objective(trial):
        nonlocal best
        a = {}
        for k, sp in knobs.items():
            if isinstance(sp, dsegym.Categorical):
                a[k] = trial.suggest_categorical(k, sp.labels)
            elif isinstance(sp, dsegym.Integer):
                a[k] = sp.values[trial.suggest_int(k, 0, sp.n - 1)]
            elif isinstance(sp, dsegym.Discrete):
                a[k] = trial.suggest_int(k, 0, sp.n - 1)
            else:
                a[k] = trial.suggest_float(k, float(sp.low), float(sp.high))
        env.reset(seed=trial.number)
        _, r, _, _, info = env.step(a)
        reported = info.get("metrics", {})
        trial.set_user_attr("constraints", [reported[m] - lim if m in reported else 0.0 for m, lim in limits.items()])
        if not finite(r):
            raise optuna.TrialPruned()
        best = max(best, r)
        return r

    cf = (lambda t: t.user_attrs.get("constraints", [])) if limits else None
    sampler = (optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constraints_func=cf) if multivariate
               else optuna.samplers.TPESampler(seed=seed, constraints_func=cf))
    optuna.create_study(direction="maximize", sampler=sampler).optimize(objective, n_trials=budget)
    return best


methods = [
    ("random", lambda e, s: ours(e, "random", None, s)),
    ("ga", lambda e, s: ours(e, "ga", None, s)),
    ("sa", lambda e, s: ours(e, "sa", None, s)),
    ("bo", lambda e, s: ours(e, "bo", None, s)),
    ("tpe", lambda e, s: ours(e, "tpe", None, s)),
    ("tpe univariate", lambda e, s: ours(e, "tpe", {"multivariate": False}, s)),
    ("cmaes", lambda e, s: ours(e, "cmaes", None, s)),
    ("de", lambda e, s: ours(e, "de", None, s)),
    ("pso", lambda e, s: ours(e, "pso", None, s)),
    ("nsga2", lambda e, s: ours(e, "nsga2", None, s)),
    ("optuna tpe", lambda e, s: with_optuna(e, False, s)),
    ("optuna tpe mv", lambda e, s: with_optuna(e, True, s)),
    ("optuna tpe mv constrained", lambda e, s: with_optuna(e, True, s, constrained=True)),
]
print(f"median best reward (IQR) at {budget} evaluations over seeds {first_seed}-{first_seed + n_seeds - 1}")
print("| agent | " + " | ".join(envs) + " |")
print("| --- |" + " --- |" * len(envs))
unknown = set(only or []) - {name for name, _ in methods}
if unknown:
    sys.exit(f"--only: unknown method(s) {sorted(unknown)}; valid: {[name for name, _ in methods]}")
for name, run in methods:
    if only and name not in only:
        continue
    cells = []
    for e in envs:
        v = sorted(run(e, s) for s in range(first_seed, first_seed + n_seeds))
        q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0]] * 3
        cells.append(f"{statistics.median(v):.4g} ({q[0]:.4g} .. {q[2]:.4g})")
    print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
