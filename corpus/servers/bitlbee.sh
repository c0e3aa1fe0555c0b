# BitlBee (an IRC gateway): on its port and a non-default one.
PACKAGES="bitlbee"
ADDR=127.0.20.42
ENDPOINTS="normal 6667
nondefaultport 6767"
start() {
  local w=$1 port
  mkdir -p "$w/conf"
  for port in 6667 6767; do
    printf '[settings]\nRunMode = ForkDaemon\nUser = root\nDaemonInterface = %s\nDaemonPort = %s\nConfigDir = %s/conf\nPidFile = %s/%s.pid\n' \
      $ADDR $port "$w" "$w" $port >"$w/$port.conf"
    bitlbee -F -n -c "$w/$port.conf" -d "$w/conf" >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
