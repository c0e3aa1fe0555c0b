//! The ICMP rate-limit pacer against a simulated Linux host, in virtual time: a
//! per-peer token bucket (burst 6, one per period), open, closed and dropped ports,
//! and a small event loop that plays the scheduler's part (first tries at full speed,
//! silent tries judged by the pacer, retries of a limited host paced).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use portolan_engine::{HostLimit, IcmpPacer, Pace, Silence};

const ONE_WAY: Duration = Duration::from_micros(500);
const TIMEOUT: Duration = Duration::from_millis(20);
const SEND_GAP: Duration = Duration::from_micros(100);
const TRIES: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Port {
    Open,
    Closed,
    Dropped,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Verdict {
    Open,
    Closed,
    NoResponse,
}

/// Linux's `inet_peer_xrlim_allow`: tokens accrue with time, capped at six periods.
struct Bucket {
    period: Option<Duration>,
    tokens: Duration,
    last: Duration,
}

impl Bucket {
    fn allow(&mut self, at: Duration) -> bool {
        let Some(period) = self.period else {
            return true;
        };
        self.tokens = (self.tokens + at.saturating_sub(self.last)).min(period * 6);
        self.last = at;
        if self.tokens >= period {
            self.tokens -= period;
            true
        } else {
            false
        }
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy, Debug)]
enum Ev {
    /// A probe's outcome reaches us (answer) or its timeout passes (silence).
    Answer { port: u16, unreach: bool },
    Timeout {
        port: u16,
        sent: Duration,
        paced: bool,
    },
    /// Time to send the next held retry.
    Pump,
}

struct Run {
    start: Instant,
    pacer: IcmpPacer,
    bucket: Bucket,
    ports: BTreeMap<u16, Port>,
    tries: HashMap<u16, u8>,
    verdicts: HashMap<u16, (Verdict, Duration)>,
    held: VecDeque<u16>,
    heap: BinaryHeap<Reverse<(Duration, Ev)>>,
    pump_at: Option<Duration>,
}

const HOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 1));

impl Run {
    fn new(ports: BTreeMap<u16, Port>, period: Option<Duration>) -> Self {
        Run {
            start: Instant::now(),
            pacer: IcmpPacer::new(),
            bucket: Bucket {
                period,
                tokens: period.unwrap_or_default() * 6,
                last: Duration::ZERO,
            },
            ports,
            tries: HashMap::new(),
            verdicts: HashMap::new(),
            held: VecDeque::new(),
            heap: BinaryHeap::new(),
            pump_at: None,
        }
    }

    fn send(&mut self, port: u16, at: Duration) {
        let paced = self.pacer.on_sent(HOST, self.start + at);
        *self.tries.entry(port).or_default() += 1;
        let answer = match self.ports[&port] {
            Port::Open => Some(false),
            Port::Closed if self.bucket.allow(at + ONE_WAY) => Some(true),
            Port::Closed | Port::Dropped => None,
        };
        let ev = match answer {
            Some(unreach) => (at + ONE_WAY * 2, Ev::Answer { port, unreach }),
            None => (
                at + TIMEOUT,
                Ev::Timeout {
                    port,
                    sent: at,
                    paced,
                },
            ),
        };
        self.heap.push(Reverse(ev));
    }

    fn pump(&mut self, now: Duration) {
        match self.pacer.pace(HOST, self.start + now) {
            Pace::Free => {
                while let Some(p) = self.held.pop_front() {
                    self.send(p, now);
                }
            }
            Pace::At(t) => {
                let at = t - self.start;
                if at <= now {
                    if let Some(p) = self.held.pop_front() {
                        self.send(p, now);
                    }
                    if self.held.is_empty() {
                        return;
                    }
                    self.schedule_pump(now + Duration::from_micros(1));
                } else {
                    self.schedule_pump(at);
                }
            }
        }
    }

    fn schedule_pump(&mut self, at: Duration) {
        if self
            .pump_at
            .is_none_or(|p| p > at || p < at && self.heap.is_empty())
        {
            self.pump_at = Some(at);
            self.heap.push(Reverse((at, Ev::Pump)));
        }
    }

