# CVS's pserver under tcpserver (an inetd service, so its stderr is the socket as
# inetd would make it); it waits for an auth request.
PACKAGES="cvs ucspi-tcp"
ADDR=127.0.10.42
ENDPOINTS="normal 2401"
start() {
    local w=$1
    cvs -d "$w/cvsroot" init
    bg "$w" tcpserver -HRl0 "$ADDR" 2401 sh -c 'exec cvs --allow-root="$0" pserver 2>&1' "$w/cvsroot"
}
