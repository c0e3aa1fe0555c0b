# nbd-server: the newstyle negotiation it opens with. (A second instance on another
# port exits at once: both want the same pid file, so only one endpoint.)
PACKAGES="nbd-server"
ADDR=127.0.20.39
ENDPOINTS="normal 10809"
start() {
  local w=$1 port
  truncate -s 1M "$w/disk.img"
  for port in 10809; do
    printf '[generic]\npidfile = %s/nbd.pid\nuser = root\ngroup = root\nlistenaddr = %s\nport = %s\n[disk]\nexportname = %s\nreadonly = true\n' \
      "$w" $ADDR $port "$w/disk.img" >"$w/$port.conf"
    # without -d it forks per client (with -d it serves one client and exits);
    # the daemon detaches, so its pid is taken from its socket
    nbd-server -C "$w/$port.conf" >"$w/$port.out" 2>&1
    sleep 1
    ss -Htlnp "src $ADDR" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u >>"$w/pids"
  done
}
