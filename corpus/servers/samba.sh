# Samba smbd on 445 and 139, and a second smbd whose `hosts deny` refuses the
# scanning host.
PACKAGES="samba"
ADDR=127.0.20.10
ENDPOINTS="normal 445
netbios 139
denied 1445"
start() {
  local w=$1 n ports extra
  for n in normal denied; do
    ports="445 139"; extra=""
    [ $n = denied ] && { ports=1445; extra="hosts allow = 10.0.0.0/8
hosts deny = ALL"; }
    mkdir -p "$w/$n"/{lock,state,cache,private,pid,log}
    cat >"$w/$n.conf" <<CONF
[global]
workgroup = CORPUS
interfaces = $ADDR/8
bind interfaces only = yes
smb ports = $ports
disable netbios = yes
lock directory = $w/$n/lock
state directory = $w/$n/state
cache directory = $w/$n/cache
private dir = $w/$n/private
pid directory = $w/$n/pid
ncalrpc dir = $w/$n/ncalrpc
log file = $w/$n/log/smbd.log
server role = standalone server
load printers = no
$extra
[share]
path = $w
read only = yes
guest ok = yes
CONF
    smbd -F --no-process-group -s "$w/$n.conf" >"$w/$n.log" 2>&1 &
    echo $! >>"$w/pids"
  done
}
