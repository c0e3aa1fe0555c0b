//! `portolan scan -sU` through the real binary, against UDP responders this test
//! starts on loopback addresses: states and reasons, the protocol in every format,
//! TCP and UDP in one run, `-sU -sV` naming a DNS server from its `version.bind`
//! answer, and the history (`diff` keyed by protocol, `--resume` of a UDP and of a
//! TCP+UDP run after a SIGINT equal to an uninterrupted run).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::thread;

use serde_json::Value;

use crate::util::{ndjson, portolan, portolan_std, spawn_ready};

/// A UDP socket on `ip` answering every datagram with `answer(datagram)`, on a
/// thread that lives as long as the test process.
fn responder(ip: Ipv4Addr, port: u16, answer: fn(&[u8]) -> Option<Vec<u8>>) -> SocketAddr {
    let socket = UdpSocket::bind((ip, port)).expect("a UDP port for the responder");
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if let Some(reply) = answer(&buf[..n]) {
                let _ = socket.send_to(&reply, from);
            }
        }
    });
    addr
}

/// A UDP port nobody listens on (bound, then closed): the kernel answers it with
/// ICMP port unreachable.
fn closed_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A DNS server as far as `version.bind` goes: every query is answered under its
/// id with its question; `version.bind CH TXT` gets BIND's version string.
fn dns(q: &[u8]) -> Option<Vec<u8>> {
    let mut end = 12;
    while *q.get(end)? != 0 {
        end += usize::from(q[end]) + 1;
    }
    let question = q.get(12..end + 5)?;
    let asks_version = q[12..end].eq_ignore_ascii_case(b"\x07version\x04bind");
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.extend_from_slice(&[0x84, 0x00, 0, 1, 0, u8::from(asks_version), 0, 0, 0, 0]);
    r.extend_from_slice(question);
    if asks_version {
        let text = b"9.18.28-1~deb12u2-Debian";
        r.extend_from_slice(&[0xc0, 0x0c, 0, 16, 0, 3, 0, 0, 0, 0]);
        r.extend_from_slice(&((text.len() + 1) as u16).to_be_bytes());
        r.push(text.len() as u8);
        r.extend_from_slice(text);
    }
    Some(r)
}

fn find(lines: &[Value], port: u16, proto: &str) -> Value {
    lines
        .iter()
        .find(|v| v["port"] == port && v["proto"] == proto)
        .unwrap_or_else(|| panic!("{port}/{proto} in {lines:?}"))
        .clone()
}

#[test]
fn open_and_closed_udp_ports_with_reasons_in_every_format() {
    let open = responder(Ipv4Addr::LOCALHOST, 0, |d| Some(d.to_vec())).port();
    let closed = closed_udp();
    let dir = tempfile::tempdir().unwrap();
    let (xml, grep) = (dir.path().join("s.xml"), dir.path().join("s.gnmap"));
    let out = portolan()
        .args(["scan", "-sU", "127.0.0.1", "--no-history", "--no-progress"])
        .args(["-p", &format!("{open},{closed}"), "--ndjson", "-", "-oX"])
        .arg(&xml)
        .arg("-oG")
        .arg(&grep)
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    assert_eq!(lines.len(), 2);
    let o = find(&lines, open, "udp");
    assert_eq!(
        (o["state"].as_str(), o["reason"].as_str()),
        (Some("open"), Some("udp-response"))
    );
    let c = find(&lines, closed, "udp");
    assert_eq!(
        (c["state"].as_str(), c["reason"].as_str()),
        (Some("closed"), Some("port-unreach"))
    );
    let xml = std::fs::read_to_string(&xml).unwrap();
    assert!(xml.contains(&format!("<port protocol=\"udp\" portid=\"{open}\"><state state=\"open\" reason=\"udp-response\"")), "{xml}");
    assert!(
        xml.contains("<scaninfo type=\"udp\" protocol=\"udp\""),
        "{xml}"
    );
    let grep = std::fs::read_to_string(&grep).unwrap();
    assert!(grep.contains(&format!("{open}/open/udp/")), "{grep}");
    assert!(grep.contains(&format!("{closed}/closed/udp/")), "{grep}");
}

