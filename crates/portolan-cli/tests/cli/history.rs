//! The history database from the real binary: `history`, `show` and `diff` over
//! scans of listeners on 127.0.0.1, `scan --resume` after a SIGINT compared with an
//! uninterrupted scan, and a `kill -9` in the middle of a scan.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::util::{listener, portolan, portolan_std, spawn_ready};

/// Listeners on fixed ports of `addr`; every bind must succeed, or the test would
/// compare scans of a port whose state it does not control.
fn listeners_in_range(addr: &str) -> Vec<TcpListener> {
    (15_000..16_000)
        .step_by(97)
        .map(|p| TcpListener::bind((addr, p)).unwrap_or_else(|e| panic!("bind {addr}:{p}: {e}")))
        .collect()
}

/// (port, state) for every row of a CSV file.
fn csv_states(path: &Path) -> BTreeMap<u16, String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[2].parse().unwrap(), cells[4].to_owned())
        })
        .collect()
}

fn summary(path: &Path) -> Value {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["summary"].clone()
}

#[test]
fn history_show_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let (_a, stays) = listener();
    let later = listener().1;
    let ports = format!("{stays},{later}");
    let scan = || {
        portolan()
            .args(["scan", "127.0.0.1", "-p", &ports, "--no-progress", "--db"])
            .arg(&db)
            .assert()
            .success()
    };
    scan();
    scan();
    let diff = portolan().args(["diff", "--db"]).arg(&db).assert().code(0);
    assert!(String::from_utf8_lossy(&diff.get_output().stdout).contains("0 changes"));
    let _b = TcpListener::bind(("127.0.0.1", later)).unwrap();
    scan();
    let diff = portolan().args(["diff", "--db"]).arg(&db).assert().code(1);
    let text = String::from_utf8_lossy(&diff.get_output().stdout).into_owned();
    assert!(
        text.contains(&format!("127.0.0.1 {later}/tcp: closed -> open")),
        "{text}"
    );
    let json = portolan()
        .args(["diff", "1", "3", "-oJ", "-", "--db"])
        .arg(&db)
        .assert()
        .code(1);
    let doc: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(doc["changes"][0]["kind"], "port");
    assert_eq!(doc["changes"][0]["now"], "open");
    let list = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    let list = String::from_utf8_lossy(&list.get_output().stdout).into_owned();
    assert_eq!(
        list.lines().filter(|l| l.contains("complete")).count(),
        3,
        "{list}"
    );
    let show = portolan()
        .args(["show", "3", "-o", "csv", "--db"])
        .arg(&db)
        .assert()
        .success();
    let rows = String::from_utf8_lossy(&show.get_output().stdout).into_owned();
    assert!(
        rows.contains(&format!("127.0.0.1,,{later},tcp,open"))
            && rows.contains(&format!("{stays},tcp,open")),
        "{rows}"
    );
    portolan()
        .args(["show", "1", "-o", "xml", "--db"])
        .arg(&db)
        .assert()
        .success();
}

#[test]
fn resume_after_sigint_equals_an_uninterrupted_scan() {
    let addr = crate::util::own_loopback(3).to_string();
    let _open = listeners_in_range(&addr);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let csv = dir.path().join("part.csv");
    let json = dir.path().join("part.json");
    let args = [
        "scan",
        addr.as_str(),
        "-p",
        "10000-29999",
        "--max-rate",
        "5000",
        "--seed",
        "7",
        "--no-progress",
    ];
    let mut cmd = portolan_std();
    cmd.args(args)
        .arg("--csv")
        .arg(&csv)
        .arg("-oJ")
        .arg(&json)
        .args(["-oD", "-", "--db"])
        .arg(&db);
    // Interrupted once the scan has written its first result, never after a fixed sleep.
    let running = spawn_ready(cmd);
    running.signal("INT");
    assert_eq!(running.wait_collected().0, Some(130));
    let first = csv_states(&csv);
    let s1 = summary(&json);
    assert_eq!(s1["complete"], false);
    assert!(
        !first.is_empty() && first.len() < 20_000,
        "interrupted part way: {}",
        first.len()
    );
    let list = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&list.get_output().stdout).contains("interrupted"));

    portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let resumed = csv_states(&csv);
    let s2 = summary(&json);
    assert_eq!(s2["complete"], true);
    let new_probes = s2["probes_sent"].as_u64().unwrap() - s2["retries"].as_u64().unwrap();
    assert_eq!(
        new_probes,
        20_000 - first.len() as u64,
        "only the unanswered pairs were probed"
    );

    let whole = dir.path().join("whole.csv");
    portolan()
        .args(args)
        .arg("--no-history")
        .arg("--csv")
        .arg(&whole)
        .assert()
        .success();
    let whole = csv_states(&whole);
    let differ: Vec<_> = whole
        .keys()
        .chain(resumed.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|p| resumed.get(p) != whole.get(p))
        .map(|p| (p, resumed.get(p), whole.get(p)))
        .collect();
    assert_eq!(resumed.len(), 20_000, "every pair once after the resume");
    assert!(
        differ.is_empty(),
        "same results as an uninterrupted scan; (port, resumed, whole) that differ: {differ:?}"
    );
    assert!(first.iter().all(|(p, s)| resumed.get(p) == Some(s)));
}

