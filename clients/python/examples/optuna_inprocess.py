"""Optuna (TPE) on an in-process dsegym env (dram-v0 or accel-v0).

Ordinal knobs (dsegym.Integer: power-of-two buffer sizes, transaction
counts, ...) are suggested as ordered integers (their index in the value
list), so that TPE can use their order; categorical knobs as categoricals.

    PYTHONPATH=build/python /usr/bin/python3 clients/python/examples/optuna_inprocess.py --env dram-v0 --trials 100
    PYTHONPATH=build/python /usr/bin/python3 clients/python/examples/optuna_inprocess.py --env accel-v0 --metric latency_ns
"""

import argparse
import math

import optuna

import dsegym


def suggest(trial, name, space):
    if isinstance(space, dsegym.Categorical):
        return trial.suggest_categorical(name, space.labels)
    if isinstance(space, dsegym.Integer):
        return space.values[trial.suggest_int(name, 0, space.n - 1)]
    if isinstance(space, dsegym.Discrete):
        return trial.suggest_int(name, 0, space.n - 1)
    if isinstance(space, dsegym.Box) and space.shape == ():
        return trial.suggest_float(name, float(space.low), float(space.high))
    raise SystemExit(f"knob {name}: {space!r} is not handled by this example")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", default="dram-v0")
    ap.add_argument("--metric", default="latency_ns", help="metric to minimise")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    env = dsegym.make(args.env)
    knobs = env.action_space.spaces

    def objective(trial):
        action = {name: suggest(trial, name, space) for name, space in knobs.items()}
        trial.set_user_attr("action", action)
        env.reset(seed=trial.number)
        _, _, _, _, info = env.step(action)
        if info["status"] != "ok" or not math.isfinite(info["metrics"].get(args.metric, math.nan)):
            raise optuna.TrialPruned(info.get("reason", "no " + args.metric))
        return info["metrics"][args.metric]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials)
    print(f"{args.env}: best {args.metric} {study.best_value:.1f} after {len(study.trials)} trials")
    print(study.best_trial.user_attrs["action"])


if __name__ == "__main__":
    main()
