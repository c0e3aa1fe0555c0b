# ngIRCd: an open server, and one with a server password (a client that does not
# give it is refused).
PACKAGES="ngircd"
ADDR=127.0.20.16
ENDPOINTS="normal 6667
denied 6668"
start() {
  local w=$1 n port
  for n in normal denied; do
    port=6667; [ $n = denied ] && port=6668
    cat >"$w/$n.conf" <<CONF
[Global]
Name = irc.corpus.test
Info = corpus
Listen = $ADDR
Ports = $port
PidFile = $w/$n.pid
ServerUID = root
ServerGID = root
$([ $n = denied ] && echo "Password = s3cret")
[Limits]
MaxConnectionsIP = 0
[Options]
PAM = no
Ident = no
DNS = no
CONF
    ngircd -n -f "$w/$n.conf" >"$w/$n.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
