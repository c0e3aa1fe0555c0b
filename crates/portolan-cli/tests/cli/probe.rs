//! `portolan scan -sV` end to end, against listeners this test starts on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{closed_port, portolan, portolan_std, spawn_ready};

/// A listener that greets every connection with `banner` and then reads until EOF.
fn speaker(banner: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            thread::spawn(move || {
                let _ = s.write_all(banner);
                let mut buf = [0; 512];
                while matches!(s.read(&mut buf), Ok(1..)) {}
            });
        }
    });
    port
}

fn ndjson(args: &[&str]) -> Vec<serde_json::Value> {
    let out = portolan().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("port").is_some())
        .collect()
}

#[test]
fn sv_names_the_service_in_ndjson() {
    let ssh = speaker(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    let evil = speaker(b"\x1b[2J\x1b]0;pwned\x07\xe2\x80\xae hi\r\n");
    let closed = closed_port();
    let ports = format!("{ssh},{evil},{closed}");
    let lines = ndjson(&[
        "scan",
        "127.0.0.1",
        "-p",
        &ports,
        "-sV",
        "--identify-timeout",
        "300ms",
        "-oD",
        "-",
        "--no-progress",
    ]);
    assert_eq!(lines.len(), 3, "every port exactly once: {lines:?}");
    let by_port = |p: u16| lines.iter().find(|v| v["port"] == p).unwrap();
    let s = &by_port(ssh)["service"];
    assert_eq!(
        (
            s["name"].as_str(),
            s["product"].as_str(),
            s["version"].as_str()
        ),
        (Some("ssh"), Some("OpenSSH"), Some("9.2p1"))
    );
    assert_eq!(s["method"], "banner");
    assert_eq!(s["cpe"][0], "cpe:/a:openbsd:openssh:9.2p1");
    let banner = by_port(evil)["service"]["banner"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(banner.starts_with("\\x1b[2J"), "{banner}");
    assert!(
        !banner.contains('\u{1b}') && !banner.contains('\u{202e}'),
        "{banner:?}"
    );
    assert!(by_port(closed).get("service").is_none());
}

#[test]
fn sv_table_has_version_column() {
    let ftp = speaker(b"220 (vsFTPd 3.0.3)\r\n");
    let out = portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ftp.to_string(),
            "-sV",
            "--no-progress",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("VERSION"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("open") && l.contains("ftp") && l.ends_with("vsftpd 3.0.3")),
        "{text}"
    );
}

#[test]
fn probe_options_need_sv_and_sane_values() {
    let run = |args: &[&str]| portolan().args(args).output().unwrap();
    assert_eq!(
        run(&["scan", "127.0.0.1", "-p", "1", "--banner-bytes", "10"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&["scan", "127.0.0.1", "-p", "1", "-sV", "--banner-bytes", "0"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        run(&[
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "-sV",
            "--fingerprints",
            "/nonexistent"
        ])
        .status
        .code(),
        Some(2)
    );
}

/// Listeners whose handshakes complete but that never say a word (nothing accepts).
fn silent(n: usize) -> (Vec<TcpListener>, String) {
    let ls: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<String> = ls
        .iter()
        .map(|l| l.local_addr().unwrap().port().to_string())
        .collect();
    (ls, ports.join(","))
}

fn spawn_scan(args: &[&str]) -> std::process::Child {
    portolan_std()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Regression: a stdout closed while the probe stage was draining gave exit 1.
#[test]
fn sv_closed_stdout_is_success() {
    // Quick answers reach the pipe while the engine runs; the silent ports are only
    // written when the stage drains, after the reader has gone. CSV, because it
    // writes straight to the buffered stdout.
    let ssh: Vec<String> = (0..20)
        .map(|_| speaker(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n").to_string())
        .collect();
    let (_ls, quiet) = silent(150);
    let ports = format!("{},{quiet}", ssh.join(","));
    let mut child = spawn_scan(&[
        "scan",
        "127.0.0.1",
        "-p",
        &ports,
        "-sV",
        "--identify-timeout",
        "1s",
        "--csv",
        "-",
        "--no-progress",
        "--no-history",
    ]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.contains("port"), "{first}");
    thread::sleep(Duration::from_millis(300));
    drop(out);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sv_ctrl_c_ends_the_probing_promptly() {
    let (_ls, ports) = silent(40);
    // A closed port's result passes the probe stage at once: the first line says the
    // scan is under way while the silent ports are being probed.
    let closed = closed_port();
    let all = format!("{ports},{closed}");
    let mut cmd = portolan_std();
    cmd.args([
        "scan",
        "127.0.0.1",
        "-p",
        &all,
        "-sV",
        "--identify-timeout",
        "10s",
        "-oD",
        "-",
        "--no-progress",
        "--no-history",
    ]);
    let running = spawn_ready(cmd);
    let sent = Instant::now();
    running.signal("INT");
    let (code, text) = running.wait_collected();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(code, Some(130), "Ctrl-C is exit 130");
    let mut reported: Vec<u64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["port"].as_u64())
        .collect();
    reported.sort_unstable();
    let mut wanted: Vec<u64> = all.split(',').map(|p| p.parse().unwrap()).collect();
    wanted.sort_unstable();
    assert_eq!(reported, wanted, "every port exactly once");
}

#[test]
fn sv_keeps_sockets_back_for_the_prober() {
    let closed = closed_port().to_string();
    let bin = assert_cmd::cargo::cargo_bin("portolan");
    let script = format!(
        "ulimit -n 1024 && exec {} scan 127.0.0.1 -p {closed} -sV --concurrency 5000 \
         --no-progress --no-history",
        bin.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // 1024 - 64 for files and the like - 256 for the prober's connections.
    assert!(err.contains("lowered to 704"), "{err}");
}

/// Regression (issue 9, item 17): HTTP `Server`, `Location` and title silently lost
/// ESC, BEL and bidi controls (`Evil]0;SRVTITLE[31mSrv`); they are escaped, in the
/// JSON and in the table alike.
#[test]
fn sv_escapes_hostile_http_fields_in_every_format() {
    let web = speaker(
        b"HTTP/1.1 302 Found\r\nServer: Evil\x1b]0;SRVTITLE\x07\x1b[31mSrv\r\nLocation: /\xe2\x80\x8f\\x1b\r\nContent-Length: 30\r\n\r\n<title>T\x1b[2J\xe2\x80\xae</title>",
    );
    let port = web.to_string();
    let args = [
        "scan",
        "127.0.0.1",
        "-p",
        &port,
        "-sV",
        "--identify-timeout",
        "300ms",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["-oD", "-", "--no-progress"]);
    let lines = ndjson(&json_args);
    let http = &lines[0]["service"]["http"];
    assert_eq!(
        http["server"], "Evil\\x1b]0;SRVTITLE\\x07\\x1b[31mSrv",
        "{http}"
    );
    assert_eq!(http["location"], "/\\u{200f}\\\\x1b", "{http}");
    assert_eq!(http["title"], "T\\x1b[2J\\u{202e}", "{http}");
    let out = portolan().args(args).arg("--no-progress").output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}");
    assert!(table.contains("302 -> /\\u{200f}\\\\x1b"), "{table}");
    assert!(table.contains("title \"T\\x1b[2J\\u{202e}\""), "{table}");
    assert!(!table.contains(portolan_text_unsafe), "{table}");
}

/// The characters no output may hold (line breaks aside).
fn portolan_text_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
