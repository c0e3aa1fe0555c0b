# dnsmasq as a DNS forwarder with no upstream, on 53 and on a non-default port.
PACKAGES="dnsmasq-base"
ADDR=127.0.10.20
ENDPOINTS="normal 53
nondefault_port 5300"
start() {
    local w=$1
    bg "$w" dnsmasq -k --conf-file=/dev/null --listen-address="$ADDR" --bind-interfaces --port=5300 \
        --no-resolv --no-hosts --pid-file="$w/pid5300" --user=nobody --log-facility="$w/dnsmasq5300.log"
    bg "$w" dnsmasq -k --conf-file=/dev/null --listen-address="$ADDR" --bind-interfaces --port=53 \
        --no-resolv --no-hosts --pid-file="$w/pid" --user=nobody --log-facility="$w/dnsmasq.log"
}
