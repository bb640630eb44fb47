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
#   read F        prints the content of file F as the latency in ns
#   abort N       prints N numbered lines and a fatal error on stdout, then aborts (SIGABRT)
#   rate          prints a bandwidth in Gb/s and 400 cycles
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
  read) echo "latency: $(cat "$1") ns"; echo "energy=1 nJ" ;;
  abort) for i in $(seq 1 "$1"); do echo "line $i"; done; echo "FATAL: inline mcconfig objects are not supported"; echo "a warning" >&2; kill -ABRT $$ ;;
  rate) echo "latency: 1 ns"; echo "energy=1 nJ"; echo "AVG BW: 76.56 Gb/s"; echo "cycles: 400" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
