# Postfix: SMTP on 25, submission on 587, implicit TLS (smtps) on 465, and an smtpd
# that rejects the scanning host at connect time (smtpd_delay_reject=no).
# Postfix runs a non-default config directory only if the default main.cf lists it
# in alternate_config_directories: start() adds that one line once. Postfix binds
# only addresses of an interface, so start() puts $ADDR/32 on lo (stop() removes it).
PACKAGES="postfix"
ADDR=127.0.10.12
ENDPOINTS="normal 25
submission 587
tls_only 465 tls
denied 2525"
start() {
    local w=$1 c=$1/etc
    selfsigned "$w"
    mkdir -p "$c" "$w/spool" "$w/data"
    ip addr add "$ADDR/32" dev lo 2>/dev/null || true
    grep -q "^alternate_config_directories = $c\$" /etc/postfix/main.cf 2>/dev/null ||
        echo "alternate_config_directories = $w/etc" >>/etc/postfix/main.cf
    cp /etc/postfix/master.cf "$c/master.cf" 2>/dev/null || cp /usr/share/postfix/master.cf.dist "$c/master.cf"
    cp /etc/postfix/dynamicmaps.cf "$c/" 2>/dev/null || true
    cp -r /etc/postfix/postfix-files* "$c/" 2>/dev/null || true
    cat >"$c/main.cf" <<CONF
compatibility_level = 3.6
myhostname = mail.portolan.test
mydestination =
inet_interfaces = $ADDR
inet_protocols = ipv4
queue_directory = $w/spool
data_directory = $w/data
maillog_file_prefixes = $w
maillog_file = $w/maillog
mynetworks = 127.0.0.0/8
smtpd_tls_cert_file = $w/cert.pem
smtpd_tls_key_file = $w/key.pem
smtpd_tls_security_level = may
CONF
    cat >>"$c/master.cf" <<CONF
submission inet n - y - - smtpd
  -o smtpd_tls_security_level=encrypt
smtps inet n - y - - smtpd
  -o smtpd_tls_wrappermode=yes
2525 inet n - y - - smtpd
  -o smtpd_delay_reject=no
  -o smtpd_client_restrictions=reject
CONF
    postfix -c "$c" check >/dev/null 2>&1 || true
    postfix -c "$c" set-permissions >/dev/null 2>&1 || true
    bg "$w" postfix -c "$c" start-fg
}
stop() { postfix -c "$1/etc" stop 2>/dev/null; ip addr del "$ADDR/32" dev lo 2>/dev/null; }
