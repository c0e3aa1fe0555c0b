# Dovecot: IMAP and POP3, and their implicit-TLS ports.
PACKAGES="dovecot-imapd dovecot-pop3d"
ADDR=127.0.10.13
ENDPOINTS="normal 143
normal 110
tls_only 993 tls
tls_only 995 tls"
start() {
    local w=$1
    selfsigned "$w"
    mkdir -p "$w/run"
    cat >"$w/dovecot.conf" <<CONF
protocols = imap pop3
listen = $ADDR
base_dir = $w/run
state_dir = $w/state
log_path = $w/dovecot.log
ssl = yes
ssl_cert = <$w/cert.pem
ssl_key = <$w/key.pem
mail_location = maildir:$w/mail/%u
passdb {
  driver = static
  args = nopassword=n password=never
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$w/mail/%u
}
CONF
    bg "$w" dovecot -F -c "$w/dovecot.conf"
}
