# gearmand: its usual port and a non-default one.
PACKAGES="gearman-job-server"
ADDR=127.0.20.20
ENDPOINTS="normal 4730
nondefaultport 4830"
start() {
  local w=$1 port
  for port in 4730 4830; do
    gearmand -L $ADDR -p $port --log-file "$w/$port.log" -t 1 >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
