#!/bin/bash
# Host discovery in the lab (issue 14, acceptance 2): `scan -sn 198.18.0.0/22`,
# privileged (root) and unprivileged (uid 65534 without CAP_NET_RAW, ping sockets
# allowed by net.ipv4.ping_group_range in the lab's scanner namespace), beside
# `nmap -sn` and `nmap -sn --unprivileged`, RUNS times each, interleaved.
#
#   flock /work/wt/netlab.lock bench/discover-lab.sh [RUNS] [netlab up options...]
#   e.g. bench/discover-lab.sh 3;  bench/discover-lab.sh 2 --rtt 40 --loss 1
#
# Root; needs ../shared/netlab, nmap, setpriv, python3, and a release build
# (cargo build --release -p portolan-cli). Wall times include `netlab exec` (about
# 0.1 s for every tool alike). Each portolan run is checked: 198.18.0.0/24,
# 198.18.1.0/24 and 198.18.3.0/24 up, 198.18.2.0/24 down, every host once.
set -u
RUNS=${1:-3}; shift || true
HERE=$(cd "$(dirname "$0")/.." && pwd)
NL=${NETLAB:-$HERE/../../shared/netlab/netlab}
[ -x "$NL" ] || NL=/work/shared/netlab/netlab
P=$HERE/target/release/portolan
O=$(mktemp -d /tmp/portolan-discover-XXXX)
timeout 120 "$NL" up "$@" > "$O/up.log" 2>&1 || { cat "$O/up.log"; "$NL" down; exit 1; }
trap '"$NL" down > /dev/null 2>&1' EXIT
ip netns exec nl-scan sysctl -qw net.ipv4.ping_group_range="0 2147483647"
UNPRIV="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-net_raw"
t() { # name, command...
  local name=$1; shift
  local s e rc
  s=$(date +%s.%N)
  timeout 300 "$@" > "$O/$name.$R.out" 2> "$O/$name.$R.err"; rc=$?
  e=$(date +%s.%N)
  printf "%-8s run %s exit %s %6.2f s\n" "$name" "$R" "$rc" "$(echo "$e - $s" | bc)"
}
check() { # an NDJSON file of -sn
  python3 - "$1" <<'PY'
import collections, json, sys
seen = collections.Counter(); states = collections.Counter()
for line in open(sys.argv[1]):
    v = json.loads(line); seen[v["addr"]] += 1
    states[(".".join(v["addr"].split(".")[:3]), v["host_state"])] += 1
want = {("198.18.0", "up"): 256, ("198.18.1", "up"): 256, ("198.18.2", "down"): 256, ("198.18.3", "up"): 256}
ok = dict(states) == want and len(seen) == 1024 and max(seen.values()) == 1
print("  exact" if ok else f"  WRONG {dict(states)}")
PY
}
for R in $(seq "$RUNS"); do
  t priv    "$NL" exec "$P" scan -sn 198.18.0.0/22 -oD - --no-progress; check "$O/priv.$R.out"
  t unpriv  "$NL" exec $UNPRIV "$P" scan -sn 198.18.0.0/22 -oD - --no-progress; check "$O/unpriv.$R.out"
  t nmap    "$NL" exec nmap -sn -n 198.18.0.0/22 -oG -
  t nmapunp "$NL" exec $UNPRIV nmap -sn -n --unprivileged 198.18.0.0/22 -oG -
done
echo "outputs in $O"
