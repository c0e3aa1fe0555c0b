# Knot DNS, authoritative for one zone.
PACKAGES="knot"
ADDR=127.0.10.21
ENDPOINTS="normal 53"
start() {
    local w=$1
    mkdir -p "$w/db" "$w/run"
    printf '$ORIGIN portolan.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A %s\n' "$ADDR" >"$w/db/portolan.test.zone"
    cat >"$w/knot.conf" <<CONF
server:
    rundir: "$w/run"
    listen: $ADDR@53
log:
  - target: stderr
    any: warning
database:
    storage: "$w/db"
zone:
  - domain: portolan.test
    file: "$w/db/portolan.test.zone"
CONF
    bg "$w" knotd -c "$w/knot.conf"
}
