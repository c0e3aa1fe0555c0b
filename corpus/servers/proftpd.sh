# ProFTPD: Debian's defaults, and a server that hides its name (ServerIdent off)
# on a non-default port.
PACKAGES="libhiredis0.14 libmemcached11 libmemcachedutil2"
EXTRACT="proftpd-core"
ADDR=127.0.10.10
ENDPOINTS="normal 21
nondefault_port 2121"
start() {
    local w=$1
    for p in 21 2121; do
        cat >"$w/$p.conf" <<CONF
ServerName "Debian"
ServerType standalone
DefaultServer on
DefaultAddress $ADDR
SocketBindTight on
UseIPv6 off
Port $p
User nobody
Group nogroup
PidFile $w/$p.pid
ScoreboardFile $w/$p.scoreboard
DelayTable none
WtmpLog off
TransferLog none
SystemLog $w/$p.log
UseReverseDNS off
CONF
    done
    echo "ServerIdent off" >>"$w/2121.conf"
    for p in 21 2121; do bg "$w" "$ROOTFS/usr/sbin/proftpd" -n -q -c "$w/$p.conf"; done
}