#[test]
fn kill_9_leaves_an_intact_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let mut cmd = portolan_std();
    cmd.args([
        "scan",
        "127.0.0.1",
        "-p",
        "1-40000",
        "--max-rate",
        "8000",
        "--no-progress",
        "-oD",
        "-",
        "--db",
    ])
    .arg(&db);
    // Killed once the scan has written its first result, never after a fixed sleep.
    let running = spawn_ready(cmd);
    running.signal("KILL");
    assert_eq!(running.wait_collected().0, None, "killed by the signal");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (ended, complete): (Option<i64>, bool) = conn
        .query_row("SELECT ended, complete FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(
        ended.is_none() && !complete,
        "the killed scan shows as incomplete"
    );
    drop(conn);
    let list = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&list.get_output().stdout).contains("unfinished"));
    portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let list = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&list.get_output().stdout).contains("complete"));
}

/// Waits (up to a minute) until `path` exists.
fn wait_for(path: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_mins(1);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn regression_resume_while_the_scan_still_runs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let json = dir.path().join("out.ndjson");
    let mut child = portolan_std()
        .args(["scan", "127.0.0.1", "-p", "1-40000", "--max-rate", "2000"])
        .args(["--no-progress", "--ndjson"])
        .arg(&json)
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Readiness: the run is recorded and held once its lock file exists.
    wait_for(&portolan_store::lock_path(&db, 1));
    let refused = portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert_eq!(err, "portolan: scan 1 is still running\n");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the scan was still running"
    );
    // (kill_9_leaves_an_intact_database resumes after a SIGKILL: the lock is gone.)
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The addresses of every result line of an NDJSON output.
fn ndjson_addrs(path: &Path) -> std::collections::BTreeSet<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["addr"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn regression_resume_scans_the_stored_targets_not_the_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let list = dir.path().join("targets.txt");
    let out = dir.path().join("out.ndjson");
    std::fs::write(&list, "127.0.0.1 # the first set\n").unwrap();
    let mut child = portolan_std()
        .args(["scan", "-iL"])
        .arg(&list)
        .args([
            "-p",
            "1-3000",
            "--max-rate",
            "1000",
            "--seed",
            "3",
            "--no-progress",
        ])
        .arg("--ndjson")
        .arg(&out)
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&portolan_store::lock_path(&db, 1));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(&list, "127.0.0.2\n").unwrap();
    let resumed = portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&resumed.get_output().stderr).into_owned();
    assert!(
        err.contains("changed or gone since scan 1 began: resuming with the 1 targets it stored"),
        "{err}"
    );
    assert_eq!(ndjson_addrs(&out), ["127.0.0.1".to_owned()].into());
    let history = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&history.get_output().stdout).into_owned();
    assert!(
        text.contains("complete") && text.contains("127.0.0.1"),
        "{text}"
    );
}

/// The NDJSON line of `port`.
fn ndjson_line(path: &Path, port: u16) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["port"] == port)
        .collect();
    assert_eq!(lines.len(), 1, "port {port} exactly once: {text}");
    lines.into_iter().next().unwrap()
}

#[test]
fn regression_resume_identifies_the_ports_an_interrupt_cut_off() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let (l, port) = listener();
    let accepted = Arc::new(AtomicUsize::new(0));
    let speak = Arc::new(AtomicBool::new(false));
    {
        let (accepted, speak) = (accepted.clone(), speak.clone());
        // Silent while the first session probes (so Ctrl-C cuts the probe off),
        // an SSH server once the test says so.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for mut s in l.incoming().flatten() {
                if speak.load(Ordering::SeqCst) {
                    let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
                }
                held.push(s);
                accepted.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let out = dir.path().join("out.ndjson");
    let mut child = portolan_std()
        .args(["scan", "127.0.0.1", "-p", &port.to_string(), "-sV"])
        .args(["--probe-timeout", "30s", "--no-progress", "--ndjson"])
        .arg(&out)
        .arg("--db")
        .arg(&db)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Readiness: the scan's connection, then the probe's.
    let deadline = std::time::Instant::now() + Duration::from_mins(1);
    while accepted.load(Ordering::SeqCst) < 2 {
        assert!(std::time::Instant::now() < deadline, "the probe never came");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(ndjson_line(&out, port).get("service").is_none(), "cut off");

    speak.store(true, Ordering::SeqCst);
    let resumed = portolan()
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&resumed.get_output().stderr).into_owned();
    assert!(err.contains("0 to go, 1 open ports to identify"), "{err}");
    let line = ndjson_line(&out, port);
    assert_eq!(line["service"]["name"], "ssh", "{line}");
    let shown = portolan()
        .args(["show", "-o", "ndjson", "--db"])
        .arg(&db)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&shown.get_output().stdout).into_owned();
    assert!(
        text.contains("OpenSSH"),
        "identified in the history too: {text}"
    );
    let list = portolan()
        .args(["history", "--db"])
        .arg(&db)
        .assert()
        .success();
    let list = String::from_utf8_lossy(&list.get_output().stdout).into_owned();
    assert!(list.contains("complete"), "{list}");
}
