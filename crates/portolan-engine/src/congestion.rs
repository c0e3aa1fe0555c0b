//! How many probes may be in flight.
//!
//! A connect scan cannot tell a dropped probe from a filtered port by one timeout:
//! both are silence. What it can tell is a probe that timed out and whose retry was
//! then answered: the first try was lost (or its answer came after we stopped
//! waiting). Like nmap, portolan treats those as the congestion signal, not plain
//! timeouts, so a filtered range does not throttle the scan.
//!
//! The window grows by one for each answer while below the slow-start threshold,
//! then by about one per window of answers. Once per window of answers (about one
//! round trip) the share of answers that needed a retry is compared with
//! [`DROP_SHARE`]: a path with a little random loss (1 % each way means about 2 % of
//! probes retried) keeps its window, while one that is really congested (queues
//! overflowing, most answers late) loses a third of it.
//!
//! Loss is not the only sign of a full path. A window larger than the path needs
//! only adds queueing delay, and that delay widens every timeout, which lengthens
//! the wait for filtered ports. So once per window the mean round trip of the
//! epoch is compared with the smallest ever seen: above `1.25·min + QUEUE_SLACK` the
//! path is queueing and the window shrinks gently instead of growing (the idea of
//! TCP Vegas).
//!
//! A shrink is not forever: every clean window (no drop signal, no queueing) lets
//! slow start resume (the threshold rises to at least twice the window), so a window cut by a passing burst of load
//! on the scanning machine climbs back within a few round trips instead of creeping
//! up by one probe per round trip.
//!
//! The loss estimate behind the retry budget ([`Congestion::retry`]) is the share
//! of answers that needed a retry, but decayed: each answer weighs
//! `1 - 1/LOSS_HORIZON` less than the next, and a retried answer counts as of its
//! first try (its retry is answered a timeout later, which at the end of a scan
//! would make an old burst look recent). Over the whole run, a burst of losses
//! early on (slow start overrunning a slow link) kept the estimate high to the
//! end, and every silent port decided later (a filtered range) was given 6-11
//! tries, each after a timeout. Decayed, a burst that is over fades, while steady
//! random loss (1 % each way) keeps its level. Each probe then sums the ln of the
//! estimate at each of its silent tries, so tries made during a burst count with
//! the burst's loss and later ones with the later loss.

/// Share of answers that needed a retry above which the window shrinks.
pub const DROP_SHARE: f64 = 0.10;

/// Queueing delay tolerated on top of 1.25 times the base round trip, in seconds.
pub const QUEUE_SLACK: f64 = 0.004;

/// Answers over which the loss estimate decays by a factor of e: long enough
/// that 2 % random loss is measured within about ±0.1 % (and a retried answer,
/// counted as of its first try a timeout earlier, keeps most of its weight),
/// short enough that a burst early in a 65535-port scan has faded by its end.
pub const LOSS_HORIZON: f64 = 16384.0;

/// The window never shrinks below this because of delay alone.
const DELAY_FLOOR: f64 = 64.0;

/// The congestion window and its statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Congestion {
    window: f64,
    threshold: f64,
    min: f64,
    max: f64,
    epoch_answers: u64,
    epoch_retried: u64,
    epoch_rtt_sum: f64,
    epoch_rtt_count: u64,
    base_rtt: f64,
    /// Decayed counts of answers and of retried answers, for the loss estimate.
    answers: f64,
    retried: f64,
    /// Answers so far: the clock the decay runs on.
    clock: u64,
}

impl Congestion {
    /// A window of `initial` probes in flight, never above `max` (nor below one).
    pub fn new(initial: usize, max: usize) -> Self {
        let max = max.max(1) as f64;
        Congestion {
            window: (initial.max(1) as f64).min(max),
            threshold: max,
            min: 1.0,
            max,
            epoch_answers: 0,
            epoch_retried: 0,
            epoch_rtt_sum: 0.0,
            epoch_rtt_count: 0,
            base_rtt: f64::INFINITY,
            answers: 0.0,
            retried: 0.0,
            clock: 0,
        }
    }

    /// The current window, in probes.
    pub fn window(&self) -> usize {
        self.window as usize
    }

    /// Lowers the ceiling (the open-file limit was reached at this many sockets).
    pub fn cap(&mut self, max: usize) {
        self.max = (max.max(1) as f64).min(self.max);
        self.window = self.window.min(self.max);
        self.threshold = self.threshold.min(self.max);
    }

