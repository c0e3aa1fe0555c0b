# memcached: its usual port, and a non-default one.
PACKAGES="memcached"
ADDR=127.0.20.4
ENDPOINTS="normal 11211
nondefaultport 11311"
start() {
  local w=$1 port
  for port in 11211 11311; do
    memcached -u nobody -l $ADDR -p $port -U 0 >"$w/$port.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