#[test]
fn tcp_and_udp_in_one_run_with_ports_per_protocol() {
    let udp_open = responder(Ipv4Addr::LOCALHOST, 0, |d| Some(d.to_vec())).port();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp_open = tcp.local_addr().unwrap().port();
    let spec = format!("U:{udp_open},T:{tcp_open}");
    let out = portolan()
        .args([
            "scan",
            "-sT",
            "-sU",
            "127.0.0.1",
            "--no-history",
            "--no-progress",
        ])
        .args(["-p", &spec, "--ndjson", "-"])
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    assert_eq!(lines.len(), 2, "one port per protocol: {lines:?}");
    assert_eq!(find(&lines, udp_open, "udp")["state"], "open");
    assert_eq!(find(&lines, tcp_open, "tcp")["state"], "open");

    // A plain list is scanned with both protocols: the UDP responder's port is
    // closed over TCP, and the TCP listener's port closed over UDP.
    let spec = format!("{udp_open},{tcp_open}");
    let out = portolan()
        .args([
            "scan",
            "-sU",
            "-sT",
            "127.0.0.1",
            "--no-history",
            "--no-progress",
        ])
        .args(["-p", &spec, "--ndjson", "-"])
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    assert_eq!(lines.len(), 4);
    assert_eq!(find(&lines, udp_open, "tcp")["state"], "closed");
    assert_eq!(find(&lines, tcp_open, "udp")["state"], "closed");
    let table = portolan()
        .args([
            "scan",
            "-sU",
            "-sT",
            "127.0.0.1",
            "--no-history",
            "--no-progress",
        ])
        .args(["-p", &spec])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&table.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!("{udp_open}/udp")) && text.contains(&format!("{tcp_open}/tcp")),
        "{text}"
    );
    assert!(text.contains("4 port results"), "{text}");
}

#[test]
fn udp_ports_without_su_are_refused_with_the_fix() {
    let out = portolan()
        .args(["scan", "127.0.0.1", "-p", "U:53", "--no-history"])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("-sU") && err.lines().count() == 1, "{err}");
}

#[test]
fn su_sv_names_a_dns_server_from_version_bind() {
    let ip = crate::util::own_loopback(10);
    let Ok(probe) = UdpSocket::bind((ip, 53)) else {
        panic!("cannot bind {ip}:53 for the DNS responder (the test runs as root in CI)");
    };
    drop(probe);
    responder(ip, 53, dns);
    let out = portolan()
        .args(["scan", "-sU", "-sV", &ip.to_string(), "-p", "53"])
        .args(["--no-history", "--no-progress", "--ndjson", "-"])
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    let r = find(&lines, 53, "udp");
    assert_eq!(r["state"], "open", "{r}");
    let service = &r["service"];
    assert_eq!(service["name"], "domain", "{r}");
    assert_eq!(service["product"], "ISC BIND", "{r}");
    assert_eq!(service["version"], "9.18.28", "{r}");
}

#[test]
fn history_diff_keys_by_protocol_and_resume_refuses_old_udp_runs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    // A UDP port that answers in the first scan and is closed in the second; the
    // same number over TCP is closed both times.
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let echo_once = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        let (n, from) = socket.recv_from(&mut buf).unwrap();
        socket.send_to(&buf[..n], from).unwrap();
    });
    let scan = || {
        portolan()
            .args(["scan", "-sU", "-sT", "127.0.0.1", "-p", &port.to_string()])
            .args(["--no-progress", "--db"])
            .arg(&db)
            .assert()
            .success()
    };
    scan();
    echo_once.join().unwrap();
    scan();
    let diff = portolan().args(["diff", "--db"]).arg(&db).assert().code(1);
    let text = String::from_utf8_lossy(&diff.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!("127.0.0.1 {port}/udp: open -> closed")),
        "{text}"
    );
    assert!(
        !text.contains(&format!("{port}/tcp")),
        "TCP did not change: {text}"
    );

    // An interrupted run with UDP recorded by a portolan before the UDP bitmaps
    // (schema version 4: resumable off, no UDP port list) cannot be resumed, and
    // says why.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE runs SET complete = 0, resumable = 0, udp_ports = NULL WHERE id = 2",
        [],
    )
    .unwrap();
    drop(conn);
    let out = portolan()
        .args(["scan", "--resume", "2", "--db"])
        .arg(&db)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("scanned UDP") && err.contains("cannot be resumed"),
        "{err}"
    );
}

