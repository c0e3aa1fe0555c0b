//! The matcher against captured answers of real products (see `fixtures/README.md`
//! for where each capture came from).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use portolan_probe::{Database, Exchange};

/// (fixture, probe, service, product, version)
const CASES: &[(&str, &str, &str, &str, Option<&str>)] = &[
    (
        "openssh-9.2p1-banner.bin",
        "banner",
        "ssh",
        "OpenSSH",
        Some("9.2p1"),
    ),
    (
        "dropbear-2022.83-banner.bin",
        "banner",
        "ssh",
        "Dropbear sshd",
        Some("2022.83"),
    ),
    (
        "nginx-1.22.1-http-get.bin",
        "http-get",
        "http",
        "nginx",
        Some("1.22.1"),
    ),
    (
        "nginx-1.22.1-tls-http-get.bin",
        "http-get",
        "http",
        "nginx",
        Some("1.22.1"),
    ),
    (
        "apache-2.4.71-http-get.bin",
        "http-get",
        "http",
        "Apache httpd",
        Some("2.4.71"),
    ),
    (
        "lighttpd-1.4.69-http-get.bin",
        "http-get",
        "http",
        "lighttpd",
        Some("1.4.69"),
    ),
    (
        "python-http-server-3.11-http-get.bin",
        "http-get",
        "http",
        "SimpleHTTPServer",
        Some("0.6"),
    ),
    (
        "caddy-2.6-http-get.bin",
        "http-get",
        "http",
        "Caddy httpd",
        None,
    ),
    (
        "iis-10.0-http-get.bin",
        "http-get",
        "http",
        "Microsoft IIS httpd",
        Some("10.0"),
    ),
    (
        "akamaighost-http-get.bin",
        "http-get",
        "http",
        "AkamaiGHost",
        None,
    ),
    (
        "vsftpd-3.0.3-banner.bin",
        "banner",
        "ftp",
        "vsftpd",
        Some("3.0.3"),
    ),
    ("proftpd-1.3.8-banner.bin", "banner", "ftp", "ProFTPD", None),
    (
        "proftpd-1.3.5-banner.bin",
        "banner",
        "ftp",
        "ProFTPD",
        Some("1.3.5e"),
    ),
    (
        "pure-ftpd-1.0.50-banner.bin",
        "banner",
        "ftp",
        "Pure-FTPd",
        None,
    ),
    (
        "postfix-3.7.11-banner.bin",
        "banner",
        "smtp",
        "Postfix smtpd",
        None,
    ),
    (
        "exim-4.96-banner.bin",
        "banner",
        "smtp",
        "Exim smtpd",
        Some("4.96"),
    ),
    (
        "sendmail-8.17.1-banner.bin",
        "banner",
        "smtp",
        "Sendmail",
        Some("8.17.1.9"),
    ),
    (
        "dovecot-2.3.19.1-imap-banner.bin",
        "banner",
        "imap",
        "Dovecot imapd",
        None,
    ),
    (
        "dovecot-2.3.19.1-pop3-banner.bin",
        "banner",
        "pop3",
        "Dovecot pop3d",
        None,
    ),
    (
        "dovecot-2.3.19.1-imaps-tls.bin",
        "http-get",
        "imap",
        "Dovecot imapd",
        None,
    ),
    (
        "redis-7.0.15-redis-ping.bin",
        "redis-ping",
        "redis",
        "Redis key-value store",
        Some("7.0.15"),
    ),
    (
        "memcached-1.6.18-memcached-version.bin",
        "memcached-version",
        "memcached",
        "Memcached",
        Some("1.6.18"),
    ),
    (
        "mariadb-10.11.19-banner.bin",
        "banner",
        "mysql",
        "MariaDB",
        Some("10.11.19"),
    ),
    (
        "mysql-8.0-banner.bin",
        "banner",
        "mysql",
        "MySQL",
        Some("8.0.36"),
    ),
    (
        "postgresql-15-postgres-startup.bin",
        "postgres-startup",
        "postgresql",
        "PostgreSQL DB",
        None,
    ),
    (
        "mongodb-7.0-mongodb-buildinfo.bin",
        "mongodb-buildinfo",
        "mongodb",
        "MongoDB",
        Some("7.0.14"),
    ),
    (
        "rdp-windows-rdp-x224.bin",
        "rdp-x224",
        "rdp",
        "Microsoft Terminal Services",
        None,
    ),
    (
        "mosquitto-2.0.11-mqtt-connect.bin",
        "mqtt-connect",
        "mqtt",
        "",
        None,
    ),
    ("vnc-rfb-3.8-banner.bin", "banner", "vnc", "VNC", None),
    (
        "dnsmasq-2.89-dns-version.bin",
        "dns-version",
        "domain",
        "dnsmasq",
        Some("2.89"),
    ),
    (
        "bind-9.18.28-dns-version.bin",
        "dns-version",
        "domain",
        "ISC BIND",
        Some("9.18.28"),
    ),
    (
        "asterisk-20-sip-options.bin",
        "sip-options",
        "sip",
        "Asterisk PBX",
        Some("20.8.1"),
    ),
    (
        "live555-rtsp-options.bin",
        "rtsp-options",
        "rtsp",
        "LIVE555 Streaming Media",
        Some("2023.01.19"),
    ),
    ("telnetd-netkit-banner.bin", "banner", "telnet", "", None),
    (
        "busybox-telnetd-banner.bin",
        "banner",
        "telnet",
        "BusyBox telnetd",
        None,
    ),
];

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_captured_product_is_named() {
    let db = Database::builtin().unwrap();
    let mut failures = Vec::new();
    for &(file, probe, service, product, version) in CASES {
        let received = fixture(file);
        let found = db.identify(&Exchange {
            probe,
            sent: b"",
            received: &received,
        });
        let got = found.as_ref().map(|m| {
            (
                m.service.as_str(),
                m.product.as_deref().unwrap_or(""),
                m.version.as_deref(),
            )
        });
        if got != Some((service, product, version)) {
            failures.push(format!(
                "{file}: expected {:?}, got {got:?}",
                (service, product, version)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_readme_names_the_origin_of_every_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "bin") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                readme.contains(&name),
                "{name} is not described in fixtures/README.md"
            );
        }
    }
}

