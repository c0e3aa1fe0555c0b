# Prometheus server: its web UI and API, and the same on a non-default port.
PACKAGES="prometheus"
ADDR=127.0.20.21
ENDPOINTS="normal 9090
nondefaultport 9190"
start() {
  local w=$1 port
  printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' >"$w/prometheus.yml"
  for port in 9090 9190; do
    prometheus --config.file="$w/prometheus.yml" --web.listen-address=$ADDR:$port \
      --storage.tsdb.path="$w/data-$port" >"$w/$port.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
