# Caddy: plain HTTP with a page, and HTTPS with a certificate of its own (TLS only).
PACKAGES="caddy"
ADDR=127.0.10.4
ENDPOINTS="normal 80
tls_only 443 tls"
start() {
    local w=$1
    selfsigned "$w"
    cat >"$w/Caddyfile" <<CONF
{
    admin off
    auto_https off
    default_sni localhost
    storage file_system $w/data
}
http://$ADDR:80 {
    bind $ADDR
    respond "caddy works" 200
}
https://$ADDR:443, https://localhost:443 {
    bind $ADDR
    tls $w/cert.pem $w/key.pem
    respond "caddy works" 200
}
CONF
    bg "$w" env HOME="$w" XDG_DATA_HOME="$w" XDG_CONFIG_HOME="$w" caddy run --config "$w/Caddyfile" --adapter caddyfile
}
