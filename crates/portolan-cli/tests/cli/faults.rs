//! Fault tests (issue 9): the scan under faults a user's machine will have sooner
//! or later, each in a network namespace the test makes, where the ground truth is
//! known exactly (listeners on [`OPEN`], every other port closed): a file-descriptor
//! limit of 64, a route that goes away mid-scan, a history database that is locked,
//! read-only, on a full disk or corrupt, an output on a full disk, and SIGINT or
//! SIGTERM at random moments followed by `--resume`.
//!
//! The rule under test: a fault costs what it touches and nothing else. A history
//! failure is a warning and every report is finished; an output that fails is named
//! and the others are finished; an interrupted run leaves valid reports and resumes
//! to the exact answer. The full disks are small tmpfs mounts made inside a private
//! mount namespace (`unshare --mount`) that ends with the scan, so nothing is left
//! mounted whatever happens to the test.
//!
//! Root only (namespaces, mounts, `chattr`); otherwise [`skip_or_fail`]. Every wait
//! is on an event (a line of output, a process's exit), never a fixed sleep.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use serde_json::Value;

use crate::util::{bin, have_tool, skip_or_fail, Namespace, ReadOnlyDir};

/// The ports with a listener in each test's namespace; all others are closed.
const OPEN: [u16; 4] = [22, 4242, 9000, 20_000];

/// A namespace with listeners on [`OPEN`] (kept alive by the returned listeners).
fn lab(label: &str) -> Option<(Namespace, Vec<TcpListener>)> {
    let ns = Namespace::create(label)?;
    let listeners = OPEN.iter().map(|&p| ns.listen(p)).collect();
    Some((ns, listeners))
}

/// `portolan ARGS` inside `ns`, with its default history in `dir`.
fn in_ns(ns: &Namespace, dir: &Path) -> StdCommand {
    let mut cmd = StdCommand::new("ip");
    cmd.args(["netns", "exec", ns.name()])
        .arg(bin())
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("xdg"));
    cmd
}

fn run(cmd: &mut StdCommand) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run the binary")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The NDJSON report `text` by port: every line must parse, no port twice.
fn states(text: &str) -> HashMap<u16, (String, String)> {
    let mut states = HashMap::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("an NDJSON line does not parse ({e}): {line:?}"));
        let port = u16::try_from(v["port"].as_u64().unwrap()).unwrap();
        let state = (
            v["state"].as_str().unwrap().to_owned(),
            v["reason"].as_str().unwrap_or_default().to_owned(),
        );
        assert!(states.insert(port, state).is_none(), "port {port} twice");
    }
    states
}

/// The ground truth of `1..=last` in a [`lab`] namespace.
fn truth(port: u16) -> (&'static str, &'static str) {
    if OPEN.contains(&port) {
        ("open", "syn-ack")
    } else {
        ("closed", "conn-refused")
    }
}

/// A complete JSON summary of ports `1..=last`: (complete, open, closed).
fn counts(last: u16) -> (bool, u64, u64) {
    let open = OPEN.iter().filter(|&&p| p <= last).count() as u64;
    (true, open, u64::from(last) - open)
}

/// `report` (NDJSON) holds exactly the ground truth of ports `1..=last`.
fn assert_exact(report: &str, last: u16, what: &str) {
    let states = states(report);
    assert_eq!(states.len(), usize::from(last), "{what}: every port once");
    for port in 1..=last {
        let (state, reason) = &states[&port];
        assert_eq!(
            (state.as_str(), reason.as_str()),
            truth(port),
            "{what}: port {port}"
        );
    }
}

/// `xmllint --noout` accepts the file.
fn assert_xml(path: &Path, what: &str) {
    let o = run(StdCommand::new("xmllint").arg("--noout").arg(path));
    assert!(
        o.status.success(),
        "{what}: {} is not well-formed: {}",
        path.display(),
        stderr(&o)
    );
}

