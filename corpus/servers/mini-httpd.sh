# mini_httpd serving a directory.
PACKAGES="mini-httpd"
ADDR=127.0.10.32
ENDPOINTS="normal 80"
start() {
    local w=$1
    mkdir -p "$w/www"; echo '<html><title>mini</title></html>' >"$w/www/index.html"
    bg "$w" mini_httpd -D -h "$ADDR" -p 80 -d "$w/www" -u nobody -i "$w/pid"
}
