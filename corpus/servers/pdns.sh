# PowerDNS Authoritative Server with the BIND backend and no zones.
PACKAGES="pdns-server pdns-backend-bind"
ADDR=127.0.10.23
ENDPOINTS="normal 53"
start() {
    local w=$1
    : >"$w/named.conf"
    : >"$w/pdns.conf"
    bg "$w" pdns_server --config-dir="$w" --local-address="$ADDR" --local-port=53 --launch=bind \
        --bind-config="$w/named.conf" --socket-dir="$w" --daemon=no --guardian=no \
        --setuid= --setgid= --disable-syslog --webserver=no --api=no
}
