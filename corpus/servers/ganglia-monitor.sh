# Ganglia gmond: the XML state dump on its TCP accept channel, and on a non-default port.
PACKAGES="ganglia-monitor"
ADDR=127.0.20.35
ENDPOINTS="normal 8649
nondefaultport 8749"
start() {
  local w=$1 port
  for port in 8649 8749; do
    cat >"$w/$port.conf" <<CONF
globals { daemonize = no setuid = no debug_level = 0 mute = yes deaf = no host_dmax = 0 cleanup_threshold = 300 send_metadata_interval = 0 }
cluster { name = "corpus" }
udp_recv_channel { bind = $ADDR port = $((port + 1)) }
tcp_accept_channel { bind = $ADDR port = $port }
CONF
    gmond -c "$w/$port.conf" -f >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
