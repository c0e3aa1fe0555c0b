# xrdp's listener (the X.224 and TLS handshake; no session manager is needed).
PACKAGES="xrdp"
ADDR=127.0.10.25
ENDPOINTS="normal 3389"
start() {
    local w=$1
    selfsigned "$w"
    sed -e "s|^port=.*|port=tcp://$ADDR:3389|" -e "s|^certificate=.*|certificate=$w/cert.pem|" \
        -e "s|^key_file=.*|key_file=$w/key.pem|" /etc/xrdp/xrdp.ini >"$w/xrdp.ini"
    bg "$w" xrdp --nodaemon --config "$w/xrdp.ini"
}