    fn run(mut self) -> (Self, Duration) {
        let ports: Vec<u16> = self.ports.keys().copied().collect();
        for (i, port) in ports.into_iter().enumerate() {
            self.send(port, SEND_GAP * i as u32);
        }
        let mut now = Duration::ZERO;
        while let Some(Reverse((at, ev))) = self.heap.pop() {
            now = at;
            match ev {
                Ev::Answer { port, unreach } => {
                    if unreach {
                        self.pacer.on_port_unreach(HOST, self.start + at);
                    }
                    let v = if unreach {
                        Verdict::Closed
                    } else {
                        Verdict::Open
                    };
                    assert!(self.verdicts.insert(port, (v, at)).is_none(), "once");
                }
                Ev::Timeout { port, sent, paced } => {
                    let s = self
                        .pacer
                        .silence(HOST, self.start + at, self.start + sent, paced);
                    if s == Silence::Suspect {
                        *self.tries.get_mut(&port).unwrap() -= 1;
                    }
                    if self.tries[&port] >= TRIES {
                        assert!(self
                            .verdicts
                            .insert(port, (Verdict::NoResponse, at))
                            .is_none());
                    } else {
                        self.held.push_back(port);
                        self.schedule_pump(at + TIMEOUT);
                    }
                }
                Ev::Pump => {
                    if self.pump_at == Some(at) {
                        self.pump_at = None;
                        self.pump(at);
                    }
                }
            }
            assert!(now.as_secs() < 3600, "the run ends");
        }
        (self, now)
    }
}

fn lab(closed: u16, dropped: u16) -> BTreeMap<u16, Port> {
    let mut ports = BTreeMap::new();
    ports.insert(7, Port::Open);
    ports.insert(53, Port::Open);
    for p in 0..dropped {
        ports.insert(1000 + p, Port::Dropped);
    }
    for p in 0..closed {
        ports.insert(3000 + p, Port::Closed);
    }
    ports
}

fn check_exact(run: &Run) {
    for (port, kind) in &run.ports {
        let want = match kind {
            Port::Open => Verdict::Open,
            Port::Closed => Verdict::Closed,
            Port::Dropped => Verdict::NoResponse,
        };
        assert_eq!(run.verdicts[port].0, want, "port {port}");
    }
}

#[test]
fn a_limited_host_is_detected_paced_and_every_closed_port_stays_closed() {
    let period = Duration::from_secs(1);
    let (run, elapsed) = Run::new(lab(90, 8), Some(period)).run();
    check_exact(&run);
    match run.pacer.limit(HOST) {
        HostLimit::Limited { period: p } => {
            assert!(p.abs_diff(period) < Duration::from_millis(50), "{p:?}");
        }
        other => panic!("not detected: {other:?}"),
    }
    assert!(
        run.verdicts[&7].1 < Duration::from_millis(5),
        "open ports are reported at once"
    );
    // The physical floor: one ICMP per period after the burst of six.
    let floor = period * (90 - 6);
    assert!(elapsed >= floor, "{elapsed:?}");
    assert!(
        elapsed <= floor.mul_f64(1.2),
        "{elapsed:?} against a floor of {floor:?}"
    );
}

#[test]
fn a_faster_limit_is_found_the_same_way() {
    let period = Duration::from_millis(100);
    let (run, elapsed) = Run::new(lab(300, 20), Some(period)).run();
    check_exact(&run);
    assert!(matches!(run.pacer.limit(HOST), HostLimit::Limited { .. }));
    // The pacing margin (8 %) and the retries of the dropped ports, one token at a time.
    let floor = period * (300 - 6);
    assert!(
        elapsed >= floor && elapsed <= floor.mul_f64(1.25),
        "{elapsed:?}"
    );
}

#[test]
fn an_unlimited_host_is_not_slowed() {
    let (run, elapsed) = Run::new(lab(2000, 50), None).run();
    check_exact(&run);
    assert_eq!(run.pacer.limit(HOST), HostLimit::Unlimited);
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(run.pacer.limited().count(), 0);
}

#[test]
fn a_host_with_few_closed_ports_and_many_dropped_ones_finishes_exact() {
    let (run, elapsed) = Run::new(lab(3, 200), None).run();
    check_exact(&run);
    // Silences wait for the quiet span before they are trusted, no longer.
    let bound = portolan_engine::QUIET_MIN + Duration::from_secs(1);
    assert!(elapsed < bound, "{elapsed:?}");
}

// ---- the whole scheduler over the simulated network, in virtual time ----

