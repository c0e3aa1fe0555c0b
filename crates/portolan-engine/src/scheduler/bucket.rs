//! The rate limit (`--max-rate`, and the slow templates' scan delay) as a token
//! bucket, with time passed in.
//!
//! Why a bucket and not a fixed gap between probes: the scan loop wakes when it has
//! something to do, not on a metronome, and on a busy machine it wakes late. A bucket
//! lets the probes that fell due while it slept go out together, so the mean rate
//! holds; its depth (a hundredth of a second of probes, at least one) bounds how many
//! go out in one burst. It starts with one token, so the first probe goes at once.

use std::time::{Duration, Instant};

use super::Rate;

/// Tokens earned at a fixed rate, spent one per probe sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenBucket {
    per_second: f64,
    depth: f64,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: Rate, now: Instant) -> Self {
        TokenBucket {
            per_second: rate.get(),
            depth: (rate.get() / 100.0).max(1.0),
            tokens: 1.0,
            refilled: now,
        }
    }

    /// Adds the tokens earned since the last refill, up to the bucket's depth.
    pub(crate) fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + dt * self.per_second).min(self.depth);
        self.refilled = self.refilled.max(now);
    }

    /// Whether a probe may go now (as of the last refill).
    pub(crate) fn has_token(&self) -> bool {
        self.tokens >= 1.0
    }

    /// Spends a token on a probe that went out.
    pub(crate) fn spend(&mut self) {
        self.tokens -= 1.0;
    }

    /// As a floor (`--min-rate`): a probe that went out takes a token if there is
    /// one, and never runs into debt, so sending above the floor for a while does
    /// not let it fall below later.
    pub(crate) fn spend_floor(&mut self) {
        self.tokens = (self.tokens - 1.0).max(0.0);
    }

    /// When the next token will be there; `None` when one is there already.
    pub(crate) fn ready_at(&self) -> Option<Instant> {
        (self.tokens < 1.0)
            .then(|| self.refilled + Duration::from_secs_f64((1.0 - self.tokens) / self.per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64) -> Rate {
        Rate::new(per_second).unwrap()
    }

    #[test]
    fn the_first_probe_goes_at_once_then_one_per_period() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(rate(10.0), t0);
        assert!(b.has_token());
        assert_eq!(b.ready_at(), None);
        b.spend();
        assert!(!b.has_token());
        assert_eq!(b.ready_at(), Some(t0 + Duration::from_millis(100)));
        b.refill(t0 + Duration::from_millis(99));
        assert!(!b.has_token(), "not yet");
        b.refill(t0 + Duration::from_millis(100));
        assert!(b.has_token());
    }

    #[test]
    fn a_late_wake_up_gets_a_burst_no_deeper_than_the_bucket() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(rate(1000.0), t0);
        b.refill(t0 + Duration::from_mins(1));
        let mut sent = 0;
        while b.has_token() {
            b.spend();
            sent += 1;
        }
        assert_eq!(sent, 10, "a hundredth of a second of probes");
    }

    #[test]
    fn a_slow_rate_keeps_a_depth_of_one() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(rate(0.5), t0);
        b.spend();
        b.refill(t0 + Duration::from_hours(1));
        b.spend();
        assert!(!b.has_token(), "one token at most, however long the pause");
        assert_eq!(
            b.ready_at(),
            Some(t0 + Duration::from_hours(1) + Duration::from_secs(2))
        );
    }

    #[test]
    fn the_mean_rate_holds_over_many_refills() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(rate(250.0), t0);
        let mut now = t0;
        let mut sent = 0u32;
        // Wake up irregularly, every 1 to 7 ms, for one second.
        let mut step = 1;
        while now < t0 + Duration::from_secs(1) {
            b.refill(now);
            while b.has_token() {
                b.spend();
                sent += 1;
            }
            step = step % 7 + 1;
            now += Duration::from_millis(step);
        }
        b.refill(t0 + Duration::from_secs(1));
        while b.has_token() {
            b.spend();
            sent += 1;
        }
        // The first token is there at once, then 250 more in the second.
        assert!(
            (250..=251).contains(&sent),
            "{sent} probes in one second at 250/s"
        );
    }

    #[test]
    fn time_going_backwards_earns_nothing() {
        let before = Instant::now();
        let t0 = before + Duration::from_secs(1);
        let mut b = TokenBucket::new(rate(100.0), t0);
        b.spend();
        b.refill(before);
        assert!(!b.has_token());
        assert_eq!(b.ready_at(), Some(t0 + Duration::from_millis(10)));
    }
}
