#!/usr/bin/python3
"""Fails when a source file includes a header of a higher layer.

The layers, lowest first (a file may include its own layer and those below):
  base         errors, RNG, JSON limits, files, subprocesses, thread pool, module and torch loading
  simulators   standalone simulators (dram, accel, soc, nn, asic)
  envs/core    values, spaces, envs, rewards, registries, traces
  envs         env families, external and remote envs
  agents       agents, their registry and the plugin ABI
  proxies      proxy models and the proxy/hybrid cost models
  app          registration of the built-ins
  experiments  the CLI, runner, sweeps, reports, datasets, server
Above them all (may include anything): python, bench, tests, fuzz, clients, examples.

Usage: scripts/check-layers.py [ROOT]   (default: the repository holding this script)"""
import os
import re
import sys

LAYERS = ["base", "simulators", "envs/core", "envs", "agents", "proxies", "app", "experiments"]
TOP = ["python", "bench", "tests", "fuzz", "clients", "examples"]
SOURCE = re.compile(r"\.(c|cc|cpp|h|hpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The layer index of a repository path; None for a top-level user, -1 when outside every layer."""
    for top in TOP:
        if path == top or path.startswith(top + "/"):
            return None
    best = -1
    for i, layer in enumerate(LAYERS):
        if path.startswith(layer + "/") and (best < 0 or len(layer) > len(LAYERS[best])):
            best = i
    return best


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = []
    for layer in LAYERS:
        folder = os.path.join(root, layer)
        for dirpath, _, files in os.walk(folder):
            for name in files:
                if not SOURCE.search(name):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                mine = layer_of(path)
                with open(os.path.join(root, path), errors="replace") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        theirs = layer_of(m.group(1))
                        if theirs is None or theirs > mine:
                            what = "a top-level folder" if theirs is None else f"layer {LAYERS[theirs]}"
                            bad.append(f"{path}:{lineno}: includes {m.group(1)} ({what}) from layer {LAYERS[mine]}")
    for b in sorted(set(bad)):
        print(b)
    if bad:
        print(f"{len(set(bad))} upward include(s); the layers, lowest first: {', '.join(LAYERS)}", file=sys.stderr)
        return 1
    print(f"no upward includes (layers, lowest first: {', '.join(LAYERS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