mod scheduler {
    use std::collections::HashMap;
    use std::io;
    use std::net::{IpAddr, SocketAddr};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use portolan_engine::sim::{Behavior, SimNet};
    use portolan_engine::{
        Answer, Event, PortResult, Reason, Scanner, Sink, Started, Summary, Token, Transport,
    };
    use portolan_target::{HostBlock, TargetSet};
    use portolan_target::{PortList, ScanOrder};

    /// A simulated network whose hosts pass ICMP port unreachables through Linux's
    /// per-peer bucket (burst 6, one per `period`); suppressed ones never arrive.
    struct Limited {
        net: SimNet,
        period: Duration,
        buckets: HashMap<IpAddr, (Duration, Instant)>,
    }

    impl Limited {
        fn allow(&mut self, host: IpAddr) -> bool {
            let now = self.net.now();
            let (tokens, last) = self.buckets.entry(host).or_insert((self.period * 6, now));
            *tokens = (*tokens + now.saturating_duration_since(*last)).min(self.period * 6);
            *last = now;
            if *tokens >= self.period {
                *tokens -= self.period;
                true
            } else {
                false
            }
        }
    }

    impl Transport for Limited {
        fn now(&self) -> Instant {
            self.net.now()
        }
        fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
            self.net.start(token, addr)
        }
        fn cancel(&mut self, token: Token) {
            self.net.cancel(token);
        }
        fn wait(&mut self, timeout: Duration, events: &mut Vec<Event>) -> io::Result<()> {
            let mut batch = Vec::new();
            self.net.wait(timeout, &mut batch)?;
            for e in batch {
                if let Event::Answered(_, Answer::Unreachable(Reason::PortUnreach)) = e {
                    // The target: 198.18.0.1 (the only host of these tests).
                    if !self.allow("198.18.0.1".parse().unwrap()) {
                        continue;
                    }
                }
                events.push(e);
            }
            Ok(())
        }
    }

    #[derive(Default)]
    struct Collect(HashMap<u16, PortResult>);

    impl Sink for Collect {
        fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
            assert!(self.0.insert(r.endpoint.port, r.clone()).is_none(), "once");
            Ok(())
        }
    }

    fn behavior(addr: SocketAddr) -> Behavior {
        match addr.port() {
            53 | 161 => Behavior::Open,
            1000..=1049 => Behavior::Dropped,
            _ => Behavior::Unreachable(Reason::PortUnreach),
        }
    }

    fn run(period: Duration, ports: &str) -> (Collect, Summary) {
        let mut net = Limited {
            net: SimNet::new(Duration::from_millis(2), behavior),
            period,
            buckets: HashMap::new(),
        };
        let set = TargetSet::from_blocks(vec![HostBlock::Range {
            start: "198.18.0.1".parse().unwrap(),
            count: 1,
        }])
        .unwrap();
        let mut order =
            ScanOrder::random(Arc::new(set), Arc::new(PortList::parse(ports).unwrap()), 3);
        let mut sink = Collect::default();
        let summary = Scanner::builder()
            .build()
            .run(&mut order, &mut net, &mut sink)
            .unwrap();
        (sink, summary)
    }

    #[test]
    fn a_linux_limited_host_is_scanned_exactly_near_the_floor() {
        // 200 ports: 2 open, 50 dropped, 148 closed behind a 1 s limit.
        let (c, summary) = run(Duration::from_secs(1), "53,161,1000-1049,3000-3147");
        assert_eq!(c.0.len(), 200);
        for (port, r) in &c.0 {
            let want = match behavior(SocketAddr::new("198.18.0.1".parse().unwrap(), *port)) {
                Behavior::Open => Reason::SynAck,
                Behavior::Dropped => Reason::NoResponse,
                _ => Reason::PortUnreach,
            };
            assert_eq!(r.reason, want, "port {port}");
        }
        assert_eq!(summary.icmp_limited.len(), 1);
        let floor = Duration::from_secs(148 - 6);
        eprintln!(
            "simulated limited scan: {:?} (floor {floor:?})",
            summary.elapsed
        );
        assert!(summary.elapsed >= floor, "{:?}", summary.elapsed);
        assert!(
            summary.elapsed <= floor.mul_f64(1.25),
            "{:?} against {floor:?}",
            summary.elapsed
        );
    }
}

