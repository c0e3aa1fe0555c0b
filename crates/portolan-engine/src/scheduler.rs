//! The scan scheduler: what to send next, when to give up on a probe, when to retry.
//!
//! It is split so that every decision can be tested without a network or a clock:
//!
//! - [`Machine`] holds the decisions, sans-IO in quinn-proto's style: it is told the
//!   time and what happened, and answers with probes to send ([`Transmit`]),
//!   sockets to cancel and results. A test steps it with made-up instants.
//! - [`Scanner::run`] is the thin loop that drives a machine over a [`Transport`]
//!   (mio sockets, the simulated network, raw SYN or UDP) and passes results to a
//!   [`Sink`].
//! - Three parts have types of their own, each with its own tests: the probe slab
//!   with generations (`slab`), the per-host cap with parking (`caps`) and the
//!   token bucket of the rate limit (`bucket`).
//!
//! One thread drives everything; no locks, no tasks per probe. Each turn of the loop:
//!
//! 1. launches probes while the congestion window, the rate limit, the per-host cap
//!    and any back-off allow (retries first, then new pairs from the [`TargetOrder`]),
//! 2. waits for events until the next deadline, and handles them: answers become
//!    results and round-trip samples; local hiccups (`EMFILE`, `ENOBUFS`,
//!    `EADDRNOTAVAIL`, a self-connect) put the probe back without counting a try,
//! 3. expires probes whose deadline passed before the wait began (retry, or report
//!    `filtered/no-response` once the retry budget is spent).
//!
//! The congestion window limits the probes that may still be on the wire. A probe
//! unanswered for twice the smoothed round trip is presumed lost: it keeps its
//! socket until its timeout, but no longer counts against the window, so a filtered
//! range (whose probes all wait out their timeouts) does not slow the scan of the
//! ports that answer. The socket ceiling (`max_in_flight`) still counts every probe.
//!
//! When the first round trips are measured, the timeout falls far below the initial
//! one; probes already in flight are then given the new, shorter deadline
//! (*retime*) instead of waiting out the initial timeout.
//!
//! The tail of a scan (the walk is over and nothing waits to be sent) is spent
//! waiting: the last silent pairs need a timeout per try, and the path is idle.
//! There, a probe presumed lost is tried again at once instead of at its deadline,
//! as long as the retry budget allows a try after the one it cuts short (the idea
//! of TCP's tail loss probe); the try the budget makes the last waits out its whole
//! timeout, so no pair is decided on less waiting than before. Where the transport
//! keeps late answers ([`Transport::late_answers`]: raw SYN matches answers by
//! destination, so an answer to any try counts), the tries after the first overdue
//! one go [`TAIL_SPACING`] (or an eighth of the round trip) apart: on the lab's WAN
//! (40 ms, 1 % loss, five tries for a silent port) the tail fell from about 230 ms
//! to 120 ms. A try cut short says nothing about loss: its pair's answer, if one
//! comes, is not counted as a retried one.
//!
//! UDP silence is judged by [`crate::icmp_limit::IcmpPacer`] first: on a host whose
//! ICMP port unreachables are rate limited, a silent try may be a closed port whose
//! answer was suppressed, so it is retried without counting, and retries of such a
//! host wait for its modelled token (one per period) in a per-host queue; first tries
//! are never held back. Hosts found limited are listed in the [`Summary`]. TCP scans
//! never see a port unreachable, so the pacer tracks no host and none of this
//! touches them (see `docs/udp.md`).
//!
//! The retry budget is derived from the measured loss, per probe (see
//! [`Congestion::retry`](crate::congestion::Congestion::retry)): two tries on a
//! clean path, more on a lossy one, never above the user's `max_retries`; each
//! silent try counts with the loss estimate of its own time, so a burst of loss
//! that is over does not buy later probes more tries.
//!
//! Local hiccups are this machine's trouble, not the target's, so none counts as a
//! try or loses a port: `EMFILE` lowers the socket ceiling to what is open now;
//! `ENOBUFS` and `EADDRNOTAVAIL` shrink the window and pause launches for
//! [`PRESSURE_PAUSE`]; a self-connect (loopback, source port equal to the
//! destination port) is simply sent again. After any hiccup at `start`, launching
//! waits for the next turn, when sockets may have freed up. Hiccups with nothing in
//! flight cannot be waited out: the file limit at once, or [`HICCUP_LIMIT`] of the
//! others in a row, end the scan with [`EngineError::Starved`] instead of a hang.
//!
//! `--max-open-per-host` (`open_cap`) stops a host once it has so many open ports:
//! its pending pairs are dropped and counted, never reported, and the [`Summary`]
//! lists the hosts stopped with how many pairs each did not scan.
//!
//! A pair is reported exactly once: an event for a probe that is no longer in flight
//! (it expired, or its slot holds a newer probe) is ignored. A cancelled run
//! reports only what was answered, so a resumed run can probe the rest.

mod bucket;
mod caps;
mod machine;
mod open_cap;
mod slab;

