# MariaDB: a normal server, and one whose only accounts are for hosts that do not
# match the scanning host (skip-name-resolve, root@'10.%'): it answers every
# connection with error 1130 instead of the handshake.
PACKAGES="mariadb-server"
ADDR=127.0.20.1
ENDPOINTS="normal 3306
denied 3307"
start() {
  local w=$1 n
  for n in normal denied; do
    mariadb-install-db --no-defaults --datadir="$w/$n" --user=root --auth-root-authentication-method=normal >"$w/$n-install.log" 2>&1
  done
  mariadbd --no-defaults --user=root --datadir="$w/normal" --socket="$w/normal.sock" \
    --pid-file="$w/normal.pid" --bind-address=$ADDR --port=3306 --skip-log-bin \
    >"$w/normal.log" 2>&1 &
  echo $! >>"$w/pids"
  # the denied server: drop every account that could match 127.0.0.1, keep one for 10.%
  mariadbd --no-defaults --user=root --datadir="$w/denied" --socket="$w/denied.sock" \
    --pid-file="$w/denied.pid" --bind-address=$ADDR --port=3307 --skip-name-resolve \
    --skip-log-bin --init-file=<(cat <<SQL
DELETE FROM mysql.global_priv WHERE Host <> 'localhost';
CREATE USER IF NOT EXISTS 'app'@'10.%' IDENTIFIED BY 'x';
FLUSH PRIVILEGES;
SQL
) >"$w/denied.log" 2>&1 &
  echo $! >>"$w/pids"
}
