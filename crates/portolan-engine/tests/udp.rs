//! The UDP transport against real sockets: a responder, a closed port and a silent
//! port on 127.0.0.1; and, as root, a namespace of the test's own where iptables
//! rejects a range with ICMP administratively prohibited and drops another. Without
//! root the namespace test prints why it skipped, and fails when `CI` is set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::collections::HashMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portolan_engine::{
    Answer, Endpoint, Event, PortResult, PortState, Protocol, Reason, Scanner, Sink, Started,
    TargetOrder, Timing, Transport, UdpTransport,
};
use portolan_target::{HostBlock, TargetSet};
use portolan_target::{PortList, ScanOrder};

/// A UDP echo responder on `ip`; returns its address and what it received.
fn echo(ip: &str) -> (SocketAddr, Arc<Mutex<Vec<Vec<u8>>>>) {
    let socket = UdpSocket::bind((ip, 0)).unwrap();
    let addr = socket.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            log.lock().unwrap().push(buf[..n].to_vec());
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    (addr, seen)
}

/// A port that was just free (bound, then released).
fn closed(ip: &str) -> SocketAddr {
    UdpSocket::bind((ip, 0)).unwrap().local_addr().unwrap()
}

fn payload(addr: SocketAddr, n: u64) -> Vec<u8> {
    format!("probe {n} to {}", addr.port()).into_bytes()
}

/// Events for `tokens` until all have one or `limit` passes.
fn events_for(t: &mut UdpTransport, tokens: &[usize], limit: Duration) -> HashMap<usize, Event> {
    let mut got = HashMap::new();
    let mut batch = Vec::new();
    let end = Instant::now() + limit;
    while Instant::now() < end && tokens.iter().any(|k| !got.contains_key(k)) {
        t.wait(Duration::from_millis(20), &mut batch).unwrap();
        for e in batch.drain(..) {
            let (Event::Answered(k, _) | Event::Hiccup(k, _)) = e;
            assert!(got.insert(k, e).is_none(), "one event per probe");
        }
    }
    got
}

#[test]
fn a_datagram_is_open_an_icmp_port_unreachable_is_closed_silence_is_nothing() {
    let (open, seen) = echo("127.0.0.1");
    let shut = closed("127.0.0.1");
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let quiet = silent.local_addr().unwrap();
    let mut t = UdpTransport::new(payload).unwrap();
    for (token, addr) in [(0, open), (1, shut), (2, quiet)] {
        assert_eq!(t.start(token, addr), Started::InFlight, "{addr}");
    }
    let got = events_for(&mut t, &[0, 1, 2], Duration::from_millis(1500));
    assert_eq!(got.get(&0), Some(&Event::Answered(0, Answer::Datagram)));
    assert_eq!(
        got.get(&1),
        Some(&Event::Answered(
            1,
            Answer::Unreachable(Reason::PortUnreach)
        ))
    );
    assert_eq!(got.get(&2), None, "a silent port gives no event");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("probe 0 to {}", open.port()).into_bytes()],
        "the injected payload is what was sent"
    );
    let mut buf = [0u8; 64];
    silent.set_nonblocking(true).unwrap();
    let (n, _) = silent.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], format!("probe 2 to {}", quiet.port()).as_bytes());
}

#[test]
fn a_cancelled_probe_reports_nothing() {
    let (open, _) = echo("127.0.0.1");
    let mut t = UdpTransport::new(payload).unwrap();
    assert_eq!(t.start(0, open), Started::InFlight);
    t.cancel(0);
    assert!(events_for(&mut t, &[0], Duration::from_millis(300)).is_empty());
}

#[test]
fn ipv6_loopback_answers_the_same_way() {
    let Ok(probe) = UdpSocket::bind("[::1]:0") else {
        skip("no IPv6 loopback");
        return;
    };
    drop(probe);
    let (open, _) = echo("::1");
    let shut = closed("::1");
    let mut t = UdpTransport::new(payload).unwrap();
    assert_eq!(t.start(0, open), Started::InFlight);
    assert_eq!(t.start(1, shut), Started::InFlight);
    let got = events_for(&mut t, &[0, 1], Duration::from_millis(1500));
    assert_eq!(got.get(&0), Some(&Event::Answered(0, Answer::Datagram)));
    assert_eq!(
        got.get(&1),
        Some(&Event::Answered(
            1,
            Answer::Unreachable(Reason::PortUnreach)
        ))
    );
}

/// The pairs of a [`ScanOrder`], as UDP endpoints.
struct Udp(ScanOrder);

impl TargetOrder for Udp {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        self.0.next().map(|e| Endpoint {
            proto: Protocol::Udp,
            ..e
        })
    }
    fn total(&self) -> u128 {
        self.0.total()
    }
    fn consumed(&self) -> u128 {
        self.0.consumed()
    }
}

