#!/usr/bin/env bash
# Installs every Debian 12 package dsegym needs (only those missing, so a
# second run takes seconds) and builds the project into build/.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libboost1.74-dev libboost-filesystem1.74-dev
  libeigen3-dev libtorch-dev libxgboost-dev xgboost
  # external simulators' metric regexes (linear-time matching)
  libre2-dev
  # libtorch's BLAS is the slow reference one unless OpenBLAS is installed
  # (3x faster DQN updates, measured by bench_rl).
  libopenblas0-pthread
  python3-grpcio python3-protobuf python3-optuna
  # the in-process Python module and its tests
  pybind11-dev python3-pybind11 python3-dev python3-numpy python3-pytest
  doctest-dev nlohmann-json3-dev libcli11-dev
  # the NAS envs: Fashion-MNIST's IDX files (gzipped, read with zlib)
  zlib1g-dev dataset-fashion-mnist
  # the Slurm backend's test starts a single-node Slurm on loopback
  slurm-wlm munge
  # `dsegym dashboard`: its HTTP server, its charts, and the browser its test
  # drives headless
  libcpp-httplib-dev libjs-chart.js chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
