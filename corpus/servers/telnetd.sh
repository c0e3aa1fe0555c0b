# GNU inetutils telnetd under tcpserver (it is an inetd service), and one whose
# tcpserver rules deny the scanning host (it closes without a word, as a
# tcpwrappers `hosts.deny` does).
PACKAGES="inetutils-telnetd ucspi-tcp"
ADDR=127.0.10.30
ENDPOINTS="normal 23
denied 2323"
start() {
    local w=$1
    echo "127.:deny" | tcprules "$w/deny.cdb" "$w/deny.tmp"
    bg "$w" tcpserver -HRl0 "$ADDR" 23 /usr/sbin/telnetd
    bg "$w" tcpserver -HRl0 -x "$w/deny.cdb" "$ADDR" 2323 /usr/sbin/telnetd
}