pub use machine::{Machine, Transmit, HICCUP_LIMIT, OPEN_GROUPS, PRESSURE_PAUSE, TAIL_SPACING};

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portolan_target::{Endpoint, HostKey, ScanOrder};

use crate::result::{PortResult, Summary};
use crate::timing::Timing;
use crate::transport::{Hiccup, Transport};

/// How often the sink hears about progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where pairs come from. [`ScanOrder`] is the usual one; resume and sharding wrap it.
pub trait TargetOrder {
    /// The next pair to scan, or `None` once the walk is over.
    fn next_endpoint(&mut self) -> Option<Endpoint>;
    /// Pair slots in the whole walk (excluded ones included).
    fn total(&self) -> u128;
    /// Pair slots walked so far.
    fn consumed(&self) -> u128;
    /// The host group of the pair last drawn (see [`ScanOrder`]'s host groups).
    /// An order without groups is one group, 0.
    fn group(&self) -> u128 {
        0
    }
    /// Groups below this one are walked whole: none of their pairs is still to
    /// come. An order without groups says 0, and its hosts are never reported done.
    fn walked(&self) -> u128 {
        0
    }
    /// The hosts of group `g`, for [`Sink::hosts_done`].
    fn hosts_of(&self, _g: u128) -> Vec<HostKey> {
        Vec::new()
    }
}

impl<T: TargetOrder + ?Sized> TargetOrder for &mut T {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        (**self).next_endpoint()
    }
    fn total(&self) -> u128 {
        (**self).total()
    }
    fn consumed(&self) -> u128 {
        (**self).consumed()
    }
    fn group(&self) -> u128 {
        (**self).group()
    }
    fn walked(&self) -> u128 {
        (**self).walked()
    }
    fn hosts_of(&self, g: u128) -> Vec<HostKey> {
        (**self).hosts_of(g)
    }
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
    fn group(&self) -> u128 {
        ScanOrder::group(self)
    }
    fn walked(&self) -> u128 {
        ScanOrder::walked(self)
    }
    fn hosts_of(&self, g: u128) -> Vec<HostKey> {
        ScanOrder::hosts_of(self, g)
    }
}

/// An error a sink returns to stop the scan (a closed pipe, a full disk).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receives results as they are decided. Printers, files and databases live behind it.
pub trait Sink {
    /// Takes one result; an error stops the scan ([`EngineError::Sink`]).
    fn result(&mut self, result: &PortResult) -> Result<(), SinkError>;
    /// Hears about progress about every 100 ms; the default ignores it.
    fn progress(&mut self, _progress: &Progress) -> Result<(), SinkError> {
        Ok(())
    }
    /// Every pair of these hosts (one host group) has its result, and no more will
    /// come: a report may write their block and forget them. Groups are done in
    /// walk order; the default ignores it.
    fn hosts_done(&mut self, _hosts: &[HostKey]) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A snapshot for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pair slots decided (answered, given up on, or excluded).
    pub done: u128,
    /// Pair slots in the whole walk.
    pub total: u128,
    /// Probes in flight now.
    pub in_flight: usize,
    /// The congestion window: how many probes may be in flight.
    pub window: usize,
    /// The timeout now given to a probe.
    pub timeout: Duration,
    /// Probes started so far.
    pub probes_sent: u64,
    /// Open ports found so far.
    pub open: u64,
}

