//! Host discovery: which hosts are up (`scan -sn`, and `--discover` before a scan).
//!
//! Every host is pinged by several methods at once (ICMP echo, TCP "pings" on a
//! few ports, ARP on a local network...), one *round* per try: the host is up on
//! the first answer of any kind, and the round's other pings are cancelled. A
//! round that times out is sent again, as a port's probe is: the timeout comes
//! from the same [`RttEstimator`] (RFC 6298 on the answered pings), the number of
//! rounds from the same loss estimate ([`Congestion::tries_needed`], never above
//! the user's `max_retries + 1`), and the hosts in flight from the same congestion
//! window. After the last round the host is down with `no-response`, or with the
//! ICMP unreachable a router sent for it (`host-unreach`, `net-unreach`). When
//! every ping of a round was answered with an unreachable, the host is down at
//! once, without more rounds.
//!
//! The first rounds leave before any round trip is measured, with the initial
//! timeout (1 s at `-T3`). When the first answers bring the timeout far below it,
//! the rounds in flight are given the new, shorter deadline (*retime*, as the port
//! scheduler does), so a silent host of a small target set costs the measured
//! timeout, not the initial one.
//!
//! The decisions are a sans-IO [`Discovery`] machine, told the time and what came
//! back; [`Discoverer::run`] drives it over a [`Pinger`] (real sockets in
//! `portolan-syn` and the CLI's unprivileged pinger, or `sim::SimNet`). A result
//! is a [`HostResult`], reported exactly once per host: an answer for a ping that
//! is no longer pending is ignored.
//!
//! Local hiccups (`EMFILE`, `ENOBUFS`) put the one ping back in the queue without
//! counting a try and shrink the window; the same ones, with nothing in flight,
//! over and over, end the run with [`EngineError::Starved`], as in the scheduler.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::result::{HostResult, HostState, Reason};

use crate::congestion::Congestion;
use crate::scheduler::{EngineError, SinkError, HICCUP_LIMIT};
use crate::timing::{RttEstimator, Timing};
use crate::transport::{Hiccup, Token};

/// One way of asking a host whether it is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PingMethod {
    /// ICMP (or ICMPv6) echo request; answered by `echo-reply`.
    Echo,
    /// ICMP timestamp request (IPv4 only); answered by `timestamp-reply`.
    Timestamp,
    /// A TCP connection attempt (`connect()`): accepted is `syn-ack`, refused
    /// `conn-refused`; both mean up.
    Connect(u16),
    /// A raw TCP SYN: `syn-ack` or `reset`.
    Syn(u16),
    /// A raw TCP ACK: a host answers it with a reset.
    Ack(u16),
    /// ARP (IPv4) or neighbour solicitation (IPv6) on a directly connected
    /// Ethernet network: `arp-response`, `nd-response`.
    Neighbor,
}

impl fmt::Display for PingMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PingMethod::Echo => f.write_str("echo"),
            PingMethod::Timestamp => f.write_str("timestamp"),
            PingMethod::Connect(p) => write!(f, "connect/{p}"),
            PingMethod::Syn(p) => write!(f, "syn/{p}"),
            PingMethod::Ack(p) => write!(f, "ack/{p}"),
            PingMethod::Neighbor => f.write_str("neighbor"),
        }
    }
}

/// What [`Pinger::send`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// On its way; a [`Pong`] may follow unless it is cancelled.
    InFlight,
    /// Answered at once (a refused loopback connect), with this reason.
    Answered(Reason),
    /// This method does not apply to this host (no timestamp for IPv6, no ARP off
    /// the local network): not sent, and not waited for.
    NotApplicable,
    /// Not sent because of a local shortage; sent again later, not a try.
    Hiccup(Hiccup),
}

/// Something that happened to a ping in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pong {
    /// The ping with this token was answered; the reason says how.
    Answered(Token, Reason),
    /// The ping with this token failed locally; it is sent again, not a try.
    Hiccup(Token, Hiccup),
}

