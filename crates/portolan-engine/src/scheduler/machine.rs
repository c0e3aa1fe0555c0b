//! The scheduler's decisions as a state machine with no I/O: time and events in,
//! probes to send, sockets to cancel and results out (the shape of quinn-proto's
//! `Connection`).
//!
//! A driver, [`Scanner::run`](super::Scanner::run) or a test, turns it like this:
//!
//! 1. while [`Machine::poll_transmit`] names a probe, start it on the transport and
//!    tell the machine how that went with [`Machine::on_started`];
//! 2. wait for events until [`Machine::poll_timeout`] (or less), feed each to
//!    [`Machine::handle`], then call [`Machine::handle_timeout`] with the moment the
//!    wait *began*;
//! 3. cancel every token [`Machine::poll_cancel`] names, and pass on every
//!    [`Machine::poll_result`].
//!
//! The machine never reads a clock: every `now` comes from the driver, so a test
//! can step it with made-up instants and check each decision (see
//! `tests/machine.rs`). The reasons behind the decisions are in the
//! [`scheduler`](super) overview.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use portolan_target::{Endpoint, HostKey};

use super::bucket::TokenBucket;
use super::caps::HostCaps;
use super::open_cap::OpenCap;
use super::slab::{Generation, ProbeSlab};
use super::{EngineError, Progress, Scanner, TargetOrder};
use crate::congestion::Congestion;
use crate::icmp_limit::{IcmpPacer, Pace, Silence};
use crate::result::{PortResult, PortState, Reason, Summary};
use crate::timing::RttEstimator;
use crate::transport::{Answer, Event, Hiccup, Started, Token};

/// How long launches pause after the kernel ran short of buffers or ports.
pub const PRESSURE_PAUSE: Duration = Duration::from_millis(5);
/// Hiccups in a row with nothing in flight before the engine gives up.
pub const HICCUP_LIMIT: u32 = 2000;
/// Host groups that may be undecided at once: the walk waits before the next
/// group while this many earlier ones still have pairs to decide, so the reports
/// never hold more than this many groups of hosts.
pub const OPEN_GROUPS: u128 = 4;

/// At the tail of a scan over a transport whose late answers count, the gap
/// between a pair's tries, at the least; an eighth of the smoothed round trip
/// when that is longer. Loss on an idle path is not bursty, so tries a few
/// milliseconds apart are as independent as tries a timeout apart.
pub const TAIL_SPACING: Duration = Duration::from_millis(1);

/// A probe to start: [`crate::Transport::start`]`(token, addr)`, then
/// [`Machine::on_started`] with what it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// The probe's token, to pass back with what the transport answers.
    pub token: Token,
    /// Where to send it.
    pub addr: SocketAddr,
}

/// One pair on its way to a result.
#[derive(Debug)]
struct Probe {
    endpoint: Endpoint,
    tries: u8,
    sent: Instant,
    /// Presumed lost: no longer counted against the congestion window.
    aged: bool,
    /// Sent when the host's modelled ICMP bucket held a token (see `icmp_limit`).
    paced: bool,
    /// The host group of its pair (see `Groups`).
    group: u128,
    /// ln of the chance that an answering port went unanswered at every try so
    /// far: the sum, over its timed-out tries, of ln of the loss estimate at the
    /// time (see [`Congestion::miss_ln`]).
    miss_ln: f32,
    /// The congestion state's answer clock when its first try went out, so that
    /// the loss of that try counts from then (see `Congestion::on_answer`).
    first_clock: u64,
    /// A try was cut short at the tail (see `Machine::tail_probe`): an answer may
    /// be the late one of that try, so it says nothing about loss.
    tail_probed: bool,
}

impl Probe {
    /// Whether an answer to it follows a try that timed out, the congestion
    /// signal; a try cut short at the tail is no such sign.
    fn answer_follows_loss(&self) -> bool {
        self.tries > 1 && !self.tail_probed
    }
}

/// Host groups in progress: how many pairs each still has to decide, and the
/// first group not yet reported done. Groups are done in walk order.
#[derive(Debug, Default)]
struct Groups {
    undecided: std::collections::BTreeMap<u128, u64>,
    next_done: u128,
}

