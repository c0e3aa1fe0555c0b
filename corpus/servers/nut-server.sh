# Network UPS Tools upsd (with no UPS attached): open, and with a LISTEN on a
# non-default port.
PACKAGES="nut-server"
ADDR=127.0.20.34
ENDPOINTS="normal 3493
nondefaultport 3593"
start() {
  local w=$1 port
  mkdir -p "$w/state"; chown nut "$w/state" 2>/dev/null
  for port in 3493 3593; do
    mkdir -p "$w/$port"
    echo "LISTEN $ADDR $port" >"$w/$port/upsd.conf"
    : >"$w/$port/ups.conf"
    : >"$w/$port/upsd.users"
    echo "MODE=netserver" >"$w/$port/nut.conf"
    chmod 640 "$w/$port"/*; chgrp nut "$w/$port"/* 2>/dev/null
    NUT_CONFPATH="$w/$port" NUT_STATEPATH="$w/state" upsd -F -u root >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
