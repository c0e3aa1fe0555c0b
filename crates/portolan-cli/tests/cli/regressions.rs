//! Regression tests of the CLI defects of issue 9, each named after its bug and run
//! against the real binary: checks that must hold before anything is opened, and
//! exit codes. The many small flag checks are unit tests in `src/request.rs` and
//! `src/args.rs`; these are the few that need a process.

use std::path::Path;

use crate::util::{portolan_in as portolan, portolan_std, spawn_ready, ReadOnlyDir};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// issue 9 item 1: `--db h.db -oN ./h.db` truncated the history before noticing.
#[test]
fn an_output_naming_the_database_leaves_it_untouched() {
    let dir = tempfile::tempdir().unwrap();
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--no-progress",
            "--db",
            "h.db",
        ])
        .assert()
        .success();
    std::os::unix::fs::symlink("h.db", dir.path().join("link.db")).unwrap();
    let before = std::fs::read(dir.path().join("h.db")).unwrap();
    for out in ["h.db", "./h.db", "link.db"] {
        let o = portolan(dir.path())
            .args(["scan", "127.0.0.1", "-p", "1", "--db", "h.db", "-oN", out])
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert!(stderr_of(&o).contains("history database"), "{out}");
        assert_eq!(
            std::fs::read(dir.path().join("h.db")).unwrap(),
            before,
            "{out}"
        );
    }
}

/// issue 9 item 2: an output that cannot be created left the others at 0 bytes.
#[test]
fn a_bad_output_leaves_the_other_outputs_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.json"), "precious").unwrap();
    let o = portolan(dir.path())
        .args(["scan", "127.0.0.1", "-p", "1", "--no-history"])
        .args(["-oJ", "keep.json", "-oA", "nodir/base"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(stderr_of(&o).contains("nodir/base"), "{}", stderr_of(&o));
    let kept = std::fs::read_to_string(dir.path().join("keep.json")).unwrap();
    assert_eq!(kept, "precious");
}

/// issue 9 item 3: the history kept relative output paths, so `--resume` from
/// another directory wrote there.
#[test]
fn the_history_records_absolute_output_paths() {
    let dir = tempfile::tempdir().unwrap();
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--no-progress",
            "--db",
            "h.db",
        ])
        .args(["-oX", "cw.xml"])
        .assert()
        .success();
    let db = rusqlite::Connection::open(dir.path().join("h.db")).unwrap();
    let argv: String = db
        .query_row("SELECT argv FROM runs", [], |r| r.get(0))
        .unwrap();
    let cw = dir.path().canonicalize().unwrap().join("cw.xml");
    let argv: Vec<String> = serde_json::from_str(&argv).unwrap();
    let xml_at = argv.iter().position(|a| a == "--xml").unwrap();
    assert_eq!(Path::new(&argv[xml_at + 1]).canonicalize().unwrap(), cw);
}

/// issue 9 item 15: `-iL -` looked for a file named `-`; a byte-order mark made
/// the first target unreadable.
#[test]
fn targets_from_stdin_with_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let o = portolan(dir.path())
        .args(["scan", "-iL", "-", "-p", "1", "--no-history", "-oD", "-"])
        .write_stdin("\u{feff}127.0.0.2\n127.0.0.3 # two\n")
        .assert()
        .success()
        .get_output()
        .clone();
    let lines = String::from_utf8_lossy(&o.stdout);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(lines.contains("127.0.0.2") && lines.contains("127.0.0.3"));
}

/// issue 9 item 12: `diff` exited 1, "changed", for every failure.
#[test]
fn diff_failures_exit_2_not_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.db"), "not a database at all").unwrap();
    for args in [
        &["diff", "--db", "junk.db"][..],
        &["diff", "--db", "missing.db"],
    ] {
        portolan(dir.path()).args(args).assert().code(2);
    }
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--no-progress",
            "--db",
            "h.db",
        ])
        .assert()
        .success();
    portolan(dir.path())
        .args(["diff", "1", "99", "--db", "h.db"])
        .assert()
        .code(2);
}

/// issue 9 item 18: `history --db /typo/x.db` created `/typo`.
#[test]
fn reading_the_history_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["history", "show", "diff"] {
        let o = portolan(dir.path())
            .args([cmd, "--db", "typo/x.db"])
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert!(stderr_of(&o).contains("typo/x.db"), "{cmd}");
        assert!(!dir.path().join("typo").exists(), "{cmd} created typo/");
    }
}

