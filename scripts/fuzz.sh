#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 (Debian: clang-14,
# libclang-rt-14-dev; installed if missing) under ASan and UBSan into
# build-fuzz/, and runs each target for SECONDS (default 60) starting from
# its committed corpus (fuzz/corpus/<target>; new inputs go to
# build-fuzz/corpus/<target>, crashes to build-fuzz/crashes/). Prints each
# target's executions and findings.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
if ! command -v clang++-14 >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
fi
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++-14 -DDSEGYM_FUZZ=ON -DDSEGYM_TORCH=OFF \
  -DDSEGYM_SANITIZE=ON -DBUILD_TESTING=OFF -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -Wno-unused-command-line-argument" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.cpp; do t=$(basename "$f" .cpp); targets+=("${t#fuzz_}"); done
fi
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" -- -k 0
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  mkdir -p build-fuzz/corpus/"$t"
  log=build-fuzz/fuzz_"$t".log
  set +e
  build-fuzz/bin/fuzz_"$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/"$t"- build-fuzz/corpus/"$t" fuzz/corpus/"$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}')
  crashes=$(ls build-fuzz/crashes | grep -c "^$t-" || true)
  echo "$t: ${execs:-?} executions in ${seconds} s, exit $rc, findings: $crashes (log: $log)"
done
