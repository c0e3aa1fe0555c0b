//! The progress bar on stderr (only when stderr is a terminal).

use std::cell::Cell;
use std::fmt;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use portolan_engine::Progress;

/// The bar, and the probe rate it shows (probes sent, retries included, per
/// second over the last second or so: the packet rate of `-sS`).
pub struct Bar {
    indicator: ProgressBar,
    /// When the rate was last measured, and how many probes had been sent then.
    mark: Cell<Option<(Instant, u64)>>,
    /// The rate shown.
    probes_per_s: Cell<Option<f64>>,
}

/// How long the probe rate is measured over before the bar shows a new figure.
const RATE_EVERY: Duration = Duration::from_secs(1);

/// A rate as people read it: `835/s`, `12.4k/s`, `1.2M/s`, never `835.1167/s`.
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec < 0.0 {
        return "-/s".to_owned();
    }
    if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else if per_sec < 10_000.0 {
        format!("{per_sec:.0}/s")
    } else if per_sec < 1_000_000.0 {
        format!("{:.1}k/s", per_sec / 1000.0)
    } else {
        format!("{:.1}M/s", per_sec / 1_000_000.0)
    }
}

impl Bar {
    /// A bar for `total` pair slots, drawn on stderr.
    pub fn new(total: u128) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(total).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {rate} ETA {eta} {msg}",
        )
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |s| {
                s.with_key("rate", |state: &ProgressState, w: &mut dyn fmt::Write| {
                    let _ = w.write_str(&rate(state.per_sec()));
                })
            },
        );
        bar.set_style(style);
        Bar {
            indicator: bar,
            mark: Cell::new(None),
            probes_per_s: Cell::new(None),
        }
    }

    pub fn update(&self, p: &Progress) {
        let now = Instant::now();
        match self.mark.get() {
            None => self.mark.set(Some((now, p.probes_sent))),
            Some((at, sent)) if now.duration_since(at) >= RATE_EVERY => {
                let secs = now.duration_since(at).as_secs_f64();
                let probes = p.probes_sent.saturating_sub(sent) as f64;
                self.probes_per_s.set(Some(probes / secs));
                self.mark.set(Some((now, p.probes_sent)));
            }
            Some(_) => {}
        }
        self.indicator
            .set_position(u64::try_from(p.done).unwrap_or(u64::MAX));
        let probes = self
            .probes_per_s
            .get()
            .map_or_else(String::new, |r| format!(", {} probes", rate(r)));
        self.indicator.set_message(format!(
            "{} open, {} in flight{probes}",
            p.open, p.in_flight
        ));
    }

    pub fn finish(&self) {
        self.indicator.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_rounded_for_people() {
        assert_eq!(rate(835.1167), "835/s");
        assert_eq!(rate(2.345), "2.3/s");
        assert_eq!(rate(12_400.0), "12.4k/s");
        assert_eq!(rate(1_234_567.0), "1.2M/s");
        assert_eq!(rate(f64::NAN), "-/s");
    }
}