/// Sends pings and reports their answers: the discovery twin of
/// [`crate::Transport`].
pub trait Pinger {
    /// The pinger's clock (virtual in simulations).
    fn now(&self) -> Instant;
    /// Sends one ping to `addr` by `method`, identified by `token` until it is
    /// answered or cancelled.
    fn send(&mut self, token: Token, addr: IpAddr, method: PingMethod) -> Sent;
    /// Forgets a ping in flight; no [`Pong`] for it may follow.
    fn cancel(&mut self, token: Token);
    /// Waits at most `timeout` and appends every answer that is ready; every one
    /// that was ready when the call began must be in the batch.
    fn wait(&mut self, timeout: Duration, pongs: &mut Vec<Pong>) -> io::Result<()>;
}

/// A ping to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// Its token, until it is answered or cancelled.
    pub token: Token,
    /// The host.
    pub addr: IpAddr,
    /// How.
    pub method: PingMethod,
}

/// Receives host results as they are decided.
pub trait HostSink {
    /// Takes one result; an error stops the run ([`EngineError::Sink`]).
    fn host(&mut self, result: &HostResult) -> Result<(), SinkError>;
}

/// What a discovery run found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostSummary {
    /// Hosts found up.
    pub up: u64,
    /// Hosts found down.
    pub down: u64,
    /// Pings sent, retries included.
    pub pings: u64,
    /// Wall time of the run (virtual time under simulation).
    pub elapsed: Duration,
    /// Whether every host was decided (not cancelled).
    pub complete: bool,
}

/// A host being pinged.
#[derive(Debug, Clone)]
struct Slot {
    addr: IpAddr,
    name: Option<Arc<str>>,
    /// Rounds sent so far.
    tries: u8,
    /// When the current round was queued.
    sent: Instant,
    /// When each method's ping of this round left (round trips are measured
    /// from there, so a ping held back by a local shortage is not slower).
    left: Vec<Instant>,
    /// Methods of this round still waiting for an answer (bit per method).
    pending: u64,
    /// Methods of this round not yet given to the pinger.
    queued: u64,
    /// The last unreachable any ping of this host got.
    unreach: Option<Reason>,
    /// Methods of this round answered with an unreachable.
    refused: u64,
}

/// The sans-IO discovery machine (see the module documentation).
pub struct Discovery<H> {
    hosts: H,
    total: u128,
    exhausted: bool,
    methods: Vec<PingMethod>,
    max_tries: u8,
    rtt: RttEstimator,
    cc: Congestion,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    active: usize,
    /// `(deadline, slot, round, when the round was queued)`: the last field tells a
    /// round of a host from one of the next host in the same slot.
    deadlines: BinaryHeap<Reverse<(Instant, usize, u8, Instant)>>,
    /// The longest timeout in force when deadlines were set; see `retime`.
    deadline_basis: Duration,
    queue: VecDeque<(usize, usize)>,
    cancels: VecDeque<Token>,
    results: VecDeque<HostResult>,
    hiccups_in_a_row: u32,
    pause_until: Option<Instant>,
    summary: HostSummary,
    started: Instant,
}

/// How long launching pauses after a local shortage (as the scheduler's
/// [`crate::PRESSURE_PAUSE`]).
const PAUSE: Duration = crate::scheduler::PRESSURE_PAUSE;

impl<H: Iterator<Item = (IpAddr, Option<Arc<str>>)>> Discovery<H> {
    /// A machine for `total` hosts from `hosts`, pinging each by every method of
    /// `methods` (at most 64), at most `max_hosts` hosts at once.
    pub fn new(
        hosts: H,
        total: u128,
        methods: &[PingMethod],
        timing: Timing,
        max_hosts: usize,
        now: Instant,
    ) -> Self {
        let methods: Vec<PingMethod> = methods.iter().copied().take(64).collect();
        Discovery {
            hosts,
            total,
            exhausted: methods.is_empty(),
            methods,
            max_tries: timing.max_retries.saturating_add(1),
            rtt: RttEstimator::new(timing),
            cc: Congestion::new(timing.initial_window, max_hosts),
            slots: Vec::new(),
            free: Vec::new(),
            active: 0,
            deadlines: BinaryHeap::new(),
            deadline_basis: timing.initial_timeout,
            queue: VecDeque::new(),
            cancels: VecDeque::new(),
            results: VecDeque::new(),
            hiccups_in_a_row: 0,
            pause_until: None,
            summary: HostSummary::default(),
            started: now,
        }
    }

