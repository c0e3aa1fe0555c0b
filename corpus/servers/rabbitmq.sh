# RabbitMQ: AMQP 0-9-1 on 5672 and over TLS on 5671; epmd and the Erlang
# distribution port bound to this address only.
PACKAGES="rabbitmq-server"
ADDR=127.0.20.14
ENDPOINTS="normal 5672
tlsonly 5671 tls"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  cat >"$w/rabbitmq.conf" <<CONF
listeners.tcp.default = $ADDR:5672
listeners.ssl.default = $ADDR:5671
ssl_options.certfile = $w/cert.pem
ssl_options.keyfile = $w/key.pem
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
  export HOME="$w" RABBITMQ_HOME=/usr/lib/rabbitmq/lib/rabbitmq_server-3.10.8 \
    RABBITMQ_CONFIG_FILE="$w/rabbitmq" RABBITMQ_MNESIA_BASE="$w/mnesia" RABBITMQ_LOG_BASE="$w/log" \
    RABBITMQ_NODENAME=corpusb@localhost RABBITMQ_ENABLED_PLUGINS_FILE="$w/plugins" \
    RABBITMQ_PID_FILE="$w/rabbit.pid" ERL_EPMD_ADDRESS=$ADDR ERL_EPMD_PORT=4369 \
    RABBITMQ_DIST_PORT=25672 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,20,14}"
  echo "[]." >"$w/plugins"
  setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$w/rabbit.out" 2>&1 &
  echo $! >>"$w/pids"
}
stop() {
  # epmd and the Erlang VM detach; end whatever still listens on this address
  local p
  for p in $(ss -Htlnp "src $ADDR" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do kill "$p"; done
}
