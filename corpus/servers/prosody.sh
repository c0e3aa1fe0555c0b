# Prosody XMPP: client-to-server, server-to-server, and direct TLS (XEP-0368).
PACKAGES="prosody"
ADDR=127.0.20.15
ENDPOINTS="normal 5222
s2s 5269
tlsonly 5223 tls"
start() {
  local w=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  mkdir -p "$w/data"
  cat >"$w/prosody.cfg.lua" <<CONF
run_as_root = true
daemonize = false
pidfile = "$w/prosody.pid"
data_path = "$w/data"
interfaces = { "$ADDR" }
c2s_ports = { 5222 }
s2s_ports = { 5269 }
c2s_direct_tls_ports = { 5223 }
http_ports = { }
https_ports = { }
component_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping" }
modules_disabled = { "s2s_bidi" }
log = { info = "$w/prosody.log" }
ssl = { certificate = "$w/cert.pem"; key = "$w/key.pem" }
VirtualHost "localhost"
CONF
  prosody --config "$w/prosody.cfg.lua" >"$w/prosody.out" 2>&1 &
  echo $! >>"$w/pids"
}
