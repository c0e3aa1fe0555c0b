# BusyBox's httpd and telnetd.
PACKAGES="busybox"
ADDR=127.0.10.36
ENDPOINTS="normal 80
normal 23"
start() {
    local w=$1
    mkdir -p "$w/www"; echo '<html><title>busybox</title></html>' >"$w/www/index.html"
    bg "$w" busybox httpd -f -p "$ADDR:80" -h "$w/www"
    bg "$w" busybox telnetd -F -p 23 -b "$ADDR" -l /bin/false
}