/// The JSON report at `path` parses; its summary's `complete`, and its counts of
/// open and closed ports.
fn json_summary(path: &Path, what: &str) -> (bool, u64, u64) {
    let doc: Value = serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{what}: {} does not parse: {e}", path.display()));
    let s = &doc["summary"];
    let count = |state: &str| {
        s["counts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["state"] == state)
            .map(|c| c["count"].as_u64().unwrap())
            .sum()
    };
    (s["complete"] == true, count("open"), count("closed"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A runnable root check plus the tools these tests call.
fn tools() -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip_or_fail("fault tests need root");
        return false;
    }
    have_tool("xmllint") && have_tool("unshare")
}

#[test]
fn a_limit_of_64_file_descriptors_still_scans_the_full_range_exactly() {
    if !tools() || !have_tool("prlimit") {
        return;
    }
    let Some((ns, _l)) = lab("fd64") else { return };
    let dir = tempfile::tempdir().unwrap();
    // Soft and hard limit both 64: the scanner cannot raise it.
    let mut cmd = StdCommand::new("prlimit");
    cmd.args(["--nofile=64:64", "--", "ip", "netns", "exec", ns.name()])
        .arg(bin())
        .args([
            "scan",
            "127.0.0.1",
            "-p-",
            "-oD",
            "-",
            "--no-progress",
            "--no-history",
        ])
        .current_dir(dir.path());
    let o = run(&mut cmd);
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    assert_exact(
        &String::from_utf8_lossy(&o.stdout),
        u16::MAX,
        "ulimit -n 64",
    );
}

/// A listener on `addr:port` inside `ns`, accepting forever.
fn listen_on(ns: &Namespace, addr: &str, port: u16) -> TcpListener {
    use std::os::fd::AsFd;
    let path = format!("/var/run/netns/{}", ns.name());
    let addr = addr.to_owned();
    let l = std::thread::spawn(move || {
        let file = std::fs::File::open(path).unwrap();
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        TcpListener::bind((addr.as_str(), port)).unwrap()
    })
    .join()
    .unwrap();
    let clone = l.try_clone().unwrap();
    std::thread::spawn(move || for _ in clone.incoming() {});
    l
}

#[test]
fn a_route_removed_mid_scan_leaves_the_rest_filtered_with_a_reason() {
    if !tools() {
        return;
    }
    let (Some(scanner), Some(target)) = (Namespace::create("rt-a"), Namespace::create("rt-b"))
    else {
        return;
    };
    let pid = std::process::id();
    let (va, vb) = (format!("pfa{pid}"), format!("pfb{pid}"));
    let linked = StdCommand::new("ip")
        .args([
            "link",
            "add",
            &va,
            "netns",
            scanner.name(),
            "type",
            "veth",
            "peer",
            "name",
        ])
        .args([&vb, "netns", target.name()])
        .status()
        .is_ok_and(|s| s.success())
        && scanner.exec(&["ip", "addr", "add", "10.77.0.1/24", "dev", &va])
        && scanner.exec(&["ip", "link", "set", &va, "up"])
        && target.exec(&["ip", "addr", "add", "10.77.0.2/24", "dev", &vb])
        && target.exec(&["ip", "link", "set", &vb, "up"]);
    if !linked {
        skip_or_fail("cannot make a veth pair between two namespaces");
        return;
    }
    let _l: Vec<_> = OPEN
        .iter()
        .map(|&p| listen_on(&target, "10.77.0.2", p))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = in_ns(&scanner, dir.path());
    cmd.args([
        "scan",
        "10.77.0.2",
        "-p",
        "1-20000",
        "--max-rate",
        "10000",
        "--seed",
        "3",
    ])
    .args(["-oD", "-", "--no-progress", "--no-history"])
    .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut before = String::new();
    for _ in 0..2000 {
        assert!(
            out.read_line(&mut before).unwrap() > 0,
            "the scan ended early"
        );
    }
    assert!(
        scanner.exec(&["ip", "route", "del", "10.77.0.0/24"]),
        "route del"
    );
    let mut after = String::new();
    out.read_to_string(&mut after).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "the scan completes");
    for (port, (state, reason)) in states(&before) {
        assert_eq!(
            (state.as_str(), reason.as_str()),
            truth(port),
            "port {port} before"
        );
    }
    let all = states(&(before + &after));
    assert_eq!(all.len(), 20_000, "every port reported once");
    let filtered: Vec<_> = all.iter().filter(|(_, (s, _))| s == "filtered").collect();
    assert!(
        filtered.len() > 10_000,
        "the ports after the removal: {}",
        filtered.len()
    );
    for (port, (state, reason)) in &all {
        if state == "filtered" {
            assert!(
                ["net-unreach", "host-unreach", "no-response"].contains(&reason.as_str()),
                "port {port}: filtered with reason {reason:?}"
            );
        } else {
            assert_eq!(
                (state.as_str(), reason.as_str()),
                truth(*port),
                "port {port}"
            );
        }
    }
}

/// A scan of ports 1-3000 recorded in `db`, with an XML and an NDJSON report in
/// `dir`; `wrap` may run it under another command (`unshare ... sh -c`).
fn scan_with_db(ns: &Namespace, dir: &Path, db: &Path) -> Output {
    let mut cmd = in_ns(ns, dir);
    cmd.args([
        "scan",
        "127.0.0.1",
        "-p",
        "1-3000",
        "--no-progress",
        "-oX",
        "r.xml",
    ])
    .args(["-oD", "r.ndjson", "--db"])
    .arg(db);
    run(&mut cmd)
}

/// The reports of [`scan_with_db`] are whole, and the run was exact.
fn assert_reports_whole(dir: &Path, what: &str) {
    assert_exact(&read(&dir.join("r.ndjson")), 3000, what);
    assert_xml(&dir.join("r.xml"), what);
}

/// The scan went on without its history, said so once, and finished every report.
fn assert_warned(o: &Output, want: &str, dir: &Path, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(0), "{what}: {err}");
    assert!(
        err.contains("warning: scanning without history"),
        "{what}: {err}"
    );
    assert!(
        err.contains(want),
        "{what}: the message says {want:?}: {err}"
    );
    assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
    assert_reports_whole(dir, what);
}

