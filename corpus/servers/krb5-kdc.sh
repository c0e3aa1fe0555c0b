# MIT Kerberos KDC over TCP, on its port and a non-default one.
PACKAGES="krb5-kdc"
ADDR=127.0.20.12
ENDPOINTS="normal 88
nondefaultport 1088"
start() {
  local w=$1
  cat >"$w/krb5.conf" <<CONF
[libdefaults]
  default_realm = CORPUS.TEST
[realms]
  CORPUS.TEST = {
    kdc = $ADDR
  }
CONF
  cat >"$w/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = $ADDR:88
  kdc_tcp_listen = $ADDR:88,$ADDR:1088
[realms]
  CORPUS.TEST = {
    database_name = $w/principal
    key_stash_file = $w/stash
    acl_file = $w/kadm5.acl
  }
[logging]
  kdc = FILE:$w/kdc.log
CONF
  export KRB5_CONFIG="$w/krb5.conf" KRB5_KDC_PROFILE="$w/kdc.conf"
  kdb5_util create -s -r CORPUS.TEST -P masterpw >"$w/create.log" 2>&1
  krb5kdc -n -r CORPUS.TEST >"$w/krb5kdc.log" 2>&1 &
  echo $! >>"$w/pids"
}
