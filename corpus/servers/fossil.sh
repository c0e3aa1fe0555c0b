# Fossil, serving one repository over HTTP (`fossil http` under tcpserver).
PACKAGES="fossil ucspi-tcp"
ADDR=127.0.10.43
ENDPOINTS="normal 8080"
start() {
    local w=$1
    HOME=$w fossil init --admin-user corpus "$w/repo.fossil" >/dev/null
    bg "$w" env HOME="$w" tcpserver -HRl0 "$ADDR" 8080 fossil http "$w/repo.fossil"
}
