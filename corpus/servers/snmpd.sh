# Net-SNMP agent over TCP: community `public` readable, and an agent whose only
# community is another (a wrong community gets no answer).
PACKAGES="snmpd"
ADDR=127.0.20.27
ENDPOINTS="normal 161
denied 1161"
start() {
  local w=$1 n port comm
  for n in normal denied; do
    port=161; comm=public; [ $n = denied ] && { port=1161; comm=n0tpublic; }
    printf 'rocommunity %s\nsysDescr corpus snmpd\n' $comm >"$w/$n.conf"
    snmpd -f -Lf "$w/$n.log" -C -c "$w/$n.conf" -p "$w/$n.pid" "tcp:$ADDR:$port" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