/// A good database of one scan in `dir/h.db`.
fn good_db(ns: &Namespace, dir: &Path) -> PathBuf {
    let db = dir.join("h.db");
    let o = scan_with_db(ns, dir, &db);
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

#[test]
fn a_corrupt_history_is_a_warning_and_left_as_it_was() {
    if !tools() {
        return;
    }
    let Some((ns, _l)) = lab("dbbad") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bad.db");
    let garbage: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&db, &garbage).unwrap();
    let o = scan_with_db(&ns, dir.path(), &db);
    assert_warned(&o, "not a database", dir.path(), "corrupt");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        garbage,
        "the file is untouched"
    );
}

#[test]
fn a_read_only_history_is_a_warning() {
    if !tools() {
        return;
    }
    let Some((ns, _l)) = lab("dbro") else { return };
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let db = good_db(&ns, &ro);
    let Some(_guard) = ReadOnlyDir::new(&ro) else {
        return;
    };
    let o = scan_with_db(&ns, dir.path(), &db);
    assert_warned(&o, "h.db", dir.path(), "read-only");
}

#[test]
fn a_locked_history_is_a_warning_after_the_wait() {
    if !tools() || !have_tool("python3") {
        return;
    }
    let Some((ns, _l)) = lab("dblock") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = good_db(&ns, dir.path());
    // Another connection holds an exclusive lock until its stdin closes.
    let mut holder = StdCommand::new("python3")
        .args([
            "-c",
            "import sqlite3,sys\n\
             c=sqlite3.connect(sys.argv[1],isolation_level=None)\n\
             c.execute('PRAGMA locking_mode=EXCLUSIVE');c.execute('BEGIN EXCLUSIVE')\n\
             c.execute('CREATE TABLE IF NOT EXISTS held(x)')\n\
             print('locked',flush=True);sys.stdin.read()",
        ])
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "locked");
    let o = scan_with_db(&ns, dir.path(), &db);
    drop(holder.stdin.take());
    holder.wait().unwrap();
    assert_warned(&o, "locked", dir.path(), "locked");
}

/// `portolan ARGS` in `ns` under a private mount namespace with a tmpfs of `kib`
/// KiB on `dir/full`, into which `prepare` (a shell snippet, `$F` the mount) runs
/// first; the mount ends with the process.
fn on_full_disk(ns: &Namespace, dir: &Path, kib: u32, prepare: &str, args: &[&str]) -> Output {
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    let script = format!(
        "set -e; mount --make-rprivate / ; mount -t tmpfs -o size={kib}k tmpfs \"$F\"; {prepare}; \
         shift; exec ip netns exec \"$NS\" \"$@\""
    );
    let mut cmd = StdCommand::new("unshare");
    cmd.args(["--mount", "--", "sh", "-c", &script, "sh", "-"])
        .arg(bin())
        .args(args)
        .current_dir(dir)
        .env("F", &full)
        .env("NS", ns.name())
        .env("XDG_DATA_HOME", dir.join("xdg"));
    run(&mut cmd)
}

