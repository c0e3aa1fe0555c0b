//! A simulated network with virtual time, for testing the scheduler.
//!
//! Each address and port behaves as a [`Behavior`] says; a seeded generator drops
//! probes and answers at the configured loss rate. Time only moves inside
//! [`Transport::wait`], jumping to the next answer, so a scan of a lossy WAN
//! finishes in milliseconds of real time and every run with the same seed is the
//! same. The simulation also counts what a test may want to check: probes sent per
//! pair, most sockets open at once, and a socket limit that yields `EMFILE`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::result::Reason;
use crate::transport::{Answer, Event, Hiccup, Started, Token, Transport};

/// How one port of the simulated network behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Open,
    Closed,
    /// Silently dropped.
    Dropped,
    /// Answered with an ICMP error.
    Unreachable(Reason),
}

type BehaviorFn = Box<dyn Fn(SocketAddr) -> Behavior>;

/// A simulated network.
pub struct SimNet {
    now: Instant,
    rtt: Duration,
    loss: f64,
    rng: u64,
    behavior: BehaviorFn,
    socket_limit: usize,
    open_sockets: usize,
    /// `(when, sequence, token, attempt id, answer)`.
    pending: BinaryHeap<Reverse<(Instant, u64, Token, u64)>>,
    answers: HashMap<u64, Answer>,
    live: HashMap<Token, u64>,
    seq: u64,
    /// Probes sent per address.
    pub sent: HashMap<SocketAddr, u32>,
    pub max_open: usize,
    /// Ports that hiccup (`EADDRNOTAVAIL`) on their first try.
    pub flaky_first: Vec<SocketAddr>,
}

impl SimNet {
    /// A network where every port behaves as `behavior` says, with round trip `rtt`.
    pub fn new(rtt: Duration, behavior: impl Fn(SocketAddr) -> Behavior + 'static) -> Self {
        SimNet {
            now: Instant::now(),
            rtt,
            loss: 0.0,
            rng: 0x5eed,
            behavior: Box::new(behavior),
            socket_limit: usize::MAX,
            open_sockets: 0,
            pending: BinaryHeap::new(),
            answers: HashMap::new(),
            live: HashMap::new(),
            seq: 0,
            sent: HashMap::new(),
            max_open: 0,
            flaky_first: Vec::new(),
        }
    }

    /// Drops each packet (probe or answer) with this probability, seeded.
    pub fn with_loss(mut self, loss: f64, seed: u64) -> Self {
        self.loss = loss;
        self.rng = seed | 1;
        self
    }

    /// At most this many sockets open at once; more gives `EMFILE`.
    pub fn with_socket_limit(mut self, limit: usize) -> Self {
        self.socket_limit = limit;
        self
    }

    fn chance(&mut self) -> f64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
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
        if self.open_sockets >= self.socket_limit {
            return Started::Hiccup(Hiccup::FileLimit);
        }
        if let Some(i) = self.flaky_first.iter().position(|a| *a == addr) {
            self.flaky_first.swap_remove(i);
            return Started::Hiccup(Hiccup::NoLocalPort);
        }
        *self.sent.entry(addr).or_default() += 1;
        self.open_sockets += 1;
        self.max_open = self.max_open.max(self.open_sockets);
        self.seq += 1;
        let id = self.seq;
        self.live.insert(token, id);
        let lost = self.chance() < self.loss || self.chance() < self.loss;
        let answer = match (self.behavior)(addr) {
            Behavior::Open => Some(Answer::Connected),
            Behavior::Closed => Some(Answer::Refused),
            Behavior::Unreachable(r) => Some(Answer::Unreachable(r)),
            Behavior::Dropped => None,
        };
        if let (Some(answer), false) = (answer, lost) {
            self.answers.insert(id, answer);
            self.pending
                .push(Reverse((self.now + self.rtt, id, token, id)));
        }
        Started::InFlight
    }

    fn cancel(&mut self, token: Token) {
        if self.live.remove(&token).is_some() {
            self.open_sockets -= 1;
        }
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
            let answer = self.answers.remove(&id);
            if self.live.get(&token) == Some(&id) {
                self.live.remove(&token);
                self.open_sockets -= 1;
                if let Some(answer) = answer {
                    events.push(Event::Answered(token, answer));
                }
            }
        }
        Ok(())
    }
}