    /// The answer clock (answers so far), to pass back to [`Self::on_answer`] as
    /// the clock when a probe's first try went out.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// An answer arrived; `retried` says whether an earlier try had timed out,
    /// `rtt` is the measured round trip when there is one, `first` the
    /// [`Self::clock`] when the probe's first try went out. A retried answer
    /// counts for the loss estimate as of its first try, decayed by the answers
    /// since: the retried answers of a burst arrive a timeout after it, and at the
    /// end of a scan (when only they still come) they would otherwise look recent.
    pub fn on_answer(&mut self, retried: bool, rtt: Option<std::time::Duration>, first: u64) {
        let keep = 1.0 - 1.0 / LOSS_HORIZON;
        self.clock += 1;
        self.answers *= keep;
        self.retried *= keep;
        self.epoch_answers += 1;
        if retried {
            let age = self.clock.saturating_sub(first).min(1 << 20) as i32;
            let w = keep.powi(age);
            self.answers += w;
            self.retried += w;
            self.epoch_retried += 1;
        } else {
            self.answers += 1.0;
        }
        if let Some(rtt) = rtt {
            let r = rtt.as_secs_f64();
            self.base_rtt = self.base_rtt.min(r);
            self.epoch_rtt_sum += r;
            self.epoch_rtt_count += 1;
        }
        if self.window < self.threshold {
            self.window += 1.0;
        } else {
            self.window += 1.0 / self.window;
        }
        self.window = self.window.min(self.max);
        if self.epoch_answers as f64 >= self.window.max(16.0) {
            self.end_epoch();
        }
    }

    fn end_epoch(&mut self) {
        let share = self.epoch_retried as f64 / self.epoch_answers as f64;
        let mean_rtt = if self.epoch_rtt_count > 0 {
            self.epoch_rtt_sum / self.epoch_rtt_count as f64
        } else {
            0.0
        };
        let queueing = self.epoch_rtt_count > 0 && mean_rtt > 1.25 * self.base_rtt + QUEUE_SLACK;
        if share > DROP_SHARE {
            self.back_off();
        } else if queueing {
            if self.window > DELAY_FLOOR {
                self.window = (self.window * 0.85).max(DELAY_FLOOR);
                self.threshold = self.window;
            }
        } else {
            self.threshold = (self.threshold * 1.25).max(self.window * 2.0).min(self.max);
        }
        self.epoch_answers = 0;
        self.epoch_retried = 0;
        self.epoch_rtt_sum = 0.0;
        self.epoch_rtt_count = 0;
    }

    /// A first try went unanswered. Silence alone is no sign of congestion (a
    /// filtered port is silent too), so it lets the window grow like an answer does,
    /// without counting in the loss statistics: a host that drops everything is
    /// then probed at the speed of the window, not of the initial one. Real
    /// congestion still shows as retried probes that get answered.
    pub fn on_silence(&mut self) {
        if self.window < self.threshold {
            self.window += 1.0;
        } else {
            self.window += 1.0 / self.window;
        }
        self.window = self.window.min(self.max);
    }

    /// Shrinks the window by a third (a drop burst, or the kernel ran short of buffers).
    pub fn back_off(&mut self) {
        self.window = (self.window * 2.0 / 3.0).max(self.min);
        self.threshold = self.window;
    }

    /// Estimated chance that one try goes unanswered although the port would answer,
    /// now (over the last [`LOSS_HORIZON`] answers or so), smoothed so that a short
    /// run does not conclude the path is lossless.
    pub fn loss_estimate(&self) -> f64 {
        (self.retried + 0.5) / (self.answers + 50.0)
    }

    /// ln of the chance that one try, made now, goes unanswered although the port
    /// would answer; a probe sums these over its silent tries.
    pub fn miss_ln(&self) -> f64 {
        self.loss_estimate().clamp(1e-9, 0.9).ln()
    }

    /// Whether a probe silent after `tries` tries, whose tries' [`Self::miss_ln`]
    /// sum to `miss_ln`, is tried again: at least twice, at most `max_tries`, and
    /// in between until the chance that an answering port was missed every time is
    /// below 1 in 100 over `probes` ports. With a steady loss `p` this is
    /// [`Self::tries_needed`]; after a burst of loss that is over, the tries made
    /// in the burst weigh as much as they should, not more.
    pub fn retry(tries: u8, miss_ln: f64, probes: u128, max_tries: u8) -> bool {
        let max_tries = max_tries.max(1);
        if tries >= max_tries {
            return false;
        }
        tries < 2 || miss_ln > (0.01 / probes.max(1) as f64).ln()
    }

