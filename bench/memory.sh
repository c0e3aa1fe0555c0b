#!/usr/bin/env bash
# Peak memory of the two scans of issue 10's acceptance 4, in ../shared/netlab,
# for one or more portolan binaries side by side (default: this tree's release build):
#   bench/memory.sh [BINARY...]
# Holds /work/wt/netlab.lock (or $NETLAB_LOCK) for the whole up/measure/down block and
# always takes the lab down. Prints one Markdown row per binary and scan on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
NL=${NETLAB:-../shared/netlab/netlab}
[ -x "$NL" ] || NL=/work/shared/netlab/netlab
NL=$(realpath "$NL")
LOCK=${NETLAB_LOCK:-/work/wt/netlab.lock}
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=("$PWD/target/release/portolan")
OUT=$(mktemp -d)

# peak NAME CMD...: runs CMD on the scanner side, prints "| NAME | wall | peak RSS |"
peak() {
  local name=$1; shift
  rm -f "$OUT"/h.db* "$OUT"/out.*
  /usr/bin/time -v -o "$OUT/time" timeout 200 "$NL" exec "$@" >"$OUT/stdout" 2>"$OUT/stderr" || true
  local kb wall
  kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$OUT/time")
  wall=$(awk -F': ' '/Elapsed \(wall/ {print $2}' "$OUT/time")
  echo "| $name | $wall | $((kb / 1024)) MB | $(tail -1 "$OUT/stdout" | cut -c1-110) |"
}

exec 9>"$LOCK"
flock 9
trap '"$NL" down >/dev/null 2>&1 || true' EXIT
"$NL" up >/dev/null </dev/null
echo "| binary, scan | wall | peak RSS | last line |"
echo "| --- | --- | --- | --- |"
for b in "${BINS[@]}"; do
  cd "$OUT"
  peak "$(basename "$b") -sS /12 -p 80 -oA" "$b" scan -sS 198.16.0.0/12 -p 80 --large -oA "$OUT/out" --db "$OUT/h.db" --no-progress
  peak "$(basename "$b") connect /16 -p 22,80 table" "$b" scan 198.18.0.0/16 -p 22,80 --db "$OUT/h.db" --no-progress
  cd - >/dev/null
done
