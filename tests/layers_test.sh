#!/bin/bash
# The layer check (scripts/check-layers.py) against a copy of the sources:
# it passes on them as they are, and fails, naming the file, the line and
# both layers, once a simulator includes an env header.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in base simulators envs agents proxies app experiments scripts; do cp -r "$src/$d" "$tmp/"; done
/usr/bin/python3 "$tmp/scripts/check-layers.py" "$tmp" >/dev/null
echo '#include "envs/core/env.hpp"' >> "$tmp/simulators/soc/soc.hpp"
if out=$(/usr/bin/python3 "$tmp/scripts/check-layers.py" "$tmp" 2>&1); then
  echo "FAIL: the check passed with an upward include"; exit 1
fi
n=$(wc -l < "$tmp/simulators/soc/soc.hpp")
expected="simulators/soc/soc.hpp:$n: includes envs/core/env.hpp (layer envs/core) from layer simulators"
grep -qF "$expected" <<<"$out" || { echo "FAIL: expected '$expected' in:"; echo "$out"; exit 1; }
# A top-level folder is above every layer too.
sed -i '$d' "$tmp/simulators/soc/soc.hpp"
echo '#include "tests/temp_dir.hpp"' >> "$tmp/agents/agent.hpp"
if /usr/bin/python3 "$tmp/scripts/check-layers.py" "$tmp" >/dev/null 2>&1; then echo "FAIL: an include of tests/ passed"; exit 1; fi
echo "ok: the layer check passes on the sources and fails on an upward include"
