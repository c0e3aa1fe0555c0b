# Dropbear: 22, and a non-default port.
PACKAGES="dropbear-bin"
ADDR=127.0.10.16
ENDPOINTS="normal 22
nondefault_port 2222"
start() {
    local w=$1
    dropbearkey -t ed25519 -f "$w/key" >/dev/null
    bg "$w" dropbear -F -E -r "$w/key" -P "$w/pid" -p "$ADDR:22" -p "$ADDR:2222"
}
