//! Scanning and talking through real proxy servers: dante (`danted`, SOCKS5) and
//! tinyproxy (HTTP CONNECT), from Debian's `dante-server` and `tinyproxy` packages
//! (`.ci/run` installs them; without them these tests skip, or fail under CI).
//!
//! Each test starts its own proxy with its own configuration in a temporary
//! directory, bound to 127.0.0.1 on a free port, and checks the states through the
//! proxy against a direct scan of the same ports, pair for pair.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{closed_port, listener, ndjson, portolan, skip_or_fail};

/// A proxy server this test started; killed when dropped.
struct Proxy {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn find(program: &str) -> Option<String> {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| format!("{d}/{program}"))
        .find(|p| Path::new(p).exists())
}

/// Starts `program` with `args` and waits until it accepts on `port`.
fn start(program: &str, args: &[&str], port: u16, dir: tempfile::TempDir) -> Proxy {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let proxy = Proxy {
        child,
        port,
        _dir: dir,
    };
    let end = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < end, "{program} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    proxy
}

/// danted on 127.0.0.1, no authentication, every CONNECT allowed.
fn dante() -> Option<Proxy> {
    let Some(program) = find("danted") else {
        skip_or_fail("danted is not installed (Debian package dante-server)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let conf = dir.path().join("danted.conf");
    std::fs::write(
        &conf,
        format!(
            "logoutput: {log}\n\
             internal: 127.0.0.1 port = {port}\n\
             external: 127.0.0.1\n\
             socksmethod: none\n\
             clientmethod: none\n\
             client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
             socks pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }}\n",
            log = dir.path().join("danted.log").display()
        ),
    )
    .unwrap();
    let pid = dir.path().join("danted.pid");
    let (conf, pid) = (conf.display().to_string(), pid.display().to_string());
    Some(start(&program, &["-f", &conf, "-p", &pid], port, dir))
}

/// tinyproxy on 127.0.0.1, CONNECT to every port (no `ConnectPort` line), and an
/// error page that carries `{error}` (the `strerror` of a failed connect), which is
/// what lets a CONNECT scan tell a refused port from an unreachable host.
fn tinyproxy() -> Option<Proxy> {
    let Some(program) = find("tinyproxy") else {
        skip_or_fail("tinyproxy is not installed (Debian package tinyproxy)");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    // tinyproxy drops to `nobody` when run as root, and must still read its files.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let port = closed_port();
    let page = dir.path().join("500.html");
    std::fs::write(&page, "<p>{detail}</p><p>{error}</p>\n").unwrap();
    let user = if is_root() {
        "User nobody\nGroup nogroup\n"
    } else {
        ""
    };
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 200\nAllow 127.0.0.1\n\
             LogLevel Critical\nErrorFile 500 \"{page}\"\n{user}",
            page = page.display()
        ),
    )
    .unwrap();
    let conf = conf.display().to_string();
    Some(start(&program, &["-d", "-c", &conf], port, dir))
}

