#!/bin/bash
# A fake simulator for the external env's tests. First argument: the mode.
#   ok V U        prints "latency: V U" and "energy=2.5 nJ"
#   crash         dies of SIGSEGV
#   hang PIDFILE  starts a child, writes both pids to PIDFILE, waits forever
#   garbage       prints text with no numbers
#   missing       prints the latency only
#   infeasible    exits with code 3 and a reason on stderr
#   files V       writes V to ./state.txt, waits, prints what ./state.txt holds
#   argv ARGS...  prints how many arguments followed "argv"
#   json          writes out.json with a nested metric
mode=$1
shift
case "$mode" in
  ok) echo "latency: $1 $2"; echo "energy=2.5 nJ" ;;
  crash) kill -SEGV $$ ;;
  hang) sleep 1000 & echo "$! $$" > "$1"; wait ;;
  garbage) echo "Segmentation of the results failed; see log" ;;
  missing) echo "latency: 5 ns" ;;
  infeasible) echo "design needs 5000 PEs, max 4096" >&2; exit 3 ;;
  files) echo "$1" > state.txt; sleep 0.3; echo "latency: $(cat state.txt) ns"; echo "energy=1 nJ" ;;
  argv) echo "latency: $# ns"; echo "energy=1 nJ"; printf '%s\n' "$@" > args.txt; cp args.txt "$DSEGYM_FAKE_ARGS" 2>/dev/null; true ;;
  json) echo '{"stats": {"latency_ps": 1234000}}' > out.json; echo "latency: 1 ns"; echo "energy=1 nJ" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