    fn token(&self, slot: usize, method: usize) -> Token {
        slot * self.methods.len() + method
    }

    fn split(&self, token: Token) -> (usize, usize) {
        (token / self.methods.len(), token % self.methods.len())
    }

    /// The next ping to send, if the window and any back-off allow one.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Ping> {
        if self.pause_until.is_some_and(|t| now < t) {
            return None;
        }
        self.pause_until = None;
        loop {
            if let Some((slot, method)) = self.queue.pop_front() {
                let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                    continue;
                };
                let bit = 1u64 << method;
                if s.queued & bit == 0 {
                    continue;
                }
                s.queued &= !bit;
                s.pending |= bit;
                s.left[method] = now;
                self.summary.pings += 1;
                let addr = s.addr;
                return Some(Ping {
                    token: self.token(slot, method),
                    addr,
                    method: self.methods[method],
                });
            }
            if self.exhausted || self.active >= self.cc.window() {
                return None;
            }
            let Some((addr, name)) = self.hosts.next() else {
                self.exhausted = true;
                return None;
            };
            let slot = self.free.pop().unwrap_or_else(|| {
                self.slots.push(None);
                self.slots.len() - 1
            });
            self.slots[slot] = Some(Slot {
                addr,
                name,
                tries: 0,
                sent: now,
                left: vec![now; self.methods.len()],
                pending: 0,
                queued: 0,
                unreach: None,
                refused: 0,
            });
            self.active += 1;
            self.new_round(slot, now);
        }
    }

    /// Queues every method of the host's next round and sets its deadline.
    fn new_round(&mut self, slot: usize, now: Instant) {
        let all = if self.methods.len() == 64 {
            u64::MAX
        } else {
            (1u64 << self.methods.len()) - 1
        };
        let timeout = self.rtt.timeout();
        let Some(s) = self.slots[slot].as_mut() else {
            return;
        };
        s.tries = s.tries.saturating_add(1);
        s.sent = now;
        s.queued = all;
        s.refused = 0;
        self.deadline_basis = self.deadline_basis.max(timeout);
        self.deadlines
            .push(Reverse((now + timeout, slot, s.tries, now)));
        for m in 0..self.methods.len() {
            self.queue.push_back((slot, m));
        }
    }

    /// What the pinger did with a ping from [`Self::poll_transmit`].
    pub fn on_sent(&mut self, token: Token, sent: Sent, now: Instant) -> Result<(), EngineError> {
        match sent {
            Sent::InFlight => {
                self.hiccups_in_a_row = 0;
                Ok(())
            }
            Sent::Answered(reason) => {
                self.hiccups_in_a_row = 0;
                self.answer(token, reason, now);
                Ok(())
            }
            Sent::NotApplicable => {
                // Counts as an answer that says nothing: the round waits for the rest.
                self.answer(token, Reason::LocalError, now);
                Ok(())
            }
            Sent::Hiccup(hiccup) => self.hiccup(token, hiccup, now),
        }
    }

    /// An answer or hiccup from the pinger.
    pub fn handle(&mut self, pong: Pong, now: Instant) -> Result<(), EngineError> {
        match pong {
            Pong::Answered(token, reason) => {
                self.answer(token, reason, now);
                Ok(())
            }
            Pong::Hiccup(token, hiccup) => self.hiccup(token, hiccup, now),
        }
    }

    fn hiccup(&mut self, token: Token, hiccup: Hiccup, now: Instant) -> Result<(), EngineError> {
        let (slot, method) = self.split(token);
        let bit = 1u64 << method;
        let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return Ok(());
        };
        if s.pending & bit == 0 {
            return Ok(());
        }
        s.pending &= !bit;
        s.queued |= bit;
        self.queue.push_back((slot, method));
        self.cc.back_off();
        self.pause_until = Some(now + PAUSE);
        self.hiccups_in_a_row += 1;
        let nothing_in_flight = self.slots.iter().flatten().all(|s| s.pending == 0);
        let hopeless = hiccup == Hiccup::FileLimit || self.hiccups_in_a_row >= HICCUP_LIMIT;
        if nothing_in_flight && hopeless {
            return Err(EngineError::Starved { hiccup });
        }
        Ok(())
    }

    fn answer(&mut self, token: Token, reason: Reason, now: Instant) {
        let (slot, method) = self.split(token);
        let bit = 1u64 << method;
        let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if s.pending & bit == 0 {
            return;
        }
        s.pending &= !bit;
        if reason.host_state() == HostState::Up {
            let rtt = now.saturating_duration_since(s.left[method]);
            let retried = s.tries > 1;
            self.rtt.sample(rtt);
            self.cc.on_answer(retried, Some(rtt), self.cc.clock());
            self.finish_host(slot, reason, Some(rtt));
            self.retime();
            return;
        }
        if reason != Reason::LocalError {
            s.unreach = Some(reason);
        }
        s.refused |= bit;
        let all_refused = s.refused.count_ones() as usize == self.methods.len();
        if all_refused {
            // Nothing of this round is left to wait for.
            let reason = s.unreach.unwrap_or(Reason::NoResponse);
            self.finish_host(slot, reason, None);
        }
    }

    /// When the timeout has fallen to less than half of what rounds in flight were
    /// given (the first round trips were just measured), gives those rounds the
    /// new deadline, from when each was queued. The old heap entries stay and are
    /// skipped when they come (the round is over by then).
    fn retime(&mut self) {
        let timeout = self.rtt.timeout();
        if timeout * 2 > self.deadline_basis {
            return;
        }
        self.deadline_basis = timeout;
        for (slot, s) in self.slots.iter().enumerate() {
            if let Some(s) = s {
                self.deadlines
                    .push(Reverse((s.sent + timeout, slot, s.tries, s.sent)));
            }
        }
    }

    fn finish_host(&mut self, slot: usize, reason: Reason, rtt: Option<Duration>) {
        let Some(s) = self.slots[slot].take() else {
            return;
        };
        for m in 0..self.methods.len() {
            if s.pending & (1 << m) != 0 {
                self.cancels.push_back(self.token(slot, m));
            }
        }
        self.free.push(slot);
        self.active -= 1;
        let result = HostResult::new(s.addr, s.name, reason, rtt, s.tries);
        match result.state {
            HostState::Up => self.summary.up += 1,
            HostState::Down => self.summary.down += 1,
        }
        self.results.push_back(result);
    }

    /// When [`Self::handle_timeout`] is next due (a round's deadline, or the end
    /// of a back-off pause).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadline = self.deadlines.peek().map(|Reverse((t, _, _, _))| *t);
        match (deadline, self.pause_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time has come to `now`: rounds whose deadline passed are sent again, or
    /// their host is reported down once its tries are spent. Give the moment the
    /// wait for answers began, as for the scheduler.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&Reverse((deadline, slot, round, queued))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
                continue;
            };
            if s.tries != round || s.sent != queued {
                continue;
            }
            if s.queued != 0 {
                // Some pings of the round never left (a local shortage held them
                // back): the round is not over until they had their time.
                let timeout = self.rtt.timeout();
                self.deadlines
                    .push(Reverse((now + timeout, slot, round, queued)));
                continue;
            }
            let pending = s.pending;
            s.pending = 0;
            let tries = s.tries;
            let unreach = s.unreach;
            for m in 0..self.methods.len() {
                if pending & (1 << m) != 0 {
                    self.cancels.push_back(self.token(slot, m));
                }
            }
            if tries == 1 {
                self.cc.on_silence();
            }
            let allowed = self.cc.tries_needed(self.total, self.max_tries);
            if tries < allowed {
                self.new_round(slot, now);
            } else {
                self.finish_host(slot, unreach.unwrap_or(Reason::NoResponse), None);
            }
        }
    }

    /// A ping the pinger must forget.
    pub fn poll_cancel(&mut self) -> Option<Token> {
        self.cancels.pop_front()
    }

    /// A decided host.
    pub fn poll_result(&mut self) -> Option<HostResult> {
        self.results.pop_front()
    }

    /// Whether every host is decided and reported.
    pub fn is_done(&self) -> bool {
        self.exhausted && self.active == 0 && self.results.is_empty()
    }

    /// The run's summary so far.
    pub fn summary(&self, complete: bool, now: Instant) -> HostSummary {
        HostSummary {
            elapsed: now.saturating_duration_since(self.started),
            complete,
            ..self.summary
        }
    }
}

