# Redis: open, with a password (every command gets NOAUTH), and TLS only.
PACKAGES="redis-server"
ADDR=127.0.20.3
ENDPOINTS="normal 6379
denied 6380
tlsonly 6390 tls"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  redis-server --bind $ADDR --port 6379 --protected-mode no --save '' --dir "$w" >"$w/normal.log" 2>&1 &
  echo $! >>"$w/pids"
  redis-server --bind $ADDR --port 6380 --requirepass s3cret --save '' --dir "$w" >"$w/denied.log" 2>&1 &
  echo $! >>"$w/pids"
  redis-server --bind $ADDR --port 0 --tls-port 6390 --tls-cert-file "$w/cert.pem" \
    --tls-key-file "$w/key.pem" --tls-auth-clients no --protected-mode no --save '' --dir "$w" >"$w/tls.log" 2>&1 &
  echo $! >>"$w/pids"
}
