# Icecast: its usual port, and the same server on a non-default one.
PACKAGES="icecast2"
ADDR=127.0.20.28
ENDPOINTS="normal 8000
nondefaultport 8010"
start() {
  local w=$1
  mkdir -p "$w/log"
  chown -R nobody "$w/log"
  cat >"$w/icecast.xml" <<CONF
<icecast>
  <limits><clients>10</clients><sources>2</sources></limits>
  <authentication><source-password>s3cret</source-password><admin-user>admin</admin-user><admin-password>s3cret</admin-password></authentication>
  <hostname>localhost</hostname>
  <listen-socket><port>8000</port><bind-address>$ADDR</bind-address></listen-socket>
  <listen-socket><port>8010</port><bind-address>$ADDR</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$w/log</logdir><webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot><changeowner><user>nobody</user><group>nogroup</group></changeowner></security>
</icecast>
CONF
  icecast2 -c "$w/icecast.xml" >"$w/icecast.out" 2>&1 &
  echo $! >>"$w/pids"
}