/// A configured discovery run; see the module documentation.
#[derive(Debug, Clone)]
pub struct Discoverer {
    timing: Timing,
    max_hosts: usize,
    cancel: Arc<AtomicBool>,
}

impl Discoverer {
    /// Discovery with these timeouts and retries, at most `max_hosts` hosts in
    /// flight at once (each with one ping per method).
    pub fn new(timing: Timing, max_hosts: usize) -> Self {
        Discoverer {
            timing,
            max_hosts: max_hosts.max(1),
            cancel: Arc::default(),
        }
    }

    /// A flag that, once set, stops the run at its next turn.
    #[must_use]
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = flag;
        self
    }

    /// Pings every host of `hosts` (`total` of them) by `methods` through
    /// `pinger`, reporting each host to `sink` once.
    pub fn run(
        &self,
        hosts: impl Iterator<Item = (IpAddr, Option<Arc<str>>)>,
        total: u128,
        methods: &[PingMethod],
        pinger: &mut dyn Pinger,
        sink: &mut dyn HostSink,
    ) -> Result<HostSummary, EngineError> {
        let mut m = Discovery::new(
            hosts,
            total,
            methods,
            self.timing,
            self.max_hosts,
            pinger.now(),
        );
        let outcome = self.drive(&mut m, pinger, sink);
        while let Some(token) = m.poll_cancel() {
            pinger.cancel(token);
        }
        let complete = outcome?;
        Ok(m.summary(complete, pinger.now()))
    }

    fn drive<H: Iterator<Item = (IpAddr, Option<Arc<str>>)>>(
        &self,
        m: &mut Discovery<H>,
        pinger: &mut dyn Pinger,
        sink: &mut dyn HostSink,
    ) -> Result<bool, EngineError> {
        let mut pongs = Vec::with_capacity(1024);
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let now = pinger.now();
            while let Some(ping) = m.poll_transmit(now) {
                let sent = pinger.send(ping.token, ping.addr, ping.method);
                m.on_sent(ping.token, sent, now)?;
                flush(m, pinger, sink)?;
            }
            if m.is_done() {
                return Ok(true);
            }
            let until = m.poll_timeout().unwrap_or(now + Duration::from_millis(100));
            let polled_at = pinger.now();
            pinger
                .wait(until.saturating_duration_since(now), &mut pongs)
                .map_err(EngineError::Poll)?;
            let after = pinger.now();
            for pong in pongs.drain(..) {
                m.handle(pong, after)?;
            }
            m.handle_timeout(polled_at.max(now));
            flush(m, pinger, sink)?;
        }
    }
}

fn flush<H: Iterator<Item = (IpAddr, Option<Arc<str>>)>>(
    m: &mut Discovery<H>,
    pinger: &mut dyn Pinger,
    sink: &mut dyn HostSink,
) -> Result<(), EngineError> {
    while let Some(token) = m.poll_cancel() {
        pinger.cancel(token);
    }
    while let Some(result) = m.poll_result() {
        sink.host(&result).map_err(EngineError::Sink)?;
    }
    Ok(())
}