#[derive(Default)]
struct Collect(HashMap<(IpAddr, u16), PortResult>);

impl Sink for Collect {
    fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
        assert!(
            self.0
                .insert((r.endpoint.addr, r.endpoint.port), r.clone())
                .is_none(),
            "each port once"
        );
        Ok(())
    }
}

fn scan(ip: &str, ports: &str) -> Collect {
    let set = TargetSet::from_blocks(vec![HostBlock::Range {
        start: ip.parse().unwrap(),
        count: 1,
    }])
    .unwrap();
    let mut order = Udp(ScanOrder::random(
        Arc::new(set),
        Arc::new(PortList::parse(ports).unwrap()),
        7,
    ));
    let timing = Timing {
        initial_timeout: Duration::from_millis(300),
        max_retries: 1,
        ..portolan_engine::Template::Aggressive.timing()
    };
    let scanner = Scanner::builder().timing(timing).build();
    let mut transport = UdpTransport::new(payload).unwrap();
    let mut sink = Collect::default();
    let summary = scanner.run(&mut order, &mut transport, &mut sink).unwrap();
    assert!(summary.complete);
    sink
}

fn reason(c: &Collect, ip: &str, port: u16) -> Reason {
    c.0[&(ip.parse().unwrap(), port)].reason
}

#[test]
fn the_scheduler_drives_the_udp_transport_to_one_result_per_port() {
    let (open, _) = echo("127.0.0.1");
    let shut = closed("127.0.0.1");
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let quiet = silent.local_addr().unwrap().port();
    let ports = format!("{},{},{}", open.port(), shut.port(), quiet);
    let c = scan("127.0.0.1", &ports);
    assert_eq!(c.0.len(), 3);
    assert_eq!(reason(&c, "127.0.0.1", open.port()), Reason::UdpResponse);
    assert_eq!(reason(&c, "127.0.0.1", shut.port()), Reason::PortUnreach);
    let silent_result = &c.0[&("127.0.0.1".parse().unwrap(), quiet)];
    assert_eq!(silent_result.reason, Reason::NoResponse);
    let state = |p: u16| c.0[&("127.0.0.1".parse().unwrap(), p)].state;
    assert_eq!(state(open.port()), PortState::Open);
    assert_eq!(state(shut.port()), PortState::Closed);
    assert_eq!(state(quiet), PortState::OpenFiltered);
    assert_eq!(silent_result.tries, 2, "retried before giving up");
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set, so this test must run: {why}"
    );
    eprintln!("skipped: {why}");
}

struct Namespace(String);

