# Mumble server (murmurd): TLS only by design, on its port and a non-default one.
PACKAGES="mumble-server"
ADDR=127.0.20.31
ENDPOINTS="normal 64738 tls
nondefaultport 64740 tls"
start() {
  local w=$1 port
  # murmurd drops to its own user, which must be able to write its database
  chown mumble-server "$w"
  for port in 64738 64740; do
    # autobanAttempts=0: scanners connect often, and murmurd would ban 127.0.0.1
    cat >"$w/$port.ini" <<CONF
database=$w/$port.sqlite
host=$ADDR
port=$port
logfile=$w/$port.log
pidfile=$w/$port.pid
bonjour=false
autobanAttempts=0
CONF
    murmurd -ini "$w/$port.ini" -fg >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
