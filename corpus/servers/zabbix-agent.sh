# Zabbix agent: the scanning host allowed (Server=127.0.0.1), and an agent that only
# accepts 10.0.0.1 (it closes the connection).
PACKAGES="zabbix-agent"
ADDR=127.0.20.23
ENDPOINTS="normal 10050
denied 10060"
start() {
  local w=$1 n port srv
  for n in normal denied; do
    port=10050; srv=127.0.0.1; [ $n = denied ] && { port=10060; srv=10.0.0.1; }
    cat >"$w/$n.conf" <<CONF
PidFile=$w/$n.pid
LogFile=$w/$n.log
Server=$srv
ListenIP=$ADDR
ListenPort=$port
StartAgents=2
AllowRoot=1
CONF
    zabbix_agentd -f -c "$w/$n.conf" >"$w/$n.out" 2>&1 &
    echo $! >>"$w/pids"
  done
}
