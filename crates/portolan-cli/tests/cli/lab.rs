//! Lab tests: a network namespace made by the test itself, with a dropped range on
//! its loopback. They need root, `ip` and `iptables`; without them they go through
//! [`skip_or_fail`]: skipped with a printed reason, or a failure when `CI` is set.

use std::collections::HashMap;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::util::{bin, skip_or_fail, Namespace};

/// The lab: a namespace whose loopback drops ports 3000-3099.
fn lab() -> Option<Namespace> {
    let ns = Namespace::create("lab")?;
    let dropped = ns.exec(&[
        "iptables",
        "-A",
        "INPUT",
        "-i",
        "lo",
        "-p",
        "tcp",
        "--dport",
        "3000:3099",
        "-j",
        "DROP",
    ]);
    if !dropped {
        skip_or_fail("could not set up the namespace (is iptables installed?)");
        return None;
    }
    Some(ns)
}

#[test]
fn full_range_in_a_namespace_is_exact_every_run() {
    let Some(ns) = lab() else {
        return;
    };
    let _listener = ns.listen(4242);
    for run in 0..3 {
        let out = Command::new("ip")
            .args(["netns", "exec", ns.name()])
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
            .timeout(Duration::from_mins(2))
            .assert()
            .success();
        let mut states: HashMap<u64, (String, String)> = HashMap::new();
        for line in String::from_utf8_lossy(&out.get_output().stdout).lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let prev = states.insert(
                v["port"].as_u64().unwrap(),
                (
                    v["state"].as_str().unwrap().into(),
                    v["reason"].as_str().unwrap().into(),
                ),
            );
            assert!(prev.is_none(), "run {run}: port reported twice");
        }
        assert_eq!(states.len(), 65535, "run {run}");
        for (port, (state, reason)) in &states {
            let want = match port {
                4242 => ("open", "syn-ack"),
                3000..=3099 => ("filtered", "no-response"),
                _ => ("closed", "conn-refused"),
            };
            assert_eq!(
                (state.as_str(), reason.as_str()),
                want,
                "run {run}: port {port}"
            );
        }
    }
}
