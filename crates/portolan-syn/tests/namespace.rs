//! The SYN transport against a real kernel, in a network namespace the test makes:
//! listeners on `127.0.0.1` and `::1`, a dropped range and an ICMP-rejected range (by
//! iptables). For every port, the SYN scan's state must equal the connect scan's.
//!
//! Needs root, `ip`, `iptables` and `ip6tables`. Without them it prints "skipped" and
//! passes, unless `CI` is set: there a skip is a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it did not expect"
)]

use std::collections::BTreeMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use portolan_engine::{
    ConnectTransport, PortResult, PortState, Reason, Scanner, Sink, Template, Transport,
};
use portolan_syn::{Cookie, SynTransport};
use portolan_target::{HostBlock, TargetSet};
use portolan_target::{PortList, ScanOrder};

fn skip(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "CI must not skip: {why}");
    eprintln!("skipped: {why}");
}

fn run(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

struct Namespace(String);

impl Namespace {
    fn create() -> Result<Self, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("the namespace test needs root".into());
        }
        let name = format!("portolan-syn-{}", std::process::id());
        if !run(&["ip", "netns", "add", &name]) {
            return Err("`ip netns add` failed".into());
        }
        let ns = Namespace(name);
        let exec = |args: &[&str]| {
            let mut all = vec!["ip", "netns", "exec", &ns.0];
            all.extend_from_slice(args);
            run(&all)
        };
        let rules: [&[&str]; 5] = [
            &["ip", "link", "set", "lo", "up"],
            &[
                "iptables",
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "3000:3009",
                "-j",
                "DROP",
            ],
            &[
                "ip6tables",
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "3000:3009",
                "-j",
                "DROP",
            ],
            &[
                "iptables",
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "4000:4009",
                "-j",
                "REJECT",
                "--reject-with",
                "icmp-admin-prohibited",
            ],
            &[
                "ip6tables",
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "--dport",
                "4000:4009",
                "-j",
                "REJECT",
                "--reject-with",
                "adm-prohibited",
            ],
        ];
        for r in rules {
            if !exec(r) {
                return Err(format!("could not run {r:?} in the namespace"));
            }
        }
        Ok(ns)
    }

    /// Moves the calling thread into the namespace.
    fn enter(&self) {
        let file = File::open(format!("/var/run/netns/{}", self.0)).expect("namespace file");
        nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[derive(Default)]
struct Collect(BTreeMap<(IpAddr, u16), PortResult>);

impl Sink for Collect {
    fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
        assert!(
            self.0
                .insert((r.endpoint.addr, r.endpoint.port), r.clone())
                .is_none(),
            "a second result for {:?}",
            r.endpoint
        );
        Ok(())
    }
}

const OPEN: [u16; 4] = [5000, 5001, 5002, 8080];
const PORTS: &str = "1-30,2995-3015,3995-4015,4995-5005,8080";

fn scan(addr: &str, transport: &mut dyn Transport) -> Collect {
    let ip: IpAddr = addr.parse().expect("address");
    let block = HostBlock::Range {
        start: ip,
        count: 1,
    };
    let targets = Arc::new(TargetSet::from_blocks(vec![block]).expect("target"));
    let ports = Arc::new(PortList::parse(PORTS).expect("ports"));
    let mut order = ScanOrder::random(targets, ports, 7);
    let scanner = Scanner::builder()
        .timing(Template::Aggressive.timing())
        .build();
    let mut sink = Collect::default();
    let summary = scanner
        .run(&mut order, transport, &mut sink)
        .expect("scan runs");
    assert!(summary.complete);
    sink
}

fn listen(addr: IpAddr, port: u16) -> TcpListener {
    let l = TcpListener::bind(SocketAddr::new(addr, port)).expect("bind in the namespace");
    let clone = l.try_clone().expect("clone listener");
    thread::spawn(move || for _ in clone.incoming() {});
    l
}

#[test]
fn syn_states_equal_connect_states_v4_and_v6() {
    let ns = match Namespace::create() {
        Ok(ns) => ns,
        Err(why) => return skip(&why),
    };
    let name = ns.0.clone();
    let handle = thread::spawn(move || {
        let ns = Namespace(name);
        ns.enter();
        std::mem::forget(ns); // the outer handle deletes it
        let mut out = Vec::new();
        for addr in ["127.0.0.1", "::1"] {
            let ip: IpAddr = addr.parse().unwrap();
            let _listeners: Vec<_> = OPEN.iter().map(|&p| listen(ip, p)).collect();
            let connect = scan(addr, &mut ConnectTransport::new().expect("poller"));
            let mut syn = SynTransport::with_cookie(Cookie::random().unwrap()).expect("as root");
            let syn_results = scan(addr, &mut syn);
            out.push((addr, connect, syn_results, syn.stats()));
        }
        out
    });
    let runs = handle.join().expect("namespace thread");
    for (addr, connect, syn, stats) in runs {
        assert_eq!(connect.0.len(), syn.0.len(), "{addr}: every port reported");
        for (key, c) in &connect.0 {
            let s = &syn.0[key];
            assert_eq!(
                s.state, c.state,
                "{addr} port {}: syn {s:?} connect {c:?}",
                key.1
            );
            let want = match key.1 {
                p if OPEN.contains(&p) => (PortState::Open, Reason::SynAck),
                3000..=3009 => (PortState::Filtered, Reason::NoResponse),
                4000..=4009 => (PortState::Filtered, Reason::AdminProhibited),
                _ => (PortState::Closed, Reason::Reset),
            };
            assert_eq!((s.state, s.reason), want, "{addr} port {}", key.1);
        }
        assert_eq!(stats.failed_check, 0, "{addr}: {stats:?}");
        assert!(
            stats.matched >= (syn.0.len() - 10) as u64,
            "{addr}: {stats:?}"
        );
        eprintln!("{addr}: {} ports equal; {stats:?}", syn.0.len());
    }
}
