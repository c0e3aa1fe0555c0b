# CUPS: its web interface and IPP on 631. Asked for `/` with the address as the Host,
# it answers 400 (it accepts only names it knows), as scanners meet it.
PACKAGES="cups-daemon"
ADDR=127.0.10.24
ENDPOINTS="normal 631"
start() {
    local w=$1
    for p in 631; do
        mkdir -p "$w/$p/cache" "$w/$p/state" "$w/$p/spool/tmp" "$w/$p/log"
        cat >"$w/$p/cupsd.conf" <<CONF
Listen $ADDR:$p
LogLevel warn
WebInterface Yes
<Location />
  Order allow,deny
  Allow all
</Location>
CONF
        cat >"$w/$p/cups-files.conf" <<CONF
ServerRoot $w/$p
CacheDir $w/$p/cache
StateDir $w/$p/state
RequestRoot $w/$p/spool
TempDir $w/$p/spool/tmp
AccessLog $w/$p/log/access_log
ErrorLog $w/$p/log/error_log
PageLog $w/$p/log/page_log
CONF
        bg "$w" cupsd -f -c "$w/$p/cupsd.conf" -s "$w/$p/cups-files.conf"
    done
}
