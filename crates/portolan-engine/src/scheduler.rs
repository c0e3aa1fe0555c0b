//! The scan loop: what to send next, when to give up on a probe, when to retry.
//!
//! One thread drives everything through a [`Transport`]; no locks, no tasks per
//! probe. Each turn of the loop:
//!
//! 1. expires probes whose deadline passed (retry, or report `filtered/no-response`
//!    once the retry budget is spent),
//! 2. launches probes while the congestion window, the rate limit, the per-host cap
//!    and any back-off allow (retries first, then new pairs from the [`TargetOrder`]),
//! 3. waits for events until the next deadline, and handles them: answers become
//!    results and round-trip samples; local hiccups (`EMFILE`, `ENOBUFS`,
//!    `EADDRNOTAVAIL`, a self-connect) put the probe back without counting a try.
//!
//! The congestion window limits the probes that may still be on the wire. A probe
//! unanswered for twice the smoothed round trip is presumed lost: it keeps its
//! socket until its timeout, but no longer counts against the window, so a filtered
//! range (whose probes all wait out their timeouts) does not slow the scan of the
//! ports that answer. The socket ceiling (`max_in_flight`) still counts every probe.
//!
//! UDP silence is judged by [`IcmpPacer`] first: on a host whose ICMP port
//! unreachables are rate limited, a silent try may be a closed port whose answer was
//! suppressed, so it is retried without counting, and retries of such a host wait for
//! its modelled token (one per period) in a per-host queue; first tries are never
//! held back. Hosts found limited are listed in the [`Summary`]. TCP scans never see
//! a port unreachable, so none of this touches them.
//!
//! The retry budget is derived from the measured loss (see
//! [`Congestion::tries_needed`]): two tries on a clean path, more on a lossy one, never
//! above the user's `max_retries`. A pair is reported exactly once; a cancelled run
//! reports only what was answered, so a resumed run can probe the rest.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portolan_target::{Endpoint, ScanOrder};

use crate::congestion::Congestion;
use crate::icmp_limit::{IcmpPacer, Pace, Silence};
use crate::result::{PortResult, Reason, Summary};
use crate::timing::{RttEstimator, Timing};
use crate::transport::{Answer, Event, Hiccup, Started, Token, Transport};

/// How often the sink hears about progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How long launches pause after the kernel ran short of buffers or ports.
const PRESSURE_PAUSE: Duration = Duration::from_millis(5);
/// Hiccups in a row with nothing in flight before the engine gives up.
const HICCUP_LIMIT: u32 = 2000;

/// Where pairs come from. [`ScanOrder`] is the usual one; resume and sharding wrap it.
pub trait TargetOrder {
    fn next_endpoint(&mut self) -> Option<Endpoint>;
    /// Pair slots in the whole walk (excluded ones included).
    fn total(&self) -> u128;
    /// Pair slots walked so far.
    fn consumed(&self) -> u128;
}

impl TargetOrder for ScanOrder {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        self.next()
    }
    fn total(&self) -> u128 {
        ScanOrder::total(self)
    }
    fn consumed(&self) -> u128 {
        ScanOrder::consumed(self)
    }
}

/// An error a sink returns to stop the scan (a closed pipe, a full disk).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives results as they are decided. Printers, files and databases live behind it.
pub trait Sink {
    fn result(&mut self, result: &PortResult) -> Result<(), SinkError>;
    fn progress(&mut self, _progress: &Progress) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A snapshot for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pair slots decided (answered, given up on, or excluded).
    pub done: u128,
    pub total: u128,
    pub in_flight: usize,
    pub window: usize,
    pub timeout: Duration,
    pub probes_sent: u64,
    pub open: u64,
}

