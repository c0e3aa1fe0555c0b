//! `portolan fingerprint`: stubs from `connect --hex` output, raw bytes and live
//! captures; the stub loads with `--fingerprints` and names its capture; the
//! fixture; `--scope`; and the one-line errors of a user's fingerprint files.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use crate::util::{ndjson, pid_loopback, portolan};

/// A hostile greeting with a version in it.
const GREETING: &[u8] = b"220 Acme FTPd (v 4.5.6) \x1b]0;pwned\x07\xff ready\r\n";

/// A server on `addr` that greets every connection with `banner`, or, with `ask`,
/// answers `banner` once it has read `ask`. Counts its connections.
fn server(
    addr: Ipv4Addr,
    banner: &'static [u8],
    ask: Option<&'static [u8]>,
) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind((addr, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = [0; 512];
                if let Some(ask) = ask {
                    while !got.windows(ask.len()).any(|w| w == ask) {
                        match s.read(&mut buf) {
                            Ok(n @ 1..) => got.extend_from_slice(&buf[..n]),
                            _ => return,
                        }
                    }
                }
                let _ = s.write_all(banner);
                while matches!(s.read(&mut buf), Ok(1..)) {}
            });
        }
    });
    (port, count)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// No raw control byte from the server reaches the terminal.
fn assert_safe(bytes: &[u8]) {
    assert!(
        !bytes
            .iter()
            .any(|b| (b.is_ascii_control() && !b"\n".contains(b)) || *b >= 0x80),
        "{}",
        String::from_utf8_lossy(bytes)
    );
}

