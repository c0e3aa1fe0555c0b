# NSD, authoritative for one zone.
PACKAGES="nsd"
ADDR=127.0.10.22
ENDPOINTS="normal 53"
start() {
    local w=$1
    printf '$ORIGIN portolan.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A %s\n' "$ADDR" >"$w/portolan.test.zone"
    cat >"$w/nsd.conf" <<CONF
server:
    ip-address: $ADDR
    port: 53
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "$w"
    database: ""
    pidfile: "$w/nsd.pid"
    xfrdfile: "$w/xfrd.state"
    zonelistfile: "$w/zone.list"
    logfile: "$w/nsd.log"
remote-control:
    control-enable: no
zone:
    name: portolan.test
    zonefile: portolan.test.zone
CONF
    bg "$w" nsd -d -c "$w/nsd.conf"
}
