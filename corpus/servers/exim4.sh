# Exim, a second MTA: Debian's exim4 conflicts with the installed Postfix as a
# package, so its binary is unpacked beside it (EXTRACT) and run with a config of
# our own: SMTP on 25, and a port whose connect ACL denies every client.
PACKAGES="libgnutls-dane0 libidn12 libdb5.3 libnsl2"
EXTRACT="exim4-daemon-light"
ADDR=127.0.10.41
ENDPOINTS="normal 25
denied 2525"
start() {
    local w=$1
    # The binary checks for the user its package's postinst creates.
    id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/spool/exim4 Debian-exim
    mkdir -p "$w/spool"
    chown -R nobody:nogroup "$w/spool"
    cat >"$w/exim.conf" <<CONF
primary_hostname = mail.portolan.test
local_interfaces = $ADDR
daemon_smtp_ports = 25 : 2525
exim_user = nobody
exim_group = nogroup
never_users =
spool_directory = $w/spool
log_file_path = $w/spool/%slog
pid_file_path = $w/exim.pid
acl_smtp_connect = acl_connect
acl_smtp_rcpt = acl_rcpt
begin acl
acl_connect:
  deny condition = \${if eq{\$received_port}{2525}}
  accept
acl_rcpt:
  deny
begin routers
begin transports
CONF
    bg "$w" "$ROOTFS/usr/sbin/exim4" -bdf -C "$w/exim.conf"
}
