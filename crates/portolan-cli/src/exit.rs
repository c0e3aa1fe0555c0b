//! The leaf every command imports: the usage error, a command's outcome, and the
//! mapping of both to the exit code. It imports no other module of the crate, so
//! nothing can import it back in a circle (see DESIGN.md, "The CLI's modules").
//!
//! 0: the command did its job; 1: a run-time failure; 2: bad usage (one line on
//! stderr, never a backtrace); 3: an `--expect` of `connect`/`listen` did not match;
//! 130: interrupted by Ctrl-C (SIGINT); 143: stopped by SIGTERM. `diff` follows
//! ndiff: 0 no change, 1 changed, 2 any error. A closed stdout
//! (`portolan scan ... | head`) counts as success.

use std::io::{self, Write};
use std::process::ExitCode;

/// The user asked for something that cannot be done as asked (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A [`UsageError`] as an `anyhow::Error`.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// The signal that ended a command early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a service manager stopping us.
    Terminate,
}

/// A finished command's own verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Stopped by a signal; the reports were finished.
    Stopped(Signal),
    /// An `--expect` of `portolan connect`/`listen` did not match (exit 3).
    ExpectationFailed,
    /// `portolan diff` found changes (exit 1).
    Changed,
    /// `portolan merge` found pairs no input answered (exit 1).
    Incomplete,
}

impl Outcome {
    /// The exit code of this outcome.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Changed | Outcome::Incomplete => 1,
            Outcome::ExpectationFailed => 3,
            Outcome::Stopped(Signal::Interrupt) => 130,
            Outcome::Stopped(Signal::Terminate) => 143,
        }
    }
}

/// How a command's errors map to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCodes {
    /// 1 for a run-time failure, 2 for bad usage.
    Standard,
    /// 2 for every error, because 1 means "changed" (`diff`, as ndiff does).
    AllTwo,
}

/// The exit code of a command's result, telling the user about an error on stderr.
pub fn exit_code(result: anyhow::Result<Outcome>, codes: ErrorCodes) -> ExitCode {
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => {
            if is_closed_stdout(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "portolan: {}", error_line(&e));
            ExitCode::from(match codes {
                ErrorCodes::AllTwo => 2,
                ErrorCodes::Standard if is_usage(&e) => 2,
                ErrorCodes::Standard => 1,
            })
        }
    }
}

fn is_closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Whether `e` is the user's mistake rather than a failure at run time.
pub fn is_usage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<UsageError>()
            || c.is::<portolan_target::SpecError>()
            || c.is::<portolan_target::PortSpecError>()
    })
}

/// The error and its causes on one line, each cause said once: a library error that
/// already prints its source is not followed by the same text again, nor by a
/// cause that only puts a code in front of it (SQLite's "Error code 26: file is
/// not a database" after "file is not a database").
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut previous = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        let text = text.trim();
        let repeats = !previous.is_empty() && text.ends_with(previous.as_str());
        let said = text.is_empty() || line.contains(text) || repeats;
        if !text.is_empty() {
            text.clone_into(&mut previous);
        }
        if said {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    if let Some(hint) = flag_hint(e) {
        line.push_str(hint);
    }
    line
}

/// What the user can do about a library error, in the flags' words: the libraries
/// never name a flag, so this is where their errors meet the command line.
fn flag_hint(e: &anyhow::Error) -> Option<&'static str> {
    use portolan_talk::TalkError;
    use portolan_target::{PortSpecError, SpecError};
    e.chain().find_map(|c| {
        if let Some(SpecError::TooLarge { .. }) = c.downcast_ref() {
            return Some("; add --large if you mean it");
        }
        if let Some(PortSpecError::TopCount(_)) = c.downcast_ref() {
            return Some(" (--top-ports)");
        }
        match c.downcast_ref() {
            Some(TalkError::MaxTime(_)) => Some(" (--max-time)"),
            Some(TalkError::NoRootCertificates) => Some("; use --insecure to connect anyway"),
            _ => None,
        }
    })
}

/// clap's verdict on the arguments: help and version on stdout (exit 0), anything
/// else as one line on stderr (exit 2) that keeps clap's context: the missing
/// arguments named, the suggested spelling, the allowed values.
pub fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            let _ = writeln!(
                io::stderr(),
                "portolan: {}",
                clap_line(&e.render().to_string())
            );
            ExitCode::from(2)
        }
    }
}

/// clap's rendered error folded into one line: the usage block and the "For more
/// information" line are dropped, everything else (missing arguments, tips,
/// possible values) is kept.
pub fn clap_line(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            continue;
        }
        let line = line.trim_start_matches("error: ");
        if !line.is_empty() {
            parts.push(line.to_owned());
        }
    }
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(&part);
    }
    if out.is_empty() {
        out.push_str("bad usage");
    }
    out.push_str(" (see --help)");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_get_the_flag_that_helps() {
        let large = anyhow::Error::new(portolan_target::SpecError::TooLarge {
            text: "10.0.0.0/8".into(),
            hosts: 1 << 24,
        });
        assert!(error_line(&large).ends_with("a /112 of IPv6; add --large if you mean it"));
        let time = anyhow::Error::new(portolan_talk::TalkError::MaxTime(
            std::time::Duration::from_secs(1),
        ))
        .context("http://127.0.0.1/");
        assert!(error_line(&time).ends_with("time limit of 1s (--max-time)"));
        let roots = anyhow::Error::new(portolan_talk::TalkError::NoRootCertificates);
        assert!(error_line(&roots).ends_with("; use --insecure to connect anyway"));
        let plain = anyhow::anyhow!("disk full");
        assert_eq!(error_line(&plain), "disk full");
    }

    #[test]
    fn repeated_causes_are_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("file is not a database")]
        struct Inner;
        #[derive(Debug, thiserror::Error)]
        #[error("{0}")]
        struct Outer(#[source] Inner);
        let e = anyhow::Error::new(Outer(Inner)).context("cannot open h.db");
        assert_eq!(error_line(&e), "cannot open h.db: file is not a database");
        let e = anyhow::anyhow!("Error code 26: file is not a database")
            .context("file is not a database")
            .context("cannot open h.db: file is not a database");
        assert_eq!(error_line(&e), "cannot open h.db: file is not a database");
    }

    #[test]
    fn outcomes_have_distinct_codes() {
        assert_eq!(Outcome::Stopped(Signal::Interrupt).code(), 130);
        assert_eq!(Outcome::Stopped(Signal::Terminate).code(), 143);
        assert_eq!(Outcome::Changed.code(), 1);
        assert_eq!(Outcome::ExpectationFailed.code(), 3);
    }

    #[test]
    fn clap_context_survives_the_folding() {
        let rendered = "error: the following required arguments were not provided:\n  <PORT>\n\nUsage: portolan connect <HOST> <PORT>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_line(rendered),
            "the following required arguments were not provided: <PORT> (see --help)"
        );
        let rendered = "error: unexpected argument '--opne' found\n\n  tip: a similar argument exists: '--open'\n\nUsage: x\n";
        assert_eq!(
            clap_line(rendered),
            "unexpected argument '--opne' found; tip: a similar argument exists: '--open' (see --help)"
        );
    }
}
