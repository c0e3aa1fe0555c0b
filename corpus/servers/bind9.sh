# BIND 9: answers version.bind; a server that refuses every query from the
# scanning host and hides its version. named listens only on the addresses of an
# interface, so start() puts $ADDR/32 on lo and stop() takes it off again; it never
# recurses (no resolver, no DNSSEC trust anchor fetch), so it sends nothing anywhere.
PACKAGES="bind9"
ADDR=127.0.10.18
ENDPOINTS="normal 53
denied 5353"
start() {
    local w=$1
    mkdir -p "$w/53" "$w/5353"
    ip addr add "$ADDR/32" dev lo 2>/dev/null || true
    cat >"$w/53.conf" <<CONF
options { directory "$w/53"; pid-file "$w/53.pid"; listen-on port 53 { $ADDR; }; listen-on-v6 { none; }; recursion no; dnssec-validation no; };
controls { };
CONF
    cat >"$w/5353.conf" <<CONF
options { directory "$w/5353"; pid-file "$w/5353.pid"; listen-on port 5353 { $ADDR; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no; allow-query { none; }; version none; };
controls { };
CONF
    bg "$w" named -g -c "$w/53.conf"
    bg "$w" named -g -c "$w/5353.conf"
}
stop() { ip addr del "$ADDR/32" dev lo 2>/dev/null; }
