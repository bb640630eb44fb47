#!/usr/bin/env bash
# Builds dsegym without libtorch under AddressSanitizer and UBSan (build-asan/,
# ccache), then runs the test suite (less the tests that need libtorch) and
# replays every fuzz corpus under them. Any sanitizer report fails it.
# Usage: bash scripts/asan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DDSEGYM_SANITIZE=ON -DDSEGYM_TORCH=OFF >/dev/null
targets=(dsegym dsegym_tests dsegym_sim_tests)
for f in fuzz/fuzz_*.cpp; do t=$(basename "$f" .cpp); targets+=("fuzz_replay_${t#fuzz_}"); done
cmake --build build-asan -j"$(nproc)" --target "${targets[@]}"

# verify_asan_link_order=0: the disk-full test preloads its write() wrapper.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0:detect_stack_use_after_return=0:allocator_may_return_null=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "asan: fuzz corpora"
for f in fuzz/fuzz_*.cpp; do
  t=$(basename "$f" .cpp); t=${t#fuzz_}
  echo -n "  $t: "
  build-asan/bin/fuzz_replay_"$t" fuzz/corpus/"$t"
done

# Tests that need libtorch (RL agents, MLP proxies, NAS networks, and the
# env contract over every env, which includes the NAS envs) and the one that
# runs the benchmarks (not built here) are left to the main build.
echo "asan: tests"
build-asan/bin/dsegym_sim_tests --no-intro
build-asan/bin/dsegym_tests --no-intro \
  -sfe='*test_rl.cpp,*test_nas_env.cpp,*test_asic_env.cpp' \
  -tce='every registered env keeps the contract,every model learns a known function*,*zero-cost*,*nasaic*,policy agents run in episodes*,a saved policy evaluates greedily*,benchmarks answer --help*,a hybrid search on dram-v0*'
