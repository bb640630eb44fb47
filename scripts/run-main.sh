#!/usr/bin/env bash
# Sets up, builds and runs the default experiment; results go to
# results/default (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
rm -rf results/default
build/bin/dsegym run --env dram-v0 --agent random --budget 200 --seed 1 --out results/default
build/bin/dsegym dataset export results/default --out results/default/dataset.csv
