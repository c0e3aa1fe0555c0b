# TinySSH under tcpserver (it is an inetd-style server).
PACKAGES="tinysshd ucspi-tcp"
ADDR=127.0.10.17
ENDPOINTS="normal 22"
start() {
    local w=$1
    tinysshd-makekey "$w/keys"
    bg "$w" tcpserver -HRl0 "$ADDR" 22 /usr/sbin/tinysshd "$w/keys"
}
