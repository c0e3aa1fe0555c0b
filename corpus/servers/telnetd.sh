# GNU inetutils telnetd under tcpserver (it is an inetd service).
PACKAGES="inetutils-telnetd ucspi-tcp"
ADDR=127.0.10.30
ENDPOINTS="normal 23"
start() {
    local w=$1
    bg "$w" tcpserver -HRl0 "$ADDR" 23 /usr/sbin/telnetd
}
