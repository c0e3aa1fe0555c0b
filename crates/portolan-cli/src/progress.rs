//! The progress bar on stderr (only when stderr is a terminal).

use std::fmt;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use portolan_engine::Progress;

pub struct Bar(ProgressBar);

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
        Bar(bar)
    }

    pub fn update(&self, p: &Progress) {
        self.0
            .set_position(u64::try_from(p.done).unwrap_or(u64::MAX));
        self.0
            .set_message(format!("{} open, {} in flight", p.open, p.in_flight));
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
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
