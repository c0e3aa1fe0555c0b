# svnserve, serving one repository (it speaks first).
PACKAGES="subversion"
ADDR=127.0.10.28
ENDPOINTS="normal 3690"
start() {
    local w=$1
    svnadmin create "$w/repo"
    bg "$w" svnserve -d --foreground --listen-host "$ADDR" --listen-port 3690 -r "$w"
}