/// Why a scan stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The transport failed: its poller, or (through a proxy) the proxy itself.
    #[error("the transport failed: {0}")]
    Poll(#[source] std::io::Error),
    #[error("no socket can be opened ({hiccup:?} with nothing in flight); raise `ulimit -n` or free resources")]
    /// Nothing could be started, over and over, with nothing in flight to wait for.
    Starved {
        /// The last local failure.
        hiccup: Hiccup,
    },
    #[error("writing results failed: {0}")]
    /// The sink refused a result.
    Sink(#[source] SinkError),
}

/// Most probes in flight at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concurrency(pub NonZeroUsize);

/// Probes per second; positive and finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(f64);

impl Rate {
    /// `per_second` if it is positive and finite.
    pub fn new(per_second: f64) -> Option<Self> {
        (per_second.is_finite() && per_second > 0.0).then_some(Rate(per_second))
    }

    /// Probes per second.
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
    min_rate: Option<Rate>,
    cancel: Option<Arc<AtomicBool>>,
    open_cap: Option<std::num::NonZeroU32>,
}

impl ScannerBuilder {
    /// Timeouts, retries and the first window (default: the `Normal` template).
    pub fn timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// The most probes in flight at once (default 4096).
    pub fn max_in_flight(mut self, c: Concurrency) -> Self {
        self.max_in_flight = Some(c);
        self
    }

    /// The most probes in flight to one host (default: no cap).
    pub fn max_host_concurrency(mut self, cap: Option<NonZeroUsize>) -> Self {
        self.host_cap = cap;
        self
    }

    /// The most probes started per second (default: no limit).
    pub fn max_rate(mut self, rate: Option<Rate>) -> Self {
        self.max_rate = rate;
        self
    }

    /// Stops scanning a host once this many of its ports were found open (default:
    /// never); its remaining pairs are counted in [`Summary::capped`].
    pub fn max_open_per_host(mut self, cap: Option<std::num::NonZeroU32>) -> Self {
        self.open_cap = cap;
        self
    }

    /// At least this many probes started per second (default: none): when the
    /// congestion window would hold sends back below it, probes go out anyway, up
    /// to the socket ceiling (`max_in_flight`). Pauses after a local hiccup still
    /// hold. Never above [`Self::max_rate`] (the caller checks that min <= max).
    pub fn min_rate(mut self, rate: Option<Rate>) -> Self {
        self.min_rate = rate;
        self
    }

    /// A flag that, once set, makes the scan stop at its next turn.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// The scanner; a template's scan delay becomes a rate limit if it is the lower one.
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
            min_rate: self.min_rate,
            cancel: self.cancel.unwrap_or_default(),
            open_cap: self.open_cap,
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
    min_rate: Option<Rate>,
    cancel: Arc<AtomicBool>,
    open_cap: Option<std::num::NonZeroU32>,
}

impl Scanner {
    /// A builder with the defaults.
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::default()
    }

    /// Scans every pair of `order` through `transport`, reporting to `sink`: a
    /// [`Machine`] driven by a loop that owns nothing else.
    pub fn run(
        &self,
        order: &mut dyn TargetOrder,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<Summary, EngineError> {
        let mut machine = self.machine(order, transport.now());
        machine.keep_late_answers(transport.late_answers());
        let outcome = self.drive(&mut machine, transport, sink);
        machine.abort();
        cancel_expired(&mut machine, transport);
        let complete = outcome?;
        Ok(machine.finish(complete, transport.now()))
    }

    /// Turns the machine until every pair is decided (`true`) or the cancel flag
    /// is set (`false`).
    fn drive<O: TargetOrder>(
        &self,
        machine: &mut Machine<O>,
        transport: &mut dyn Transport,
        sink: &mut dyn Sink,
    ) -> Result<bool, EngineError> {
        let mut events = Vec::with_capacity(4096);
        let mut next_progress = machine.started();
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Ok(false);
            }
            let now = transport.now();
            // Results are passed on as soon as they are decided, so the machine's
            // outbox stays a few entries long.
            let mut launched = 0u32;
            while let Some(Transmit { token, addr }) = machine.poll_transmit(now) {
                let started = transport.start(token, addr);
                machine.on_started(token, started, now)?;
                deliver(machine, sink)?;
                // Answers given at once by `start` (a route that is unreachable) take
                // no room in the window, so this loop can run for a whole sweep: the
                // sink still hears about progress (the history commits on it).
                launched = launched.wrapping_add(1);
                if launched.is_multiple_of(1024) && transport.now() >= next_progress {
                    if self.cancel.load(Ordering::Relaxed) {
                        return Ok(false);
                    }
                    sink.progress(&machine.progress())
                        .map_err(EngineError::Sink)?;
                    next_progress = transport.now() + PROGRESS_EVERY;
                }
            }
            deliver(machine, sink)?;
            if machine.is_done() {
                sink.progress(&machine.progress())
                    .map_err(EngineError::Sink)?;
                return Ok(true);
            }
            if now >= next_progress {
                sink.progress(&machine.progress())
                    .map_err(EngineError::Sink)?;
                next_progress = now + PROGRESS_EVERY;
            }
            // Answers are read before timeouts are judged, and a probe only times out
            // if its deadline passed before this wait began: every answer that had
            // arrived by then is in this batch. A scanner that was itself stalled
            // (descheduled on a busy machine) does not call its answers lost.
            let until = machine
                .poll_timeout()
                .map_or(next_progress, |t| t.min(next_progress));
            let polled_at = transport.now();
            transport
                .wait(until.saturating_duration_since(now), &mut events)
                .map_err(EngineError::Poll)?;
            let after = transport.now();
            for event in events.drain(..) {
                machine.handle(event, after)?;
                deliver(machine, sink)?;
            }
            machine.handle_timeout(polled_at.max(now));
            cancel_expired(machine, transport);
            deliver(machine, sink)?;
        }
    }
}

fn cancel_expired<O: TargetOrder>(machine: &mut Machine<O>, transport: &mut dyn Transport) {
    while let Some(token) = machine.poll_cancel() {
        transport.cancel(token);
    }
}

fn deliver<O: TargetOrder>(
    machine: &mut Machine<O>,
    sink: &mut dyn Sink,
) -> Result<(), EngineError> {
    while let Some(result) = machine.poll_result() {
        sink.result(&result).map_err(EngineError::Sink)?;
    }
    // After the results: a group is done once its last result was passed on.
    while let Some(hosts) = machine.poll_hosts_done() {
        sink.hosts_done(&hosts).map_err(EngineError::Sink)?;
    }
    Ok(())
}