/// What the machine has for its driver.
#[derive(Debug, Default)]
struct Outbox {
    results: VecDeque<PortResult>,
    /// Tokens of expired probes whose sockets the transport must close.
    cancels: VecDeque<Token>,
    /// Host groups whose every pair is decided, in walk order.
    groups_done: VecDeque<u128>,
}

/// Where new pairs come from and how far the walk is.
struct Source<O> {
    order: O,
    total: u128,
    done: bool,
    /// Pairs drawn from the order; the rest of what it consumed was excluded.
    yielded: u128,
}

/// A scan in progress, without I/O. Built by [`Scanner::machine`].
pub struct Machine<O> {
    /// Most tries per pair (`max_retries + 1`); the loss estimate may allow fewer.
    max_tries: u8,
    started: Instant,
    source: Source<O>,
    rtt: RttEstimator,
    cc: Congestion,
    slab: ProbeSlab<Probe>,
    /// Probes in flight that are presumed lost (see the scheduler overview).
    aged: usize,
    /// Probes in flight in send order, for ageing.
    young: VecDeque<(Instant, Token, Generation)>,
    /// The walk is over and nothing waits to be sent: probes presumed lost from
    /// now on are tried again at once where the budget allows (see the overview).
    tail: bool,
    /// Probes presumed lost at the tail, with when, for `handle_timeout`.
    early: BinaryHeap<Reverse<(Instant, Token, Generation)>>,
    /// The transport's [`crate::Transport::late_answers`]: at the tail, a pair's
    /// tries may then go [`TAIL_SPACING`] apart.
    late_answers: bool,
    deadlines: BinaryHeap<Reverse<(Instant, Token, Generation)>>,
    /// The timeout in force when deadlines were last set; see `retime`.
    deadline_basis: Duration,
    /// Most sockets open at once: `max_in_flight`, lowered when the file limit bites.
    socket_ceiling: usize,
    /// Pairs to send before any new one: retries, hiccups, unparked pairs.
    retries: VecDeque<Probe>,
    caps: HostCaps<Probe>,
    /// ICMP rate limiting of closed UDP ports (see `icmp_limit`): retries of a
    /// limited host wait in `held`, one per modelled token, woken by `wakes`. A host
    /// that never sent a port unreachable (every TCP scan) is never held.
    pacer: IcmpPacer,
    held: HashMap<IpAddr, VecDeque<Probe>>,
    held_count: usize,
    wakes: BinaryHeap<Reverse<(Instant, IpAddr)>>,
    bucket: Option<TokenBucket>,
    /// `--min-rate`: tokens earned at the floor rate; one there lets a probe go
    /// past a full congestion window.
    floor: Option<TokenBucket>,
    /// Launches wait until then (the kernel was short of buffers or ports).
    paused_until: Option<Instant>,
    /// A start hiccuped: nothing more goes out until the driver has waited.
    stalled: bool,
    /// The probe handed out by `poll_transmit`, waiting for `on_started`.
    launching: Option<(Token, Probe)>,
    idle_hiccups: u32,
    /// `--max-open-per-host`: open results per host, the hosts stopped.
    open_cap: OpenCap,
    groups: Groups,
    summary: Summary,
    outbox: Outbox,
}

impl Scanner {
    /// A machine for one run over `order`, starting at `now`; drive it yourself, or
    /// let [`Scanner::run`] drive it over a transport.
    pub fn machine<O: TargetOrder>(&self, order: O, now: Instant) -> Machine<O> {
        let total = order.total();
        Machine {
            max_tries: self.timing.max_retries.saturating_add(1),
            started: now,
            source: Source {
                order,
                total,
                done: false,
                yielded: 0,
            },
            rtt: RttEstimator::new(self.timing),
            cc: Congestion::new(self.timing.initial_window, self.max_in_flight),
            slab: ProbeSlab::default(),
            aged: 0,
            young: VecDeque::new(),
            tail: false,
            early: BinaryHeap::new(),
            late_answers: false,
            deadlines: BinaryHeap::new(),
            deadline_basis: self.timing.initial_timeout,
            socket_ceiling: self.max_in_flight,
            retries: VecDeque::new(),
            caps: HostCaps::new(self.host_cap),
            pacer: IcmpPacer::new(),
            held: HashMap::new(),
            held_count: 0,
            wakes: BinaryHeap::new(),
            bucket: self.rate.map(|rate| TokenBucket::new(rate, now)),
            floor: self.min_rate.map(|rate| TokenBucket::new(rate, now)),
            paused_until: None,
            stalled: false,
            launching: None,
            idle_hiccups: 0,
            open_cap: OpenCap::new(self.open_cap),
            groups: Groups::default(),
            summary: Summary::default(),
            outbox: Outbox::default(),
        }
    }
}

