# Mercurial's built-in web server (hg serve).
PACKAGES="mercurial"
ADDR=127.0.10.29
ENDPOINTS="normal 8000"
start() {
    local w=$1
    hg init "$w/repo"
    bg "$w" env HOME="$w" hg serve -a "$ADDR" -p 8000 -R "$w/repo" --config ui.username=corpus
}
