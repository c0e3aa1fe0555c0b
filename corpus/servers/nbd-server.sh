# nbd-server: the newstyle negotiation it opens with, on its port and a non-default one.
PACKAGES="nbd-server"
ADDR=127.0.20.39
ENDPOINTS="normal 10809
nondefaultport 10909"
start() {
  local w=$1 port
  truncate -s 1M "$w/disk.img"
  for port in 10809 10909; do
    printf '[generic]\nuser = root\ngroup = root\nlistenaddr = %s\nport = %s\n[disk]\nexportname = %s\nreadonly = true\n' \
      $ADDR $port "$w/disk.img" >"$w/$port.conf"
    nbd-server -d -C "$w/$port.conf" >"$w/$port.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
