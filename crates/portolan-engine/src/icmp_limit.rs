//! ICMP rate limiting of closed UDP ports: detect it, pace the retries it forces, and
//! say when a silence can be trusted. Sans-IO: times are passed in.
//!
//! Linux answers a closed UDP port with ICMP port unreachable through a per-peer
//! token bucket (`net.ipv4.icmp_ratelimit`, `net.ipv6.icmp.ratelimit`: a burst of 6,
//! then one per 1000 ms by default). A scan that sends faster sees the first few
//! closed ports answer and the rest fall silent, exactly as if they were dropped; a
//! scanner that believes that silence reports closed ports `open|filtered`. This
//! module keeps that from happening without slowing what does not need it:
//!
//! - **Detection.** Per host, the arrival times of port-unreachable answers are kept
//!   with the number of probes sent to the host in each gap. When the last
//!   [`GAPS`] gaps are all *busy* (at least [`BUSY`] probes went out per answer that
//!   came back) and *regular* (each within [`REGULAR`] of their median), the host is rate
//!   limited with their mean as its period. Answers at the pace of our own sends are
//!   not busy; answers spaced by runs of dropped ports are not regular.
//! - **Unlimited.** A host that answered more than the burst in a span no limiter of
//!   at least [`MIN_PERIOD`] would allow is unlimited: its silences are trusted at once.
//! - **Pacing.** On a limited host, retries of silent ports go one token at a time:
//!   [`IcmpPacer::pace`] gives the moment the modelled bucket holds a token again (the
//!   last port unreachable, or the last probe sent to the host, plus the period and a
//!   margin). First tries are never held back, so open ports answer at full speed.
//! - **Trust.** [`IcmpPacer::silence`] says whether a silent try counts: always on a
//!   host that never sent port unreachable, or an unlimited one; on a limited host only
//!   when the try was paced; on a host still being judged, not yet (the caller retries
//!   it later without counting the try) unless the host has been quiet for
//!   [`QUIET_PERIODS`] times its widest gap (at least [`QUIET_MIN`]) while being
//!   probed, which no limiter that still had closed ports to report would do.
//!
//! Limits faster than [`MIN_PERIOD`] (Linux's global 1000 errors a second) behave like
//! loss and are covered by the loss-based retry budget.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Gaps between port unreachables that must agree before a limit is believed.
pub const GAPS: usize = 4;
/// Probes sent per answer received for a gap to show suppression.
pub const BUSY: u32 = 3;
/// The fastest per-peer limit this module looks for.
pub const MIN_PERIOD: Duration = Duration::from_millis(10);
/// Linux's burst (`XRLIM_BURST_FACTOR`); answers beyond it at a faster pace than
/// [`MIN_PERIOD`] prove a host unlimited.
pub const BURST: u32 = 6;
/// How many widest gaps of silence, while probed, make a judged host's silence trusted.
pub const QUIET_PERIODS: u32 = 3;
/// The least such silence: three of Linux's default periods (1000 ms), so a limiter
/// that has not shown its period yet has had time to answer again.
pub const QUIET_MIN: Duration = Duration::from_secs(3);
/// How far each gap may be from the median gap and still be regular: answers are
/// quantised by when our probes reach the host, so the gaps of a real limiter vary
/// by the spacing of our sends.
pub const REGULAR: f64 = 0.4;
/// Extra wait on top of the period, so a paced probe finds the token refilled.
const MARGIN: f64 = 0.08;

/// How a host answers closed ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostLimit {
    /// Not enough evidence yet.
    Judging,
    /// Answers faster than any limiter we look for.
    Unlimited,
    /// One port unreachable per `period` after the burst.
    Limited {
        /// Time between two answers once the burst is spent.
        period: Duration,
    },
}

/// When a retry to a host may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Not limited: as congestion control allows.
    Free,
    /// Limited: at this moment (send it then as a paced probe).
    At(Instant),
}

/// Whether a silent try means anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Silence {
    /// Count the try (retry it, or report `no-response` when the budget is spent).
    Trusted,
    /// The answer may have been rate limited: retry without counting the try.
    Suspect,
}

#[derive(Debug)]
struct Host {
    /// Recent port-unreachable arrivals and the probes sent in the gap before each.
    arrivals: VecDeque<(Instant, u32)>,
    sent_since: u32,
    answers: u64,
    first: Option<Instant>,
    last_sent: Option<Instant>,
    /// Probes sent at that very instant: a driver starts a batch of probes with one
    /// `now`, so an instant alone does not say which probe went last.
    sent_at_last: u32,
    limit: HostLimit,
    /// When the modelled bucket holds a token again (limited hosts).
    token_at: Option<Instant>,
}

