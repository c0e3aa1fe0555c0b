# Squid: a forward proxy that serves the scanning host, and one that denies it.
PACKAGES="squid"
ADDR=127.0.10.5
ENDPOINTS="normal 3128
denied 3129"
start() {
    local w=$1
    mkdir -p "$w/cache"
    cat >"$w/squid.conf" <<CONF
http_port $ADDR:3128 name=open
http_port $ADDR:3129 name=closed
acl closedport myportname closed
http_access deny closedport
http_access allow localhost
http_access deny all
pid_filename $w/squid.pid
cache_log $w/cache.log
access_log none
cache_store_log none
coredump_dir $w/cache
cache_effective_user proxy
netdb_filename none
logfile_rotate 0
CONF
    chown -R proxy "$w"
    bg "$w" squid -N -f "$w/squid.conf"
}
