"""dsegym's C++ Bayesian optimisation driving a Python objective through
ask/tell: the Branin function over two real knobs.

    PYTHONPATH=build/python /usr/bin/python3 clients/python/examples/bo_python_function.py --evaluations 40
"""

import argparse
import math

import dsegym


def branin(x1, x2):
    return (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaluations", type=int, default=40)
    ap.add_argument("--agent", default="bo", help="a search agent (dsegym.list_agents()): bo, ga, sa, random, ...")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    space = dsegym.Dict({"x1": dsegym.Box(-5.0, 10.0), "x2": dsegym.Box(0.0, 15.0)})
    agent = dsegym.make_agent(args.agent, space, None, seed=args.seed)
    best = math.inf
    for _ in range(args.evaluations):
        [s] = agent.ask(1)
        value = branin(s["action"]["x1"], s["action"]["x2"])
        best = min(best, value)
        agent.tell([{"id": s["id"], "reward": -value}])  # agents maximise the reward
    print(f"{args.agent}: best Branin value {best:.3f} after {args.evaluations} evaluations (global minimum 0.398)")


if __name__ == "__main__":
    main()
