#!/bin/bash
# Issue 14, acceptance 3 and 4 in the lab (../shared/netlab), one block under the lab
# lock: netlab up; a namespace of our own (pipes-wild-PID) joined to nl-scan by a veth
# pair, where an iptables REDIRECT sends every TCP port of 198.51.100.2 to one
# listener; one scan of the lab's main host and that host (acceptance 3); the two
# endpoints of acceptance 4 fed on stdin with -sV, and nmap's -oG fed the same way;
# netlab down and the namespace deleted, whatever happened.
# Usage (as root, from the worktree): flock /work/wt/netlab.lock bench/pipes-lab.sh
set -u
PORTOLAN=${PORTOLAN:-$PWD/target/release/portolan}
NETLAB=${NETLAB:-/work/shared/netlab/netlab}
OUT=${OUT:-/tmp/pipes-lab}
NS=pipes-wild-$$
A=pwa$$; B=pwb$$
mkdir -p "$OUT"
cleanup() {
    [ -n "${LISTENER:-}" ] && kill "$LISTENER" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    "$NETLAB" down >/dev/null 2>&1
}
trap cleanup EXIT
"$NETLAB" up >/dev/null || exit 1
ip netns add "$NS"
ip link add "$A" type veth peer name "$B"
ip link set "$A" netns nl-scan
ip link set "$B" netns "$NS"
ip -n nl-scan addr add 198.51.100.1/30 dev "$A"; ip -n nl-scan link set "$A" up
ip -n "$NS" addr add 198.51.100.2/30 dev "$B"; ip -n "$NS" link set "$B" up
ip -n "$NS" link set lo up
ip netns exec "$NS" iptables -t nat -A PREROUTING -p tcp -d 198.51.100.2 -j REDIRECT --to-ports 5555
ip netns exec "$NS" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5555)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' &
LISTENER=$!
sleep 1
echo "== acceptance 3: the lab's main host and a host that answers every port, one scan"
/usr/bin/time -f "wall %e s" "$NETLAB" exec "$PORTOLAN" scan 198.18.0.1 198.51.100.2 -p 1-3000 \
    --no-history -oD "$OUT/a3.ndjson" -oN "$OUT/a3.txt" -oX "$OUT/a3.xml"
grep -E '^(All open|Not scanned|Scanned|portolan scan report)' "$OUT/a3.txt"
grep '"host"' "$OUT/a3.ndjson"
grep -o '<hostscript>.*</hostscript>' "$OUT/a3.xml" | cut -c1-200
grep -v '"198.51.100.2"' "$OUT/a3.ndjson" | grep -v '"host"' > "$OUT/a3-main.ndjson"
"$NETLAB" score "$OUT/a3-main.ndjson" --addr 198.18.0.1 --ports 1-3000
echo "== acceptance 3 with --max-open-per-host 100"
/usr/bin/time -f "wall %e s" "$NETLAB" exec "$PORTOLAN" scan 198.18.0.1 198.51.100.2 -p 1-3000 \
    --no-history --max-open-per-host 100 -oN "$OUT/a3cap.txt"
grep -E '^(All open|Stopped|Not scanned|Scanned)' "$OUT/a3cap.txt"
echo "== acceptance 4: two endpoints on stdin, -sV"
printf '198.18.0.1:22\n[2001:db8:2::1]:80\n' | /usr/bin/time -f "wall %e s" "$NETLAB" exec "$PORTOLAN" scan -iL - -sV \
    --no-history -oN "$OUT/a4.txt" -oD "$OUT/a4.ndjson"
cat "$OUT/a4.txt"
echo "== nmap -oG fed in"
"$NETLAB" exec nmap -Pn -sT -p 21,22,23,25,80,81 -oG - 198.18.0.1 > "$OUT/nmap.gnmap"
"$NETLAB" exec "$PORTOLAN" scan -iL - -sV --no-history < "$OUT/nmap.gnmap"