impl Host {
    fn new() -> Self {
        Host {
            arrivals: VecDeque::with_capacity(GAPS + 2),
            sent_since: 0,
            answers: 0,
            first: None,
            last_sent: None,
            sent_at_last: 0,
            limit: HostLimit::Judging,
            token_at: None,
        }
    }

    fn widest_gap(&self) -> Option<Duration> {
        self.arrivals
            .iter()
            .zip(self.arrivals.iter().skip(1))
            .map(|((a, _), (b, _))| b.saturating_duration_since(*a))
            .max()
    }

    fn judge(&mut self, now: Instant) {
        if self.limit != HostLimit::Judging {
            return;
        }
        if let Some(first) = self.first {
            let beyond = self.answers.saturating_sub(u64::from(BURST));
            if beyond >= 2 && now.saturating_duration_since(first) < MIN_PERIOD * beyond as u32 {
                self.limit = HostLimit::Unlimited;
                return;
            }
        }
        if self.arrivals.len() <= GAPS {
            return;
        }
        let recent: Vec<(Instant, u32)> = self.arrivals.iter().copied().collect();
        let gaps: Vec<(Duration, u32)> = recent
            .windows(2)
            .rev()
            .take(GAPS)
            .map(|w| (w[1].0.saturating_duration_since(w[0].0), w[1].1))
            .collect();
        if gaps.iter().any(|(_, sent)| *sent < BUSY) {
            return;
        }
        let mut sorted: Vec<Duration> = gaps.iter().map(|(g, _)| *g).collect();
        sorted.sort();
        let median = sorted[GAPS / 2];
        let regular = sorted
            .iter()
            .all(|g| g.abs_diff(median).as_secs_f64() <= REGULAR * median.as_secs_f64());
        // The period is the mean gap: answers leave when our next probe reaches a
        // refilled bucket, so single gaps are quantised by our sends, their mean is not.
        let period = sorted.iter().sum::<Duration>() / GAPS as u32;
        if regular && period >= MIN_PERIOD {
            self.limit = HostLimit::Limited { period };
            self.token_at = Some(now + period.mul_f64(1.0 + MARGIN));
        }
    }
}

/// The per-host rate-limit state of one scan.
#[derive(Debug, Default)]
pub struct IcmpPacer {
    hosts: HashMap<IpAddr, Host>,
}

impl IcmpPacer {
    /// A pacer that knows no host yet.
    pub fn new() -> Self {
        IcmpPacer::default()
    }

    /// A probe went to `host`. Returns whether it is *paced*: sent to a limited host
    /// when the modelled bucket held a token, so that its silence can be trusted. Every
    /// probe to a limited host may spend that token (a first try to a closed port
    /// does), so each one moves the next token a period away.
    ///
    /// Only hosts that have sent a port unreachable are tracked, so a scan of many
    /// hosts that never do (every TCP scan) costs one failed lookup per probe.
    pub fn on_sent(&mut self, host: IpAddr, now: Instant) -> bool {
        let Some(h) = self.hosts.get_mut(&host) else {
            return false;
        };
        h.sent_since = h.sent_since.saturating_add(1);
        h.sent_at_last = if h.last_sent == Some(now) {
            h.sent_at_last.saturating_add(1)
        } else {
            1
        };
        h.last_sent = Some(now);
        match h.limit {
            HostLimit::Limited { period } => {
                let paced = h.token_at.is_none_or(|t| now >= t);
                let next = now + period.mul_f64(1.0 + MARGIN);
                h.token_at = Some(h.token_at.map_or(next, |t| t.max(next)));
                paced
            }
            _ => false,
        }
    }

    /// An ICMP port unreachable came back from `host`.
    pub fn on_port_unreach(&mut self, host: IpAddr, now: Instant) {
        let h = self.hosts.entry(host).or_insert_with(Host::new);
        h.answers += 1;
        h.first.get_or_insert(now);
        if h.arrivals.len() > GAPS + 1 {
            h.arrivals.pop_front();
        }
        h.arrivals.push_back((now, h.sent_since));
        h.sent_since = 0;
        if let HostLimit::Limited { period } = h.limit {
            // The answer spent a token: the next is one period away.
            h.token_at = Some(now + period.mul_f64(1.0 + MARGIN));
        }
        h.judge(now);
    }

    /// What is known about `host`.
    pub fn limit(&self, host: IpAddr) -> HostLimit {
        self.hosts
            .get(&host)
            .map_or(HostLimit::Judging, |h| h.limit)
    }

    /// Whether a silent try to `host` is trusted whenever it comes: the host never
    /// sent a port unreachable, or was found not to rate-limit them. Only then may
    /// the scheduler cut a try short at the tail of a scan.
    pub fn trusts_silence(&self, host: IpAddr) -> bool {
        self.hosts
            .get(&host)
            .is_none_or(|h| h.answers == 0 || h.limit == HostLimit::Unlimited)
    }

