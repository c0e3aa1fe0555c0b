# PostgreSQL 15: a normal cluster that asks for a SCRAM password, and one whose
# pg_hba.conf rejects the scanning host. Both error and authentication messages come
# from a 9.6+ server (the non-localised severity field `V`).
PACKAGES="postgresql"
ADDR=127.0.20.2
ENDPOINTS="normal 5432
denied 5433"
start() {
  local w=$1 bin n port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  chown postgres "$w"
  for n in normal denied; do
    runuser -u postgres -- "$bin/initdb" -D "$w/$n" -U postgres --auth=trust >"$w/$n-init.log" 2>&1
  done
  echo "host all all 0.0.0.0/0 scram-sha-256" >"$w/normal/pg_hba.conf"
  echo "host all all 0.0.0.0/0 reject" >"$w/denied/pg_hba.conf"
  for n in normal denied; do
    port=5432; [ $n = denied ] && port=5433
    runuser -u postgres -- setsid "$bin/postgres" -D "$w/$n" -c listen_addresses=$ADDR -c port=$port \
      -c unix_socket_directories="$w" >"$w/$n.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
