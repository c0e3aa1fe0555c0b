# OpenLDAP: anonymous reads allowed, LDAPS (TLS only), and a server that refuses
# anonymous operations (`require authc`).
PACKAGES="slapd ldap-utils"
ADDR=127.0.20.9
ENDPOINTS="normal 389
tlsonly 636 tls
denied 1389"
start() {
  local w=$1 n
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -keyout "$w/key.pem" -out "$w/cert.pem" >/dev/null 2>&1
  for n in normal denied; do
    mkdir -p "$w/$n"
    cat >"$w/$n.conf" <<CONF
include /etc/ldap/schema/core.schema
pidfile $w/$n.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile $w/cert.pem
TLSCertificateKeyFile $w/key.pem
$([ $n = denied ] && printf 'disallow bind_anon\nrequire authc\n')
database mdb
suffix "dc=corpus,dc=test"
rootdn "cn=admin,dc=corpus,dc=test"
rootpw secret
directory $w/$n
CONF
  done
  slapd -d 0 -f "$w/normal.conf" -h "ldap://$ADDR:389/ ldaps://$ADDR:636/" >"$w/normal.log" 2>&1 &
  echo $! >>"$w/pids"
  slapd -d 0 -f "$w/denied.conf" -h "ldap://$ADDR:1389/" >"$w/denied.log" 2>&1 &
  echo $! >>"$w/pids"
}
