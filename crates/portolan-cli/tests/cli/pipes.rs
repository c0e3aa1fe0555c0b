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
