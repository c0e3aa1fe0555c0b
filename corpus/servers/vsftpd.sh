# vsftpd: anonymous FTP; a server with both local and anonymous logins disabled
# (its `500 OOPS`); implicit TLS only.
PACKAGES="vsftpd"
ADDR=127.0.10.9
ENDPOINTS="normal 21
misconfigured 2121
tls_only 990 tls"
start() {
    local w=$1
    selfsigned "$w"
    mkdir -p /var/run/vsftpd/empty "$w/anon"
    common="listen=YES
listen_ipv6=NO
listen_address=$ADDR
background=NO
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
seccomp_sandbox=NO"
    printf '%s\nlisten_port=21\nanonymous_enable=YES\nanon_root=%s/anon\nlocal_enable=NO\n' "$common" "$w" >"$w/21.conf"
    printf '%s\nlisten_port=2121\nanonymous_enable=NO\nlocal_enable=NO\n' "$common" >"$w/2121.conf"
    printf '%s\nlisten_port=990\nanonymous_enable=YES\nanon_root=%s/anon\nlocal_enable=NO\nssl_enable=YES\nimplicit_ssl=YES\nallow_anon_ssl=YES\nrsa_cert_file=%s/cert.pem\nrsa_private_key_file=%s/key.pem\n' "$common" "$w" "$w" "$w" >"$w/990.conf"
    for p in 21 2121 990; do bg "$w" vsftpd "$w/$p.conf"; done
}
