# NATS: open, with authentication required, and requiring TLS (the INFO line says so).
PACKAGES="nats-server"
ADDR=127.0.20.18
ENDPOINTS="normal 4222
denied 4223
tlsrequired 4224"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  nats-server -a $ADDR -p 4222 -m 0 >"$w/normal.log" 2>&1 &
  echo $! >>"$w/pids"
  nats-server -a $ADDR -p 4223 -m 0 --user corpus --pass s3cret >"$w/denied.log" 2>&1 &
  echo $! >>"$w/pids"
  nats-server -a $ADDR -p 4224 -m 0 --tls --tlscert "$w/cert.pem" --tlskey "$w/key.pem" >"$w/tls.log" 2>&1 &
  echo $! >>"$w/pids"
}