/// issue 9 item 18: `-oX /dev/full` failed without naming the file.
#[test]
fn a_full_disk_names_the_file() {
    assert!(
        Path::new("/dev/full").exists(),
        "/dev/full is missing: this test needs a Linux machine"
    );
    let dir = tempfile::tempdir().unwrap();
    let o = portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--no-history",
            "-oX",
            "/dev/full",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = stderr_of(&o);
    assert!(
        err.contains("/dev/full") && err.lines().count() == 1,
        "{err}"
    );
}

/// issue 9 item 18: SIGTERM exited 130, as Ctrl-C does, instead of 143.
#[test]
fn sigterm_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = portolan_std();
    cmd.current_dir(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p-",
            "--max-rate",
            "300",
            "--no-history",
        ])
        .args(["--no-randomize", "-oD", "-"]);
    // Ready once the first result is out.
    let running = spawn_ready(cmd);
    assert!(running.first.contains("\"port\""), "{}", running.first);
    running.signal("TERM");
    let (code, rest) = running.wait_collected();
    assert_eq!(code, Some(143), "{rest}");
}

/// The one line a refused command prints (exit 2).
fn refusal(dir: &Path, args: &[&str]) -> String {
    let o = portolan(dir)
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = stderr_of(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    err
}

/// issue 9 item 13: clap's context was cut to "(see --help)".
#[test]
fn clap_errors_keep_their_context() {
    let dir = tempfile::tempdir().unwrap();
    assert!(refusal(dir.path(), &["http"]).contains("<URL>"));
    assert!(refusal(dir.path(), &["scan", "x", "--banner-bytes", "5"]).contains("--identify"));
    assert!(refusal(dir.path(), &["scan", "--opne", "x"]).contains("'--open'"));
    assert!(refusal(dir.path(), &["conect"]).contains("'connect'"));
    let e = refusal(dir.path(), &["show", "-o", "yaml"]);
    assert!(e.contains("possible values") && e.contains("csv"), "{e}");
}

/// issue 9 item 14: `connect -w 2s` was refused while `scan` required the unit,
/// and a zero idle timeout was accepted.
#[test]
fn one_time_grammar_and_no_zero() {
    let dir = tempfile::tempdir().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    // Accepted: the connection is refused (exit 1), not the arguments (exit 2).
    portolan(dir.path())
        .args(["connect", "-w", "2s", "127.0.0.1", &port])
        .assert()
        .code(1);
    portolan(dir.path())
        .args(["scan", "127.0.0.1", "-p", &port, "--no-history"])
        .args(["--max-rtt-timeout", "2"])
        .assert()
        .success();
    for args in [
        &["connect", "-i", "0", "127.0.0.1", "1"][..],
        &["http", "--max-time", "0ms", "http://127.0.0.1/"],
        &["scan", "127.0.0.1", "--max-rtt-timeout", "0s"],
    ] {
        assert!(refusal(dir.path(), args).contains("zero"), "{args:?}");
    }
}

/// issue 9 item 15: nmap and netcat habits gave "unexpected argument '-s'".
#[test]
fn nmap_habits_work_or_say_what_to_use() {
    let dir = tempfile::tempdir().unwrap();
    for (habit, hint) in [("-sC", "-sV"), ("-v", "verbose"), ("-6", "IPv6")] {
        let e = refusal(dir.path(), &["scan", habit, "127.0.0.1"]);
        assert!(
            e.contains(hint) && !e.contains("unexpected"),
            "{habit}: {e}"
        );
    }
    // `-sn` works since issue 14; with a port scan type it says what to use.
    let e = refusal(dir.path(), &["scan", "-sn", "-sT", "127.0.0.1"]);
    assert!(e.contains("--discover"), "{e}");
    let e = refusal(dir.path(), &["scan", "127.0.0.1", "-p", "T:80,U:53"]);
    assert!(e.contains("U:"), "{e}");
    let e = refusal(dir.path(), &["scan", "fe80::1%lo"]);
    assert!(e.contains("zone"), "{e}");
    let o = portolan(dir.path())
        .args([
            "scan",
            "[::1]",
            "-p",
            "-3",
            "-r",
            "--reason",
            "-sT",
            "--no-history",
        ])
        .args(["-oD", "-"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    portolan(dir.path())
        .args(["connect", "-w", "2", "-q", "0", &addr])
        .write_stdin("")
        .assert()
        .success();
}

/// issue 9 item 18: "file is not a database: file is not a database".
#[test]
fn an_error_chain_says_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("junk.db"), "not a database at all").unwrap();
    let o = portolan(dir.path())
        .args(["history", "--db", "junk.db"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = stderr_of(&o);
    assert_eq!(err.matches("not a database").count(), 1, "{err}");
}

/// Issue 9 item 8: endless or huge list files, and a huge bad target.
#[test]
fn list_files_and_quoted_input_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, file, what) in [
        (
            "-iL",
            "/dev/zero",
            "target list /dev/zero: line 1: longer than 4096 bytes",
        ),
        (
            "--scope",
            "/dev/zero",
            "scope file /dev/zero: line 1: longer than 4096 bytes",
        ),
        (
            "--exclude-file",
            "/dev/urandom",
            "exclude file /dev/urandom: ",
        ),
    ] {
        let mut cmd = portolan(dir.path());
        cmd.args(["scan", "127.0.0.1", "--no-history", flag, file]);
        if flag == "-iL" {
            cmd = portolan(dir.path());
            cmd.args(["scan", "--no-history", flag, file]);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {file}");
        let err = stderr_of(&out);
        assert!(err.contains(what), "{flag} {file}: {err}");
        assert!(err.lines().count() == 1 && err.len() < 200, "{err}");
    }
    let huge = "x!".repeat(50_000); // under the kernel's 128 KiB for one argument
    let out = portolan(dir.path())
        .args(["scan", "--no-history", &huge])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.len() < 200 && err.contains("(100000 bytes)"),
        "{} bytes",
        err.len()
    );
}

/// issue 9 item 18: `scan --db /typo/x.db` made the directory `/typo` silently.
#[test]
fn scan_refuses_a_database_in_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = portolan(dir.path())
        .args(["scan", "127.0.0.1", "-p", "1", "--no-progress"])
        .args(["--db", "typo/x.db", "-oN", "out.txt"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(stderr_of(&o).contains("typo"), "{}", stderr_of(&o));
    assert!(!dir.path().join("typo").exists(), "typo/ was created");
    assert!(!dir.path().join("out.txt").exists(), "an output was opened");
    // The default database's directory is ours to make.
    portolan(dir.path())
        .args(["scan", "127.0.0.1", "-p", "1", "--no-progress"])
        .assert()
        .success();
    assert!(dir.path().join("xdg/portolan/history.db").is_file());
}

/// issue 9 item 18: `::/0` was counted as 2^128-1 hosts, and `--large` let it start.
#[test]
fn the_whole_ipv6_space_is_refused_with_its_true_size() {
    let dir = tempfile::tempdir().unwrap();
    for large in [false, true] {
        let mut cmd = portolan(dir.path());
        cmd.args(["scan", "::/0", "-p", "80", "--no-history", "--no-progress"]);
        if large {
            cmd.arg("--large");
        }
        let o = cmd.assert().code(2).get_output().clone();
        let err = stderr_of(&o);
        assert!(err.contains("2^128 hosts"), "{err}");
        assert!(
            !err.contains("340282366920938463463374607431768211455"),
            "{err}"
        );
    }
}

/// issue 9 item 18: a database in a read-only place could not be read by
/// `history` or `show` (SQLite could not make the WAL's shared-memory file).
#[test]
fn a_read_only_database_can_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            "1",
            "--no-progress",
            "--db",
            "ro/h.db",
        ])
        .assert()
        .success();
    for side in ["h.db-wal", "h.db-shm"] {
        let _ = std::fs::remove_file(ro.join(side));
    }
    let Some(_guard) = ReadOnlyDir::new(&ro) else {
        return;
    };
    let listed = portolan(dir.path())
        .args(["history", "--db", "ro/h.db"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("complete"),
        "{}",
        String::from_utf8_lossy(&listed.stdout)
    );
    let shown = portolan(dir.path())
        .args(["show", "1", "--db", "ro/h.db"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&shown.stdout).contains("127.0.0.1"));
    assert!(!ro.join("h.db-shm").exists());
}
