# Network UPS Tools upsd (with a UPS defined whose driver never runs; /usr/sbin/upsd is a wrapper that
# reads /etc/nut/nut.conf, so the daemon itself is run): open, and with a LISTEN on a
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
    # upsd needs one UPS defined; its driver is never started (the UPS is "stale")
    printf '[dummy]\n  driver = dummy-ups\n  port = dummy.dev\n' >"$w/$port/ups.conf"
    : >"$w/$port/upsd.users"
    chmod 640 "$w/$port"/*; chgrp nut "$w/$port"/* 2>/dev/null
    NUT_CONFPATH="$w/$port" NUT_STATEPATH="$w/state" /lib/nut/upsd -F -u root >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
