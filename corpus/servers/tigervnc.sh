# TigerVNC's X server with its VNC listener (no password), and one that asks for one.
PACKAGES="tigervnc-standalone-server"
ADDR=127.0.10.26
ENDPOINTS="normal 5901
denied 5902"
start() {
    local w=$1
    printf 'portolan\nportolan\n' | vncpasswd "$w/passwd" >/dev/null 2>&1 || true
    bg "$w" Xtigervnc :91 -rfbport 5901 -interface "$ADDR" -localhost no -SecurityTypes None -nolisten tcp
    bg "$w" Xtigervnc :92 -rfbport 5902 -interface "$ADDR" -localhost no -SecurityTypes VncAuth -PasswordFile "$w/passwd" -nolisten tcp
}
