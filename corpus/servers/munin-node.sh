# munin-node: the scanning host allowed, and a node that allows only 10.0.0.1.
PACKAGES="munin-node"
ADDR=127.0.20.24
ENDPOINTS="normal 4949
denied 4950"
start() {
  local w=$1 n port allow
  mkdir -p "$w/plugins" "$w/state"
  for n in normal denied; do
    port=4949; allow='^127\.0\.0\.1$'; [ $n = denied ] && { port=4950; allow='^10\.0\.0\.1$'; }
    cat >"$w/$n.conf" <<CONF
log_level 4
log_file $w/$n.log
pid_file $w/$n.pid
background 0
setsid 0
user root
group root
host_name corpus.test
allow $allow
host $ADDR
port $port
CONF
    munin-node --config "$w/$n.conf" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
