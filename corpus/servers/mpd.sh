# Music Player Daemon: open, and with a password (commands are refused until given).
PACKAGES="mpd"
ADDR=127.0.20.29
ENDPOINTS="normal 6600
denied 6601"
start() {
  local w=$1 n port
  mkdir -p "$w/music"
  for n in normal denied; do
    port=6600; [ $n = denied ] && port=6601
    cat >"$w/$n.conf" <<CONF
music_directory "$w/music"
db_file "$w/$n.db"
log_file "$w/$n.log"
pid_file "$w/$n.pid"
state_file "$w/$n.state"
bind_to_address "$ADDR"
port "$port"
zeroconf_enabled "no"
$([ $n = denied ] && echo 'password "s3cret@read,add,control,admin"'
  [ $n = denied ] && echo 'default_permissions ""')
audio_output {
  type "null"
  name "null"
}
CONF
    mpd --no-daemon "$w/$n.conf" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
