//! Round-trip estimation and probe timeouts.
//!
//! [`RttEstimator`] follows RFC 6298: the first sample sets `srtt = δ` and
//! `rttvar = δ/2`; later ones move `srtt` by an eighth and `rttvar` by a quarter of
//! the error. The timeout is `srtt + 4·rttvar`, but never less than `1.5·srtt`: on
//! a long, steady path `rttvar` decays to almost nothing, and a timeout hugging the
//! mean would call every slightly late answer a loss. The result is clamped to the
//! [`Timing`] bounds.
//! Every try of a connect scan is a fresh socket with a fresh SYN, so every answer
//! is an unambiguous sample (Karn's problem does not arise).

use std::time::Duration;

/// Timing bounds and retry budget; built from a [`Template`] and then adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Timeout used before any round trip has been measured.
    pub initial_timeout: Duration,
    /// The shortest timeout, however fast the path.
    pub min_timeout: Duration,
    /// The longest timeout, however slow the path.
    pub max_timeout: Duration,
    /// Upper bound on retries for an unanswered probe. The engine uses fewer when
    /// the measured loss says fewer are enough (see `scheduler`).
    pub max_retries: u8,
    /// Probes in flight at the start; congestion control moves it from there.
    pub initial_window: usize,
    /// Pause between probes (the slow templates), on top of any rate limit.
    pub scan_delay: Duration,
}

/// nmap's familiar `-T0`..`-T5` presets, mapped onto portolan's engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Template {
    /// `-T0`: one probe at a time, five minutes apart.
    Paranoid,
    /// `-T1`: one probe at a time, 15 s apart.
    Sneaky,
    /// `-T2`: one probe at a time, 0.4 s apart.
    Polite,
    /// `-T3`: the default.
    Normal,
    /// `-T4`: shorter timeouts, at most 6 retries.
    Aggressive,
    /// `-T5`: the shortest timeouts, at most 2 retries, a first window of 1024.
    Insane,
}

impl Template {
    /// `0` to `5`; `None` otherwise.
    pub fn from_level(level: u8) -> Option<Self> {
        Some(match level {
            0 => Template::Paranoid,
            1 => Template::Sneaky,
            2 => Template::Polite,
            3 => Template::Normal,
            4 => Template::Aggressive,
            5 => Template::Insane,
            _ => return None,
        })
    }

    /// The timing bounds of this template.
    pub fn timing(self) -> Timing {
        let ms = Duration::from_millis;
        let base = Timing {
            initial_timeout: ms(1000),
            min_timeout: ms(50),
            max_timeout: ms(3000),
            max_retries: 10,
            initial_window: 256,
            scan_delay: Duration::ZERO,
        };
        match self {
            Template::Paranoid => Timing {
                max_timeout: Duration::from_secs(10),
                initial_window: 1,
                scan_delay: Duration::from_mins(5),
                ..base
            },
            Template::Sneaky => Timing {
                max_timeout: Duration::from_secs(10),
                initial_window: 1,
                scan_delay: Duration::from_secs(15),
                ..base
            },
            Template::Polite => Timing {
                min_timeout: ms(100),
                initial_window: 1,
                scan_delay: ms(400),
                ..base
            },
            Template::Normal => base,
            Template::Aggressive => Timing {
                initial_timeout: ms(500),
                max_timeout: ms(1250),
                max_retries: 6,
                ..base
            },
            Template::Insane => Timing {
                initial_timeout: ms(250),
                max_timeout: ms(300),
                max_retries: 2,
                initial_window: 1024,
                ..base
            },
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Template::Normal.timing()
    }
}

/// Smoothed round-trip time and its variation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RttEstimator {
    srtt: Option<f64>,
    rttvar: f64,
    bounds: Timing,
}

impl RttEstimator {
    /// An estimator with no sample yet, kept within `bounds`.
    pub fn new(bounds: Timing) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: 0.0,
            bounds,
        }
    }

    /// Feeds one measured round trip.
    pub fn sample(&mut self, rtt: Duration) {
        let d = rtt.as_secs_f64();
        match self.srtt {
            None => {
                self.srtt = Some(d);
                self.rttvar = d / 2.0;
            }
            Some(s) => {
                self.rttvar += ((d - s).abs() - self.rttvar) / 4.0;
                self.srtt = Some(s + (d - s) / 8.0);
            }
        }
    }

    /// The smoothed round-trip time, once a sample was fed.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt.map(Duration::from_secs_f64)
    }

    /// How long to wait for an answer to a probe sent now.
    pub fn timeout(&self) -> Duration {
        let raw = match self.srtt {
            None => self.bounds.initial_timeout,
            Some(s) => Duration::from_secs_f64((s + 4.0 * self.rttvar).max(1.5 * s)),
        };
        raw.clamp(
            self.bounds.min_timeout,
            self.bounds.max_timeout.max(self.bounds.min_timeout),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn starts_at_the_initial_timeout() {
        let e = RttEstimator::new(Timing::default());
        assert_eq!(e.timeout(), ms(1000));
        assert_eq!(e.srtt(), None);
    }

    #[test]
    fn follows_rfc6298() {
        let mut e = RttEstimator::new(Timing::default());
        e.sample(ms(40));
        // srtt 40, rttvar 20: 40 + 80
        assert_eq!(e.timeout(), ms(120));
        for _ in 0..50 {
            e.sample(ms(40));
        }
        // rttvar decays toward 0; 1.5 round trips remain.
        assert_eq!(e.timeout(), ms(60));
        let mut lan = RttEstimator::new(Timing::default());
        for _ in 0..50 {
            lan.sample(Duration::from_micros(300));
        }
        assert_eq!(lan.timeout(), ms(50), "the floor takes over on a LAN");
        e.sample(ms(400));
        assert!(
            e.timeout() > ms(300),
            "a spike widens the timeout: {:?}",
            e.timeout()
        );
    }

    #[test]
    fn clamps_to_bounds() {
        let t = Template::Insane.timing();
        let mut e = RttEstimator::new(t);
        e.sample(Duration::from_secs(5));
        assert_eq!(e.timeout(), t.max_timeout);
        e = RttEstimator::new(t);
        e.sample(Duration::from_micros(10));
        assert_eq!(e.timeout(), t.min_timeout);
    }

    #[test]
    fn templates_are_ordered_by_patience() {
        let levels: Vec<_> = (0..=5)
            .map(|l| Template::from_level(l).unwrap().timing())
            .collect();
        assert!(levels
            .windows(2)
            .all(|w| w[0].scan_delay >= w[1].scan_delay));
        assert!(Template::from_level(6).is_none());
    }
}