impl<O: TargetOrder> Machine<O> {
    /// Tells the machine whether the transport's late answers count (see
    /// [`crate::Transport::late_answers`]); [`Scanner::run`] does.
    pub fn keep_late_answers(&mut self, yes: bool) {
        self.late_answers = yes;
    }

    /// When the machine began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The next probe to start, if the window, the socket ceiling, the rate limit,
    /// the per-host cap and any pause allow one now. Until [`Self::on_started`] has
    /// been told how it went, there is no other.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        self.age(now);
        if self.launching.is_some() || self.stalled {
            return None;
        }
        if self.paused_until.is_some_and(|p| p > now) {
            return None;
        }
        self.paused_until = None;
        self.wake_held(now);
        if let Some(bucket) = &mut self.bucket {
            bucket.refill(now);
        }
        if let Some(floor) = &mut self.floor {
            floor.refill(now);
        }
        if !self.has_room() || !self.bucket.as_ref().is_none_or(TokenBucket::has_token) {
            return None;
        }
        let probe = self.next_probe()?;
        let token = self.slab.reserve();
        let addr = SocketAddr::new(probe.endpoint.addr, probe.endpoint.port);
        self.launching = Some((token, probe));
        Some(Transmit { token, addr })
    }

    /// What the transport's `start` did with the probe of the last [`Transmit`]. A
    /// token that is not the one handed out is ignored.
    pub fn on_started(
        &mut self,
        token: Token,
        started: Started,
        now: Instant,
    ) -> Result<(), EngineError> {
        let Some((t, mut probe)) = self.launching.take() else {
            return Ok(());
        };
        if t != token {
            self.launching = Some((t, probe));
            return Ok(());
        }
        if probe.tries == 0 {
            probe.first_clock = self.cc.clock();
        }
        match started {
            Started::InFlight => {
                probe.tries += 1;
                probe.sent = now;
                probe.aged = false;
                probe.paced = self.pacer.on_sent(probe.endpoint.addr, now);
                let addr = probe.endpoint.addr;
                let probe_tries = probe.tries;
                let Some(generation) = self.slab.insert(token, probe) else {
                    return Ok(());
                };
                self.sent_one();
                self.caps.started(addr);
                let timeout = self.rtt.timeout();
                self.deadline_basis = self.deadline_basis.max(timeout);
                self.deadlines
                    .push(Reverse((now + timeout, token, generation)));
                self.young.push_back((now, token, generation));
                if self.tail && self.late_answers && probe_tries >= 2 {
                    // An earlier try was overdue: the next may follow closely.
                    let at = now + self.tail_spacing();
                    self.early.push(Reverse((at, token, generation)));
                }
                self.summary.max_in_flight = self.summary.max_in_flight.max(self.slab.len());
                Ok(())
            }
            Started::Answered(answer) => {
                self.slab.free(token);
                probe.tries += 1;
                self.sent_one();
                self.cc
                    .on_answer(probe.answer_follows_loss(), None, probe.first_clock);
                if answer == Answer::Unreachable(Reason::PortUnreach) {
                    self.pacer.on_port_unreach(probe.endpoint.addr, now);
                }
                self.emit(probe, answer.reason(), Some(Duration::ZERO));
                Ok(())
            }
            Started::Hiccup(hiccup) => {
                // Stop launching until the driver has waited for sockets to free up.
                self.slab.free(token);
                self.stalled = true;
                self.hiccup(probe, hiccup, now)
            }
        }
    }

    /// An event from the transport, read at `now`. Events for probes that are no
    /// longer in flight are ignored, so each pair is reported once.
    pub fn handle(&mut self, event: Event, now: Instant) -> Result<(), EngineError> {
        let (Event::Answered(token, _) | Event::Hiccup(token, _)) = event;
        let Some(probe) = self.release(token, true) else {
            return Ok(());
        };
        match event {
            Event::Answered(_, answer) => {
                let rtt = now.saturating_duration_since(probe.sent);
                // Karn's rule: the answer of a retried probe may be the late answer
                // of an earlier try, and its round trip (from the last send) too
                // short; such a sample would lower the timeout and the base round
                // trip the window judges queueing by, and pin the window at its
                // floor (seen with -sS on the lab's WAN).
                let sample = (probe.tries == 1).then_some(rtt);
                if let Some(rtt) = sample {
                    self.rtt.sample(rtt);
                }
                self.cc
                    .on_answer(probe.answer_follows_loss(), sample, probe.first_clock);
                if answer == Answer::Unreachable(Reason::PortUnreach) {
                    self.pacer.on_port_unreach(probe.endpoint.addr, now);
                }
                self.emit(probe, answer.reason(), Some(rtt));
                Ok(())
            }
            Event::Hiccup(_, hiccup) => {
                let mut probe = probe;
                probe.tries -= 1;
                self.hiccup(probe, hiccup, now)
            }
        }
    }

    /// When the machine next needs [`Self::handle_timeout`] or
    /// [`Self::poll_transmit`]: the earliest deadline, or when a pause ends or the
    /// rate limit allows the next probe, or a host's held retry is due (never before
    /// a pause ends). `None`: only an event can change anything.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadline = [self.deadlines.peek(), self.early.peek()]
            .into_iter()
            .flatten()
            .map(|Reverse((at, _, _))| *at)
            .min();
        let wake = self
            .wakes
            .peek()
            .map(|Reverse((w, _))| self.paused_until.map_or(*w, |p| p.max(*w)));
        let deadline = match (deadline, wake) {
            (Some(d), Some(w)) => Some(d.min(w)),
            (d, w) => d.or(w),
        };
        let token = self
            .bucket
            .as_ref()
            .filter(|_| self.has_room())
            .and_then(TokenBucket::ready_at);
        // A full window: the floor's next token lets a probe go anyway.
        let floor = self
            .floor
            .as_ref()
            .filter(|_| !self.has_room() && self.under_ceiling())
            .and_then(TokenBucket::ready_at);
        let token = match (token, floor) {
            (Some(t), Some(f)) => Some(t.min(f)),
            (t, f) => t.or(f),
        };
        let launch = match (self.paused_until, token) {
            (Some(p), Some(t)) => Some(p.max(t)),
            (p, t) => p.or(t),
        };
        match (deadline, launch) {
            (Some(d), Some(l)) => Some(d.min(l)),
            (d, l) => d.or(l),
        }
    }

    /// Time has come to `now`: probes whose deadline passed are retried, or
    /// reported `filtered/no-response` once their retry budget is spent. Give the
    /// moment the wait for events *began*: an answer that had arrived by then was
    /// in that batch, so a scanner that was itself stalled does not call its
    /// answers lost.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.stalled = false;
        self.retime();
        while let Some(&Reverse((at, token, generation))) = self.early.peek() {
            if at > now {
                break;
            }
            self.early.pop();
            self.tail_probe(token, generation, now);
        }
        while let Some(&Reverse((deadline, token, generation))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if self.slab.is_live(token, generation) {
                self.expire(token, now, false);
            }
        }
    }

    /// At the tail, a probe presumed lost whose next try the budget allows is
    /// tried again now instead of at its deadline; the try that the budget makes
    /// the last waits out its whole timeout, as always.
    fn tail_probe(&mut self, token: Token, generation: Generation, now: Instant) {
        let Some(probe) = self.slab.get_mut(token, generation) else {
            return;
        };
        let (tries, miss_ln, paced, host) =
            (probe.tries, probe.miss_ln, probe.paced, probe.endpoint.addr);
        // Judged as `expire` will, so that it retries and does not report.
        let next_allowed = self.budget_allows(tries, self.with_silent_try(miss_ln));
        if next_allowed && !paced && self.pacer.trusts_silence(host) {
            self.expire(token, now, true);
        }
    }

    /// The probe of `token` (in flight) gets no more time: retried, or reported
    /// `filtered/no-response` once its retry budget is spent. `cut_short`: at the
    /// tail, before its deadline (see `tail_probe`).
    fn expire(&mut self, token: Token, now: Instant, cut_short: bool) {
        let Some(mut probe) = self.release(token, false) else {
            return;
        };
        probe.tail_probed |= cut_short;
        self.outbox.cancels.push_back(token);
        if probe.tries == 1 {
            self.cc.on_silence();
        }
        let host = probe.endpoint.addr;
        if self.pacer.silence(host, now, probe.sent, probe.paced) == Silence::Suspect {
            // Its ICMP answer may have been rate limited: not a try.
            probe.tries -= 1;
            self.hold(probe, now);
            return;
        }
        // A silent paced try spent no token: the host's next held retry may go now.
        if self.held.contains_key(&host) && self.pacer.pace(host, now) == Pace::At(now) {
            self.wakes.push(Reverse((now, host)));
        }
        // The budget is per probe: each of its silent tries counts with the loss
        // estimate of its own time, so tries made during a burst of loss that
        // is over do not buy later ones (see `congestion`).
        probe.miss_ln = self.with_silent_try(probe.miss_ln);
        if self.budget_allows(probe.tries, probe.miss_ln) {
            self.summary.retries += 1;
            self.hold(probe, now);
        } else {
            self.emit(probe, Reason::NoResponse, None);
        }
    }

    /// A probe in flight that the transport must forget (its socket closed, no
    /// event to follow). Its token is reused only after it was polled here.
    pub fn poll_cancel(&mut self) -> Option<Token> {
        let token = self.outbox.cancels.pop_front()?;
        self.slab.free(token);
        Some(token)
    }

    /// The next decided result, in the order they were decided.
    pub fn poll_result(&mut self) -> Option<PortResult> {
        self.outbox.results.pop_front()
    }

    /// The hosts of the next host group whose every pair is decided (after its
    /// results were polled), in walk order; see [`crate::Sink::hosts_done`].
    pub fn poll_hosts_done(&mut self) -> Option<Vec<HostKey>> {
        if !self.outbox.results.is_empty() {
            return None;
        }
        let g = self.outbox.groups_done.pop_front()?;
        Some(self.source.order.hosts_of(g))
    }

    /// Every pair has its result (results and cancels may still wait to be polled).
    /// The end of the order is found by [`Self::poll_transmit`] asking it for more.
    pub fn is_done(&self) -> bool {
        self.source.done
            && self.slab.len() == 0
            && self.launching.is_none()
            && self.retries.is_empty()
            && self.caps.parked() == 0
            && self.held_count == 0
    }

    /// Probes in flight, including those presumed lost.
    pub fn in_flight(&self) -> usize {
        self.slab.len()
    }

    /// A snapshot for progress bars.
    pub fn progress(&self) -> Progress {
        Progress {
            done: u128::from(self.summary.results()) + self.excluded() + self.open_cap.skipped(),
            total: self.source.total,
            in_flight: self.slab.len(),
            window: self.cc.window(),
            timeout: self.rtt.timeout(),
            probes_sent: self.summary.probes_sent,
            open: self.summary.count(PortState::Open),
        }
    }

    /// Stops the run: every probe in flight is to be cancelled (see
    /// [`Self::poll_cancel`]); unanswered pairs get no result.
    pub fn abort(&mut self) {
        if let Some((token, _)) = self.launching.take() {
            self.slab.free(token);
        }
        for token in self.slab.tokens() {
            if self.slab.take(token).is_some() {
                self.outbox.cancels.push_back(token);
            }
        }
        self.aged = 0;
    }

    /// The run's summary; `complete` says whether every pair was decided.
    pub fn finish(&mut self, complete: bool, now: Instant) -> Summary {
        self.summary.complete = complete;
        self.summary.icmp_limited = self.pacer.limited().collect();
        self.summary.icmp_limited.sort();
        self.summary.excluded = u64::try_from(self.excluded()).unwrap_or(u64::MAX);
        self.summary.capped = self.open_cap.stopped();
        self.summary.elapsed = now.saturating_duration_since(self.started);
        std::mem::take(&mut self.summary)
    }

    fn excluded(&self) -> u128 {
        self.source
            .order
            .consumed()
            .saturating_sub(self.source.yielded)
    }

    fn sent_one(&mut self) {
        self.summary.probes_sent += 1;
        self.idle_hiccups = 0;
        if let Some(bucket) = &mut self.bucket {
            bucket.spend();
        }
        if let Some(floor) = &mut self.floor {
            floor.spend_floor();
        }
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
        for (token, generation, probe) in self.slab.iter() {
            self.deadlines
                .push(Reverse((probe.sent + timeout, token, generation)));
        }
    }

    /// `miss_ln` of a probe once a silent try judged now is counted in it.
    fn with_silent_try(&self, miss_ln: f32) -> f32 {
        miss_ln + self.cc.miss_ln() as f32
    }

    /// Whether a probe silent after `tries` tries, whose misses sum to `miss_ln`,
    /// is tried again (see [`Congestion::retry`]).
    fn budget_allows(&self, tries: u8, miss_ln: f32) -> bool {
        Congestion::retry(tries, f64::from(miss_ln), self.source.total, self.max_tries)
    }

    /// The gap between tries of a pair at the tail when late answers count.
    fn tail_spacing(&self) -> Duration {
        self.rtt
            .srtt()
            .map_or(TAIL_SPACING, |s| (s / 8).max(TAIL_SPACING))
    }

    /// Marks probes unanswered for twice the smoothed round trip as presumed lost.
    fn age(&mut self, now: Instant) {
        let Some(srtt) = self.rtt.srtt() else { return };
        if !self.tail
            && self.source.done
            && self.retries.is_empty()
            && self.held_count == 0
            && self.caps.parked() == 0
        {
            self.tail = true;
            for (token, generation, p) in self.slab.iter() {
                if p.aged {
                    self.early.push(Reverse((now, token, generation)));
                }
            }
        }
        let lost_after = (srtt * 2 + Duration::from_millis(1)).min(self.rtt.timeout());
        while let Some(&(sent, token, generation)) = self.young.front() {
            if sent + lost_after > now {
                break;
            }
            self.young.pop_front();
            if let Some(probe) = self.slab.get_mut(token, generation) {
                if !probe.aged {
                    probe.aged = true;
                    self.aged += 1;
                    if self.tail {
                        self.early.push(Reverse((now, token, generation)));
                    }
                }
            }
        }
    }

    /// Room in the congestion window and under the socket ceiling, or a token of
    /// the `--min-rate` floor (under the ceiling) that overrides the window.
    fn has_room(&self) -> bool {
        let in_flight = self.slab.len();
        let window = in_flight - self.aged < self.cc.window();
        let floor = self.floor.as_ref().is_some_and(TokenBucket::has_token);
        (window || floor) && self.under_ceiling()
    }

    fn under_ceiling(&self) -> bool {
        self.slab.len() < self.socket_ceiling
    }

    /// The next probe to send: a retry, else a new pair; parks pairs of hosts at their cap.
    fn next_probe(&mut self) -> Option<Probe> {
        let parked_limit = self.cc.window() * 4 + 1024;
        loop {
            let probe = match self.retries.pop_front() {
                Some(p) => p,
                None if self.source.done || self.caps.parked() > parked_limit => return None,
                None => {
                    self.settle_groups();
                    if self.source.order.walked() >= self.groups.next_done + OPEN_GROUPS {
                        // Earlier groups first: the reports hold every open group.
                        return None;
                    }
                    let Some(endpoint) = self.source.order.next_endpoint() else {
                        self.source.done = true;
                        self.settle_groups();
                        return None;
                    };
                    self.source.yielded += 1;
                    let group = self.source.order.group();
                    *self.groups.undecided.entry(group).or_default() += 1;
                    Probe {
                        endpoint,
                        tries: 0,
                        sent: self.started,
                        aged: false,
                        paced: false,
                        group,
                        miss_ln: 0.0,
                        first_clock: 0,
                        tail_probed: false,
                    }
                }
            };
            if self.open_cap.is_stopped(probe.endpoint.addr) {
                self.open_cap.skip(probe.endpoint.addr);
                self.decided(probe.group, 1);
                continue;
            }
            if self.caps.admits(probe.endpoint.addr) {
                return Some(probe);
            }
            self.caps.park(probe.endpoint.addr, probe);
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

    /// Releases one held retry per host whose token is due (its send then takes it).
    fn wake_held(&mut self, now: Instant) {
        while let Some(&Reverse((at, host))) = self.wakes.peek() {
            if at > now {
                break;
            }
            self.wakes.pop();
            let Some(queue) = self.held.get_mut(&host) else {
                continue;
            };
            if let Pace::At(due) = self.pacer.pace(host, now) {
                if due > now {
                    self.wakes.push(Reverse((due, host)));
                    continue;
                }
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

    /// Takes a probe out of flight and unparks a pair of the same host. With
    /// `answered`, the token is free at once; otherwise it waits for its cancel.
    fn release(&mut self, token: Token, answered: bool) -> Option<Probe> {
        let probe = if answered {
            self.slab.remove(token)?
        } else {
            self.slab.take(token)?
        };
        if probe.aged {
            self.aged -= 1;
        }
        if let Some(unparked) = self.caps.finished(probe.endpoint.addr) {
            self.retries.push_front(unparked);
        }
        Some(probe)
    }

    fn hiccup(&mut self, probe: Probe, hiccup: Hiccup, now: Instant) -> Result<(), EngineError> {
        let in_flight = self.slab.len();
        if in_flight == 0 {
            self.idle_hiccups += 1;
            if self.idle_hiccups > HICCUP_LIMIT || hiccup == Hiccup::FileLimit {
                return Err(EngineError::Starved { hiccup });
            }
        }
        match hiccup {
            Hiccup::FileLimit => {
                self.socket_ceiling = in_flight.max(1);
                self.cc.cap(in_flight);
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

    /// `--max-open-per-host` was reached for `addr`: every pending pair of the host
    /// is dropped and counted as not scanned; its probes in flight are cancelled.
    /// Returns how many pairs were dropped.
    fn stop_host(&mut self, addr: IpAddr) -> u64 {
        let mut dropped = 0u64;
        let before = self.retries.len();
        self.retries.retain(|p| p.endpoint.addr != addr);
        dropped += (before - self.retries.len()) as u64;
        if let Some(queue) = self.held.remove(&addr) {
            self.held_count -= queue.len();
            dropped += queue.len() as u64;
        }
        dropped += self.caps.drain(addr).len() as u64;
        let in_flight: Vec<Token> = self
            .slab
            .iter()
            .filter(|(_, _, p)| p.endpoint.addr == addr)
            .map(|(token, _, _)| token)
            .collect();
        for token in in_flight {
            if self.release(token, false).is_some() {
                self.outbox.cancels.push_back(token);
                dropped += 1;
            }
        }
        // Releasing may have unparked pairs of the host into the retries.
        let before = self.retries.len();
        self.retries.retain(|p| p.endpoint.addr != addr);
        dropped += (before - self.retries.len()) as u64;
        for _ in 0..dropped {
            self.open_cap.skip(addr);
        }
        dropped
    }

    fn emit(&mut self, probe: Probe, reason: Reason, rtt: Option<Duration>) {
        let addr = probe.endpoint.addr;
        let result = PortResult::new(probe.endpoint, reason, rtt, probe.tries);
        if result.state == PortState::Open && self.open_cap.on_open(addr) {
            // A host's pairs are all of one group: those dropped are decided too.
            let dropped = self.stop_host(addr);
            self.decided(probe.group, dropped);
        }
        *self
            .summary
            .counts
            .entry((result.state, reason))
            .or_default() += 1;
        self.outbox.results.push_back(result);
        self.decided(probe.group, 1);
    }

    /// `n` pairs of `group` were decided (a result, or dropped by the open cap).
    fn decided(&mut self, group: u128, n: u64) {
        if let Some(left) = self.groups.undecided.get_mut(&group) {
            *left = left.saturating_sub(n);
        }
        self.settle_groups();
    }

    /// Reports done every group, in walk order, that is walked whole and has no
    /// pair left to decide.
    fn settle_groups(&mut self) {
        let walked = self.source.order.walked();
        while self.groups.next_done < walked {
            let g = self.groups.next_done;
            if self.groups.undecided.get(&g).is_some_and(|&n| n > 0) {
                break;
            }
            self.groups.undecided.remove(&g);
            self.outbox.groups_done.push_back(g);
            self.groups.next_done += 1;
        }
    }
}
