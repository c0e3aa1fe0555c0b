# dictd (RFC 2229): the scanning host allowed, and a server whose access list
# denies it.
PACKAGES="dictd"
ADDR=127.0.20.36
ENDPOINTS="normal 2628
denied 2629"
start() {
  local w=$1 n port
  chmod 777 "$w"   # dictd drops to its own user before it opens its log
  # one tiny database: dictd will not start without one
  printf 'corpus\n' >"$w/corpus.dict"
  printf 'corpus\tA\tH\n' >"$w/corpus.index"
  for n in normal denied; do
    port=2628; [ $n = denied ] && port=2629
    if [ $n = normal ]; then printf 'access {\n allow 127.0.0.1\n}\ndatabase corpus {\n data %s\n index %s\n}\n' "$w/corpus.dict" "$w/corpus.index" >"$w/$n.conf"
    else printf 'access {\n allow 10.0.0.1\n}\ndatabase corpus {\n data %s\n index %s\n}\n' "$w/corpus.dict" "$w/corpus.index" >"$w/$n.conf"; fi
    dictd -d nodetach --listen $ADDR -p $port -c "$w/$n.conf" --pid-file "$w/$n.pid" -L "$w/$n.log" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
