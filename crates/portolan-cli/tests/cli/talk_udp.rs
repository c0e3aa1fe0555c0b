//! `portolan connect -u` and `listen -u` through the real binary, against UDP
//! sockets this test opens on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use crate::util::{portolan, portolan_std};

/// A UDP echo server on 127.0.0.1, for as long as the test process lives.
fn echo() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    port
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn connect_u_echoes_each_input_line_as_a_datagram() {
    let port = echo().to_string();
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &port, "-w", "1"])
        .write_stdin("one\ntwo\n")
        .assert()
        .success();
    assert_eq!(text(&out.get_output().stdout), "one\ntwo\n");
}

#[test]
fn connect_u_send_and_expect() {
    let port = echo().to_string();
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &port])
        .args(["--send", "PING\\r\\n", "--expect", "^PING"])
        .assert()
        .success();
    assert_eq!(text(&out.get_output().stdout), "PING\r\n");
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &port])
        .args([
            "--send",
            "PING\\n",
            "--expect",
            "PONG",
            "--expect-timeout",
            "500ms",
        ])
        .assert()
        .code(3);
    assert!(text(&out.get_output().stderr).contains("/PONG/"));
}

#[test]
fn connect_u_hex_shows_both_directions() {
    let port = echo().to_string();
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &port, "-x"])
        .args(["--send", "\\x00\\xffok", "--expect", "ok"])
        .assert()
        .success();
    let shown = text(&out.get_output().stdout);
    assert!(shown.contains("> 00000000  00 ff 6f 6b"), "{shown}");
    assert!(shown.contains("< 00000000  00 ff 6f 6b"), "{shown}");
}

#[test]
fn connect_u_to_a_closed_port_says_unreachable_in_one_line() {
    let closed = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &closed, "--send", "x"])
        .assert()
        .code(1);
    let err = text(&out.get_output().stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("port unreachable"), "{err}");
}

#[test]
fn connect_u_idle_timeout_ends_a_silent_exchange() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let out = portolan()
        .args(["connect", "-u", "127.0.0.1", &port, "-i", "300ms"])
        .args(["--send", "anyone?", "-q", "30"])
        .assert()
        .code(1);
    assert!(text(&out.get_output().stderr).contains("idle"));
    let mut buf = [0u8; 64];
    silent
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let (n, _) = silent.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"anyone?");
}

#[test]
fn udp_flags_that_mean_nothing_for_udp_are_refused() {
    portolan()
        .args(["connect", "-u", "--tls", "127.0.0.1", "53"])
        .assert()
        .code(2);
    portolan()
        .args(["listen", "-u", "-k", "0"])
        .assert()
        .code(2);
}

#[test]
fn listen_u_answers_the_first_sender() {
    let mut child = portolan_std()
        .args([
            "listen",
            "-u",
            "0",
            "--send",
            "welcome\\n",
            "--expect",
            "^hi$",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|l| l.strip_suffix(" (UDP)\n"))
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_owned();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.send_to(b"hi\n", &addr).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"welcome\n", "the --send waits for the peer");
    assert_eq!(from.to_string(), addr);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "hi\n");
}
