# HAProxy: its statistics page, and a frontend whose only backend is down (503).
PACKAGES="haproxy"
ADDR=127.0.10.8
ENDPOINTS="normal 8404
misconfigured 80"
start() {
    local w=$1
    cat >"$w/haproxy.cfg" <<CONF
global
    pidfile $w/haproxy.pid
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend stats
    bind $ADDR:8404
    stats enable
    stats uri /
frontend web
    bind $ADDR:80
    default_backend down
backend down
    server gone $ADDR:9
CONF
    bg "$w" haproxy -db -f "$w/haproxy.cfg"
}
