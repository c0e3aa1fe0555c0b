//! The progress bar on stderr (only when stderr is a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use portolan_engine::Progress;

pub struct Bar(ProgressBar);

impl Bar {
    /// A bar for `total` pair slots, drawn on stderr.
    pub fn new(total: u128) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(u64::try_from(total).unwrap_or(u64::MAX)),
            ProgressDrawTarget::stderr_with_hz(10),
        );
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
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