/// The same rule over the simulated network's own UDP mode (`SimNet` with
/// `with_icmp_ratelimit`): UDP endpoints, datagram answers, Linux's bucket inside
/// the network, the scheduler's `Machine` driven by `Scanner::run`.
mod sim_udp {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use portolan_engine::sim::{Behavior, SimNet, ICMP_BURST};
    use portolan_engine::{PortResult, PortState, Protocol, Reason, Scanner, Sink, Summary};
    use portolan_target::{HostBlock, TargetSet};
    use portolan_target::{PortList, ScanOrder};

    #[derive(Default)]
    struct Collect(HashMap<u16, PortResult>);

    impl Sink for Collect {
        fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
            assert!(self.0.insert(r.endpoint.port, r.clone()).is_none(), "once");
            Ok(())
        }
    }

    fn behavior(addr: SocketAddr) -> Behavior {
        match addr.port() {
            53 | 123 | 161 => Behavior::Datagram,
            2000..=2029 => Behavior::Dropped,
            _ => Behavior::Unreachable(Reason::PortUnreach),
        }
    }

    fn scan(period: Option<Duration>, ports: &str) -> (Collect, Summary, u64) {
        let mut net = SimNet::new(Duration::from_millis(2), behavior);
        if let Some(p) = period {
            net = net.with_icmp_ratelimit(p);
        }
        let set = TargetSet::from_blocks(vec![HostBlock::Range {
            start: "198.18.0.1".parse().unwrap(),
            count: 1,
        }])
        .unwrap();
        let mut order =
            ScanOrder::random(Arc::new(set), Arc::new(PortList::parse(ports).unwrap()), 11)
                .protocol(Protocol::Udp);
        let mut sink = Collect::default();
        let summary = Scanner::builder()
            .build()
            .run(&mut order, &mut net, &mut sink)
            .unwrap();
        (sink, summary, net.icmp_suppressed)
    }

    fn check_exact(c: &Collect, n: usize) {
        assert_eq!(c.0.len(), n);
        for (port, r) in &c.0 {
            assert_eq!(r.endpoint.proto, Protocol::Udp);
            let want = match behavior(SocketAddr::new("198.18.0.1".parse().unwrap(), *port)) {
                Behavior::Datagram => (PortState::Open, Reason::UdpResponse),
                Behavior::Dropped => (PortState::OpenFiltered, Reason::NoResponse),
                _ => (PortState::Closed, Reason::PortUnreach),
            };
            assert_eq!((r.state, r.reason), want, "port {port}");
        }
    }

    #[test]
    fn a_rate_limited_host_is_exact_and_open_ports_come_first() {
        // 3 open, 30 dropped, 100 closed behind Linux's default limit (1 s).
        let (c, summary, suppressed) = scan(
            Some(Duration::from_secs(1)),
            "53,123,161,2000-2029,3000-3099",
        );
        check_exact(&c, 133);
        assert!(suppressed > 0, "the limit was in play");
        assert_eq!(summary.icmp_limited.len(), 1, "and the summary says so");
        // Physics: 94 closed ports past the burst, one answer a second. A dropped
        // port may cost one more period: its trusted (paced) try is often sent in
        // the same batch as another probe to the host, which may have spent the
        // token, so the pacer cannot count that token as still there.
        let floor = Duration::from_secs(100 - u64::from(ICMP_BURST));
        let bound = Duration::from_secs(100 - u64::from(ICMP_BURST) + 30).mul_f64(1.1);
        eprintln!(
            "simulated UDP scan behind a 1 s limit: {:?} (floor {floor:?})",
            summary.elapsed
        );
        assert!(summary.elapsed >= floor, "{:?}", summary.elapsed);
        assert!(
            summary.elapsed <= bound,
            "{:?} against {bound:?}",
            summary.elapsed
        );
        // Open ports answer the first try, at full speed.
        for port in [53, 123, 161] {
            assert_eq!(c.0[&port].tries, 1);
            assert!(c.0[&port].rtt.unwrap() < Duration::from_millis(50));
        }
    }

    #[test]
    fn without_the_limit_the_same_scan_takes_no_time() {
        let (c, summary, suppressed) = scan(None, "53,123,161,2000-2029,3000-3099");
        check_exact(&c, 133);
        assert_eq!(suppressed, 0);
        assert!(summary.icmp_limited.is_empty());
        assert!(
            summary.elapsed < Duration::from_secs(5),
            "{:?}",
            summary.elapsed
        );
    }
}
