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

/// `merge` checks shards with endpoints like any pair: three shards of a target
/// list with endpoints merge with every pair answered once, and two of them are
/// refused as missing the third's pairs, endpoints included.
#[test]
fn merge_counts_endpoints_as_pairs_of_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (_l, open, closed) = open_and_closed();
    let list = dir.path().join("targets.txt");
    std::fs::write(
        &list,
        format!("127.0.0.1\n127.0.0.5:{open}\n127.0.0.6:{closed}\n[::1]:{open}\n"),
    )
    .unwrap();
    let mut files = Vec::new();
    for k in 1..=3 {
        let file = dir.path().join(format!("s{k}.ndjson"));
        portolan()
            .arg("scan")
            .arg("-iL")
            .arg(&list)
            .args(["--no-history", "-p", &format!("{open},{closed}")])
            .args(["--shard", &format!("{k}/3"), "-oD"])
            .arg(&file)
            .assert()
            .success();
        files.push(file);
    }
    let out = portolan()
        .arg("merge")
        .args(&files)
        .args(["-oD", "-"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pairs = ndjson(&out.stdout)
        .iter()
        .filter(|v| v.get("port").is_some())
        .count();
    assert_eq!(pairs, 5, "2 ports of 127.0.0.1 and 3 endpoints");
    let out = portolan()
        .arg("merge")
        .args(&files[..2])
        .args(["-oD", "-"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--max-open-per-host`: a host with 30 open ports is stopped after 5, and the
/// summary says how many pairs were not scanned.
#[test]
fn max_open_per_host_stops_and_says_how_many_pairs_were_skipped() {
    let listeners: Vec<_> = (0..30).map(|_| listener()).collect();
    let ports: Vec<String> = listeners.iter().map(|(_, p)| p.to_string()).collect();
    let out = portolan()
        .args(["scan", "127.0.0.1", "-p", &ports.join(","), "--no-history"])
        .args(["--max-open-per-host", "5", "-oD", "-"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = ndjson(&out);
    let open = lines.iter().filter(|v| v["state"] == "open").count();
    assert_eq!(open, 5, "{lines:?}");
    let mark = lines
        .iter()
        .find(|v| v.get("host").is_some())
        .expect("a host line");
    let results = lines.iter().filter(|v| v.get("port").is_some()).count() as u64;
    assert_eq!(
        mark["host"]["not-scanned"].as_u64().unwrap() + results,
        30,
        "every pair is a result or counted as not scanned"
    );
    let table = portolan()
        .args(["scan", "127.0.0.1", "-p", &ports.join(","), "--no-history"])
        .args(["--max-open-per-host", "5"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8_lossy(&table);
    assert!(
        table.contains("pairs of 1 host stopped at --max-open-per-host"),
        "{table}"
    );
    portolan()
        .args(["scan", "127.0.0.1", "--max-open-per-host", "0"])
        .assert()
        .code(2);
}

/// Acceptance 3 in a namespace this test makes: an iptables REDIRECT sends every
/// TCP port of one address to one listener, so that host answers everything and
/// is marked all-open (canaries included); a normal host beside it is not.
#[test]
fn a_host_that_answers_every_port_is_marked_and_a_normal_one_is_not() {
    let Some(ns) = crate::util::Namespace::create("pipes") else {
        return;
    };
    let setup = [
        &["ip", "addr", "add", "10.77.0.1/32", "dev", "lo"][..],
        &["ip", "addr", "add", "10.77.0.2/32", "dev", "lo"],
        &[
            "iptables",
            "-t",
            "nat",
            "-A",
            "OUTPUT",
            "-d",
            "10.77.0.1",
            "-p",
            "tcp",
            "-j",
            "REDIRECT",
            "--to-ports",
            "5555",
        ],
    ];
    for cmd in setup {
        if !ns.exec(cmd) {
            crate::util::skip_or_fail(&format!("cannot set up the namespace: {cmd:?}"));
            return;
        }
    }
    // The one listener behind every port of 10.77.0.1, and two real services of
    // the normal host (bound on the namespace's loopback addresses).
    let _all = ns_listener(&ns, "0.0.0.0:5555");
    let _ssh = ns_listener(&ns, "10.77.0.2:22");
    let _web = ns_listener(&ns, "10.77.0.2:80");
    let dir = tempfile::tempdir().unwrap();
    let (xml, json) = (dir.path().join("s.xml"), dir.path().join("s.json"));
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns.name()])
        .arg(crate::util::bin())
        .args([
            "scan",
            "10.77.0.1",
            "10.77.0.2",
            "-p",
            "1-400",
            "--no-history",
        ])
        .args(["-oD", "-", "-oX"])
        .arg(&xml)
        .arg("-oJ")
        .arg(&json)
        .env("XDG_DATA_HOME", crate::util::data_home())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The mark keeps the XML valid against nmap's DTD and the document against our schema.
    crate::formats::xmllint(&xml);
    assert!(std::fs::read_to_string(&xml)
        .unwrap()
        .contains(r#"<script id="all-open""#));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(crate::formats::schema_errors(&doc), Vec::<String>::new());
    assert_eq!(
        doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["all-open"] == true)
            .count(),
        1
    );
    let lines = ndjson(&out.stdout);
    let marks: Vec<_> = lines.iter().filter(|v| v.get("host").is_some()).collect();
    assert_eq!(marks.len(), 1, "{marks:?}");
    let m = &marks[0]["host"];
    assert_eq!(m["addr"], "10.77.0.1");
    assert_eq!(m["all-open"], true);
    assert_eq!(m["all-open-reason"], "wildcard");
    let canaries = m["canaries"].as_array().unwrap();
    assert_eq!(canaries.len(), 3);
    assert!(
        canaries.iter().all(|c| c.as_u64().unwrap() > 400),
        "{canaries:?}"
    );
    let open_on = |a: &str| {
        lines
            .iter()
            .filter(|v| v["addr"] == a && v["state"] == "open")
            .count()
    };
    assert_eq!(open_on("10.77.0.1"), 400, "its ports are still reported");
    assert_eq!(open_on("10.77.0.2"), 2);
}

/// A listener inside `ns` that accepts (and closes) every connection, so its
/// backlog never fills.
fn ns_listener(ns: &crate::util::Namespace, addr: &str) -> std::net::TcpListener {
    use std::os::fd::AsFd;
    let path = format!("/var/run/netns/{}", ns.name());
    let addr = addr.to_owned();
    let l = std::thread::spawn(move || {
        let file = std::fs::File::open(path).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        std::net::TcpListener::bind(addr).unwrap()
    })
    .join()
    .unwrap();
    let clone = l.try_clone().unwrap();
    std::thread::spawn(move || for _ in clone.incoming() {});
    l
}

/// A script the test writes: it saves its stdin and environment where told. No
/// shell of portolan's runs it (the kernel does, from its `#!` line).
fn recorder(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("record");
    std::fs::write(
        &script,
        "#!/bin/sh\nout=\"$1/$PORTOLAN_ADDR-$PORTOLAN_PORT-$PORTOLAN_PROTO\"\ncat > \"$out.json\"\necho \"$@\" > \"$out.args\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn on_open_runs_a_command_per_open_port_with_the_result_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let script = recorder(dir.path());
    let (_a, open1) = listener();
    let (_b, open2) = listener();
    let closed = crate::util::closed_port();
    let cmd = format!(
        "{} '{}' 'two words'",
        script.display(),
        dir.path().display()
    );
    let out = portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &format!("{open1},{open2},{closed}"),
        ])
        .args([
            "--no-history",
            "--on-open",
            &cmd,
            "--on-open-concurrency",
            "2",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--on-open: 2 commands run, 0 failed"), "{err}");
    for port in [open1, open2] {
        let base = dir.path().join(format!("127.0.0.1-{port}-tcp"));
        let file =
            |ext: &str| std::fs::read_to_string(format!("{}.{ext}", base.display())).unwrap();
        let json: serde_json::Value = serde_json::from_str(&file("json")).unwrap();
        assert_eq!(
            (json["port"].as_u64(), json["state"].as_str()),
            (Some(u64::from(port)), Some("open"))
        );
        let args = file("args");
        assert!(
            args.ends_with("two words\n"),
            "quoted words stay one argument: {args}"
        );
    }
    assert!(!dir
        .path()
        .join(format!("127.0.0.1-{closed}-tcp.json"))
        .exists());
}

/// A hostile banner reaches the command as JSON on stdin, never as a command: with
/// or without --on-open-shell, the `$(...)`, backquotes and `;` in it run nothing.
#[test]
fn a_hostile_banner_cannot_inject_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let pwned = dir.path().join("pwned");
    let banner: &'static str = Box::leak(
        format!(
            "SSH-2.0-x$(touch {p})`touch {p}`;touch {p}\r\n",
            p = pwned.display()
        )
        .into_boxed_str(),
    );
    let (port, _l) = speaker("127.0.0.1:0", banner.as_bytes());
    let script = recorder(dir.path());
    let plain = format!("{} '{}'", script.display(), dir.path().display());
    let shell = format!("cat > '{}/shell.json'", dir.path().display());
    for (cmd, shell_flag) in [(plain.as_str(), false), (shell.as_str(), true)] {
        let mut c = portolan();
        c.args([
            "scan",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-sV",
            "--no-history",
        ])
        .args(["--on-open", cmd]);
        if shell_flag {
            c.arg("--on-open-shell");
        }
        let out = c.assert().success().get_output().clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("1 commands run, 0 failed"), "{err}");
    }
    assert!(!pwned.exists(), "the banner ran a command");
    let saved =
        std::fs::read_to_string(dir.path().join(format!("127.0.0.1-{port}-tcp.json"))).unwrap();
    let v: serde_json::Value = serde_json::from_str(&saved).unwrap();
    assert!(
        v["service"]["banner"].as_str().unwrap().contains("touch"),
        "{saved}"
    );
    assert!(std::fs::read_to_string(dir.path().join("shell.json"))
        .unwrap()
        .contains("touch"));
}

/// A command that fails, cannot start, or runs too long is reported and counted;
/// the scan goes on and succeeds.
#[test]
fn on_open_failures_are_reported_and_counted_never_fatal() {
    let (_a, open) = listener();
    for (cmd, extra, why) in [
        ("false", &[][..], "failed (exit status: 1)"),
        (
            "/nonexistent/portolan-pipes-cmd",
            &[][..],
            "cannot start the command",
        ),
        ("sleep 5", &["--on-open-timeout", "200ms"][..], "was killed"),
    ] {
        let out = portolan()
            .args([
                "scan",
                "127.0.0.1",
                "-p",
                &open.to_string(),
                "--no-history",
                "-oD",
                "-",
            ])
            .args(["--on-open", cmd])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("--on-open for 127.0.0.1:{open}/tcp: ")) && err.contains(why),
            "{cmd}: {err}"
        );
        assert!(err.contains("1 commands run, 1 failed"), "{err}");
        assert_eq!(ndjson(&out.stdout).len(), 1, "the scan's result is there");
    }
    let out = portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &open.to_string(),
            "--on-open",
            "echo 'unclosed",
        ])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unclosed quote"));
}

