//! Integration tests of `portolan scan` and `portolan demo`: the real binary against
//! listeners this test starts on 127.0.0.1, and its answers to bad usage.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::util::{bin, data_home, ndjson, open_and_closed, portolan, portolan_std};

fn states(lines: &[Value]) -> HashMap<u64, String> {
    lines
        .iter()
        .map(|v| {
            (
                v["port"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn reports_open_and_closed_with_reasons() {
    let (_l, open, closed) = open_and_closed();
    let out = portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &format!("{open},{closed}"),
            "-oD",
            "-",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines = ndjson(&out);
    assert_eq!(lines.len(), 2);
    for v in &lines {
        assert_eq!(v["addr"], "127.0.0.1");
        assert_eq!(v["proto"], "tcp");
        assert!(v["rtt_ms"].is_number());
        if v["port"] == open {
            assert_eq!(
                (v["state"].as_str(), v["reason"].as_str()),
                (Some("open"), Some("syn-ack"))
            );
        } else {
            assert_eq!(
                (v["state"].as_str(), v["reason"].as_str()),
                (Some("closed"), Some("conn-refused"))
            );
        }
    }
}

#[test]
fn table_is_the_default_and_open_filters() {
    let (_l, open, closed) = open_and_closed();
    portolan()
        .args(["scan", "127.0.0.1", "-p", &format!("{open},{closed}")])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{open}/tcp")))
        .stdout(predicate::str::contains("conn-refused"))
        .stdout(predicate::str::contains("Scanned 1 host"));
    portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &format!("{open},{closed}"),
            "--open",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{open}/tcp")))
        .stdout(predicate::str::contains(format!("{closed}/tcp")).not());
}

#[test]
fn host_names_are_kept() {
    let (_l, open, _) = open_and_closed();
    let out = portolan()
        .args(["scan", "localhost", "-p", &open.to_string(), "-oD", "-"])
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    assert!(lines
        .iter()
        .any(|v| v["hostname"] == "localhost" && v["addr"] == "127.0.0.1" && v["state"] == "open"));
}

#[test]
fn target_files_and_exclusions() {
    let (_l, open, _) = open_and_closed();
    let mut list = tempfile::NamedTempFile::new().unwrap();
    writeln!(list, "# lab hosts\n127.0.0.1 127.0.0.2  # two\n\n127.0.0.3").unwrap();
    let out = portolan()
        .args([
            "scan",
            "-iL",
            list.path().to_str().unwrap(),
            "--exclude",
            "127.0.0.2",
            "-p",
            &open.to_string(),
            "-oD",
            "-",
        ])
        .assert()
        .success();
    let mut addrs: Vec<String> = ndjson(&out.get_output().stdout)
        .iter()
        .map(|v| v["addr"].as_str().unwrap().to_owned())
        .collect();
    addrs.sort();
    assert_eq!(addrs, ["127.0.0.1", "127.0.0.3"]);
}

#[test]
fn a_low_file_limit_still_gives_exact_results() {
    let (_l, open, _) = open_and_closed();
    let script = format!(
        "ulimit -n 256 && exec {} scan 127.0.0.1 -p- -oD - --no-progress",
        bin().display()
    );
    let out = Command::new("sh")
        .env("XDG_DATA_HOME", data_home())
        .args(["-c", &script])
        .timeout(Duration::from_mins(2))
        .assert()
        .success();
    let lines = ndjson(&out.get_output().stdout);
    assert_eq!(lines.len(), 65535, "every port reported exactly once");
    let s = states(&lines);
    assert_eq!(s.len(), 65535);
    assert_eq!(s[&u64::from(open)], "open");
    assert!(
        s.values().all(|st| st != "filtered"),
        "loopback answers every port"
    );
}

#[test]
fn same_seed_same_order() {
    let (_l, open, _) = open_and_closed();
    let run = || {
        let out = portolan()
            .args([
                "scan",
                "127.0.0.1",
                "-p",
                &format!("1-200,{open}"),
                "--seed",
                "7",
                "--max-host-concurrency",
                "1",
                "-oD",
                "-",
            ])
            .assert()
            .success();
        ndjson(&out.get_output().stdout)
            .iter()
            .map(|v| v["port"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.windows(2).any(|w| w[0] > w[1]), "the order is shuffled");
}

#[test]
fn bad_usage_is_one_line_and_exit_2() {
    let cases: &[&[&str]] = &[
        &["scan", "127.0.0.1", "-p", "0"],
        &["scan", "127.0.0.1", "-p", "100-10"],
        &["scan", "127.0.0.1", "-p", "70000"],
        &["scan", "127.0.0.1", "-p", "http"],
        &["scan", "not a host"],
        &["scan", "10.0.0.0/8"],
        &["scan", "2001:db8::/64"],
        &["scan", "127.0.0.1", "--top-ports", "0"],
        &["scan", "127.0.0.1", "-iL", "/nonexistent/targets"],
        &[
            "scan",
            "127.0.0.1",
            "--min-rtt-timeout",
            "2s",
            "--max-rtt-timeout",
            "1s",
        ],
        &["scan", "127.0.0.1", "--max-rtt-timeout", "0"],
        &["scan", "127.0.0.1", "--max-rate", "0"],
        &["scan", "127.0.0.1", "--concurrency", "0"],
        &["scan", "127.0.0.1", "-T", "9"],
        &["scan", "127.0.0.1", "--bogus"],
        &["scan"],
        &["scan", "127.0.0.1", "--exclude", "127.0.0.1"],
        &["scan", "no-such-host.invalid"],
    ];
    for args in cases {
        let out = portolan().args(*args).assert().code(2).get_output().clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?} printed {err:?}"
        );
        assert!(err.starts_with("portolan: "), "{args:?} printed {err:?}");
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    }
}

#[test]
fn scope_refuses_before_any_probe() {
    let mut scope = tempfile::NamedTempFile::new().unwrap();
    writeln!(scope, "# only this one\n127.0.0.1/32").unwrap();
    let path = scope.path().to_str().unwrap();
    portolan()
        .args(["scan", "127.0.0.2", "-p", "80", "--scope", path])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("outside the scope"));
    portolan()
        .args(["scan", "localhost", "-p", "1", "--scope", path, "-oD", "-"])
        .assert()
        .success();
}

#[test]
fn demo_shows_open_and_closed() {
    let out = portolan().arg("demo").assert().success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    // The ports the demo announces, then the scan's own result line for each.
    let announced: Vec<(u16, &str)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("port ")?;
            let mut words = rest.split_whitespace();
            Some((words.next()?.parse().ok()?, words.next()?))
        })
        .collect();
    let count = |state: &str| announced.iter().filter(|(_, s)| *s == state).count();
    assert_eq!((count("open"), count("closed")), (3, 3), "{text}");
    for (port, state) in &announced {
        let reason = if *state == "open" {
            "syn-ack"
        } else {
            "conn-refused"
        };
        let port_cell = format!("{port}/tcp");
        assert!(
            text.lines().any(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                cells.first() == Some(&port_cell.as_str())
                    && cells.get(1) == Some(state)
                    && cells.contains(&reason)
            }),
            "no result line `{port_cell} {state} ... {reason}` in {text}"
        );
    }
    assert!(
        text.contains("Scanned 1 host, 6 port results") && text.contains("3 open, 3 closed"),
        "{text}"
    );
    assert!(text.contains("SSH-2.0-portolan_demo"), "{text}");
}

/// Regression: the old form (`portolan ... | head` in a shell) checked the exit status
/// of `head`, so it passed even when portolan panicked. This one reads one line and
/// closes the pipe itself, then checks portolan's own status.
#[test]
fn closed_stdout_is_not_an_error() {
    let mut child = portolan_std()
        .args(["scan", "127.0.0.1", "-p", "1-3000", "-oD", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read one line");
    assert!(first.contains("\"port\""), "{first}");
    drop(out);
    let done = child.wait_with_output().expect("wait for the binary");
    let err = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(0), "portolan's own status; {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_lists_every_scan_option() {
    let out = portolan()
        .args(["scan", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8_lossy(&out));
}

#[test]
fn a_closed_stdout_still_closes_the_other_documents() {
    let (_l, open, _) = open_and_closed();
    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("r.xml");
    // Reads one byte and closes the pipe; portolan's own status is what counts.
    let mut child = portolan_std()
        .args(["scan", "127.0.0.1", "-p", &format!("1-3000,{open}"), "-oX"])
        .arg(&xml)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut out = child.stdout.take().expect("piped stdout");
    std::io::Read::read_exact(&mut out, &mut [0; 1]).expect("one byte of the table");
    drop(out);
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(
        text.trim_end().ends_with("</nmaprun>"),
        "XML left open: {}",
        &text[text.len().saturating_sub(200)..]
    );
}

#[test]
fn resume_refuses_options_it_would_ignore() {
    portolan()
        .args(["scan", "--resume", "-oX", "x.xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be given with it"));
}

#[test]
fn an_unusable_default_history_is_a_warning() {
    let (_l, open, _) = open_and_closed();
    portolan()
        .env("XDG_DATA_HOME", "/proc/portolan-no-such-dir")
        .args(["scan", "127.0.0.1", "-p", &open.to_string(), "-oD", "-"])
        .assert()
        .success()
        .stderr(predicate::str::contains("without history"))
        .stdout(predicate::str::contains("\"open\""));
}

/// Regression (issue 9, item 10): `portolan demo | head -1` panicked (exit 101). The
/// status checked is portolan's own, not the pipeline's (which is `head`'s).
#[test]
fn demo_into_a_closed_pipe_exits_0() {
    use std::io::BufRead;
    use std::process::Stdio;
    let bin = assert_cmd::cargo::cargo_bin("portolan");
    for read_first_line in [false, true] {
        let mut child = std::process::Command::new(&bin)
            .arg("demo")
            .env("XDG_DATA_HOME", data_home())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        if read_first_line {
            let mut line = String::new();
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .unwrap();
            assert!(line.starts_with("portolan demo"), "{line:?}");
        } else {
            drop(stdout);
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Whether `pid` has a handler for `signal` installed (`SigCgt` in /proc).
fn catches(pid: u32, signal: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
}

/// Ctrl-C while the scan still reads its targets (before any report exists) ends it
/// with exit 130 and every report written and closed: the handler is installed first
/// thing in `main`, not when the scan starts.
#[test]
fn an_early_ctrl_c_still_exits_130_with_closed_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (xml, json) = (dir.path().join("e.xml"), dir.path().join("e.json"));
    let mut child = portolan_std()
        .args([
            "scan",
            "-iL",
            "/dev/stdin",
            "-p",
            "1",
            "--no-history",
            "-oX",
        ])
        .arg(&xml)
        .arg("-oJ")
        .arg(&json)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the binary");
    // Readiness: the SIGINT handler is in place; the target list is still open.
    let started = std::time::Instant::now();
    while !catches(child.id(), 2) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no SIGINT handler"
        );
        std::thread::yield_now();
    }
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let mut targets = child.stdin.take().unwrap();
    targets.write_all(b"127.0.0.1\n").unwrap();
    drop(targets);
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["complete"], false, "{doc}");
    let xml = std::fs::read_to_string(&xml).unwrap();
    assert!(xml.trim_end().ends_with("</nmaprun>"), "{xml}");
}
