# Varnish: a cache whose backend is down (503), and its management CLI port.
PACKAGES="varnish"
ADDR=127.0.10.7
ENDPOINTS="misconfigured 6081
normal 6082"
start() {
    local w=$1
    mkdir -p "$w/n"
    head -c 32 /dev/urandom >"$w/secret"
    bg "$w" varnishd -F -a "$ADDR:6081" -T "$ADDR:6082" -S "$w/secret" -b "$ADDR:9" -n "$w/n" -s malloc,16m
}
