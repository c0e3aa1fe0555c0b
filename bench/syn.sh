#!/usr/bin/env bash
# `scan -sS` side by side with the connect scan and `nmap -sS -T4` in ../shared/netlab
# (issue 10, acceptance 1 and 3), in one run:
#   bench/syn.sh [RUNS] [BINARY]   (RUNS per portolan scenario on the LAN, default 5;
#                                   the WAN scenario always runs 10 -sS and 3 connect)
# INSIDE=1 clocks every tool inside the lab's scanner namespace (`ip netns exec
# nl-scan`) instead of through `netlab exec`, whose Python start-up (~0.25 s) every
# tool pays alike and which is a third of a fast -sS run.
# Holds /work/wt/netlab.lock (or $NETLAB_LOCK) for the whole up/measure/down block,
# bounds every command with a timeout, and always takes the lab down.
# Prints "NAME wall_s score" lines, then the medians, on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
P=${2:-$PWD/target/release/portolan}
NL=${NETLAB:-../shared/netlab/netlab}
[ -x "$NL" ] || NL=/work/shared/netlab/netlab
NL=$(realpath "$NL")
LOCK=${NETLAB_LOCK:-/work/wt/netlab.lock}
OUT=$(mktemp -d)

# run NAME ADDR CMD...: times CMD on the scanner side and scores $OUT/r.ndjson
run() {
  local name=$1 addr=$2; shift 2
  rm -f "$OUT/r.ndjson"
  if [ "${INSIDE:-0}" = 1 ]; then
    # clocked inside the scanner's namespace: no tool pays netlab exec's start-up
    ip netns exec nl-scan /usr/bin/time -f "%e" -o "$OUT/t" timeout 120 "$@" >"$OUT/stdout" 2>"$OUT/stderr" || true
  else
    /usr/bin/time -f "%e" -o "$OUT/t" timeout 120 "$NL" exec "$@" >"$OUT/stdout" 2>"$OUT/stderr" || true
  fi
  local score="-"
  # `netlab score` fails on a wrong port: record the line, keep the file, go on.
  if [ -s "$OUT/r.ndjson" ]; then
    score=$("$NL" score "$OUT/r.ndjson" --addr "$addr" --ports 1-65535 | tail -1) || {
      cp "$OUT/r.ndjson" "${KEEP:-/tmp}/syn-wrong-$name-$$-$RANDOM.ndjson"
    }
  fi
  echo "$name $(tail -1 "$OUT/t") $score"
  echo "$name $(tail -1 "$OUT/t")" >>"$OUT/times"
}
median() { awk -v n="$1" '$1 == n {print $2}' "$OUT/times" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }

exec 9>"$LOCK"
flock 9
trap '"$NL" down >/dev/null 2>&1 || true' EXIT
common=(-oD "$OUT/r.ndjson" --no-progress --no-history)
"$NL" up >/dev/null </dev/null
for i in $(seq "$RUNS"); do
  run sS-v4 198.18.0.1 "$P" scan 198.18.0.1 -p- -sS "${common[@]}"
  run sS-v4-max250k 198.18.0.1 "$P" scan 198.18.0.1 -p- -sS --max-rate 250000 "${common[@]}"
  run sS-v4-c1000 198.18.0.1 "$P" scan 198.18.0.1 -p- -sS --concurrency 1000 "${common[@]}"
  run sT-v4 198.18.0.1 "$P" scan 198.18.0.1 -p- "${common[@]}"
done
run nmap-sS-T4 198.18.0.1 nmap -sS -p- -T4 -n -Pn 198.18.0.1
for i in 1 2; do
  run sS-v6 2001:db8:2::1 "$P" scan 2001:db8:2::1 -p- -sS "${common[@]}"
  run sT-v6 2001:db8:2::1 "$P" scan 2001:db8:2::1 -p- "${common[@]}"
done
if [ "${WAN:-1}" = 1 ]; then
  "$NL" up --rtt 40 --loss 1 >/dev/null </dev/null
  for i in $(seq 10); do run wan-sS 198.18.0.1 "$P" scan 198.18.0.1 -p- -sS "${common[@]}"; done
  for i in 1 2 3; do run wan-sT 198.18.0.1 "$P" scan 198.18.0.1 -p- "${common[@]}"; done
fi
echo "medians:"
for n in sS-v4 sS-v4-max250k sS-v4-c1000 sT-v4 nmap-sS-T4 sS-v6 sT-v6 wan-sS wan-sT; do echo "$n $(median $n)"; done
