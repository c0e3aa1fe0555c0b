//! Port names and portolan's own port ranking.
//!
//! Names are IANA service names (the Service Name and Transport Protocol Port
//! Number Registry). The ranking is our own judgement of how often a port is found
//! exposed on servers, routers and desktops; it is not derived from nmap's
//! `nmap-services` (NPSL, which portolan neither reads nor ships). Past the end of
//! [`RANKING`], `--top-ports` continues with the remaining ports in ascending order,
//! so the well-known range 1-1023 is covered first.

/// Ports in rank order, most common first, with their IANA service name.
const RANKED: &[(u16, &str)] = &[
    (80, "http"), (443, "https"), (22, "ssh"), (21, "ftp"), (25, "smtp"), (23, "telnet"),
    (3389, "ms-wbt-server"), (110, "pop3"), (445, "microsoft-ds"), (139, "netbios-ssn"),
    (143, "imap"), (53, "domain"), (135, "msrpc"), (3306, "mysql"), (8080, "http-alt"),
    (1723, "pptp"), (111, "sunrpc"), (995, "pop3s"), (993, "imaps"), (5900, "vnc"),
    (1025, "blackjack"), (587, "submission"), (8888, "ddi-tcp-1"), (199, "smux"),
    (1720, "h323hostcall"), (465, "submissions"), (548, "afpovertcp"), (113, "ident"),
    (81, "hosts2-ns"), (6001, "x11"), (10000, "ndmp"), (514, "shell"), (5060, "sip"),
    (179, "bgp"), (1026, "cap"), (2000, "cisco-sccp"), (8443, "pcsync-https"),
    (8000, "irdmi"), (32768, "filenet-tms"), (554, "rtsp"), (26, "rsftp"),
    (1433, "ms-sql-s"), (49152, "dynamic"), (2001, "dc"), (515, "printer"),
    (8008, "http-alt"), (49154, "dynamic"), (1027, "ica"), (5666, "nrpe"), (646, "ldp"),
    (5000, "commplex-main"), (5631, "pcanywheredata"), (631, "ipp"), (49153, "dynamic"),
    (8081, "sunproxyadmin"), (2049, "nfs"), (88, "kerberos"), (79, "finger"),
    (5800, "vnc-http"), (106, "3com-tsmux"), (2121, "scientia-ssdb"), (1110, "nfsd-status"),
    (49155, "dynamic"), (6000, "x11"), (513, "login"), (990, "ftps"), (5357, "wsdapi"),
    (427, "svrloc"), (49156, "dynamic"), (543, "klogin"), (544, "kshell"),
    (5101, "admdog"), (144, "uma"), (7, "echo"), (389, "ldap"), (636, "ldaps"),
    (6379, "redis"), (5432, "postgresql"), (27017, "mongodb"), (11211, "memcache"),
    (9200, "wap-wsp"), (1883, "mqtt"), (8883, "secure-mqtt"), (5672, "amqp"),
    (9092, "XmlIpcRegSvc"), (2375, "docker"), (2376, "docker-s"), (6443, "sun-sr-https"),
    (10250, "kubelet"), (9090, "websm"), (3000, "hbci"), (8001, "vcom-tunnel"),
    (8009, "ajp13"), (8010, ""), (8181, "intermapper"), (8222, "vmware-fdm"),
    (9000, "cslistener"), (9001, "etlservicemgr"), (9100, "jetdirect"), (9418, "git"),
    (5984, "couchdb"), (6667, "ircu"), (6697, "ircs-u"), (7001, "afs3-callback"),
    (7070, "arcp"), (873, "rsync"), (902, "ideafarm-door"), (1080, "socks"),
    (1194, "openvpn"), (1521, "ncube-lm"), (1900, "ssdp"), (2082, "infowave"),
    (2083, "radsec"), (2086, "gnunet"), (2087, "eli"), (2222, "EtherNet-IP-1"),
    (3128, "ndl-aas"), (3260, "iscsi-target"), (3690, "svn"), (4443, "pharos"),
    (4444, "krb524"), (4567, "tram"), (4848, "appserv-http"), (5001, "commplex-link"),
    (5222, "xmpp-client"), (5269, "xmpp-server"), (5353, "mdns"), (5555, "personal-agent"),
    (5601, "esmagent"), (5985, "wsman"), (5986, "wsmans"),
    (6080, "gue"), (6881, "bittorrent"), (7443, "oracleas-https"), (7547, "cwmp"),
    (8020, "intu-ec-svcdisc"), (8042, "fs-agent"), (8069, ""), (8086, "d-s-n"),
    (8088, "radan-http"), (8089, ""), (8090, "opsmessaging"), (8161, "patrol-snmp"),
    (8200, "trivnet1"), (8280, "synapse-nhttp"), (8333, "bitcoin"), (8500, "fmtp"),
    (8530, ""), (8531, ""), (8834, ""), (8880, "cddbp-alt"),
    (8983, ""), (9042, ""), (9043, ""), (9060, ""), (9080, "glrpc"),
    (9091, "xmltec-xmlmail"), (9300, "vrace"), (9443, "tungsten-https"),
    (9999, "distinct"), (10001, "scp-config"), (11111, "vce"), (15672, ""),
    (25565, ""), (27018, ""), (28017, ""), (50000, "ibm-db2"),
    (50070, ""), (61616, ""), (1434, "ms-sql-m"), (161, "snmp"), (162, "snmptrap"),
    (69, "tftp"), (119, "nntp"), (123, "ntp"), (137, "netbios-ns"), (138, "netbios-dgm"),
    (194, "irc"), (220, "imap3"), (264, "bgmp"), (311, "asip-webadmin"), (366, "odmr"),
    (406, "imsp"), (464, "kpasswd"), (497, "retrospect"), (500, "isakmp"),
    (512, "exec"), (520, "efs"), (523, "ibm-db2"), (540, "uucp"), (563, "nntps"),
    (593, "http-rpc-epmap"), (625, "dec-dlm"), (666, "doom"), (749, "kerberos-adm"),
    (754, "tell"), (808, "ccproxy-http"), (843, ""), (853, "domain-s"),
    (992, "telnets"), (1000, "cadlock2"), (1024, "reserved"), (1099, "rmiregistry"),
    (1241, "nessus"), (1311, "rxmon"), (1352, "lotusnote"), (1443, "ies-lm"),
    (1494, "ica"), (1500, "vlsi-lm"), (1604, "icabrowser"), (1701, "l2f"),
    (1755, "ms-streaming"), (1812, "radius"), (1813, "radius-acct"), (2002, "globe"),
    (2003, "brutus"), (2004, "mailbox"), (2048, "dls-monitor"), (2100, "amiganetfs"),
    (2181, "eforward"), (2323, "3d-nfsd"), (2381, "compaq-https"), (2401, "cvspserver"),
    (2480, "powerexchange"), (2601, "discp-client"), (2604, "nsc-ccs"), (3001, "nessus"),
    (3050, "gds-db"), (3268, "msft-gc"), (3269, "msft-gc-ssl"), (3283, "net-assistant"),
    (3299, "pdrncs"), (3333, "dec-notes"), (3351, "btrieve"), (3478, "stun"),
    (3493, "nut"), (3500, "rtmp-port"), (3632, "distcc"), (3689, "daap"),
    (3780, ""), (4000, "terabase"), (4040, "yo-main"), (4070, "tripe"),
    (4369, "epmd"), (4500, "ipsec-nat-t"), (4505, ""), (4506, ""),
    (4662, "oms"), (4786, "smart-install"), (4899, "radmin-port"), (5004, "avt-profile-1"),
    (5005, "avt-profile-2"), (5009, "winfs"), (5050, "mmcc"), (5061, "sips"),
    (5190, "aol"), (5280, "xmpp-bosh"), (5351, "nat-pmp"), (5400, "pcduo-old"),
    (5500, "fcp-addr-srvr1"), (5554, "sgi-esphttp"), (5560, "isqlplus"),
    (5632, "pcanywherestat"), (5673, "jms"), (5683, "coap"), (5801, ""),
    (5901, ""), (5902, ""), (5938, ""), (6002, "x11"), (6346, "gnutella-svc"),
    (6514, "syslog-tls"), (6543, "mythtv"), (6566, "sane-port"), (6588, ""),
    (6665, ""), (6666, ""), (6668, ""), (6669, ""), (7000, "afs3-fileserver"),
    (7002, "afs3-prserver"), (7071, ""), (7077, ""), (7100, "font-service"),
    (7474, ""), (7777, "cbt"), (7778, "interwise"), (8002, "teradataordbms"),
    (8003, "mcreport"), (8005, "mxi"), (8006, "wpl-analytics"), (8007, "warppipe"),
    (8082, "us-cli"), (8083, "us-srv"), (8084, "websnp"), (8085, ""),
    (8087, "simplifymedia"), (8091, "jamlink"), (8098, ""), (8100, "xprint-server"),
    (8139, ""), (8140, "puppet"), (8180, ""), (8291, ""), (8300, "tmi"),
    (8383, "m2mservices"), (8400, "cvd"), (8545, ""),
    (8600, "asterix"), (8649, ""), (8686, "sun-as-jmxrmi"), (8800, "sunwebadmin"),
    (8843, ""), (8873, "dxspider"), (8899, "ospf-lite"), (8999, "bctp"),
    (9002, "dynamid"), (9003, ""), (9009, "pichat"), (9030, ""), (9050, "versiera"),
    (9051, "fio-cmgmt"), (9099, "unify-debug"), (9101, "bacula-dir"), (9102, "bacula-fd"),
    (9103, "bacula-sd"), (9110, ""), (9119, "mxit"), (9151, ""), (9160, "apani1"),
    (9191, "sun-as-jpda"), (9290, ""), (9415, ""), (9500, "ismserver"),
    (9535, "mngsuite"), (9600, "micromuse-ncpw"), (9800, "davsrc"), (9876, "sd"),
    (9943, ""), (9981, ""), (9998, "distinct32"), (10010, "rxapi"),
    (10080, "amanda"), (10243, ""), (10443, ""), (11000, "irisa"),
    (12345, "italk"), (13720, "bprd"), (16992, "amt-soap-http"), (16993, "amt-soap-https"),
    (17000, ""), (18080, ""), (19999, "dnp-sec"), (20000, "dnp"),
    (20005, "openwebnet"), (22222, ""), (23023, ""), (27015, ""),
    (30000, "ndmps"), (31337, ""), (32400, ""), (33060, "mysqlx"),
    (37777, ""), (44818, "EtherNet-IP-2"), (47001, ""), (49000, ""),
    (49157, "dynamic"), (50030, ""), (50090, ""), (51413, ""),
    (54321, ""), (55553, ""), (60000, ""), (62078, ""), (65000, ""),
    (65535, ""),
];

/// Our ranking, most commonly exposed first.
pub static RANKING: [u16; RANKED.len()] = {
    let mut out = [0u16; RANKED.len()];
    let mut i = 0;
    while i < RANKED.len() {
        out[i] = RANKED[i].0;
        i += 1;
    }
    out
};

/// The IANA service name usually found on `port`, if we know one worth showing.
pub fn name(port: u16) -> Option<&'static str> {
    RANKED
        .iter()
        .find(|&&(p, n)| p == port && !n.is_empty() && n != "dynamic")
        .map(|&(_, n)| n)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_common_ports() {
        assert_eq!(super::name(22), Some("ssh"));
        assert_eq!(super::name(6379), Some("redis"));
        assert_eq!(super::name(4), None);
    }
}
