//! Ctrl-C and SIGTERM, caught from the first line of `main`.
//!
//! A scan must end with every report closed and exit 130 (143 for SIGTERM) however
//! early the signal comes, even while its arguments, target files or history are
//! still being read, so the handlers are installed before anything else. They only
//! set flags; the scan reads them (already set if the signal came early) and stops.
//!
//! A second signal takes the default action (the process ends at once): that is how
//! a user leaves `-iL -` waiting on a terminal, or a scan whose reports hang.
//! Commands with nothing to close (`connect`, `listen`, `http`, `history`, ...) call
//! [`restore_default`]: from then on the first Ctrl-C ends them, and a signal that
//! came before is acted on at that moment.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The flags the handlers set.
struct Flags {
    /// Set by SIGINT or SIGTERM: the scan stops.
    cancel: Arc<AtomicBool>,
    /// Set by SIGTERM (exit 143 rather than 130).
    terminated: Arc<AtomicBool>,
    /// The number of the last signal caught (0: none yet).
    last: Arc<AtomicUsize>,
    /// Once set, the signals take their default action (the process ends).
    default: Arc<AtomicBool>,
}

static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Installs the handlers; call it first thing in `main`.
pub fn install() -> io::Result<()> {
    let flags = Flags {
        cancel: Arc::new(AtomicBool::new(false)),
        terminated: Arc::new(AtomicBool::new(false)),
        last: Arc::new(AtomicUsize::new(0)),
        default: Arc::new(AtomicBool::new(false)),
    };
    for signal in [SIGINT, SIGTERM] {
        // The conditional actions come first, so they see the flags as they were
        // before this signal: default mode, or a signal already caught.
        signal_hook::flag::register_conditional_default(signal, Arc::clone(&flags.default))?;
        signal_hook::flag::register_conditional_default(signal, Arc::clone(&flags.cancel))?;
        signal_hook::flag::register(signal, Arc::clone(&flags.cancel))?;
        signal_hook::flag::register_usize(signal, Arc::clone(&flags.last), signal as usize)?;
    }
    signal_hook::flag::register(SIGTERM, Arc::clone(&flags.terminated))?;
    // A second call keeps the first flags, which the handlers already hold.
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The flag SIGINT and SIGTERM set. Without [`install`] (a test), a flag nothing sets.
pub fn cancel_flag() -> Arc<AtomicBool> {
    FLAGS.get().map_or_else(
        || Arc::new(AtomicBool::new(false)),
        |f| Arc::clone(&f.cancel),
    )
}

/// The flag SIGTERM sets (exit 143). Without [`install`], a flag nothing sets.
pub fn terminate_flag() -> Arc<AtomicBool> {
    FLAGS.get().map_or_else(
        || Arc::new(AtomicBool::new(false)),
        |f| Arc::clone(&f.terminated),
    )
}

/// Gives SIGINT and SIGTERM their default action back (the process ends), for the
/// commands that have no report to close. A signal already caught ends it now.
pub fn restore_default() {
    let Some(flags) = FLAGS.get() else {
        return;
    };
    flags.default.store(true, Ordering::SeqCst);
    let last = flags.last.load(Ordering::SeqCst);
    if last != 0 {
        let signal = i32::try_from(last).unwrap_or(SIGINT);
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }
}
