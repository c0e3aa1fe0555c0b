# H2O, HTTP/1.1 and TLS.
PACKAGES="h2o"
ADDR=127.0.10.39
ENDPOINTS="normal 80
tls_only 443 tls"
start() {
    local w=$1
    selfsigned "$w"
    mkdir -p "$w/www"; echo '<html><title>h2o</title></html>' >"$w/www/index.html"
    cat >"$w/h2o.conf" <<CONF
error-log: $w/error.log
listen:
  host: $ADDR
  port: 80
listen:
  host: $ADDR
  port: 443
  ssl:
    certificate-file: $w/cert.pem
    key-file: $w/key.pem
hosts:
  default:
    paths:
      /:
        file.dir: $w/www
CONF
    bg "$w" h2o -c "$w/h2o.conf"
}
