# git daemon: one with informative errors (a client learns why it was refused) and
# Debian's default, which just closes on a repository it does not export.
PACKAGES="git"
ADDR=127.0.10.27
ENDPOINTS="normal 9418
denied 9419"
start() {
    local w=$1
    mkdir -p "$w/repos"
    git init -q --bare "$w/repos/project.git"
    bg "$w" git daemon --listen="$ADDR" --port=9418 --base-path="$w/repos" --export-all --informative-errors --reuseaddr "$w/repos"
    bg "$w" git daemon --listen="$ADDR" --port=9419 --base-path="$w/repos" --reuseaddr "$w/repos"
}
