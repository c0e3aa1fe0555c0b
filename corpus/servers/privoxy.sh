# Privoxy, the filtering proxy, and one that permits only 10.0.0.1.
PACKAGES="privoxy"
ADDR=127.0.10.34
ENDPOINTS="normal 8118
denied 8119"
start() {
    local w=$1
    printf 'confdir /etc/privoxy\nlogdir %s\nlisten-address %s:8118\n' "$w" "$ADDR" >"$w/config"
    mkdir -p "$w/denied"
    printf 'confdir /etc/privoxy\nlogdir %s/denied\nlisten-address %s:8119\npermit-access 10.0.0.1\n' "$w" "$ADDR" >"$w/denied/config"
    bg "$w" privoxy --no-daemon "$w/config"
    bg "$w" privoxy --no-daemon "$w/denied/config"
}