#[test]
fn openssh_details_and_cpe() {
    let db = Database::builtin().unwrap();
    let m = db
        .identify(&Exchange {
            probe: "banner",
            sent: b"",
            received: &fixture("openssh-9.2p1-banner.bin"),
        })
        .unwrap();
    assert_eq!(m.info.as_deref(), Some("Debian-2+deb12u10; protocol 2.0"));
    assert_eq!(m.cpe, ["cpe:/a:openbsd:openssh:9.2p1"]);
    assert_eq!(m.confidence, 10);
}

#[test]
fn http_details_of_captured_answers() {
    let info = portolan_probe::http_info(&fixture("nginx-1.22.1-http-get.bin")).unwrap();
    assert_eq!(info.status, Some(302));
    assert_eq!(info.location.as_deref(), Some("http://localhost/login/"));
    let info = portolan_probe::http_info(&fixture("apache-2.4.71-http-get.bin")).unwrap();
    assert_eq!(
        info.title.as_deref(),
        Some("Apache2 Debian Default Page: It works")
    );
    let info = portolan_probe::http_info(&fixture("iis-10.0-http-get.bin")).unwrap();
    assert_eq!(info.title.as_deref(), Some("IIS Windows Server"));
}

/// Answers written from the protocol's documents or a server's source for the states
/// the corpus does not reach in a scanner's waits: (probe, answer, service, product, info).
#[test]
fn written_answers_of_states_the_corpus_misses() {
    let db = Database::builtin().unwrap();
    // HAProxy's 503 when every server of the backend is down comes only after its
    // connect retries, later than the reply wait (src/http_htx.c, http_err_503).
    let haproxy_503 = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
    let cases: &[(&str, &[u8], &str, &str, &str)] = &[
        (
            "http-get",
            haproxy_503,
            "http",
            "HAProxy",
            "no backend server available",
        ),
        (
            "socks5",
            b"\x05\x02",
            "socks5",
            "",
            "user name and password",
        ),
        ("socks5", b"\x05\xff", "socks5", "", "no acceptable method"),
        // A SOCKS 5 reply is only one when it answers our SOCKS 5 greeting.
        ("banner", b"\x05\x00", "", "", ""),
    ];
    for &(probe, received, service, product, info) in cases {
        let m = db.identify(&Exchange {
            probe,
            sent: b"",
            received,
        });
        let got = m.as_ref().map_or(("", "", ""), |m| {
            (
                m.service.as_str(),
                m.product.as_deref().unwrap_or(""),
                m.info.as_deref().unwrap_or(""),
            )
        });
        assert_eq!(got, (service, product, info), "{probe} {received:?}");
    }
}
