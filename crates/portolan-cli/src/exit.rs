//! Errors, exit codes and the top-level dispatch.
//!
//! 0: the command did its job; 1: a run-time failure; 2: bad usage (one line on
//! stderr, never a backtrace); 130: interrupted by Ctrl-C or SIGTERM. A closed
//! stdout (`portolan scan ... | head`) counts as success.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{rewrite_nmap_style, Cli, Command};

/// The user asked for something that cannot be done as asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A finished command's own verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Interrupted,
    /// An `--expect` of `portolan connect`/`listen` did not match (exit 3).
    ExpectationFailed,
    /// `portolan diff` found changes (exit 1).
    Changed,
}

pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

pub fn run(argv: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(rewrite_nmap_style(argv)) {
        Ok(cli) => cli,
        Err(e) => return clap_error(&e),
    };
    let result = match cli.command {
        Command::Scan(args) => crate::scan::run(&args),
        Command::Demo(args) => crate::demo::run(&args),
        Command::Connect(args) => crate::talk::run_connect(&args),
        Command::Listen(args) => crate::talk::run_listen(&args),
        Command::Http(args) => crate::talk::run_http(&args),
        Command::History(args) => crate::history::run_history(&args),
        Command::Show(args) => crate::history::run_show(&args),
        Command::Diff(args) => crate::history::run_diff(&args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Ok(Outcome::ExpectationFailed) => ExitCode::from(3),
        Ok(Outcome::Changed) => ExitCode::from(1),
        Err(e) => report(&e),
    }
}

fn clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: bad usage")
        .trim_start_matches("error: ");
    let _ = writeln!(io::stderr(), "portolan: {first} (see --help)");
    ExitCode::from(2)
}

fn report(e: &anyhow::Error) -> ExitCode {
    if e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    let usage = e.chain().any(|c| {
        c.is::<UsageError>()
            || c.is::<portolan_target::SpecError>()
            || c.is::<portolan_target::PortSpecError>()
    });
    let line = format!("{e:#}").replace('\n', " ");
    let _ = writeln!(io::stderr(), "portolan: {line}");
    ExitCode::from(if usage { 2 } else { 1 })
}
