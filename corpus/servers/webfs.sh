# webfsd serving a directory.
PACKAGES="webfs"
ADDR=127.0.10.33
ENDPOINTS="normal 80"
start() {
    local w=$1
    mkdir -p "$w/www"; echo '<html><title>webfs</title></html>' >"$w/www/index.html"
    bg "$w" webfsd -F -i "$ADDR" -p 80 -r "$w/www" -u nobody -g nogroup
}
