# Nagios NRPE (TLS with anonymous DH by default): the scanning host allowed, and
# a daemon that allows only 10.0.0.1.
PACKAGES="nagios-nrpe-server"
ADDR=127.0.20.25
ENDPOINTS="normal 5666
denied 5667"
start() {
  local w=$1 n port allow
  for n in normal denied; do
    port=5666; allow=127.0.0.1; [ $n = denied ] && { port=5667; allow=10.0.0.1; }
    cat >"$w/$n.cfg" <<CONF
pid_file=$w/$n.pid
server_port=$port
server_address=$ADDR
nrpe_user=nagios
nrpe_group=nagios
allowed_hosts=$allow
dont_blame_nrpe=0
command[check_true]=/bin/true
CONF
    nrpe -c "$w/$n.cfg" -f >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
