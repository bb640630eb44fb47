#!/usr/bin/env bash
# Sets up, builds and runs the default experiment: a small sweep of agents x
# seeds on dram-v0, its report and its dataset; results go to
# results/default (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf results/default
build/bin/dsegym sweep experiments/configs/default.json --out results/default
build/bin/dsegym report results/default
build/bin/dsegym dataset export results/default --out results/default/dataset.csv
