# Dante, a SOCKS 5 server, and one whose client rules block the scanning host.
PACKAGES="dante-server"
ADDR=127.0.10.40
ENDPOINTS="normal 1080
denied 1081"
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
    sed -e "s/port = 1080/port = 1081/" -e "s/^client pass/client block/" -e "s|$w/danted.log|$w/denied.log|" \
        "$w/danted.conf" >"$w/denied.conf"
    bg "$w" danted -f "$w/danted.conf" -p "$w/pid"
    bg "$w" danted -f "$w/denied.conf" -p "$w/denied.pid"
}
