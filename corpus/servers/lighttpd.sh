# lighttpd: a page, and a server that denies the scanning host by address (403).
PACKAGES="lighttpd"
ADDR=127.0.10.3
ENDPOINTS="normal 80
denied 8080"
start() {
    local w=$1
    mkdir -p "$w/www"
    echo '<html><head><title>lighttpd</title></head><body>lighttpd</body></html>' >"$w/www/index.html"
    for port in 80 8080; do
        cat >"$w/$port.conf" <<CONF
server.modules = ("mod_access")
server.document-root = "$w/www"
server.bind = "$ADDR"
server.port = $port
server.pid-file = "$w/$port.pid"
server.errorlog = "$w/$port.err"
index-file.names = ("index.html")
CONF
    done
    echo '$HTTP["remoteip"] == "127.0.0.0/8" { url.access-deny = ("") }' >>"$w/8080.conf"
    bg "$w" lighttpd -D -f "$w/80.conf"
    bg "$w" lighttpd -D -f "$w/8080.conf"
}