/// `--resume` does not run `--on-open` again for the open ports an earlier session
/// found (that session ran their commands, even when interrupted); the ports this
/// session finds get theirs. Over both sessions, each open port's command runs once.
#[test]
fn on_open_runs_once_per_open_port_across_a_resume() {
    let addr = crate::util::own_loopback(11);
    let _first = std::net::TcpListener::bind((addr, 5000)).unwrap();
    let _last = std::net::TcpListener::bind((addr, 8999)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ran.log");
    let db = dir.path().join("h.db");
    let cmd = format!("echo \"$PORTOLAN_PORT\" >> '{}'", log.display());
    let mut scan = crate::util::portolan_std();
    scan.args(["scan", &addr.to_string(), "-p", "5000-8999", "-r"])
        .args(["--max-rate", "1000", "--no-progress", "-oD", "-"])
        .args(["--on-open-shell", "--on-open", &cmd, "--db"])
        .arg(&db);
    // Sequential order: the first line is port 5000, open; 8999 is 4 s away.
    let running = crate::util::spawn_ready(scan);
    assert!(running.first.contains("\"port\":5000"), "{}", running.first);
    running.signal("INT");
    assert_eq!(running.wait_collected().0, Some(130));
    let ran = || -> Vec<String> {
        let mut ports: Vec<String> = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        ports.sort();
        ports
    };
    assert_eq!(
        ran(),
        ["5000"],
        "the interrupted session ran its port's command"
    );
    let out = portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--on-open: 1 commands run, 0 failed"), "{err}");
    assert_eq!(ran(), ["5000", "8999"], "each open port's command once");
}

/// `--resume` of a scan of endpoints: the answered bitmaps cover the endpoints'
/// ports, so the resumed run probes only the endpoints not answered, and the two
/// sessions together report each endpoint once.
#[test]
fn an_interrupted_scan_of_endpoints_resumes_exactly() {
    let pid = std::process::id();
    let addr = format!("127.{}.{}.2", 100 + pid % 100, (pid / 100) % 250);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("endpoints.txt");
    let words: Vec<String> = (20_000..24_000).map(|p| format!("{addr}:{p}")).collect();
    // Plus a host crossed with -p, to mix both kinds of pairs.
    std::fs::write(&list, format!("{}\n127.0.0.1\n", words.join("\n"))).unwrap();
    let db = dir.path().join("h.db");
    let csv = dir.path().join("part.csv");
    let mut cmd = crate::util::portolan_std();
    cmd.args(["scan", "-iL"])
        .arg(&list)
        .args([
            "-p",
            "1-200",
            "--max-rate",
            "3000",
            "--seed",
            "9",
            "--no-progress",
        ])
        .arg("--csv")
        .arg(&csv)
        .arg("-oJ")
        .arg(dir.path().join("part.json"))
        .args(["-oD", "-", "--db"])
        .arg(&db);
    let running = crate::util::spawn_ready(cmd);
    running.signal("INT");
    assert_eq!(running.wait_collected().0, Some(130));
    let rows = |path: &std::path::Path| -> Vec<(String, u16)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split(',').collect();
                (c[0].to_owned(), c[2].parse().unwrap())
            })
            .collect()
    };
    let first = rows(&csv).len();
    assert!(first > 0 && first < 4200, "interrupted part way: {first}");
    portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let mut all = rows(&csv);
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "no pair twice");
    assert_eq!(
        n, 4200,
        "4000 endpoints and 200 ports of 127.0.0.1, each once"
    );
    assert_eq!(all.iter().filter(|(a, _)| *a == addr).count(), 4000);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("part.json")).unwrap())
            .unwrap();
    let s = &doc["summary"];
    let new = s["probes_sent"].as_u64().unwrap() - s["retries"].as_u64().unwrap();
    assert_eq!(
        new,
        4200 - first as u64,
        "only the pairs not answered were probed"
    );
}