    /// When a retry of a silent port of `host` may go.
    pub fn pace(&self, host: IpAddr, now: Instant) -> Pace {
        match self.hosts.get(&host) {
            Some(h) if matches!(h.limit, HostLimit::Limited { .. }) => {
                Pace::At(h.token_at.map_or(now, |t| t.max(now)))
            }
            _ => Pace::Free,
        }
    }

    /// Whether a try to `host`, sent at `sent` (paced or not, as [`Self::on_sent`]
    /// said), that stayed silent until `now` counts (see the module overview). A
    /// trusted paced try spent no token; if nothing was sent to the host after it, the
    /// token is still there and the next paced try may go at once.
    pub fn silence(&mut self, host: IpAddr, now: Instant, sent: Instant, paced: bool) -> Silence {
        let Some(h) = self.hosts.get_mut(&host) else {
            return Silence::Trusted;
        };
        match h.limit {
            _ if h.answers == 0 => Silence::Trusted,
            HostLimit::Unlimited => Silence::Trusted,
            HostLimit::Limited { .. } if paced => {
                // Only if this try was the last probe to the host, alone in its
                // batch: another probe sent with it may have spent the token.
                if h.last_sent == Some(sent) && h.sent_at_last == 1 {
                    h.token_at = Some(now);
                }
                Silence::Trusted
            }
            HostLimit::Limited { .. } => Silence::Suspect,
            HostLimit::Judging => {
                let last = h.arrivals.back().map_or(now, |(t, _)| *t);
                let widest = h.widest_gap().unwrap_or(Duration::ZERO);
                let quiet = now.saturating_duration_since(last)
                    > (widest * QUIET_PERIODS).max(QUIET_MIN)
                    && h.last_sent.is_some_and(|s| s > last);
                if quiet {
                    Silence::Trusted
                } else {
                    Silence::Suspect
                }
            }
        }
    }

    /// The hosts found rate limited, with their periods (for the summary).
    pub fn limited(&self) -> impl Iterator<Item = (IpAddr, Duration)> + '_ {
        self.hosts.iter().filter_map(|(a, h)| match h.limit {
            HostLimit::Limited { period } => Some((*a, period)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// `answers` port unreachables `gap` apart, with `sends` probes before each.
    fn feed(p: &mut IcmpPacer, t0: Instant, gaps: &[u64], sends: u32) -> Instant {
        let mut t = t0;
        for g in gaps {
            t += Duration::from_millis(*g);
            for _ in 0..sends {
                p.on_sent(HOST, t);
            }
            p.on_port_unreach(HOST, t);
        }
        t
    }

    #[test]
    fn busy_regular_gaps_are_a_limit() {
        let mut p = IcmpPacer::new();
        let t = feed(&mut p, Instant::now(), &[1, 1000, 990, 1010, 1000], 5);
        assert_eq!(
            p.limit(HOST),
            HostLimit::Limited {
                period: Duration::from_secs(1)
            }
        );
        assert!(matches!(p.pace(HOST, t), Pace::At(at) if at > t + Duration::from_secs(1)));
        assert_eq!(p.limited().count(), 1);
    }

    #[test]
    fn answers_at_our_own_pace_are_not_a_limit() {
        let mut p = IcmpPacer::new();
        feed(&mut p, Instant::now(), &[50, 50, 50, 50, 50, 50], 1);
        assert_eq!(
            p.limit(HOST),
            HostLimit::Judging,
            "one send per answer is not busy"
        );
        assert_eq!(p.pace(HOST, Instant::now()), Pace::Free);
    }

    #[test]
    fn irregular_gaps_are_not_a_limit() {
        let mut p = IcmpPacer::new();
        feed(&mut p, Instant::now(), &[40, 300, 20, 900, 60], 5);
        assert_eq!(p.limit(HOST), HostLimit::Judging);
    }

    #[test]
    fn fast_answers_beyond_the_burst_prove_no_limit() {
        let mut p = IcmpPacer::new();
        let t0 = Instant::now();
        let t = feed(&mut p, t0, &[0; 9], 1);
        assert_eq!(p.limit(HOST), HostLimit::Unlimited);
        assert_eq!(p.silence(HOST, t, t, false), Silence::Trusted);
    }

    #[test]
    fn a_judged_host_trusts_silence_only_after_a_quiet_span() {
        let mut p = IcmpPacer::new();
        let t0 = Instant::now();
        let t = feed(&mut p, t0, &[0, 0, 0], 10);
        assert_eq!(p.silence(HOST, t, t, false), Silence::Suspect);
        let later = t + QUIET_MIN + Duration::from_millis(1);
        p.on_sent(HOST, later);
        assert_eq!(p.silence(HOST, later, later, false), Silence::Trusted);
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(
            p.silence(other, t, t, false),
            Silence::Trusted,
            "no port unreachable ever"
        );
    }
}
