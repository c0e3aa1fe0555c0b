#!/usr/bin/env bash
# Soak: N lab scans back to back, each with a random scan seed and random lab settings
# (round trip, loss, the lab's own seed, from fixed lists), each scored with
# `netlab score` and counted exact only when it reports no wrong port. A scanner that is
# right on a quiet run but wrong one time in fifty (a lost retry, a race at the end of a
# scan, a leak that shows after many runs) shows up here and nowhere else.
# Needs root and ../shared/netlab. The lab is shared machine state: every iteration
# brings it up and scans under `flock $NETLAB_LOCK` (default /work/wt/netlab.lock), so
# it waits for, and never disturbs, another user of the lab.
# Usage: bench/soak.sh [N] (default 50); SOAK_SEED=S repeats a run's choices.
# Prints one line per scan and a summary line; exits 1 when any scan was not exact.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
NL=${NETLAB:-$PWD/../../shared/netlab/netlab}
[ -x "$NL" ] || NL=/work/shared/netlab/netlab
LOCK=${NETLAB_LOCK:-/work/wt/netlab.lock}
P=${PORTOLAN:-$PWD/target/release/portolan}
SOAK_SEED=${SOAK_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}
RANDOM=$SOAK_SEED
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ -n "${PORTOLAN:-}" ] || cargo build --release -q -p portolan-cli

RTTS=(0 0 5 20 40)
LOSSES=(0 0 0.5 1)
LAB_SEEDS=(1 2 3 7 42 1234)
# kind: what is scanned and how it is scored
KINDS=(v4 v4 v6 sweep)
SWEEP_ADDRS=$(python3 -c "print(' '.join(f'--addr 198.18.{i//256}.{i%256}' for i in range(1024)))")

pick() { local -n arr=$1; echo "${arr[RANDOM % ${#arr[@]}]}"; }

exact=0 total=0
declare -a secs=()
echo "soak: $N scans, SOAK_SEED=$SOAK_SEED, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for i in $(seq "$N"); do
  rtt=$(pick RTTS) loss=$(pick LOSSES) labseed=$(pick LAB_SEEDS) kind=$(pick KINDS)
  seed=$((RANDOM * 32768 + RANDOM))
  out=$OUT/$i.ndjson
  case $kind in
    v4) scan="198.18.0.1 -p-" score="--addr 198.18.0.1 --ports 1-65535" ;;
    v6) scan="2001:db8:2::1 -p-" score="--addr 2001:db8:2::1 --ports 1-65535" ;;
    sweep) scan="198.18.0.0/22 -p 22,80" score="$SWEEP_ADDRS --ports 22,80" ;;
  esac
  # One locked section per scan: bring the lab up as chosen, scan, score.
  # shellcheck disable=SC2016
  res=$(flock "$LOCK" bash -c '
    "$1" up --rtt "$2" --loss "$3" --seed "$4" >/dev/null </dev/null || { echo "lab-up-failed 0"; exit 0; }
    start=$(date +%s.%N)
    rc=0; "$1" exec $5 scan $6 --seed "$7" -oD "$8" --no-progress --no-history >/dev/null 2>"$8.err" || rc=$?
    end=$(date +%s.%N)
    line=$("$1" score "$8" $9 | tail -1) || true
    echo "rc=$rc $(python3 -c "print(f\"{$end-$start:.2f}\")") $line"
  ' soak "$NL" "$rtt" "$loss" "$labseed" "$P" "$scan" "$seed" "$out" "$score")
  total=$((total + 1))
  t=$(echo "$res" | awk '{print $2}')
  secs+=("$t")
  if [[ $res == rc=0\ *"; wrong 0" ]]; then exact=$((exact + 1)); verdict=exact; else verdict=WRONG; fi
  echo "scan $i: $kind rtt=$rtt loss=$loss lab-seed=$labseed seed=$seed: $verdict ($res)"
done
summary=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median %.2f s, min %.2f s, max %.2f s", a[int((NR+1)/2)], a[1], a[NR]}')
echo "soak summary: $exact/$total exact, SOAK_SEED=$SOAK_SEED, wall per scan: $summary"
[ "$exact" -eq "$total" ]
