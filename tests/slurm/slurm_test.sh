#!/bin/bash
# The Slurm backend against a real single-node Slurm started here on
# loopback (munge + slurmctld + slurmd, a generated slurm.conf). Exit 77
# (ctest: skipped) with the reason when Slurm cannot run on this machine.
#   usage: slurm_test.sh DSEGYM_BINARY
set -uo pipefail
dsegym=$1
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }

for p in slurmctld slurmd munged sbatch squeue scancel scontrol; do
  command -v "$p" >/dev/null || skip "$p is not installed (Debian packages slurm-wlm and munge)"
done
[ "$(id -u)" = 0 ] || skip "starting slurmctld and slurmd here needs root"

work=$(mktemp -d /tmp/dsegym_slurm_XXXXXX)
cleanup() {
  for f in "$work"/slurmd.pid "$work"/slurmctld.pid "$work"/munge/munged.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  done
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work"/{state,spool,log,munge}
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$work/munge/munge.key"
munged --force --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/seed" --key-file="$work/munge/munge.key" >/dev/null 2>&1 || skip "munged would not start: $(tail -2 "$work/munge/munged.log" 2>/dev/null)"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
host=$(hostname -s)
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=dsegymtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldPort=$(port)
SlurmdPort=$(port)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
MinJobAge=3600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmctld would not start: $(tail -3 "$work/log/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmd would not start: $(tail -3 "$work/log/slurmd.log" 2>/dev/null)"
for i in $(seq 1 40); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.5
done
sinfo -h -o %t 2>/dev/null | grep -q idle || skip "the Slurm node did not come up: $(tail -3 "$work/log/slurmctld.log")"
echo "Slurm is up on $host"

# 1. A sweep through Slurm gives the local backend's summary.
cat > "$work/toy.json" <<'CONF'
{"name": "toy", "envs": [{"id": "toy-v0"}], "agents": [{"id": "random"}, {"id": "ga", "grid": {"population": [4, 8]}}],
 "seeds": [1, 2, 3], "budget": 60}
CONF
"$dsegym" sweep "$work/toy.json" --out "$work/local" >/dev/null 2>&1 || fail "local sweep"
"$dsegym" sweep "$work/toy.json" --out "$work/slurm" --backend slurm --chunk 2 --wait >"$work/slurm.out" 2>&1 || fail "slurm sweep: $(cat "$work/slurm.out")"
strip() { python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    r.pop("wall_time_s", None)
print(sorted(tuple(sorted(r.items())) for r in rows))
PY
}
[ "$(strip "$work/local/summary.csv")" = "$(strip "$work/slurm/summary.csv")" ] || fail "the Slurm summary differs from the local one"
echo "ok: summary equals the local backend's (9 trials)"

# 2. A task cancelled with scancel is reported, and resubmitted on the next call.
cat > "$work/slow.json" <<'CONF'
{"name": "slow", "envs": [{"id": "toy-v0"}, {"id": "dram-v0"}], "agents": [{"id": "random"}], "seeds": [1], "budget": 1500}
CONF
"$dsegym" sweep "$work/slow.json" --out "$work/slow" --backend slurm >"$work/slow1.out" 2>"$work/slow1.err" || fail "submitting: $(cat "$work/slow1.err")"
job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["job"])' "$work/slow1.out")
task=$(grep -n dram-v0 "$work/slow/slurm/trials-0.txt" | cut -d: -f1)
task=$((task - 1))
for i in $(seq 1 60); do
  squeue -h -j "${job}_${task}" -o %T 2>/dev/null | grep -q RUNNING && break
  sleep 0.25
done
scancel "${job}_${task}" || fail "scancel"
for i in $(seq 1 60); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  sleep 0.5
done
"$dsegym" sweep "$work/slow.json" --out "$work/slow" --backend slurm --wait >"$work/slow2.out" 2>"$work/slow2.err" || fail "resubmitting: $(cat "$work/slow2.err")"
grep -q "cancelled: Slurm job ${job}_${task} ended CANCELLED" "$work/slow2.err" || fail "the cancellation was not reported: $(cat "$work/slow2.err")"
grep -q '"submitted": 1' "$work/slow2.out" || fail "the cancelled trial was not resubmitted alone: $(cat "$work/slow2.out")"
python3 - "$work/slow" <<'PY' || fail "the resubmitted trial did not finish"
import json, sys, glob
for f in glob.glob(sys.argv[1] + "/trials/*/result.json"):
    assert json.load(open(f))["status"] == "done", f
PY
echo "ok: the cancelled task was reported and its trial resubmitted and done"
