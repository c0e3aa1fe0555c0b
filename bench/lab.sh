#!/usr/bin/env bash
# Side-by-side lab benchmark of `portolan scan` against the connect floor, nmap and
# RustScan, in ../shared/netlab. Needs root, the netlab, nmap and rustscan:
#   apt-get install -y nmap iproute2 iptables openssl procps && cargo install rustscan --locked
# Usage: bench/lab.sh [RUNS]   (RUNS of portolan per scenario, default 5; the WAN
# scenario always runs 10 times, as its acceptance asks). Prints Markdown on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
NL=${NETLAB:-../shared/netlab/netlab}
P=$PWD/target/release/portolan
OUT=$(mktemp -d)
cargo build --release -q -p portolan-cli
command -v connect-floor >/dev/null || gcc -O2 -o /usr/local/bin/connect-floor ../shared/netlab/floor.c
RUSTSCAN=$(command -v rustscan || echo "$HOME/.cargo/bin/rustscan")

# timed NAME CMD...: runs CMD on the scanner side; appends "NAME seconds peak_kb" to $OUT/times
timed() {
  local name=$1; shift
  /usr/bin/time -f "$name %e %M" -a -o "$OUT/times" "$NL" exec "$@" >"$OUT/last.out" 2>"$OUT/last.err" || true
}
score() { "$NL" score "$1" "${@:2}" | tail -1; }

echo "## Run of $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores"
echo
echo '```'
"$NL" up >/dev/null </dev/null
for i in 1 2 3; do "$NL" exec connect-floor 198.18.0.1 4096 300 | sed "s/^/floor: /"; done
for i in $(seq 3); do timed nmap-T4 nmap -sT -p- -T4 -n -Pn 198.18.0.1; done
for i in $(seq "$RUNS"); do
  timed portolan-v4 "$P" scan 198.18.0.1 -p- -oD "$OUT/v4.ndjson" --no-progress
  echo "lan v4 run $i: $(score "$OUT/v4.ndjson" --addr 198.18.0.1 --ports 1-65535)"
done
for i in $(seq 3); do timed rustscan-lan "$RUSTSCAN" -a 198.18.0.1 -g; done
for i in $(seq "$RUNS"); do
  timed portolan-v6 "$P" scan 2001:db8:2::1 -p- -oD "$OUT/v6.ndjson" --no-progress
  echo "lan v6 run $i: $(score "$OUT/v6.ndjson" --addr 2001:db8:2::1 --ports 1-65535)"
done
SWEEP_ADDRS=$(python3 -c "print(' '.join(f'--addr 198.18.{i//256}.{i%256}' for i in range(1024)))")
for i in $(seq "$RUNS"); do
  timed portolan-sweep "$P" scan 198.18.0.0/22 -p 22,80 -oD "$OUT/sweep.ndjson" --no-progress
  # shellcheck disable=SC2086
  echo "sweep run $i: $(score "$OUT/sweep.ndjson" $SWEEP_ADDRS --ports 22,80)"
done
for i in $(seq 3); do timed nmap-sweep nmap -sT -p 22,80 -T4 -n -Pn 198.18.0.0/22; done

"$NL" up --rtt 40 --loss 1 >/dev/null </dev/null
for i in 1 2 3; do "$NL" exec connect-floor 198.18.0.1 4096 300 | sed "s/^/wan floor: /"; done
for i in $(seq 10); do
  timed portolan-wan "$P" scan 198.18.0.1 -p- -oD "$OUT/wan.ndjson" --no-progress
  echo "wan run $i: $(score "$OUT/wan.ndjson" --addr 198.18.0.1 --ports 1-65535)"
done
for i in $(seq 3); do timed rustscan-wan "$RUSTSCAN" -a 198.18.0.1 -g; done
"$NL" up >/dev/null </dev/null

# Acceptance 5: 127.0.0.1 -p- inside a namespace with one listener, 10 runs.
NS=portolan-bench-$$
ip netns add "$NS"; ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",4242)); s.listen(); time.sleep(600)' &
LPID=$!
sleep 0.5
for i in $(seq 10); do
  /usr/bin/time -f "portolan-ns %e %M" -a -o "$OUT/times" ip netns exec "$NS" "$P" scan 127.0.0.1 -p- -oD "$OUT/ns.ndjson" --no-progress >/dev/null
  echo "namespace run $i: $(python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(len(r),'results, open:',[x['port'] for x in r if x['state']=='open'], 'filtered:', sum(x['state']=='filtered' for x in r))" "$OUT/ns.ndjson")"
done
kill "$LPID"; ip netns del "$NS"
echo '```'
echo
python3 - "$OUT/times" <<'PY'
import sys, statistics as st
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 3 and not parts[0].startswith("Command"):
        rows.setdefault(parts[0], []).append((float(parts[1]), int(parts[2])))
med = {k: st.median(t for t, _ in v) for k, v in rows.items()}
print("| measurement | runs | median wall s | min | max | peak RSS MB (max) |")
print("| --- | --- | --- | --- | --- | --- |")
for k, v in rows.items():
    ts = [t for t, _ in v]
    print(f"| {k} | {len(v)} | {med[k]:.2f} | {min(ts):.2f} | {max(ts):.2f} | {max(m for _, m in v)/1024:.1f} |")
print()
def ratio(a, b):
    if a in med and b in med:
        print(f"- {a} / {b}: {med[a]/med[b]:.2f}")
ratio("portolan-v4", "nmap-T4"); ratio("portolan-v4", "rustscan-lan")
ratio("portolan-wan", "rustscan-wan"); ratio("portolan-sweep", "nmap-sweep")
PY
rm -rf "$OUT"
