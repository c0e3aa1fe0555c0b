# micro_httpd under tcpserver (an inetd-style server).
PACKAGES="micro-httpd ucspi-tcp"
ADDR=127.0.10.37
ENDPOINTS="normal 80"
start() {
    local w=$1
    mkdir -p "$w/www"; echo '<html><title>micro</title></html>' >"$w/www/index.html"
    bg "$w" tcpserver -HRl0 "$ADDR" 80 /usr/sbin/micro-httpd "$w/www"
}
