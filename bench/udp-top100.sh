#!/bin/bash
# UDP --top-ports 100 on the lab's main host beside nmap (issue 11, acceptance 1 and 2),
# each tool timed from inside the lab's scanner namespace (`ip netns exec nl-scan`,
# the clock read in the namespace right before and after the tool), so neither pays
# `netlab exec`'s start-up (about 0.25 s, more than portolan's whole scan), RUNS times
# each, alternated; every portolan run is scored with `netlab score --proto udp`.
#
#   flock /work/wt/netlab.lock bench/udp-top100.sh [RUNS] [netlab up options...]
#   e.g. bench/udp-top100.sh 5;  bench/udp-top100.sh 1 --icmp-ratelimit 1000
#
# Root; needs ../shared/netlab, nmap, bc, and a release build (PORTOLAN=path, default
# target/release/portolan).
set -u
RUNS=${1:-3}; shift || true
HERE=$(cd "$(dirname "$0")/.." && pwd)
NL=${NETLAB:-$HERE/../shared/netlab/netlab}
[ -x "$NL" ] || NL=/work/shared/netlab/netlab
P=${PORTOLAN:-$HERE/target/release/portolan}
O=$(mktemp -d /tmp/portolan-udp100-XXXX)
timeout 120 "$NL" up "$@" > "$O/up.log" 2>&1 || { cat "$O/up.log"; "$NL" down; exit 1; }
trap '"$NL" down > /dev/null 2>&1' EXIT
inside() { # name run command... : wall time of the command, clocked inside the namespace
  local name=$1 run=$2; shift 2
  ip netns exec nl-scan bash -c 's=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$s $e"' _ "$@" \
    | { read -r s e; printf "%-9s run %s %7.3f s\n" "$name" "$run" "$(echo "$e - $s" | bc)"; }
}
for r in $(seq 1 "$RUNS"); do
  inside portolan "$r" "$P" scan -sU --top-ports 100 198.18.0.1 --no-history --no-progress --ndjson "$O/p$r.ndjson"
  # the ports scored are the ports the report lists (NDJSON has a line for every port)
  ports=$(python3 -c 'import json,sys; print(",".join(sorted({str(json.loads(l)["port"]) for l in open(sys.argv[1]) if "\"port\"" in l}, key=int)))' "$O/p$r.ndjson")
  echo "ports scored: $(echo "$ports" | tr , '\n' | wc -l)"
  "$NL" score "$O/p$r.ndjson" --addr 198.18.0.1 --proto udp --ports "$ports" 2>&1 | tail -3
  inside nmap "$r" nmap -sU --top-ports 100 -T4 -n -Pn 198.18.0.1
done
echo "files: $O"