    /// Tries needed so that, over `probes` ports, the expected number of answering
    /// ports wrongly left unanswered stays below 1 in 100; within `[2, max_tries]`.
    pub fn tries_needed(&self, probes: u128, max_tries: u8) -> u8 {
        let p = self.loss_estimate().clamp(1e-9, 0.9);
        let n = (0.01 / probes.max(1) as f64).ln() / p.ln();
        (n.ceil().max(2.0) as u8).min(max_tries.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_while_answers_come_back() {
        let mut c = Congestion::new(10, 1000);
        for _ in 0..500 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(c.window(), 510);
        for _ in 0..5000 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(c.window(), 1000, "never above the ceiling");
    }

    #[test]
    fn light_random_loss_keeps_the_window() {
        let mut c = Congestion::new(1000, 1000);
        for i in 0..100_000 {
            c.on_answer(i % 50 == 0, None, c.clock()); // 2 % retried
        }
        assert_eq!(c.window(), 1000);
        assert!(c.tries_needed(65_535, 10) >= 4, "2 % loss needs more tries");
    }

    #[test]
    fn heavy_drops_shrink_the_window() {
        let mut c = Congestion::new(1000, 1000);
        for i in 0..3000 {
            c.on_answer(i % 3 == 0, None, c.clock());
        }
        assert!(c.window() < 500, "window {}", c.window());
    }

    #[test]
    fn a_clean_path_needs_two_tries() {
        let mut c = Congestion::new(100, 100);
        for _ in 0..60_000 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(c.tries_needed(65_535, 10), 2);
        assert_eq!(c.tries_needed(65_535, 1), 1, "the user's limit wins");
    }

    #[test]
    fn queueing_delay_shrinks_the_window() {
        let ms = std::time::Duration::from_millis;
        let mut c = Congestion::new(1000, 4000);
        for _ in 0..2000 {
            c.on_answer(false, Some(ms(1)), 0);
        }
        let grown = c.window();
        assert!(grown >= 2000, "grows on a quiet path: {grown}");
        for _ in 0..20_000 {
            c.on_answer(false, Some(ms(30)), 0);
        }
        assert!(
            c.window() < grown / 2,
            "shrinks when round trips balloon: {}",
            c.window()
        );
        assert!(c.window() >= 64, "but not below the floor");
        let mut wan = Congestion::new(1000, 4000);
        for _ in 0..20_000 {
            wan.on_answer(false, Some(ms(40)), 0);
        }
        assert_eq!(
            wan.window(),
            4000,
            "a long but steady path keeps its window"
        );
    }

    #[test]
    fn recovers_after_a_passing_burst() {
        let mut c = Congestion::new(4000, 4000);
        for i in 0..20_000 {
            c.on_answer(i % 3 == 0, None, c.clock());
        }
        let low = c.window();
        assert!(low < 2000, "burst shrank the window: {low}");
        for _ in 0..20_000 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(c.window(), 4000, "clean windows bring it back");
    }

    #[test]
    fn silence_grows_the_window_without_counting_as_loss() {
        let mut c = Congestion::new(256, 5000);
        for _ in 0..10_000 {
            c.on_silence();
        }
        assert_eq!(c.window(), 5000);
        assert!(c.loss_estimate() < 0.02, "silence is not loss");
    }

    #[test]
    fn a_burst_that_is_over_stops_raising_the_budget() {
        let mut c = Congestion::new(1000, 1000);
        for i in 0..10_000 {
            c.on_answer(i % 4 == 0, None, c.clock()); // 25 % retried: slow start overran the link
        }
        assert!(
            c.tries_needed(65_535, 11) >= 8,
            "during the burst, many tries"
        );
        for _ in 0..120_000 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(
            c.tries_needed(65_535, 11),
            2,
            "a clean path again: two tries"
        );
    }

    #[test]
    fn steady_loss_keeps_its_budget_after_an_early_burst() {
        let mut c = Congestion::new(1000, 1000);
        for i in 0..10_000 {
            c.on_answer(i % 4 == 0, None, c.clock());
        }
        for i in 0..100_000 {
            c.on_answer(i % 50 == 0, None, c.clock()); // 2 %
        }
        let p = c.loss_estimate();
        assert!((0.015..0.025).contains(&p), "estimate {p}");
        assert!(c.tries_needed(65_535, 11) >= 4, "2 % loss needs more tries");
        assert!(c.tries_needed(65_535, 11) <= 5, "but not the burst's");
    }

    #[test]
    fn cap_lowers_the_ceiling() {
        let mut c = Congestion::new(500, 4096);
        c.cap(200);
        assert_eq!(c.window(), 200);
        for _ in 0..1000 {
            c.on_answer(false, None, 0);
        }
        assert_eq!(c.window(), 200);
    }
}
