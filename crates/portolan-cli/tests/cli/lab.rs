//! Lab tests: a network namespace made by the test itself, with a dropped range on
//! its loopback. They need root, `ip` and `iptables`; without them they go through
//! [`skip_or_fail`]: skipped with a printed reason, or a failure when `CI` is set.

use std::collections::HashMap;
use std::fs::File;
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::process::Command as StdCommand;
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::util::{bin, skip_or_fail};

struct Namespace(String);

impl Namespace {
    fn create() -> Option<Self> {
        if !nix::unistd::geteuid().is_root() {
            skip_or_fail("lab tests need root");
            return None;
        }
        let name = format!("portolan-test-lab-{}", std::process::id());
        let ok = |args: &[&str]| {
            StdCommand::new(args[0])
                .args(&args[1..])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !ok(&["ip", "netns", "add", &name]) {
            skip_or_fail("`ip netns add` failed (no iproute2 or no namespaces)");
            return None;
        }
        let ns = Namespace(name);
        let exec = |args: &[&str]| {
            let mut all = vec!["ip", "netns", "exec", &ns.0];
            all.extend_from_slice(args);
            ok(&all)
        };
        if !exec(&["ip", "link", "set", "lo", "up"])
            || !exec(&[
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
            ])
        {
            skip_or_fail("could not set up the namespace (is iptables installed?)");
            return None;
        }
        Some(ns)
    }

    /// A listener on 127.0.0.1:`port` inside the namespace, accepting forever.
    fn listen(&self, port: u16) -> TcpListener {
        let path = format!("/var/run/netns/{}", self.0);
        let handle = thread::spawn(move || {
            let file = File::open(path).expect("namespace file");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            TcpListener::bind(("127.0.0.1", port)).expect("bind inside the namespace")
        });
        let listener = handle.join().expect("listener thread");
        let clone = listener.try_clone().expect("clone listener");
        thread::spawn(move || for _ in clone.incoming() {});
        listener
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = StdCommand::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn full_range_in_a_namespace_is_exact_every_run() {
    let Some(ns) = Namespace::create() else {
        return;
    };
    let _listener = ns.listen(4242);
    for run in 0..3 {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.0])
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
