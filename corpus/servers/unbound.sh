# Unbound: a resolver that serves the scanning host, and one whose access-control
# refuses it. Everything it would resolve is forwarded to 127.0.0.1:9 (nothing),
# so it never sends a query off the machine.
PACKAGES="unbound"
ADDR=127.0.10.19
ENDPOINTS="normal 53
denied 5353"
start() {
    local w=$1
    for p in 53 5353; do
        cat >"$w/$p.conf" <<CONF
server:
    interface: $ADDR@$p
    do-ip6: no
    username: ""
    chroot: ""
    directory: "$w"
    pidfile: "$w/$p.pid"
    use-syslog: no
    logfile: "$w/$p.log"
    access-control: 127.0.0.0/8 $([ "$p" = 53 ] && echo allow || echo refuse)
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@9
remote-control:
    control-enable: no
CONF
        bg "$w" unbound -d -c "$w/$p.conf"
    done
}
