#!/usr/bin/python3
"""The in-process Python module's overhead: toy-v0 step latency (p50/p99)
and reset+step, and evaluate() of dram-v0 designs with 1, 2, ... threads.
Usage: PYTHONPATH=build/python /usr/bin/python3 bench/bench_python.py [steps] [designs]
       (defaults 20000 and 1000)"""
import os
import statistics
import sys
import time

if any(a in ("-h", "--help") for a in sys.argv[1:]):
    print(__doc__)
    sys.exit(0)
try:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    designs = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
except ValueError:
    print(__doc__, file=sys.stderr)
    sys.exit(2)

import dsegym

env = dsegym.make("toy-v0")
env.action_space.seed(1)
actions = [env.action_space.sample() for _ in range(1000)]
env.reset(seed=0)
lat, both = [], []
for i in range(steps):
    a = actions[i % len(actions)]
    t0 = time.perf_counter()
    env.reset(seed=i)
    t1 = time.perf_counter()
    env.step(a)
    t2 = time.perf_counter()
    lat.append((t2 - t1) * 1e6)
    both.append((t2 - t0) * 1e6)
lat.sort()
both.sort()
print(f"toy-v0 step: p50 {lat[len(lat) // 2]:.2f} us, p99 {lat[int(len(lat) * 0.99)]:.2f} us; reset+step p50 {both[len(both) // 2]:.2f} us")

dram = dsegym.make("dram-v0")
dram.action_space.seed(2)
batch = [dram.action_space.sample() for _ in range(designs)]
base = None
for threads in sorted({1, 2, os.cpu_count() or 1}):
    t0 = time.perf_counter()
    dram.evaluate(batch, threads=threads)
    s = time.perf_counter() - t0
    base = base or s
    print(f"dram-v0 evaluate of {designs} designs, {threads} thread(s): {s:.2f} s ({designs / s:.0f} designs/s, x{base / s:.2f})")
