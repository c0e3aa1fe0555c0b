# OpenSSH: Debian's defaults on 22; a non-default port with `DebianBanner no`.
PACKAGES="openssh-server"
ADDR=127.0.10.15
ENDPOINTS="normal 22
nondefault_port 2222"
start() {
    local w=$1
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$w/hostkey"
    for p in 22 2222; do
        printf 'ListenAddress %s:%s\nHostKey %s/hostkey\nPidFile %s/%s.pid\nUsePAM no\n' "$ADDR" "$p" "$w" "$w" "$p" >"$w/$p.conf"
    done
    echo "DebianBanner no" >>"$w/2222.conf"
    bg "$w" /usr/sbin/sshd -D -e -f "$w/22.conf"
    bg "$w" /usr/sbin/sshd -D -e -f "$w/2222.conf"
}
