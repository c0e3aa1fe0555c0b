# tinyproxy: one that allows the scanning host, one that allows only 10.0.0.1.
PACKAGES="tinyproxy"
ADDR=127.0.10.6
ENDPOINTS="normal 8888
denied 8889"
start() {
    local w=$1
    for port in 8888 8889; do
        cat >"$w/$port.conf" <<CONF
Port $port
Listen $ADDR
Timeout 60
MaxClients 20
PidFile "$w/$port.pid"
LogFile "$w/$port.log"
CONF
    done
    echo "Allow 127.0.0.0/8" >>"$w/8888.conf"
    echo "Allow 10.0.0.1" >>"$w/8889.conf"
    chown -R tinyproxy "$w" 2>/dev/null || chmod 777 "$w"
    bg "$w" tinyproxy -d -c "$w/8888.conf"
    bg "$w" tinyproxy -d -c "$w/8889.conf"
}