#[test]
fn a_history_on_a_full_disk_is_a_warning() {
    if !tools() {
        return;
    }
    let Some((ns, _l)) = lab("dbfull") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = good_db(&ns, dir.path());
    let prepare = format!(
        "cp '{}' \"$F/h.db\"; dd if=/dev/zero of=\"$F/fill\" bs=1k 2>/dev/null || true",
        db.display()
    );
    let args = [
        "scan",
        "127.0.0.1",
        "-p",
        "1-3000",
        "--no-progress",
        "-oX",
        "r.xml",
        "-oD",
        "r.ndjson",
        "--db",
        "full/h.db",
    ];
    let o = on_full_disk(&ns, dir.path(), 256, &prepare, &args);
    assert_warned(&o, "full", dir.path(), "full disk");
}

#[test]
fn an_output_on_a_full_disk_is_named_and_the_others_are_whole() {
    if !tools() {
        return;
    }
    let Some((ns, _l)) = lab("outfull") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "scan",
        "127.0.0.1",
        "-p",
        "1-3000",
        "--no-progress",
        "--no-history",
        "-oX",
        "r.xml",
        "-oJ",
        "r.json",
        "-oD",
        "full/r.ndjson",
    ];
    // 16 KiB: the NDJSON report of 3000 ports (a line each) does not fit.
    let o = on_full_disk(&ns, dir.path(), 16, "true", &args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("full/r.ndjson"),
        "the message names the file: {err}"
    );
    assert_xml(&dir.path().join("r.xml"), "output on a full disk");
    assert_eq!(
        json_summary(&dir.path().join("r.json"), "output on a full disk"),
        counts(3000)
    );
}

/// A small deterministic generator (xorshift64*), so each run's moments are
/// reproducible from the seed printed on failure.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// Ten scans of ports 1-10000 each sent `signal` after a random number of results
/// (seeded): each leaves well-formed reports and a run that `--resume` finishes
/// exactly.
fn interrupted_runs_resume_exactly(signal: &str, code: i32, seed: u64) {
    if !tools() {
        return;
    }
    let Some((ns, _l)) = lab(&format!("sig{}", signal.to_lowercase())) else {
        return;
    };
    let mut rng = Rng(seed);
    let mut interrupted = 0;
    for run_no in 0..10 {
        let what = format!("{signal} run {run_no} (seed {seed})");
        let dir = tempfile::tempdir().unwrap();
        let cut = 1 + rng.below(9000);
        let mut cmd = in_ns(&ns, dir.path());
        cmd.args(["scan", "127.0.0.1", "-p", "1-10000", "--max-rate", "20000"])
            .args(["--seed", &rng.below(1 << 30).to_string(), "--no-progress"])
            .args(["-oX", "r.xml", "-oJ", "r.json", "-oD", "-", "--db", "h.db"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let mut seen = 0;
        while seen < cut && out.read_line(&mut line).unwrap() > 0 {
            seen += 1;
        }
        // `ip netns exec` execs the scanner: the child's pid is portolan's.
        let _ = StdCommand::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status();
        let _ = out.read_to_string(&mut line);
        let status = child.wait().unwrap();
        // Every line written parses (the NDJSON report is stdout, read whole).
        states(&line);
        assert_xml(&dir.path().join("r.xml"), &what);
        let (complete, ..) = json_summary(&dir.path().join("r.json"), &what);
        if status.code() == Some(0) {
            // The scan ended before the signal came: nothing to resume.
            assert!(complete, "{what}");
            assert_exact(&line, 10_000, &what);
            continue;
        }
        assert_eq!(status.code(), Some(code), "{what}");
        assert!(!complete, "{what}: an interrupted report says so");
        interrupted += 1;
        let o =
            run(in_ns(&ns, dir.path()).args(["scan", "--resume", "--no-progress", "--db", "h.db"]));
        let resumed = format!("{what}, resumed");
        assert!(o.status.success(), "{resumed}: {}", stderr(&o));
        // The resumed run's reports hold the earlier sessions' results too.
        assert_exact(&String::from_utf8_lossy(&o.stdout), 10_000, &resumed);
        assert_xml(&dir.path().join("r.xml"), &resumed);
        assert_eq!(
            json_summary(&dir.path().join("r.json"), &resumed),
            counts(10_000),
            "{resumed}"
        );
    }
    assert!(
        interrupted >= 5,
        "{signal}: only {interrupted} of 10 runs were interrupted"
    );
}

#[test]
fn sigint_at_random_moments_leaves_valid_reports_that_resume_exactly() {
    interrupted_runs_resume_exactly("INT", 130, 0x5EED_0001);
}

#[test]
fn sigterm_at_random_moments_leaves_valid_reports_that_resume_exactly() {
    interrupted_runs_resume_exactly("TERM", 143, 0x5EED_0002);
}
