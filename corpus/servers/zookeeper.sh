# ZooKeeper: four-letter words allowed (`srvr` names the version), and a server
# whose whitelist leaves `srvr` out (it says so and closes).
PACKAGES="zookeeperd"
ADDR=127.0.20.6
ENDPOINTS="normal 2181
denied 2182"
start() {
  local w=$1 n port cp
  cp=$(ls /usr/share/java/*.jar | tr '\n' ':')
  for n in normal denied; do
    port=2181; [ $n = denied ] && port=2182
    mkdir -p "$w/$n"
    {
      echo "dataDir=$w/$n"
      echo "clientPortAddress=$ADDR"
      echo "clientPort=$port"
      echo "admin.enableServer=false"
      echo "tickTime=2000"
      if [ $n = normal ]; then echo "4lw.commands.whitelist=srvr,stat,ruok"; else echo "4lw.commands.whitelist=ruok"; fi
    } >"$w/$n.cfg"
    java -Xmx128m -cp "/etc/zookeeper/conf:$cp" -Dzookeeper.log.dir="$w" \
      org.apache.zookeeper.server.ZooKeeperServerMain "$w/$n.cfg" >"$w/$n.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
