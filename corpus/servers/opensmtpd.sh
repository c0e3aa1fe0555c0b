# OpenSMTPD, a third MTA, unpacked beside Postfix (EXTRACT) like Exim: SMTP on 25.
# Its binary wants the users its package's postinst creates (their home, an empty
# directory, is where its processes chroot), and keeps its queue in the compiled-in
# /var/spool/smtpd, which it creates.
PACKAGES="libevent-2.1-7 libdb5.3"
EXTRACT="opensmtpd"
ADDR=127.0.10.47
ENDPOINTS="normal 25"
start() {
    local w=$1 u
    mkdir -p /var/lib/opensmtpd/empty
    for u in opensmtpd opensmtpq; do
        id "$u" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/opensmtpd/empty "$u"
        usermod -d /var/lib/opensmtpd/empty "$u"
    done
    printf 'listen on %s port 25 hostname mail.portolan.test\naction "local" mbox\nmatch from any for local action "local"\n' "$ADDR" >"$w/smtpd.conf"
    bg "$w" "$ROOTFS/usr/sbin/smtpd" -d -f "$w/smtpd.conf"
}
