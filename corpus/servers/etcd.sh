# etcd: the client API over HTTP and over TLS (one server, two client URLs), and the
# peer port.
PACKAGES="etcd-server"
ADDR=127.0.20.5
ENDPOINTS="normal 2379
peer 2380
tlsonly 2381 tls"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -addext "subjectAltName=IP:$ADDR" -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  ETCD_UNSUPPORTED_ARCH= etcd --name corpus --data-dir "$w/data" \
    --listen-client-urls "http://$ADDR:2379,https://$ADDR:2381" \
    --advertise-client-urls "http://$ADDR:2379" \
    --listen-peer-urls "http://$ADDR:2380" --initial-advertise-peer-urls "http://$ADDR:2380" \
    --initial-cluster "corpus=http://$ADDR:2380" --cert-file "$w/cert.pem" --key-file "$w/key.pem" \
    --listen-metrics-urls "http://$ADDR:2382" >"$w/etcd.log" 2>&1 &
  echo $! >>"$w/pids"
}
