//! Integration tests of issue 14's pipelines: `--exclude-ports`, endpoints read with
//! `-iL -`, against listeners this test starts on 127.0.0.1.

use crate::util::{listener, ndjson, open_and_closed, portolan};

#[test]
fn exclude_ports_leaves_ports_out() {
    let (_l, open, closed) = open_and_closed();
    let out = portolan()
        .args(["scan", "127.0.0.1", "-p", &format!("{open},{closed}")])
        .args([
            "--exclude-ports",
            &closed.to_string(),
            "-oD",
            "-",
            "--no-history",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = ndjson(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["port"], open);
}

#[test]
fn excluding_every_port_is_one_line_and_exit_2() {
    let (_l, open) = listener();
    let out = portolan()
        .args(["scan", "127.0.0.1", "-p", &open.to_string()])
        .args(["--exclude-ports", "T:1-65535", "--no-history"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("--exclude-ports"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A listener on `addr` that greets every connection with `banner`, then reads
/// until EOF.
fn speaker(addr: &str, banner: &'static [u8]) -> (u16, std::net::TcpListener) {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind(addr).unwrap();
    let port = l.local_addr().unwrap().port();
    let keep = l.try_clone().unwrap();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = s.write_all(banner);
                let mut buf = [0; 512];
                while matches!(s.read(&mut buf), Ok(1..)) {}
            });
        }
    });
    (port, keep)
}

fn scan_stdin(input: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    portolan()
        .args(["scan", "-iL", "-", "--no-history", "--no-progress"])
        .args(args)
        .write_stdin(input.to_owned())
        .assert()
}

/// Acceptance 4 on the loopback: `printf 'ADDR:22\n[v6]:80\n' | portolan scan
/// -iL - -sV` identifies exactly those endpoints, not the other open port of
/// either host.
#[test]
fn stdin_endpoints_are_identified_exactly() {
    let (ssh, _a) = speaker("127.0.0.1:0", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    let (http, _b) = speaker(
        "[::1]:0",
        b"HTTP/1.0 200 OK\r\nServer: nginx/1.24.0\r\nContent-Length: 0\r\n\r\n",
    );
    let (_other, _c) = speaker("127.0.0.1:0", b"SSH-2.0-OpenSSH_9.2p1\r\n");
    let input = format!("127.0.0.1:{ssh}\n[::1]:{http}\n");
    let out = scan_stdin(&input, &["-sV", "-oD", "-"])
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = ndjson(&out);
    let mut pairs: Vec<(String, u64)> = lines
        .iter()
        .map(|v| {
            (
                v["addr"].as_str().unwrap().to_owned(),
                v["port"].as_u64().unwrap(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("127.0.0.1".to_owned(), u64::from(ssh)),
            ("::1".to_owned(), u64::from(http))
        ]
    );
    let by = |p: u16| lines.iter().find(|v| v["port"] == p).unwrap();
    assert_eq!(by(ssh)["service"]["name"], "ssh");
    assert_eq!(by(ssh)["service"]["product"], "OpenSSH");
    assert_eq!(by(http)["service"]["name"], "http");
}

/// Endpoints and ordinary targets in one list: the hosts get the -p ports, the
/// endpoints only their own; masscan's `-oL` and nmap's `-oG` lines are endpoints.
#[test]
fn endpoints_mix_with_hosts_and_other_tools_lines() {
    let (_l, open, closed) = open_and_closed();
    let (_m, masscan) = listener();
    let (_g, grepable) = listener();
    let input = format!(
        "# masscan\nopen tcp {masscan} 127.0.0.2 1700000000\n\
         Host: 127.0.0.3 ()\tPorts: {grepable}/open/tcp//x///, {closed}/closed/tcp//y///\n\
         127.0.0.1\n127.0.0.4:{closed}\n"
    );
    let _l2 = std::net::TcpListener::bind(("127.0.0.2", masscan)).ok();
    let out = scan_stdin(&input, &["-p", &format!("{open},{closed}"), "-oD", "-"])
        .success()
        .get_output()
        .stdout
        .clone();
    let mut pairs: Vec<(String, u64)> = ndjson(&out)
        .iter()
        .map(|v| {
            (
                v["addr"].as_str().unwrap().to_owned(),
                v["port"].as_u64().unwrap(),
            )
        })
        .collect();
    pairs.sort();
    let mut want = vec![
        ("127.0.0.1".to_owned(), u64::from(open)),
        ("127.0.0.1".to_owned(), u64::from(closed)),
        ("127.0.0.2".to_owned(), u64::from(masscan)),
        ("127.0.0.3".to_owned(), u64::from(grepable)),
        ("127.0.0.4".to_owned(), u64::from(closed)),
    ];
    want.sort();
    assert_eq!(pairs, want);
}

#[test]
fn a_bad_endpoint_line_is_named_by_its_number() {
    let out = scan_stdin("127.0.0.1\n# fine\n127.0.0.1:70000\n", &[])
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("stdin, line 3") && err.contains("70000"),
        "{err}"
    );
    let out = scan_stdin("127.0.0.1:53/udp\n", &[])
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("-sU"));
}

/// Shards of a scan with endpoints beside hosts: together they walk every pair
/// exactly once (the endpoints are pairs of the same keyed order).
#[test]
fn shards_cover_endpoints_exactly_once() {
    let (_l, open, closed) = open_and_closed();
    let targets =
        format!("127.0.0.1 127.0.0.5:{open} 127.0.0.6:{closed} [::1]:{open} 127.0.0.1:{open}");
    let mut all: Vec<(String, u64)> = Vec::new();
    for k in 1..=3 {
        let out = portolan()
            .args([
                "scan",
                "-iL",
                "-",
                "--no-history",
                "-p",
                &format!("{open},{closed}"),
            ])
            .args(["--shard", &format!("{k}/3"), "-oD", "-"])
            .write_stdin(targets.replace(' ', "\n"))
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        // A shard's NDJSON opens with a line naming the shard; the rest are pairs.
        all.extend(
            ndjson(&out)
                .iter()
                .filter(|v| v.get("port").is_some())
                .map(|v| {
                    (
                        v["addr"].as_str().unwrap().to_owned(),
                        v["port"].as_u64().unwrap(),
                    )
                }),
        );
    }
    all.sort();
    let mut want = vec![
        ("127.0.0.1".to_owned(), u64::from(open)),
        ("127.0.0.1".to_owned(), u64::from(closed)),
        ("127.0.0.5".to_owned(), u64::from(open)),
        ("127.0.0.6".to_owned(), u64::from(closed)),
        ("::1".to_owned(), u64::from(open)),
    ];
    want.sort();
    assert_eq!(all, want);
}
