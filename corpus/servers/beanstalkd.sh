# beanstalkd: its usual port and a non-default one.
PACKAGES="beanstalkd"
ADDR=127.0.20.19
ENDPOINTS="normal 11300
nondefaultport 11400"
start() {
  local w=$1 port
  for port in 11300 11400; do
    beanstalkd -l $ADDR -p $port >"$w/$port.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
