//! `scan -sS`: the privilege message, and a raw SYN scan equal to the connect scan in a
//! network namespace the test makes (listeners on `127.0.0.1` and `::1`, a dropped range,
//! an ICMP-rejected range).
//!
//! The namespace test needs root, `ip`, `iptables` and `ip6tables`; the privilege test
//! drops the capability with `setpriv` when run as root. A test that cannot run prints
//! "skipped" and passes, unless `CI` is set: there a skip is a failure.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::process::Command as StdCommand;
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn skip(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "CI must not skip: {why}");
    eprintln!("skipped: {why}");
}

fn ok(args: &[&str]) -> bool {
    StdCommand::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[test]
fn syn_scan_without_cap_net_raw_says_how_in_one_line() {
    let bin = assert_cmd::cargo::cargo_bin("portolan");
    let mut cmd = if is_root() {
        if !ok(&["setpriv", "--version"]) {
            return skip("setpriv (util-linux) is needed to drop CAP_NET_RAW");
        }
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-net_raw",
        ])
        .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let out = cmd
        .args([
            "scan",
            "-sS",
            "-p",
            "80",
            "127.0.0.1",
            "--no-history",
            "--no-progress",
        ])
        .env(
            "XDG_DATA_HOME",
            std::env::temp_dir().join("portolan-test-data"),
        )
        .timeout(Duration::from_secs(30))
        .output()
        .expect("portolan runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(0) && !is_root() {
        // A binary given the file capability really may scan.
        return skip("this binary has CAP_NET_RAW");
    }
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for needed in [
        "CAP_NET_RAW",
        "sudo",
        "setcap cap_net_raw+ep",
        "connect scan",
    ] {
        assert!(stderr.contains(needed), "{needed:?} missing from {stderr}");
    }
    assert!(out.stdout.is_empty(), "no report was started");
}

struct Namespace(String);

impl Namespace {
    fn create() -> Result<Self, String> {
        if !is_root() {
            return Err("the -sS namespace test needs root".into());
        }
        let name = format!("portolan-cli-syn-{}", std::process::id());
        if !ok(&["ip", "netns", "add", &name]) {
            return Err("`ip netns add` failed".into());
        }
        let ns = Namespace(name);
        let mut rules: Vec<Vec<&str>> = vec![vec!["ip", "link", "set", "lo", "up"]];
        for (tool, reject) in [
            ("iptables", "icmp-admin-prohibited"),
            ("ip6tables", "adm-prohibited"),
        ] {
            rules.push(vec![
                tool,
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "3000:3049",
                "-j",
                "DROP",
            ]);
            rules.push(vec![
                tool,
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "4000:4049",
                "-j",
                "REJECT",
                "--reject-with",
                reject,
            ]);
        }
        for rule in rules {
            let mut all = vec!["ip", "netns", "exec", &ns.0];
            all.extend_from_slice(&rule);
            if !ok(&all) {
                return Err(format!("could not run {rule:?} in the namespace"));
            }
        }
        Ok(ns)
    }

    /// A listener inside the namespace, accepting forever.
    fn listen(&self, addr: SocketAddr) -> TcpListener {
        let path = format!("/var/run/netns/{}", self.0);
        let listener = thread::spawn(move || {
            let file = File::open(path).expect("namespace file");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            TcpListener::bind(addr).expect("bind inside the namespace")
        })
        .join()
        .expect("listener thread");
        let clone = listener.try_clone().expect("clone listener");
        thread::spawn(move || for _ in clone.incoming() {});
        listener
    }

    /// Scans `target` inside the namespace; port → (state, reason).
    fn scan(&self, target: &str, extra: &[&str]) -> BTreeMap<u64, (String, String)> {
        let bin = assert_cmd::cargo::cargo_bin("portolan");
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .arg(&bin)
            .args([
                "scan",
                target,
                "-p",
                PORTS,
                "-T4",
                "-oD",
                "-",
                "--no-progress",
                "--no-history",
            ])
            .args(extra)
            .timeout(Duration::from_mins(2))
            .assert()
            .success();
        let mut states = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.get_output().stdout).lines() {
            let v: Value = serde_json::from_str(line).expect("an NDJSON line");
            let port = v["port"].as_u64().expect("a port");
            let state = (
                v["state"].as_str().unwrap().into(),
                v["reason"].as_str().unwrap().into(),
            );
            assert!(
                states.insert(port, state).is_none(),
                "{target} port {port} twice"
            );
        }
        states
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = StdCommand::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

const PORTS: &str = "1-200,2990-3060,3990-4060,5000-5010,8080";
const OPEN: [u64; 3] = [5003, 5007, 8080];

#[test]
fn syn_scan_states_equal_the_connect_scan_in_a_namespace() {
    let ns = match Namespace::create() {
        Ok(ns) => ns,
        Err(why) => return skip(&why),
    };
    for target in ["127.0.0.1", "::1"] {
        let ip: IpAddr = target.parse().unwrap();
        let _listeners: Vec<_> = OPEN
            .iter()
            .map(|&p| ns.listen(SocketAddr::new(ip, p as u16)))
            .collect();
        let syn = ns.scan(target, &["-sS"]);
        let connect = ns.scan(target, &[]);
        assert_eq!(syn.len(), 354, "{target}: every port reported");
        assert_eq!(connect.len(), syn.len(), "{target}");
        for (port, (state, reason)) in &syn {
            assert_eq!(
                state, &connect[port].0,
                "{target} port {port}: connect {:?}",
                connect[port]
            );
            let want = match port {
                p if OPEN.contains(p) => ("open", "syn-ack"),
                3000..=3049 => ("filtered", "no-response"),
                4000..=4049 => ("filtered", "admin-prohibited"),
                _ => ("closed", "reset"),
            };
            assert_eq!(
                (state.as_str(), reason.as_str()),
                want,
                "{target} port {port}"
            );
        }
    }
}
