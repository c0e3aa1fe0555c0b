# Prometheus node exporter: open, and behind basic authentication (web config file).
PACKAGES="prometheus-node-exporter"
ADDR=127.0.20.22
ENDPOINTS="normal 9100
denied 9101"
start() {
  local w=$1 hash
  hash=$(python3 -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' 2>/dev/null \
    || htpasswd -nbB x s3cret | cut -d: -f2)
  printf 'basic_auth_users:\n  corpus: %s\n' "$hash" >"$w/web.yml"
  prometheus-node-exporter --web.listen-address=$ADDR:9100 >"$w/normal.log" 2>&1 &
  echo $! >>"$w/pids"
  prometheus-node-exporter --web.listen-address=$ADDR:9101 --web.config.file="$w/web.yml" >"$w/denied.log" 2>&1 &
  echo $! >>"$w/pids"
}
