# Leafnode, a small NNTP server, under tcpserver (it is an inetd service), as
# installed: without a unique fully-qualified host name it refuses every client (503).
PACKAGES="leafnode ucspi-tcp"
ADDR=127.0.10.44
ENDPOINTS="misconfigured 119"
start() {
    local w=$1
    bg "$w" tcpserver -HRl0 "$ADDR" 119 /usr/sbin/leafnode
}
