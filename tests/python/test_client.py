"""The Python client against a real server: run by ctest.

Usage: test_client.py DSEGYM_BIN STUBS_DIR
"""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, sys.argv[2])
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python"))

import grpc  # noqa: E402

from dsegym_client import RemoteEnv  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        server = subprocess.Popen([sys.argv[1], "serve", "--port", "0", "--port-file", port_file], stderr=subprocess.DEVNULL)
        try:
            for _ in range(500):
                if os.path.exists(port_file):
                    break
                time.sleep(0.01)
            address = "127.0.0.1:" + open(port_file).read().strip()
            failures = 0

            def check(cond, what):
                nonlocal failures
                print(("ok   " if cond else "FAIL ") + what)
                failures += 0 if cond else 1

            with RemoteEnv(address, "toy-v0", seed=1) as env:
                check(sorted(env.action_space.children) == ["kind", "m", "n", "x", "y"], "toy-v0 action space has its five knobs")
                obs, info = env.reset(seed=3)
                check(obs == [0.0, 0.0], "reset returns the initial observation")
                best = {"kind": "b", "n": 8, "m": 7, "x": 1.5, "y": -0.5}
                obs, reward, terminated, truncated, info = env.step(best)
                check(abs(info["metrics"]["loss"]) < 1e-12 and abs(reward) < 1e-12, "the documented optimum has loss 0, reward -0")
                check(terminated and not truncated and info["status"] == "ok", "a one-shot episode terminates")
                check(info["units"]["loss"] == "1", "metrics come with units")
                results = env.evaluate([env.action_space.sample() for _ in range(10)], seeds=list(range(10)))
                check(len(results) == 10, "evaluate() runs a batch")
                one = env.evaluate_one(dict(best, x=2.5), seed=5)
                env.reset(seed=5)
                two = env.step(dict(best, x=2.5))
                check(one[1] == two[1] and one[4]["metrics"] == two[4]["metrics"], "evaluate_one (one Step with reset) equals reset + step")
                env.reset()
                _, reward, _, _, info = env.step(dict(best, x=4.0, y=4.0))
                check(info["status"] == "infeasible" and reward is None, "an infeasible design is a status, not a number")
                try:
                    env.reset()
                    env.step(dict(best, kind="z"))
                    check(False, "a bad action is rejected")
                except grpc.RpcError as e:
                    check(e.code() == grpc.StatusCode.INVALID_ARGUMENT and "choices: a, b, c, d" in e.details(),
                          "a bad action gets INVALID_ARGUMENT naming the valid choices")
            with RemoteEnv(address, "dram-v0", options={"generator": {"type": "stream", "requests": 500}}) as env:
                env.reset(seed=0)
                _, _, _, _, info = env.step(env.action_space.sample())
                check(info["metrics"]["latency_ns"] > 0 and info["units"]["energy_nj"] == "nJ", "dram-v0 runs remotely")
            print(f"{9 - failures} passed, {failures} failed")
            return 1 if failures else 0
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    sys.exit(main())