/// Why a scan stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("waiting for socket events failed: {0}")]
    Poll(#[source] std::io::Error),
    #[error("no socket can be opened ({hiccup:?} with nothing in flight); raise `ulimit -n` or free resources")]
    Starved { hiccup: Hiccup },
    #[error("writing results failed: {0}")]
    Sink(#[source] SinkError),
}

/// Most probes in flight at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency(pub NonZeroUsize);

/// Probes per second; positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(f64);

impl Rate {
    pub fn new(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Rate(per_second))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// Builds a [`Scanner`].
#[derive(Debug, Clone, Default)]
pub struct ScannerBuilder {
    timing: Timing,
    max_in_flight: Option<Concurrency>,
    host_cap: Option<NonZeroUsize>,
    max_rate: Option<Rate>,
    cancel: Option<Arc<AtomicBool>>,
}

impl ScannerBuilder {
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    pub fn max_in_flight(mut self, c: Concurrency) -> Self {
        self.max_in_flight = Some(c);
        self
    }

    pub fn max_host_concurrency(mut self, cap: Option<NonZeroUsize>) -> Self {
        self.host_cap = cap;
        self
    }

    pub fn max_rate(mut self, rate: Option<Rate>) -> Self {
        self.max_rate = rate;
        self
    }

    /// A flag that, once set, makes the scan stop at its next turn.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    pub fn build(self) -> Scanner {
        let rate = match (self.max_rate, self.timing.scan_delay.is_zero()) {
            (r, true) => r,
            (r, false) => {
                let delay_rate = 1.0 / self.timing.scan_delay.as_secs_f64();
                Rate::new(r.map_or(delay_rate, |r| r.get().min(delay_rate)))
            }
        };
        Scanner {
            timing: self.timing,
            max_in_flight: self.max_in_flight.map_or(4096, |c| c.0.get()),
            host_cap: self.host_cap,
            rate,
            cancel: self.cancel.unwrap_or_default(),
        }
    }
}

/// A configured scan engine; [`Scanner::run`] can be called more than once.
#[derive(Debug, Clone)]
pub struct Scanner {
    timing: Timing,
    max_in_flight: usize,
    host_cap: Option<NonZeroUsize>,
    rate: Option<Rate>,
    cancel: Arc<AtomicBool>,
}

impl Scanner {
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    /// Scans every pair of `order` through `transport`, reporting to `sink`.
    pub fn run(
        &self,
        order: &mut dyn TargetOrder,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<Summary, EngineError> {
        let mut run = Run::new(self, transport.now(), order.total());
        let result = run.drive(order, transport, sink);
        run.cancel_all(transport);
        let mut summary = result?;
        summary.elapsed = transport.now().saturating_duration_since(run.started);
        Ok(summary)
    }
}

#[derive(Debug)]
struct Probe {
    endpoint: Endpoint,
    tries: u8,
    sent: Instant,
    /// Presumed lost: no longer counted against the congestion window.
    aged: bool,
    /// Sent when the host's modelled ICMP bucket held a token (see `icmp_limit`).
    paced: bool,
}

/// The state of one run.
struct Run<'s> {
    cfg: &'s Scanner,
    started: Instant,
    total: u128,
    rtt: RttEstimator,
    cc: Congestion,
    slots: Vec<Option<(Probe, u32)>>,
    generations: Vec<u32>,
    free: Vec<Token>,
    in_flight: usize,
    /// Probes in flight that are presumed lost (see the module overview).
    aged: usize,
    /// The timeout in force when deadlines were last set; see `retime`.
    deadline_basis: Duration,
    /// Most sockets open at once: `max_in_flight`, lowered when the file limit bites.
    socket_ceiling: usize,
    /// Probes in flight in send order, for ageing.
    young: VecDeque<(Instant, Token, u32)>,
    deadlines: BinaryHeap<Reverse<(Instant, Token, u32)>>,
    retries: VecDeque<Probe>,
    parked: HashMap<IpAddr, VecDeque<Probe>>,
    parked_count: usize,
    /// ICMP rate limiting of closed UDP ports (see `icmp_limit`): retries of a limited
    /// host wait here, one per modelled token, woken by `wakes`.
    pacer: IcmpPacer,
    held: HashMap<IpAddr, VecDeque<Probe>>,
    held_count: usize,
    wakes: BinaryHeap<Reverse<(Instant, IpAddr)>>,
    per_host: HashMap<IpAddr, usize>,
    order_done: bool,
    yielded: u128,
    tokens: f64,
    refilled: Instant,
    paused_until: Option<Instant>,
    idle_hiccups: u32,
    summary: Summary,
    events: Vec<Event>,
}

impl<'s> Run<'s> {
    fn new(cfg: &'s Scanner, now: Instant, total: u128) -> Self {
        Run {
            cfg,
            started: now,
            total,
            rtt: RttEstimator::new(cfg.timing),
            cc: Congestion::new(cfg.timing.initial_window, cfg.max_in_flight),
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            aged: 0,
            socket_ceiling: cfg.max_in_flight,
            deadline_basis: cfg.timing.initial_timeout,
            young: VecDeque::new(),
            deadlines: BinaryHeap::new(),
            retries: VecDeque::new(),
            parked: HashMap::new(),
            parked_count: 0,
            pacer: IcmpPacer::new(),
            held: HashMap::new(),
            held_count: 0,
            wakes: BinaryHeap::new(),
            per_host: HashMap::new(),
            order_done: false,
            yielded: 0,
            tokens: 1.0,
            refilled: now,
            paused_until: None,
            idle_hiccups: 0,
            summary: Summary::default(),
            events: Vec::with_capacity(4096),
        }
    }

    fn drive(
        &mut self,
        order: &mut dyn TargetOrder,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<Summary, EngineError> {
        let mut next_progress = self.started;
        loop {
            if self.cfg.cancel.load(Ordering::Relaxed) {
                return Ok(self.finish(order, false));
            }
            let now = transport.now();
            self.age(now);
            self.launch(now, order, transport, sink)?;
            if self.is_done() {
                self.report_progress(order, sink)?;
                return Ok(self.finish(order, true));
            }
            if now >= next_progress {
                self.report_progress(order, sink)?;
                next_progress = now + PROGRESS_EVERY;
            }
            // Answers are read before timeouts are judged, and a probe only times out
            // if its deadline passed before this wait began: every answer that had
            // arrived by then is in this batch. A scanner that was itself stalled
            // (descheduled on a busy machine) does not call its answers lost.
            let wait = self.wait_time(now, next_progress);
            let polled_at = transport.now();
            let mut events = std::mem::take(&mut self.events);
            transport
                .wait(wait, &mut events)
                .map_err(EngineError::Poll)?;
            let after = transport.now();
            for event in events.drain(..) {
                self.handle(event, after, sink)?;
            }
            self.events = events;
            self.retime();
            self.expire(polled_at.max(now), transport, sink)?;
        }
    }

    fn is_done(&self) -> bool {
        self.order_done
            && self.in_flight == 0
            && self.retries.is_empty()
            && self.parked_count == 0
            && self.held_count == 0
    }

    fn finish(&mut self, order: &dyn TargetOrder, complete: bool) -> Summary {
        self.summary.complete = complete;
        self.summary.icmp_limited = self.pacer.limited().collect();
        self.summary.icmp_limited.sort();
        self.summary.excluded =
            u64::try_from(order.consumed().saturating_sub(self.yielded)).unwrap_or(u64::MAX);
        std::mem::take(&mut self.summary)
    }

    fn report_progress(
        &self,
        order: &dyn TargetOrder,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        let excluded = order.consumed().saturating_sub(self.yielded);
        let progress = Progress {
            done: u128::from(self.summary.results()) + excluded,
            total: self.total,
            in_flight: self.in_flight,
            window: self.cc.window(),
            timeout: self.rtt.timeout(),
            probes_sent: self.summary.probes_sent,
            open: self.summary.count(crate::PortState::Open),
        };
        sink.progress(&progress).map_err(EngineError::Sink)
    }

    fn wait_time(&self, now: Instant, next_progress: Instant) -> Duration {
        let mut until = next_progress;
        if let Some(Reverse((deadline, _, _))) = self.deadlines.peek() {
            until = until.min(*deadline);
        }
        if let Some(p) = self.paused_until {
            until = until.min(p);
        }
        if let Some(Reverse((wake, _))) = self.wakes.peek() {
            until = until.min(*wake);
        }
        if let Some(rate) = self.cfg.rate {
            if self.tokens < 1.0 && self.has_room() {
                let need = Duration::from_secs_f64((1.0 - self.tokens) / rate.get());
                until = until.min(now + need);
            }
        }
        until.saturating_duration_since(now)
    }

    /// Gives up on, or retries, every probe whose deadline has passed.
    fn expire(
        &mut self,
        now: Instant,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        while let Some(&Reverse((deadline, token, generation))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if self.generations.get(token) != Some(&generation) || self.slots[token].is_none() {
                continue;
            }
            transport.cancel(token);
            let mut probe = self.release(token);
            if probe.tries == 1 {
                self.cc.on_silence();
            }
            let host = probe.endpoint.addr;
            if self.pacer.silence(host, now, probe.sent, probe.paced) == Silence::Suspect {
                // Its ICMP answer may have been rate limited: not a try.
                probe.tries -= 1;
                self.hold(probe, now);
                continue;
            }
            // A silent paced try spent no token: the host's next held retry may go now.
            if self.held.contains_key(&host) && self.pacer.pace(host, now) == Pace::At(now) {
                self.wakes.push(Reverse((now, host)));
            }
            let allowed = self
                .cc
                .tries_needed(self.total, self.cfg.timing.max_retries.saturating_add(1));
            if probe.tries < allowed {
                self.summary.retries += 1;
                self.hold(probe, now);
            } else {
                self.emit(probe, Reason::NoResponse, None, sink)?;
            }
        }
        Ok(())
    }

    /// When the timeout has fallen to less than half of what in-flight probes were
    /// given (typically: the first round trips were just measured, and the first
    /// probes still wait out the initial timeout), gives them the new, shorter
    /// deadline. Old heap entries stay and are skipped once the probe is gone.
    fn retime(&mut self) {
        let timeout = self.rtt.timeout();
        if timeout * 2 > self.deadline_basis {
            return;
        }
        self.deadline_basis = timeout;
        for (token, slot) in self.slots.iter().enumerate() {
            if let Some((probe, generation)) = slot {
                self.deadlines
                    .push(Reverse((probe.sent + timeout, token, *generation)));
            }
        }
    }

    /// Marks probes unanswered for twice the smoothed round trip as presumed lost.
    fn age(&mut self, now: Instant) {
        let Some(srtt) = self.rtt.srtt() else { return };
        let lost_after = (srtt * 2 + Duration::from_millis(1)).min(self.rtt.timeout());
        while let Some(&(sent, token, generation)) = self.young.front() {
            if sent + lost_after > now {
                break;
            }
            self.young.pop_front();
            if self.generations.get(token) != Some(&generation) {
                continue;
            }
            if let Some((probe, g)) = self.slots[token].as_mut() {
                if *g == generation && !probe.aged {
                    probe.aged = true;
                    self.aged += 1;
                }
            }
        }
    }

    /// Room in the congestion window and under the socket ceiling.
    fn has_room(&self) -> bool {
        self.in_flight - self.aged < self.cc.window() && self.in_flight < self.socket_ceiling
    }

    fn launch(
        &mut self,
        now: Instant,
        order: &mut dyn TargetOrder,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        if self.paused_until.is_some_and(|p| p > now) {
            return Ok(());
        }
        self.paused_until = None;
        self.wake_held(now);
        self.refill(now);
        while self.has_room() && self.has_token() {
            let Some(probe) = self.next_probe(order) else {
                break;
            };
            if !self.send(probe, now, transport, sink)? {
                break;
            }
        }
        Ok(())
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.cfg.rate {
            let burst = (rate.get() / 100.0).max(1.0);
            let dt = now.saturating_duration_since(self.refilled).as_secs_f64();
            self.tokens = (self.tokens + dt * rate.get()).min(burst);
            self.refilled = now;
        }
    }

    fn has_token(&self) -> bool {
        self.cfg.rate.is_none() || self.tokens >= 1.0
    }

    /// The next probe to send: a retry, else a new pair; parks pairs of hosts at their cap.
    fn next_probe(&mut self, order: &mut dyn TargetOrder) -> Option<Probe> {
        let parked_limit = self.cc.window() * 4 + 1024;
        loop {
            let probe = match self.retries.pop_front() {
                Some(p) => p,
                None if self.order_done || self.parked_count > parked_limit => return None,
                None => {
                    let Some(endpoint) = order.next_endpoint() else {
                        self.order_done = true;
                        return None;
                    };
                    self.yielded += 1;
                    Probe {
                        endpoint,
                        tries: 0,
                        sent: self.started,
                        aged: false,
                        paced: false,
                    }
                }
            };
            match self.cfg.host_cap {
                Some(cap)
                    if self
                        .per_host
                        .get(&probe.endpoint.addr)
                        .copied()
                        .unwrap_or(0)
                        >= cap.get() =>
                {
                    self.parked_count += 1;
                    self.parked
                        .entry(probe.endpoint.addr)
                        .or_default()
                        .push_back(probe);
                }
                _ => return Some(probe),
            }
        }
    }

    fn send(
        &mut self,
        mut probe: Probe,
        now: Instant,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<bool, EngineError> {
        let token = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.generations.push(0);
            self.slots.len() - 1
        });
        let addr = SocketAddr::new(probe.endpoint.addr, probe.endpoint.port);
        match transport.start(token, addr) {
            Started::InFlight => {
                probe.tries += 1;
                probe.sent = now;
                probe.aged = false;
                probe.paced = self.pacer.on_sent(probe.endpoint.addr, now);
                self.summary.probes_sent += 1;
                if self.cfg.rate.is_some() {
                    self.tokens -= 1.0;
                }
                self.generations[token] = self.generations[token].wrapping_add(1);
                let generation = self.generations[token];
                let timeout = self.rtt.timeout();
                self.deadline_basis = self.deadline_basis.max(timeout);
                self.deadlines
                    .push(Reverse((now + timeout, token, generation)));
                self.young.push_back((now, token, generation));
                if self.cfg.host_cap.is_some() {
                    *self.per_host.entry(probe.endpoint.addr).or_default() += 1;
                }
                self.slots[token] = Some((probe, generation));
                self.in_flight += 1;
                self.summary.max_in_flight = self.summary.max_in_flight.max(self.in_flight);
                self.idle_hiccups = 0;
                Ok(true)
            }
            Started::Answered(answer) => {
                self.free.push(token);
                probe.tries += 1;
                self.summary.probes_sent += 1;
                self.cc.on_answer(probe.tries > 1, None);
                if answer == Answer::Unreachable(Reason::PortUnreach) {
                    self.pacer.on_port_unreach(probe.endpoint.addr, now);
                }
                self.emit(probe, answer.reason(), Some(Duration::ZERO), sink)?;
                Ok(true)
            }
            Started::Hiccup(hiccup) => {
                // Stop launching this turn; the loop waits for sockets to free up.
                self.free.push(token);
                self.hiccup(probe, hiccup, now)?;
                Ok(false)
            }
        }
    }

    fn handle(
        &mut self,
        event: Event,
        now: Instant,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        let (Event::Answered(token, _) | Event::Hiccup(token, _)) = event;
        if self.slots.get(token).is_none_or(Option::is_none) {
            return Ok(());
        }
        let probe = self.release(token);
        match event {
            Event::Answered(_, answer) => {
                let rtt = now.saturating_duration_since(probe.sent);
                self.rtt.sample(rtt);
                self.cc.on_answer(probe.tries > 1, Some(rtt));
                if answer == Answer::Unreachable(Reason::PortUnreach) {
                    self.pacer.on_port_unreach(probe.endpoint.addr, now);
                }
                self.emit(probe, answer.reason(), Some(rtt), sink)
            }
            Event::Hiccup(_, hiccup) => {
                let mut probe = probe;
                probe.tries -= 1;
                self.hiccup(probe, hiccup, now)
            }
        }
    }

    /// Queues a retry: at once, or, for a host whose ICMP answers are rate limited,
    /// in the host's queue until its modelled bucket holds a token.
    fn hold(&mut self, probe: Probe, now: Instant) {
        let host = probe.endpoint.addr;
        match self.pacer.pace(host, now) {
            Pace::Free => self.retries.push_back(probe),
            Pace::At(at) => {
                let queue = self.held.entry(host).or_default();
                if queue.is_empty() {
                    self.wakes.push(Reverse((at, host)));
                }
                queue.push_back(probe);
                self.held_count += 1;
            }
        }
    }

    /// Releases one held retry per host whose token is due (the send then takes it).
    fn wake_held(&mut self, now: Instant) {
        while let Some(&Reverse((at, host))) = self.wakes.peek() {
            if at > now {
                break;
            }
            self.wakes.pop();
            let Some(queue) = self.held.get_mut(&host) else {
                continue;
            };
            match self.pacer.pace(host, now) {
                Pace::At(due) if due > now => {
                    self.wakes.push(Reverse((due, host)));
                    continue;
                }
                _ => {}
            }
            if let Some(probe) = queue.pop_front() {
                self.held_count -= 1;
                self.retries.push_front(probe);
            }
            if queue.is_empty() {
                self.held.remove(&host);
            } else {
                // The next one waits for the token after the one just released.
                self.wakes
                    .push(Reverse((now + Duration::from_micros(1), host)));
            }
        }
    }

    /// Frees a slot and returns its probe; unparks a probe of the same host.
    fn release(&mut self, token: Token) -> Probe {
        let (probe, _) = self.slots[token]
            .take()
            .expect("release of an occupied slot");
        self.free.push(token);
        self.in_flight -= 1;
        if probe.aged {
            self.aged -= 1;
        }
        if self.cfg.host_cap.is_some() {
            let addr = probe.endpoint.addr;
            if let Some(n) = self.per_host.get_mut(&addr) {
                *n -= 1;
                if *n == 0 {
                    self.per_host.remove(&addr);
                }
            }
            if let Some(queue) = self.parked.get_mut(&addr) {
                if let Some(p) = queue.pop_front() {
                    self.parked_count -= 1;
                    self.retries.push_front(p);
                }
                if queue.is_empty() {
                    self.parked.remove(&addr);
                }
            }
        }
        probe
    }

    fn hiccup(&mut self, probe: Probe, hiccup: Hiccup, now: Instant) -> Result<(), EngineError> {
        if self.in_flight == 0 {
            self.idle_hiccups += 1;
            if self.idle_hiccups > HICCUP_LIMIT || hiccup == Hiccup::FileLimit {
                return Err(EngineError::Starved { hiccup });
            }
        }
        match hiccup {
            Hiccup::FileLimit => {
                self.socket_ceiling = self.in_flight.max(1);
                self.cc.cap(self.in_flight);
            }
            Hiccup::NoBuffers | Hiccup::NoLocalPort => {
                self.cc.back_off();
                self.paused_until = Some(now + PRESSURE_PAUSE);
            }
            Hiccup::SelfConnect => {}
        }
        self.retries.push_front(probe);
        Ok(())
    }

    fn emit(
        &mut self,
        probe: Probe,
        reason: Reason,
        rtt: Option<Duration>,
        sink: &mut dyn Sink,
    ) -> Result<(), EngineError> {
        let result = PortResult::new(probe.endpoint, reason, rtt, probe.tries);
        *self
            .summary
            .counts
            .entry((result.state, reason))
            .or_default() += 1;
        sink.result(&result).map_err(EngineError::Sink)
    }

    fn cancel_all(&mut self, transport: &mut dyn Transport) {
        for (token, slot) in self.slots.iter_mut().enumerate() {
            if slot.take().is_some() {
                transport.cancel(token);
            }
        }
        self.in_flight = 0;
        self.aged = 0;
    }
}
