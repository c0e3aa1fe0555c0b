#!/usr/bin/env bash
# `scan -sS` beside the connect scan with no link at all: a sweep of
# 127.0.0.0/18 x --top-ports 100 (1,638,400 probes, every one answered by a reset)
# on the loopback of a namespace of our own, where both ends are this machine's
# kernel. Issue 10's bar 2 (3x the connect engine's probe rate) without netlab's
# userspace link, which saturates first in the lab.
#   bench/syn-loopback.sh [RUNS] [BINARY]   (default 2 runs of each)
# Needs root (a namespace); sends only to 127.0.0.0/18 inside that namespace.
# Prints one line per run: mode, wall, peak RSS, user and system CPU, and the
# scan's own summary line (probes, retries, probes/s).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-2}
P=${2:-$PWD/target/release/portolan}
NS=portolan-bench-lo-$$
OUT=$(mktemp -d)
ip netns add "$NS"
trap 'ip netns del "$NS"; rm -rf "$OUT"' EXIT
ip -n "$NS" link set lo up
for i in $(seq "$RUNS"); do
  for mode in sS connect; do
    extra=()
    [ "$mode" = sS ] && extra=(-sS)
    ip netns exec "$NS" /usr/bin/time -f "%e s wall, %M KB, %U s user, %S s system" -o "$OUT/t" \
      timeout 300 "$P" scan 127.0.0.0/18 --top-ports 100 "${extra[@]}" \
      --no-progress --no-history -oD /dev/null >"$OUT/stdout" 2>"$OUT/stderr" || true
    echo "$mode: $(tail -1 "$OUT/t") | $(grep -o 'port results in.*' "$OUT/stdout" | tail -1)"
  done
done
