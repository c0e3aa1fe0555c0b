# nginx: a default page, a TLS-only port, a location that denies the scanning host,
# and plain HTTP spoken to a TLS port (nginx answers with its own 400).
PACKAGES="nginx"
ADDR=127.0.10.1
ENDPOINTS="normal 80
tls_only 443 tls
denied 8080
wrong_protocol 4433"
start() {
    local w=$1
    selfsigned "$w"
    mkdir -p "$w/www" "$w/tmp"
    echo '<html><head><title>Welcome to nginx!</title></head><body>nginx</body></html>' >"$w/www/index.html"
    cat >"$w/nginx.conf" <<CONF
worker_processes 1;
pid $w/nginx.pid;
error_log $w/error.log;
daemon off;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path $w/tmp; proxy_temp_path $w/tmp; fastcgi_temp_path $w/tmp;
    uwsgi_temp_path $w/tmp; scgi_temp_path $w/tmp;
    root $w/www;
    server { listen $ADDR:80; }
    server { listen $ADDR:443 ssl; ssl_certificate $w/cert.pem; ssl_certificate_key $w/key.pem; }
    server { listen $ADDR:8080; deny 127.0.0.0/8; }
    server { listen $ADDR:4433 ssl; ssl_certificate $w/cert.pem; ssl_certificate_key $w/key.pem; }
}
CONF
    bg "$w" nginx -c "$w/nginx.conf" -e "$w/error.log"
}