/// Port → (state, reason) of a scan of `addr`.
fn scan(addr: &str, ports: &str, extra: &[&str]) -> BTreeMap<u64, (String, String)> {
    let out = portolan()
        .args(["scan", addr, "-p", ports, "--ndjson", "-", "--no-history"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scan {extra:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ndjson(&out.stdout)
        .into_iter()
        .filter(|v| v.get("port").is_some() && v.get("state").is_some())
        .map(|v| {
            (
                v["port"].as_u64().unwrap(),
                (
                    v["state"].as_str().unwrap().to_string(),
                    v["reason"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// Listeners and closed ports, scanned directly and through `proxy`: the same state
/// for every port, and every reason a proxy's.
/// The direct and the proxied scan of the same ports agree, pair for pair. The
/// ports are on an address of this test alone (`own`: another test of this process
/// binds nothing there), so a port we call closed cannot be taken meanwhile by a
/// listener of a test running beside this one, as a released port of 127.0.0.1 can.
fn same_states_as_direct(proxy: &str, own: u8) {
    let addr = crate::util::own_loopback(own);
    let listeners: Vec<(TcpListener, u16)> = (0..5)
        .map(|_| {
            let l = TcpListener::bind((addr, 0)).expect("bind on the test's own address");
            let port = l.local_addr().expect("listener address").port();
            (l, port)
        })
        .collect();
    let mut ports: std::collections::BTreeSet<u16> = listeners.iter().map(|(_, p)| *p).collect();
    ports.extend(
        (40_000..40_040)
            .filter(|p| !ports.contains(p))
            .collect::<Vec<_>>(),
    );
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let addr = addr.to_string();
    let direct = scan(&addr, &list, &[]);
    let through = scan(&addr, &list, &["--proxy", proxy]);
    assert_eq!(direct.len(), ports.len());
    assert_eq!(through.len(), ports.len(), "{through:?}");
    let opened = through.values().filter(|(s, _)| s == "open").count();
    assert_eq!(opened, 5, "{through:?}");
    for (port, (state, reason)) in &direct {
        let (pstate, preason) = &through[port];
        assert_eq!(
            pstate, state,
            "port {port}: direct {reason}, through {proxy} {preason}"
        );
        assert!(preason.starts_with("proxy-"), "port {port}: {preason}");
    }
}

#[test]
fn socks5_scan_gives_the_direct_states() {
    let Some(p) = dante() else { return };
    same_states_as_direct(&format!("socks5://127.0.0.1:{}", p.port), 0);
}

#[test]
fn http_connect_scan_gives_the_direct_states() {
    let Some(p) = tinyproxy() else { return };
    same_states_as_direct(&format!("http://127.0.0.1:{}", p.port), 1);
}

/// A scan of the name `localhost` through `proxy`, which resolves names: the name
/// is not looked up here (the results carry it, with the stand-in address
/// 0.0.0.1), the proxy resolves it, and the states are those of 127.0.0.1.
fn names_go_to_the_proxy(proxy: &str) {
    let (_open, open) = listener();
    let closed = closed_port();
    let out = portolan()
        .args(["scan", "localhost", "-p", &format!("{open},{closed}")])
        .args(["--ndjson", "-", "--no-history", "--proxy", proxy])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<_> = ndjson(&out.stdout)
        .into_iter()
        .filter(|v| v.get("port").is_some())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for v in &lines {
        assert_eq!(v["hostname"], "localhost", "{v}");
        assert_eq!(v["addr"], "0.0.0.1", "resolved by the proxy, not here: {v}");
        let want = if v["port"] == open { "open" } else { "closed" };
        assert_eq!(v["state"], want, "{v}");
    }
}

#[test]
fn socks5h_scan_sends_the_target_name_to_the_proxy() {
    let Some(p) = dante() else { return };
    names_go_to_the_proxy(&format!("socks5h://127.0.0.1:{}", p.port));
}

#[test]
fn http_connect_scan_sends_the_target_name_to_the_proxy() {
    let Some(p) = tinyproxy() else { return };
    names_go_to_the_proxy(&format!("http://127.0.0.1:{}", p.port));
}

/// A one-connection server that greets, reads a line, and answers it; or an HTTP
/// server that answers one request.
fn greeter(http: bool) -> u16 {
    let (l, port) = listener();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if http {
            let mut buf = [0u8; 2048];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nfar side page\n");
        } else {
            let _ = s.write_all(b"hello from the far side\n");
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
        }
    });
    port
}

fn talk_through(proxy: &str) {
    let port = greeter(false);
    let out = portolan()
        .args(["connect", "--proxy", proxy, "localhost", &port.to_string()])
        .write_stdin("hi\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from the far side\n"
    );

    let closed = closed_port();
    let out = portolan()
        .args([
            "connect",
            "--proxy",
            proxy,
            "127.0.0.1",
            &closed.to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("connect 127.0.0.1:{closed} through")),
        "{err}"
    );
    assert!(err.trim_end().ends_with("refused"), "{err}");

    let port = greeter(true);
    let out = portolan()
        .args([
            "http",
            "--proxy",
            proxy,
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("far side page"));
}

#[test]
fn connect_and_http_through_socks5() {
    let Some(p) = dante() else { return };
    talk_through(&format!("socks5://127.0.0.1:{}", p.port));
    talk_through(&format!("socks5h://127.0.0.1:{}", p.port));
}

#[test]
fn connect_and_http_through_http_connect() {
    let Some(p) = tinyproxy() else { return };
    talk_through(&format!("http://127.0.0.1:{}", p.port));
}

#[test]
fn a_dead_proxy_is_one_error_not_filtered_ports() {
    let dead = closed_port();
    let out = portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1-2000",
            "--no-history",
            "--ndjson",
            "-",
        ])
        .args(["--proxy", &format!("socks5://127.0.0.1:{dead}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "proxy socks5://127.0.0.1:{dead}: cannot connect to it"
        )),
        "{err}"
    );
    let ports = ndjson(&out.stdout)
        .into_iter()
        .filter(|v| v.get("port").is_some())
        .count();
    assert_eq!(ports, 0, "no port gets a state from a dead proxy");
}

#[test]
fn proxy_flags_are_checked() {
    for (args, want) in [
        (&["--proxy", "socks4://h:1"][..], "a proxy is socks5://"),
        (
            &["--proxy", "socks5://127.0.0.1:1", "-sS"][..],
            "connect scan (-sT) only",
        ),
        (
            &[
                "--proxy",
                "socks5://127.0.0.1:1",
                "--proxy-concurrency",
                "0",
            ][..],
            "at least 1",
        ),
    ] {
        portolan()
            .args(["scan", "127.0.0.1", "-p", "1", "--no-history"])
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(want));
    }
}

/// An SSH-like greeter for any number of connections.
fn ssh_greeter() -> (TcpListener, u16) {
    let (l, port) = listener();
    let accepting = l.try_clone().unwrap();
    std::thread::spawn(move || {
        for conn in accepting.incoming() {
            let Ok(mut s) = conn else { return };
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        }
    });
    (l, port)
}

fn identify_through(proxy: &str, target: &str) {
    let (_l, port) = ssh_greeter();
    let out = portolan()
        .args([
            "scan",
            target,
            "-p",
            &port.to_string(),
            "-sV",
            "--no-history",
        ])
        .args(["--ndjson", "-", "--proxy", proxy])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"proxy-connected\""), "{text}");
    assert!(text.contains("OpenSSH"), "-sV through {proxy}: {text}");
    assert!(text.contains(&format!("\"hostname\":\"{target}\"")) || target == "127.0.0.1");
}

#[test]
fn service_probes_go_through_the_proxy_too() {
    if let Some(p) = dante() {
        identify_through(&format!("socks5://127.0.0.1:{}", p.port), "127.0.0.1");
        // A name the proxy resolves: the probes ask the proxy for the name too.
        identify_through(&format!("socks5h://127.0.0.1:{}", p.port), "localhost");
    }
    if let Some(p) = tinyproxy() {
        identify_through(&format!("http://127.0.0.1:{}", p.port), "127.0.0.1");
    }
}