impl Namespace {
    fn run(&self, args: &[&str]) -> bool {
        Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Runs `f` on a thread inside the namespace (sockets it opens live there).
    fn inside<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.0);
        thread::spawn(move || {
            let file = File::open(path).expect("namespace file");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("namespace thread")
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn namespace() -> Option<Namespace> {
    if !nix::unistd::geteuid().is_root() {
        skip("the namespace test needs root");
        return None;
    }
    let name = format!("portolan-udp-{}", std::process::id());
    if !Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .is_ok_and(|s| s.success())
    {
        skip("`ip netns add` failed (no iproute2 or no namespaces)");
        return None;
    }
    let ns = Namespace(name);
    let rules: [(&str, &str, &str); 4] = [
        ("iptables", "1000:1009", "DROP"),
        (
            "iptables",
            "2000:2009",
            "REJECT --reject-with icmp-admin-prohibited",
        ),
        ("ip6tables", "1000:1009", "DROP"),
        (
            "ip6tables",
            "2000:2009",
            "REJECT --reject-with icmp6-adm-prohibited",
        ),
    ];
    let mut ok = ns.run(&["ip", "link", "set", "lo", "up"]);
    for (tool, ports, target) in rules {
        let mut args = vec![
            tool, "-A", "INPUT", "-i", "lo", "-p", "udp", "--dport", ports, "-j",
        ];
        args.extend(target.split(' '));
        ok = ok && ns.run(&args);
    }
    if !ok {
        skip("could not set up the namespace (are iptables and ip6tables installed?)");
        return None;
    }
    Some(ns)
}

#[test]
fn dropped_prohibited_closed_and_open_ranges_in_a_namespace() {
    let Some(ns) = namespace() else { return };
    for ip in ["127.0.0.1", "::1"] {
        let c = ns.inside(move || {
            let (open, _) = echo(ip);
            let ports = format!("1000-1009,2000-2009,3000-3009,{}", open.port());
            (open.port(), scan(ip, &ports))
        });
        let (open, c) = c;
        assert_eq!(c.0.len(), 31, "{ip}");
        assert_eq!(reason(&c, ip, open), Reason::UdpResponse, "{ip}");
        for p in 1000..=1009 {
            assert_eq!(reason(&c, ip, p), Reason::NoResponse, "{ip} {p}");
        }
        for p in 2000..=2009 {
            assert_eq!(reason(&c, ip, p), Reason::AdminProhibited, "{ip} {p}");
            assert_eq!(c.0[&(ip.parse().unwrap(), p)].state, PortState::Filtered);
        }
        for p in 3000..=3009 {
            assert_eq!(reason(&c, ip, p), Reason::PortUnreach, "{ip} {p}");
        }
    }
}

fn scan_summary(ip: &str, ports: &str) -> (Collect, portolan_engine::Summary) {
    let set = TargetSet::from_blocks(vec![HostBlock::Range {
        start: ip.parse().unwrap(),
        count: 1,
    }])
    .unwrap();
    let mut order = Udp(ScanOrder::random(
        Arc::new(set),
        Arc::new(PortList::parse(ports).unwrap()),
        7,
    ));
    let timing = Timing {
        initial_timeout: Duration::from_millis(300),
        max_retries: 2,
        ..portolan_engine::Template::Aggressive.timing()
    };
    let scanner = Scanner::builder().timing(timing).build();
    let mut transport = UdpTransport::new(payload).unwrap();
    let mut sink = Collect::default();
    let summary = scanner.run(&mut order, &mut transport, &mut sink).unwrap();
    (sink, summary)
}

/// Two namespaces joined by a veth pair (loopback is exempt from Linux's per-peer ICMP
/// limit): the scanner in `a` (192.0.2.1), the target in `b` (192.0.2.2) with
/// `icmp_ratelimit` at 100 ms and a dropped range.
fn rate_limited_pair() -> Option<(Namespace, Namespace)> {
    if !nix::unistd::geteuid().is_root() {
        skip("the rate-limit test needs root");
        return None;
    }
    let pid = std::process::id();
    let (a, b) = (
        format!("portolan-udp-a-{pid}"),
        format!("portolan-udp-b-{pid}"),
    );
    for n in [&a, &b] {
        if !Command::new("ip")
            .args(["netns", "add", n])
            .status()
            .is_ok_and(|s| s.success())
        {
            skip("`ip netns add` failed (no iproute2 or no namespaces)");
            return None;
        }
    }
    let (a, b) = (Namespace(a), Namespace(b));
    let ok = a.run(&[
        "ip", "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b.0,
    ]) && a.run(&["ip", "addr", "add", "192.0.2.1/24", "dev", "va"])
        && a.run(&["ip", "link", "set", "va", "up"])
        && b.run(&["ip", "addr", "add", "192.0.2.2/24", "dev", "vb"])
        && b.run(&["ip", "link", "set", "vb", "up"])
        && b.run(&["sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=100"])
        && b.run(&[
            "iptables",
            "-A",
            "INPUT",
            "-p",
            "udp",
            "--dport",
            "1000:1004",
            "-j",
            "DROP",
        ]);
    if !ok {
        skip("could not set up the veth pair (iproute2, sysctl, iptables?)");
        return None;
    }
    Some((a, b))
}

#[test]
fn rate_limited_closed_ports_stay_closed_and_the_limit_is_reported() {
    let Some((a, b)) = rate_limited_pair() else {
        return;
    };
    b.inside(|| {
        let socket = UdpSocket::bind("192.0.2.2:7").expect("bind in b");
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        });
    });
    let started = Instant::now();
    let (c, summary) = a.inside(|| scan_summary("192.0.2.2", "7,1000-1004,3000-3039"));
    let elapsed = started.elapsed();
    assert_eq!(c.0.len(), 46);
    assert_eq!(reason(&c, "192.0.2.2", 7), Reason::UdpResponse);
    for p in 1000..=1004 {
        assert_eq!(
            reason(&c, "192.0.2.2", p),
            Reason::NoResponse,
            "dropped {p}"
        );
    }
    for p in 3000..=3039 {
        assert_eq!(
            reason(&c, "192.0.2.2", p),
            Reason::PortUnreach,
            "closed {p}, rate limited"
        );
        assert_eq!(
            c.0[&("192.0.2.2".parse().unwrap(), p)].state,
            PortState::Closed
        );
    }
    assert_eq!(
        c.0[&("192.0.2.2".parse().unwrap(), 1000)].state,
        PortState::OpenFiltered
    );
    let limited = &summary.icmp_limited;
    assert_eq!(limited.len(), 1, "{limited:?}");
    assert_eq!(limited[0].0, "192.0.2.2".parse::<IpAddr>().unwrap());
    let period = limited[0].1;
    assert!(
        period >= Duration::from_millis(80) && period <= Duration::from_millis(150),
        "{period:?}"
    );
    // 40 closed ports, a burst of 6, then one per 100 ms: 3.4 s at the least.
    assert!(elapsed >= Duration::from_millis(3400), "{elapsed:?}");
    eprintln!("rate-limited scan: {elapsed:?}, period {period:?}");
}
