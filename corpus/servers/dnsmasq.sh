# dnsmasq as a DNS forwarder with no upstream.
PACKAGES="dnsmasq-base"
ADDR=127.0.10.20
ENDPOINTS="normal 53"
start() {
    local w=$1
    bg "$w" dnsmasq -k --conf-file=/dev/null --listen-address="$ADDR" --bind-interfaces --port=53 \
        --no-resolv --no-hosts --pid-file="$w/pid" --user=nobody --log-facility="$w/dnsmasq.log"
}
