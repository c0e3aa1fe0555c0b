# Privoxy, the filtering proxy.
PACKAGES="privoxy"
ADDR=127.0.10.34
ENDPOINTS="normal 8118"
start() {
    local w=$1
    printf 'confdir /etc/privoxy\nlogdir %s\nlisten-address %s:8118\n' "$w" "$ADDR" >"$w/config"
    bg "$w" privoxy --no-daemon "$w/config"
}
