# BusyBox's httpd (Debian's busybox has no telnetd or ftpd applet), and a directory
# it refuses to serve (a `.httpd.conf` that denies the scanning host).
PACKAGES="busybox"
ADDR=127.0.10.36
ENDPOINTS="normal 80
denied 8080"
start() {
    local w=$1
    mkdir -p "$w/www" "$w/denied"
    echo '<html><title>busybox</title></html>' >"$w/www/index.html"
    printf 'D:127.0.0.0/8\nA:*\n' >"$w/denied.conf"
    bg "$w" busybox httpd -f -p "$ADDR:80" -h "$w/www"
    bg "$w" busybox httpd -f -p "$ADDR:8080" -h "$w/denied" -c "$w/denied.conf"
}
