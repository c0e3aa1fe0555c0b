# dictd (RFC 2229): the scanning host allowed, and a server whose access list
# denies it.
PACKAGES="dictd"
ADDR=127.0.20.36
ENDPOINTS="normal 2628
denied 2629"
start() {
  local w=$1 n port
  for n in normal denied; do
    port=2628; [ $n = denied ] && port=2629
    if [ $n = normal ]; then echo 'access { allow * }' >"$w/$n.conf"
    else echo 'access { allow 10.0.0.1 deny * }' >"$w/$n.conf"; fi
    dictd -d nodetach --listen $ADDR -p $port -c "$w/$n.conf" --pid-file "$w/$n.pid" -L "$w/$n.log" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
