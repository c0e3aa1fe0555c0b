# InfluxDB 1.x: the HTTP API open, and with authentication on (a non-default port).
PACKAGES="influxdb"
ADDR=127.0.20.7
ENDPOINTS="normal 8086
denied 8096"
start() {
  local w=$1 n port auth
  for n in normal denied; do
    port=8086; auth=false; [ $n = denied ] && { port=8096; auth=true; }
    cat >"$w/$n.conf" <<CONF
reporting-disabled = true
bind-address = "$ADDR:$((port + 2))"
[meta]
  dir = "$w/$n/meta"
[data]
  dir = "$w/$n/data"
  wal-dir = "$w/$n/wal"
[http]
  bind-address = "$ADDR:$port"
  auth-enabled = $auth
[monitor]
  store-enabled = false
CONF
    influxd -config "$w/$n.conf" >"$w/$n.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