fn one_line_usage_error(out: &std::process::Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

/// The whole workflow: `connect --hex` captures, `fingerprint` writes the stub, and
/// `scan -sV --fingerprints` with the stub names the server with its version.
#[test]
fn fingerprint_round_trip_from_connect_hex_to_scan() {
    let addr = pid_loopback();
    let (port, _) = server(addr, GREETING, None);
    let dir = tempdir();
    let out = portolan()
        .args([
            "connect",
            &addr.to_string(),
            &port.to_string(),
            "--hex",
            "-q",
            "1",
        ])
        .write_stdin("")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let hex = dir.path().join("capture.hex");
    fs::write(&hex, &out.stdout).unwrap();
    let fps = dir.path().join("fps");
    fs::create_dir(&fps).unwrap();
    let out = portolan()
        .args(["fingerprint", hex.to_str().unwrap(), "--fixture"])
        .arg(dir.path().join("fixtures"))
        .args(["--name", "acme-ftpd-4.5.6", "-o"])
        .arg(fps.join("acme.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_safe(&out.stderr);
    let stub = fs::read_to_string(fps.join("acme.toml")).unwrap();
    assert_safe(stub.as_bytes());
    assert!(stub.contains("probes = [\"banner\"]"), "{stub}");
    assert!(stub.contains("version = \"$1\"  # 4.5.6"), "{stub}");
    assert_eq!(
        fs::read(dir.path().join("fixtures/acme-ftpd-4.5.6-banner.bin")).unwrap(),
        GREETING
    );
    let stub = stub.replace("product = \"TODO\"", "product = \"Acme FTPd\"");
    fs::write(
        fps.join("acme.toml"),
        stub.replace("service = \"TODO\"", "service = \"ftp\""),
    )
    .unwrap();
    let out = portolan()
        .args([
            "scan",
            "-sV",
            &addr.to_string(),
            "-p",
            &port.to_string(),
            "-oD",
            "-",
        ])
        .arg("--fingerprints")
        .arg(&fps)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let service = &ndjson(&out.stdout)[0]["service"];
    assert_eq!(service["name"], "ftp", "{service}");
    assert_eq!(service["product"], "Acme FTPd", "{service}");
    assert_eq!(service["version"], "4.5.6", "{service}");
    assert!(service.get("soft").is_none(), "{service}");
}

/// Issue 13: a greeting that names the service but no product is a soft match in
/// every format, not the `ftp?` of a port guess.
#[test]
fn fingerprint_without_a_product_is_a_soft_match_in_every_format() {
    let addr = pid_loopback();
    let (port, _) = server(addr, b"220 Some FTP server\r\n", None);
    let dir = tempdir();
    let xml = dir.path().join("scan.xml");
    let out = portolan()
        .args([
            "scan",
            "-sV",
            &addr.to_string(),
            "-p",
            &port.to_string(),
            "-oD",
            "-",
            "-oX",
        ])
        .arg(&xml)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let service = &ndjson(&out.stdout)[0]["service"];
    assert_eq!(
        (
            &service["name"],
            &service["soft"],
            &service["method"],
            &service["confidence"]
        ),
        // 7: a bare FTP greeting is below CONFIDENT, so that the probes after it can
        // still name the product (ProFTPD with `ServerIdent off`, corpus/).
        (&"ftp".into(), &true.into(), &"banner".into(), &7.into()),
        "{service}"
    );
    let xml = fs::read_to_string(xml).unwrap();
    assert!(
        xml.contains(r#"<service name="ftp" method="probed" conf="7">"#),
        "{xml}"
    );
    let out = portolan()
        .args(["scan", "-sV", &addr.to_string(), "-p", &port.to_string()])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let line = table.lines().find(|l| l.contains("open")).unwrap();
    assert!(line.contains(" ftp ") && !line.contains("ftp?"), "{table}");
}

#[test]
fn fingerprint_live_with_a_probe_and_the_fixture_it_writes() {
    let addr = pid_loopback();
    let (port, _) = server(
        addr,
        b"+PONG\r\n$10\r\nredis_version:7.2.4\r\n",
        Some(b"PING\r\n"),
    );
    let dir = tempdir();
    let out = portolan()
        .args([
            "fingerprint",
            &addr.to_string(),
            &port.to_string(),
            "--probe",
            "redis-ping",
            "--fixture",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stub = String::from_utf8(out.stdout).unwrap();
    assert!(stub.contains("probes = [\"redis-ping\"]"), "{stub}");
    assert!(stub.contains("# 7.2.4 in this capture"), "{stub}");
    let bin = dir.path().join("capture-redis-ping.bin");
    assert_eq!(
        fs::read(&bin).unwrap(),
        b"+PONG\r\n$10\r\nredis_version:7.2.4\r\n"
    );
    // The fixture is not overwritten.
    let again = portolan()
        .args(["fingerprint", "--raw"])
        .arg(&bin)
        .arg("--fixture")
        .arg(dir.path())
        .args(["--probe", "redis-ping"])
        .output()
        .unwrap();
    assert!(one_line_usage_error(&again).contains("exists"));
}

#[test]
fn fingerprint_live_banner_of_a_hostile_server_is_escaped() {
    let addr = pid_loopback();
    let (port, _) = server(addr, GREETING, None);
    let out = portolan()
        .args([
            "fingerprint",
            &addr.to_string(),
            &port.to_string(),
            "-w",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_safe(&out.stdout);
    assert_safe(&out.stderr);
    let stub = String::from_utf8(out.stdout).unwrap();
    assert!(
        stub.contains(r"pattern = '^220 Acme FTPd \(v ([\d.]+)\) \x1b\]0;pwned\x07\xff ready\r\n'"),
        "{stub}"
    );
}

#[test]
fn fingerprint_live_respects_the_scope() {
    let addr = pid_loopback();
    let (port, count) = server(addr, GREETING, None);
    let dir = tempdir();
    let scope = dir.path().join("scope.txt");
    fs::write(&scope, "127.0.0.1\n").unwrap();
    let out = portolan()
        .args([
            "fingerprint",
            &addr.to_string(),
            &port.to_string(),
            "--scope",
        ])
        .arg(&scope)
        .output()
        .unwrap();
    assert!(one_line_usage_error(&out).contains("outside the scope file"));
    assert_eq!(count.load(Ordering::SeqCst), 0);
    fs::write(&scope, format!("{addr}/32\n")).unwrap();
    let out = portolan()
        .args([
            "fingerprint",
            &addr.to_string(),
            &port.to_string(),
            "--scope",
        ])
        .arg(&scope)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn fingerprint_of_new_bytes_defines_the_probe_that_sends_them() {
    let dir = tempdir();
    let hex = "> 00000000  48 45 4c 4c 4f 0d 0a                              |HELLO..|\n\
               < 00000000  48 49 20 31 2e 30 0d 0a                           |HI 1.0..|\n";
    fs::write(dir.path().join("c.hex"), hex).unwrap();
    let fps = dir.path().join("fps");
    fs::create_dir(&fps).unwrap();
    let out = portolan()
        .current_dir(dir.path())
        .args([
            "fingerprint",
            "c.hex",
            "--probe",
            "hello",
            "-o",
            "fps/hello.toml",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stub = fs::read_to_string(fps.join("hello.toml")).unwrap();
    assert!(
        stub.contains("name = 'hello'\npayload = 'HELLO\\r\\n'"),
        "{stub}"
    );
    // Loaded with --fingerprints, the stub names the capture.
    fs::write(dir.path().join("a.bin"), b"HI 1.0\r\n").unwrap();
    let out = portolan()
        .current_dir(dir.path())
        .args([
            "fingerprint",
            "--raw",
            "a.bin",
            "--probe",
            "hello",
            "--fingerprints",
            "fps",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("the database names it TODO TODO 1.0"), "{err}");
}

#[test]
fn fingerprint_bad_input_is_one_line_and_exit_2() {
    let dir = tempdir();
    fs::write(dir.path().join("bad.hex"), "< 00000000  41  |A|\nnot hex\n").unwrap();
    fs::write(dir.path().join("empty.bin"), b"").unwrap();
    let run = |args: &[&str]| {
        portolan()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(one_line_usage_error(&run(&["fingerprint", "bad.hex"])).contains("bad.hex: line 2"));
    assert!(one_line_usage_error(&run(&["fingerprint", "--raw", "empty.bin"])).contains("nothing"));
    assert!(one_line_usage_error(&run(&[
        "fingerprint",
        "--raw",
        "empty.bin",
        "--probe",
        "nope"
    ]))
    .contains("no such probe"));
    assert!(
        one_line_usage_error(&run(&["fingerprint", "--raw", "missing.bin"]))
            .contains("cannot read")
    );
    assert!(one_line_usage_error(&run(&[
        "fingerprint",
        "--raw",
        "empty.bin",
        "--name",
        "../x"
    ]))
    .contains("--name"));
    assert_eq!(run(&["fingerprint"]).status.code(), Some(2));
}

/// Every kind of mistake in a user's fingerprint file: one line naming the file, the
/// line and the column, exit 2, for `fingerprint` and `scan -sV` alike.
#[test]
fn fingerprint_files_are_checked_at_load() {
    let fp = "[[fingerprint]]\nservice = 'x'\n";
    let cases: &[(String, &str)] = &[
        (
            format!("{fp}pattern = '^x'\nservis = 'a'\n"),
            "u.toml:4:1: unknown field `servis`",
        ),
        (
            format!("{fp}pattern = '^ab(cd'\n"),
            "u.toml:3:15: pattern: unclosed group",
        ),
        (
            format!("{fp}pattern = '^X (\\d+) (\\d+)'\nversion = '$3'\n"),
            "u.toml:4:12: version: `$3` but the pattern has 2 groups",
        ),
        (
            format!("{fp}pattern = 'a'\nprobes = ['nope']\n"),
            "u.toml:4:11: unknown probe `nope`",
        ),
        (
            format!("{fp}pattern = ''\n"),
            "u.toml:3:11: the pattern is empty",
        ),
        (
            "[[probe]]\nname = 'tls'\nkind = 'tls'\nrarity = 1\n".to_string(),
            "u.toml:2:8: probe `tls` is defined twice",
        ),
        (
            "[[probe]]\nname = 'p'\npayload = 'x'\nrarity = 12\n".to_string(),
            "u.toml:4:10: rarity 12",
        ),
        (
            format!("{fp}product = 'X'\npattern = 'a'\nsoft = true\n"),
            "u.toml:5:8: a soft fingerprint names no product",
        ),
        ("[[fingerprint]\n".to_string(), "u.toml:1:"),
    ];
    fs::write(
        std::env::temp_dir().join(format!("portolan-fp-{}.bin", std::process::id())),
        b"x",
    )
    .unwrap();
    for (text, want) in cases {
        let dir = tempdir();
        fs::write(dir.path().join("u.toml"), text).unwrap();
        let out = portolan()
            .args(["fingerprint", "--raw"])
            .arg(std::env::temp_dir().join(format!("portolan-fp-{}.bin", std::process::id())))
            .arg("--fingerprints")
            .arg(dir.path())
            .output()
            .unwrap();
        let err = one_line_usage_error(&out);
        let want = format!("portolan: --fingerprints: {}/{want}", dir.path().display());
        assert!(err.starts_with(&want), "{err}\nwanted: {want}");
    }
    let dir = tempdir();
    fs::write(dir.path().join("u.toml"), &cases[1].0).unwrap();
    let out = portolan()
        .args(["scan", "-sV", "127.0.0.1", "-p", "1", "--fingerprints"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(one_line_usage_error(&out).contains("u.toml:3:15: pattern: unclosed group"));
}
