# PgBouncer in front of nothing: it answers the startup message itself.
PACKAGES="pgbouncer"
ADDR=127.0.20.32
ENDPOINTS="normal 6432
nodatabase 6433"
start() {
  local w=$1 n port
  chown nobody "$w"
  echo '"corpus" "s3cret"' >"$w/userlist.txt"
  for n in normal nodatabase; do
    port=6432; [ $n = nodatabase ] && port=6433
    cat >"$w/$n.ini" <<CONF
[databases]
$([ $n = normal ] && echo "portolan = host=127.0.20.2 port=5432 dbname=portolan")
[pgbouncer]
listen_addr = $ADDR
listen_port = $port
unix_socket_dir =
auth_type = md5
auth_file = $w/userlist.txt
logfile = $w/$n.log
pidfile = $w/$n.pid
CONF
    runuser -u nobody -- pgbouncer "$w/$n.ini" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
