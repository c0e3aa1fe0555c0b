//! A simulated network with virtual time, for testing the scheduler.
//!
//! Each address and port behaves as a [`Behavior`] says; a seeded generator drops
//! probes and answers at the configured loss rate. Time only moves inside
//! [`Transport::wait`], jumping to the next answer, so a scan of a lossy WAN
//! finishes in milliseconds of real time and every run with the same seed is the
//! same. The simulation also counts what a test may want to check: probes sent per
//! pair, most sockets open at once, and a socket limit that yields `EMFILE`.
//!
//! What the scanning machine itself does with a probe is scripted apart from the
//! network, per address and try, as a [`Local`]: an answer straight from `start`
//! (loopback can refuse synchronously), or any [`Hiccup`] either from `start` or as a
//! later [`Event::Hiccup`]. So every path of the scheduler has a deterministic test.
//!
//! UDP is simulated too: a [`Behavior::Datagram`] port answers with a datagram, and
//! [`SimNet::with_icmp_ratelimit`] passes every ICMP port unreachable through Linux's
//! per-peer token bucket (`icmp_ratelimit`: a burst of six, then one per period), so
//! the suppressed answers never arrive, as on a real host.
//!
//! Host discovery runs over it too (it is a [`Pinger`]): a ping by ICMP or ARP is
//! a probe of the host's port 0, a TCP ping one of its port, and the port's
//! [`Behavior`] becomes the answer the method would get (an open port 0 is an echo
//! reply, a closed TCP port a reset or a refused connection, ...).
//!
//! Only tests use it: it is compiled for the crate's own tests and with the `sim`
//! feature, never into the `portolan` binary.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::discovery::{PingMethod, Pinger, Pong, Sent};
use crate::result::Reason;
use crate::transport::{Answer, Event, Hiccup, Started, Token, Transport};

/// How one port of the simulated network behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// Answered with a SYN-ACK.
    Open,
    /// A UDP port that answers with a datagram.
    Datagram,
    /// Answered with a reset.
    Closed,
    /// Silently dropped.
    Dropped,
    /// Answered with an ICMP error.
    Unreachable(Reason),
}

type BehaviorFn = Box<dyn Fn(SocketAddr) -> Behavior>;

/// What happens to one probe on the scanning machine, before the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// The probe goes on the wire; the port's [`Behavior`] answers after one round trip.
    Wire,
    /// The port's answer comes back from `start` itself ([`Started::Answered`]), as
    /// loopback may refuse at once; no loss applies. A dropped port's probe goes on
    /// the wire as usual.
    AtOnce,
    /// `start` fails with this hiccup; nothing is sent.
    StartFails(Hiccup),
    /// The probe is sent, and after one round trip its socket reports this hiccup
    /// as an [`Event::Hiccup`] (a self-connect is found this way); no loss applies.
    FailsLater(Hiccup),
}

type LocalFn = Box<dyn Fn(SocketAddr, u32) -> Local>;

/// What a pending event carries.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Answer(Answer),
    Hiccup(Hiccup),
}

/// A simulated network.
pub struct SimNet {
    now: Instant,
    /// Virtual time each `start` takes (a real send is a system call).
    start_cost: Duration,
    rtt: Duration,
    loss: f64,
    /// Extra loss for the first `.1` probes on the wire (a burst), see [`SimNet::with_burst`].
    burst: (f64, u64),
    wire_sent: u64,
    rng: u64,
    behavior: BehaviorFn,
    local: LocalFn,
    /// Calls of `start` per address, for [`Local`] scripts.
    attempts: HashMap<SocketAddr, u32>,
    socket_limit: usize,
    open_sockets: usize,
    /// `(when, sequence, token, attempt id)`.
    pending: BinaryHeap<Reverse<(Instant, u64, Token, u64)>>,
    outcomes: HashMap<u64, Outcome>,
    live: HashMap<Token, u64>,
    seq: u64,
    /// Probes sent per address.
    pub sent: HashMap<SocketAddr, u32>,
    /// The most sockets that were open at once.
    pub max_open: usize,
    /// Ports that hiccup (`EADDRNOTAVAIL`) on their first try.
    pub flaky_first: Vec<SocketAddr>,
    /// Every hiccup produced, from `start` or as an event, in order.
    pub hiccups: Vec<(SocketAddr, Hiccup)>,
    /// Where each token's probe went, for the hiccup log.
    targets: HashMap<Token, SocketAddr>,
    /// Linux's ICMP rate limit: the period, and per host the tokens (as time
    /// credit, at most [`ICMP_BURST`] periods) and when they were last topped up.
    icmp_period: Option<Duration>,
    icmp_buckets: HashMap<std::net::IpAddr, (Duration, Instant)>,
    /// Port unreachables the rate limit suppressed.
    pub icmp_suppressed: u64,
    /// The method and destination of each ping in flight, to name its answer.
    ping_methods: HashMap<Token, (PingMethod, SocketAddr)>,
}