/// (port, protocol) → state for every row of a CSV file.
fn csv_states(path: &std::path::Path) -> std::collections::BTreeMap<(u16, String), String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (
                (cells[2].parse().unwrap(), cells[3].to_owned()),
                cells[4].to_owned(),
            )
        })
        .collect()
}

/// Interrupts a scan with `scan_types` over 4000 ports of a loopback address of
/// its own (UDP echo responders, a silent UDP port, a TCP listener among them) once
/// it has written its first result, resumes it, and compares pair for pair with
/// the same scan run whole.
fn resume_after_sigint_equals_a_whole_run(scan_types: &[&str], salt: u8) {
    let ip = crate::util::own_loopback(salt);
    let echo = |q: &[u8]| Some(q.to_vec());
    for port in (21_000..25_000).step_by(331) {
        responder(ip, port, echo);
    }
    let silent = UdpSocket::bind((ip, 24_999)).unwrap();
    let _tcp = TcpListener::bind((ip, 21_000)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (db, csv, json) = (
        dir.path().join("h.db"),
        dir.path().join("part.csv"),
        dir.path().join("part.json"),
    );
    let target = ip.to_string();
    let mut args = vec!["scan", target.as_str(), "-p", "21000-24999"];
    args.extend_from_slice(scan_types);
    args.extend_from_slice(&["--max-rate", "2000", "--seed", "11", "--no-progress"]);
    let pairs = 4000 * scan_types.len();

    let mut cmd = portolan_std();
    cmd.args(&args)
        .arg("--csv")
        .arg(&csv)
        .arg("-oJ")
        .arg(&json)
        .args(["-oD", "-", "--db"])
        .arg(&db);
    let running = spawn_ready(cmd);
    running.signal("INT");
    assert_eq!(running.wait_collected().0, Some(130));
    let first = csv_states(&csv);
    assert!(
        !first.is_empty() && first.len() < pairs,
        "interrupted part way: {} of {pairs}",
        first.len()
    );

    let resumed = portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&resumed.get_output().stderr).into_owned();
    assert!(
        err.contains(&format!(
            "{} port results recorded, {} to go",
            first.len(),
            pairs - first.len()
        )),
        "{err}"
    );
    let resumed = csv_states(&csv);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["complete"], true);

    let whole = dir.path().join("whole.csv");
    portolan()
        .args(&args)
        .arg("--no-history")
        .arg("--csv")
        .arg(&whole)
        .assert()
        .success();
    drop(silent);
    let whole = csv_states(&whole);
    assert_eq!(whole.len(), pairs, "every pair of the whole run");
    assert_eq!(resumed.len(), pairs, "every pair once after the resume");
    let differ: Vec<_> = whole
        .iter()
        .filter(|(k, s)| resumed.get(*k) != Some(*s))
        .collect();
    assert!(
        differ.is_empty(),
        "same states as the whole run; whole's pairs that differ: {differ:?}"
    );
    assert!(first.iter().all(|(k, s)| resumed.get(k) == Some(s)));
    let state = |port: u16, proto: &str| whole[&(port, proto.to_owned())].as_str();
    let open = whole
        .iter()
        .filter(|((_, p), s)| p == "udp" && *s == "open")
        .count();
    assert_eq!(open, 13, "the echo responders answered");
    assert_eq!(state(24_999, "udp"), "open|filtered");
    assert_eq!(state(21_001, "udp"), "closed");
}

#[test]
fn resume_of_a_udp_scan_after_sigint_equals_a_whole_run() {
    resume_after_sigint_equals_a_whole_run(&["-sU"], 11);
}

#[test]
fn resume_of_a_tcp_and_udp_scan_after_sigint_equals_a_whole_run() {
    resume_after_sigint_equals_a_whole_run(&["-sT", "-sU"], 12);
}
