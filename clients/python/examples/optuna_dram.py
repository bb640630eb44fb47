"""Optuna (TPE) tuning a DRAM memory controller on a remote dram-v0.

    build/bin/dsegym serve --port 50051 &
    PYTHONPATH=build/python:clients/python /usr/bin/python3 clients/python/examples/optuna_dram.py --server 127.0.0.1:50051
"""

import argparse

import optuna

from dsegym_client import RemoteEnv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="127.0.0.1:50051")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--workload", default="cloud-1")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with RemoteEnv(args.server, "dram-v0", options={"workload": args.workload}) as env:
        knobs = env.action_space.children

        def objective(trial):
            action = {name: trial.suggest_categorical(name, space.values()) for name, space in knobs.items()}
            _, _, _, _, info = env.evaluate_one(action, seed=trial.number)  # one RPC
            if info["status"] != "ok":
                raise optuna.TrialPruned(info["reason"])
            for k, v in info["metrics"].items():
                trial.set_user_attr(k, v)
            return info["metrics"]["latency_ns"]

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed))
        study.optimize(objective, n_trials=args.trials)
        best = study.best_trial
        print(f"best latency {best.value:.1f} ns after {len(study.trials)} trials")
        print("energy", round(best.user_attrs["energy_nj"], 1), "nJ; power", round(best.user_attrs["power_mw"], 1), "mW")
        print(best.params)


if __name__ == "__main__":
    main()
