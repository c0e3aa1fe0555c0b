# oidentd, an ident (RFC 1413) server; it answers only a query (the ident probe).
PACKAGES="oidentd"
ADDR=127.0.10.45
ENDPOINTS="normal 113"
start() {
    local w=$1
    bg "$w" oidentd --foreground -a "$ADDR" -p 113
}