/// Linux's burst of ICMP errors per peer (`XRLIM_BURST_FACTOR`).
pub const ICMP_BURST: u32 = 6;

impl SimNet {
    /// A network where every port behaves as `behavior` says, with round trip `rtt`.
    pub fn new(rtt: Duration, behavior: impl Fn(SocketAddr) -> Behavior + 'static) -> Self {
        SimNet {
            now: Instant::now(),
            start_cost: Duration::ZERO,
            rtt,
            loss: 0.0,
            burst: (0.0, 0),
            wire_sent: 0,
            rng: 0x5eed,
            behavior: Box::new(behavior),
            local: Box::new(|_, _| Local::Wire),
            attempts: HashMap::new(),
            socket_limit: usize::MAX,
            open_sockets: 0,
            pending: BinaryHeap::new(),
            outcomes: HashMap::new(),
            live: HashMap::new(),
            seq: 0,
            sent: HashMap::new(),
            max_open: 0,
            flaky_first: Vec::new(),
            hiccups: Vec::new(),
            targets: HashMap::new(),
            icmp_period: None,
            icmp_buckets: HashMap::new(),
            icmp_suppressed: 0,
            ping_methods: HashMap::new(),
        }
    }

    /// Every host answers closed ports (ICMP port unreachable) through Linux's
    /// per-peer bucket: [`ICMP_BURST`] at once, then one per `period`.
    pub fn with_icmp_ratelimit(mut self, period: Duration) -> Self {
        self.icmp_period = Some(period);
        self
    }

    /// Whether the host's bucket lets a port unreachable out now (and spends it).
    fn icmp_allowed(&mut self, host: std::net::IpAddr) -> bool {
        let Some(period) = self.icmp_period else {
            return true;
        };
        let full = period * ICMP_BURST;
        let now = self.now;
        let (credit, last) = self.icmp_buckets.entry(host).or_insert((full, now));
        *credit = (*credit + now.saturating_duration_since(*last)).min(full);
        *last = now;
        if *credit >= period {
            *credit -= period;
            true
        } else {
            self.icmp_suppressed += 1;
            false
        }
    }

    /// Drops each packet (probe or answer) with this probability, seeded.
    pub fn with_loss(mut self, loss: f64, seed: u64) -> Self {
        self.loss = loss;
        self.rng = seed | 1;
        self
    }

    /// Drops each of the first `probes` probes on the wire with this extra
    /// probability (a burst of loss, as when slow start overruns a slow link),
    /// seeded by [`SimNet::with_loss`]'s seed; later probes see only the steady loss.
    pub fn with_burst(mut self, loss: f64, probes: u64) -> Self {
        self.burst = (loss, probes);
        self
    }

    /// At most this many sockets open at once; more gives `EMFILE`.
    pub fn with_socket_limit(mut self, limit: usize) -> Self {
        self.socket_limit = limit;
        self
    }

    /// Scripts what this machine does with each probe: `local(addr, n)` for the
    /// probe of `start`'s `n`-th call for `addr` (from 0). The socket limit and
    /// [`SimNet::flaky_first`] are checked first.
    pub fn with_local(mut self, local: impl Fn(SocketAddr, u32) -> Local + 'static) -> Self {
        self.local = Box::new(local);
        self
    }

    /// Makes each `start` take `cost` of virtual time.
    pub fn with_start_cost(mut self, cost: Duration) -> Self {
        self.start_cost = cost;
        self
    }

    fn chance(&mut self) -> f64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn start_fails(&mut self, addr: SocketAddr, hiccup: Hiccup) -> Started {
        self.hiccups.push((addr, hiccup));
        Started::Hiccup(hiccup)
    }

    /// Virtual time elapsed since the simulation began.
    pub fn elapsed(&self, since: Instant) -> Duration {
        self.now.saturating_duration_since(since)
    }
}

impl Transport for SimNet {
    fn now(&self) -> Instant {
        self.now
    }

    fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
        self.now += self.start_cost;
        let attempt = self.attempts.entry(addr).or_default();
        let n = *attempt;
        *attempt += 1;
        if self.open_sockets >= self.socket_limit {
            return self.start_fails(addr, Hiccup::FileLimit);
        }
        if let Some(i) = self.flaky_first.iter().position(|a| *a == addr) {
            self.flaky_first.swap_remove(i);
            return self.start_fails(addr, Hiccup::NoLocalPort);
        }
        let answer = match (self.behavior)(addr) {
            Behavior::Open => Some(Answer::Connected),
            Behavior::Datagram => Some(Answer::Datagram),
            Behavior::Closed => Some(Answer::Refused),
            Behavior::Unreachable(r) => Some(Answer::Unreachable(r)),
            Behavior::Dropped => None,
        };
        let outcome = match ((self.local)(addr, n), answer) {
            (Local::StartFails(hiccup), _) => return self.start_fails(addr, hiccup),
            (Local::AtOnce, Some(answer)) => {
                *self.sent.entry(addr).or_default() += 1;
                return Started::Answered(answer);
            }
            (Local::FailsLater(hiccup), _) => {
                self.targets.insert(token, addr);
                Some(Outcome::Hiccup(hiccup))
            }
            (Local::Wire | Local::AtOnce, answer) => {
                self.wire_sent += 1;
                let burst = self.wire_sent <= self.burst.1 && self.chance() < self.burst.0;
                let lost = burst || self.chance() < self.loss || self.chance() < self.loss;
                // The host's bucket is asked when the probe reaches it (a fixed half
                // round trip after now, so asking now keeps the same spacing).
                let suppressed = answer == Some(Answer::Unreachable(Reason::PortUnreach))
                    && !lost
                    && !self.icmp_allowed(addr.ip());
                answer.filter(|_| !lost && !suppressed).map(Outcome::Answer)
            }
        };
        *self.sent.entry(addr).or_default() += 1;
        self.open_sockets += 1;
        self.max_open = self.max_open.max(self.open_sockets);
        self.seq += 1;
        let id = self.seq;
        self.live.insert(token, id);
        if let Some(outcome) = outcome {
            self.outcomes.insert(id, outcome);
            self.pending
                .push(Reverse((self.now + self.rtt, id, token, id)));
        }
        Started::InFlight
    }

    fn cancel(&mut self, token: Token) {
        if self.live.remove(&token).is_some() {
            self.open_sockets -= 1;
        }
        self.targets.remove(&token);
    }

    fn wait(&mut self, timeout: Duration, events: &mut Vec<Event>) -> io::Result<()> {
        let until = self.now + timeout;
        let Some(&Reverse((when, ..))) = self.pending.peek() else {
            self.now = until;
            return Ok(());
        };
        if when > until {
            self.now = until;
            return Ok(());
        }
        self.now = when;
        while let Some(&Reverse((w, _, token, id))) = self.pending.peek() {
            if w > when {
                break;
            }
            self.pending.pop();
            let outcome = self.outcomes.remove(&id);
            if self.live.get(&token) == Some(&id) {
                self.live.remove(&token);
                self.open_sockets -= 1;
                match outcome {
                    Some(Outcome::Answer(answer)) => events.push(Event::Answered(token, answer)),
                    Some(Outcome::Hiccup(hiccup)) => {
                        if let Some(addr) = self.targets.remove(&token) {
                            self.hiccups.push((addr, hiccup));
                        }
                        events.push(Event::Hiccup(token, hiccup));
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}

/// The reason a ping by `method` gets from a port that answered `answer`.
fn pong_reason(method: PingMethod, addr: SocketAddr, answer: Answer) -> Reason {
    match (method, answer) {
        (_, Answer::Unreachable(r) | Answer::Proxy(r)) => r,
        (PingMethod::Echo, _) => Reason::EchoReply,
        (PingMethod::Timestamp, _) => Reason::TimestampReply,
        (PingMethod::Neighbor, _) if addr.is_ipv4() => Reason::ArpResponse,
        (PingMethod::Neighbor, _) => Reason::NdResponse,
        (PingMethod::Ack(_), _) => Reason::Reset,
        (PingMethod::Connect(_) | PingMethod::Syn(_), a) => a.reason(),
    }
}

fn ping_port(method: PingMethod) -> u16 {
    match method {
        PingMethod::Echo | PingMethod::Timestamp | PingMethod::Neighbor => 0,
        PingMethod::Connect(p) | PingMethod::Syn(p) | PingMethod::Ack(p) => p,
    }
}

impl Pinger for SimNet {
    fn now(&self) -> Instant {
        self.now
    }

    fn send(&mut self, token: Token, addr: std::net::IpAddr, method: PingMethod) -> Sent {
        let to = SocketAddr::new(addr, ping_port(method));
        match self.start(token, to) {
            Started::InFlight => {
                self.ping_methods.insert(token, (method, to));
                Sent::InFlight
            }
            Started::Answered(answer) => Sent::Answered(pong_reason(method, to, answer)),
            Started::Hiccup(h) => Sent::Hiccup(h),
        }
    }

    fn cancel(&mut self, token: Token) {
        self.ping_methods.remove(&token);
        Transport::cancel(self, token);
    }

    fn wait(&mut self, timeout: Duration, pongs: &mut Vec<Pong>) -> io::Result<()> {
        let mut events = Vec::new();
        Transport::wait(self, timeout, &mut events)?;
        for event in events {
            match event {
                Event::Answered(token, answer) => {
                    if let Some((method, to)) = self.ping_methods.remove(&token) {
                        pongs.push(Pong::Answered(token, pong_reason(method, to, answer)));
                    }
                }
                Event::Hiccup(token, h) => {
                    self.ping_methods.remove(&token);
                    pongs.push(Pong::Hiccup(token, h));
                }
            }
        }
        Ok(())
    }
}
