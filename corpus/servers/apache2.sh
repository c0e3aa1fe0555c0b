# Apache httpd with Debian's ServerTokens OS: a page, a directory that denies
# everyone (403), and TLS only.
PACKAGES="apache2"
ADDR=127.0.10.2
ENDPOINTS="normal 80
denied 8080
tls_only 443 tls"
start() {
    local w=$1 m=/usr/lib/apache2/modules
    selfsigned "$w"
    mkdir -p "$w/www" "$w/logs"
    echo '<html><head><title>Apache2 Debian Default Page: It works</title></head><body>It works!</body></html>' >"$w/www/index.html"
    cat >"$w/apache2.conf" <<CONF
ServerRoot $w
PidFile $w/apache2.pid
ErrorLog $w/logs/error.log
Mutex file:$w
DefaultRuntimeDir $w
ServerName localhost
ServerTokens OS
User www-data
Group www-data
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule authz_host_module $m/mod_authz_host.so
LoadModule dir_module $m/mod_dir.so
LoadModule mime_module $m/mod_mime.so
LoadModule ssl_module $m/mod_ssl.so
LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
TypesConfig /etc/mime.types
DocumentRoot $w/www
<Directory $w/www>
  Require all granted
</Directory>
Listen $ADDR:80
Listen $ADDR:8080
Listen $ADDR:443
<VirtualHost $ADDR:8080>
  <Location />
    Require all denied
  </Location>
</VirtualHost>
<VirtualHost $ADDR:443>
  SSLEngine on
  SSLCertificateFile $w/cert.pem
  SSLCertificateKeyFile $w/key.pem
</VirtualHost>
CONF
    chmod -R a+rX "$w"
    bg "$w" env APACHE_RUN_DIR="$w" apache2 -d "$w" -f "$w/apache2.conf" -DFOREGROUND
}
