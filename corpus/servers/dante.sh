# Dante, a SOCKS 5 server.
PACKAGES="dante-server"
ADDR=127.0.10.40
ENDPOINTS="normal 1080"
start() {
    local w=$1
    cat >"$w/danted.conf" <<CONF
logoutput: $w/danted.log
internal: $ADDR port = 1080
external: lo
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }
CONF
    bg "$w" danted -f "$w/danted.conf" -p "$w/pid"
}
