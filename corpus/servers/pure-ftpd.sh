# Pure-FTPd: anonymous and local logins on 21, and TLS required on a non-default port.
PACKAGES="libsodium23"
EXTRACT="pure-ftpd"
ADDR=127.0.10.11
ENDPOINTS="normal 21
nondefault_port 2121"
start() {
    local w=$1
    selfsigned "$w"
    cat "$w/key.pem" "$w/cert.pem" >"$w/pure-ftpd.pem"
    bg "$w" "$ROOTFS/usr/sbin/pure-ftpd" -S "$ADDR,21" -A -H -f none -g "$w/21.pid"
    bg "$w" "$ROOTFS/usr/sbin/pure-ftpd" -S "$ADDR,2121" -A -H -f none -g "$w/2121.pid" -Y 2 -2 "$w/pure-ftpd.pem"
}
