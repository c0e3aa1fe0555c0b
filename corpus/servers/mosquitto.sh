# Mosquitto: anonymous clients allowed, a listener that refuses them (CONNACK 5),
# and MQTT over TLS.
PACKAGES="mosquitto"
ADDR=127.0.20.13
ENDPOINTS="normal 1883
denied 1884
tlsonly 8883 tls"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  : >"$w/passwd"
  cat >"$w/mosquitto.conf" <<CONF
per_listener_settings true
persistence false
user root
listener 1883 $ADDR
allow_anonymous true
listener 1884 $ADDR
allow_anonymous false
password_file $w/passwd
listener 8883 $ADDR
allow_anonymous true
certfile $w/cert.pem
keyfile $w/key.pem
CONF
  mosquitto -c "$w/mosquitto.conf" >"$w/mosquitto.log" 2>&1 &
  echo $! >>"$w/pids"
}
