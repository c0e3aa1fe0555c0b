# The rsync daemon (it speaks first), and one that lists no modules on a
# non-default port.
PACKAGES="rsync"
ADDR=127.0.10.31
ENDPOINTS="normal 873
nondefault_port 8873"
start() {
    local w=$1
    mkdir -p "$w/data"
    printf 'use chroot = no\npid file = %s/873.pid\n[data]\n  path = %s/data\n  read only = yes\n' "$w" "$w" >"$w/873.conf"
    printf 'use chroot = no\npid file = %s/8873.pid\n' "$w" >"$w/8873.conf"
    bg "$w" rsync --daemon --no-detach --address="$ADDR" --port=873 --config="$w/873.conf"
    bg "$w" rsync --daemon --no-detach --address="$ADDR" --port=8873 --config="$w/8873.conf"
}
