//! The `portolan` command: parse the arguments, dispatch to the command's module,
//! map its outcome to the exit code ([`exit`]).
//!
//! The modules form a graph without cycles (checked by a test in `args`):
//! - leaves: `exit` (usage error, outcome → exit code), `duration` (the one time
//!   grammar), `scantype` (nmap's `-sX`), `progress`, `probe` (the `-sV` stage);
//! - `args`: every clap struct (imports `duration`, `exit`);
//! - `formats` (→ `args`), `reports` (→ `formats`, `progress`, `request`'s types);
//! - `request`: the one pure check of a scan request (→ `args`, `exit`, `probe`,
//!   `scantype`), with `sysenv` its real file system (→ `request`, `exit`);
//! - `resume` (→ `args`, `exit`, `reports`, `request`);
//! - the commands: `scan` (→ `request`, `resume`, `reports`, `probe`, `sysenv`),
//!   `demo`, `talk`, `history`, `fingerprint` (→ `args`, `exit`), `merge` (→
//!   `request`, `resume`, `reports`); and
//!   `main`, which imports them all.

mod args;
mod demo;
mod discover;
mod duration;
mod exit;
mod fingerprint;
mod formats;
mod history;
mod merge;
mod on_open;
mod probe;
mod progress;
mod reports;
mod request;
mod resume;
mod scan;
mod scantype;
mod signal;
mod sysenv;
mod talk;
mod wildcard;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::exit::{exit_code, ErrorCodes};

fn main() -> ExitCode {
    // Before anything else, so an early Ctrl-C still ends a scan with its reports
    // closed and exit 130 (see `signal`).
    if let Err(e) = signal::install() {
        eprintln!("portolan: cannot install the signal handlers: {e}");
        return ExitCode::FAILURE;
    }
    run(std::env::args_os().collect())
}

/// Runs the command line `argv` (program name first).
fn run(argv: Vec<OsString>) -> ExitCode {
    let command_line = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let argv = match args::rewrite_habits(argv) {
        Ok(argv) => argv,
        Err(e) => return exit_code(Err(e.into()), ErrorCodes::Standard),
    };
    let matches = match Cli::command().try_get_matches_from(argv.clone()) {
        Ok(m) => m,
        Err(e) => return exit::clap_error(&e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(&e),
    };
    if !matches!(cli.command, Command::Scan(_)) {
        signal::restore_default();
    }
    let codes = match cli.command {
        Command::Diff(_) => ErrorCodes::AllTwo,
        _ => ErrorCodes::Standard,
    };
    let result = match cli.command {
        Command::Scan(args) => {
            let sub = matches.subcommand_matches("scan");
            let given = sub.map(request::given).unwrap_or_default();
            let scan_argv: Vec<OsString> = argv.iter().skip(2).cloned().collect();
            let typed = request::Typed {
                args: &args,
                given: &given,
                argv: &scan_argv,
            };
            scan::run(&typed, command_line)
        }
        Command::Demo(args) => demo::run(&args),
        Command::Connect(args) => talk::run_connect(&args),
        Command::Listen(args) => talk::run_listen(&args),
        Command::Http(args) => talk::run_http(&args),
        Command::History(args) => history::run_history(&args),
        Command::Show(args) => history::run_show(&args),
        Command::Diff(args) => history::run_diff(&args),
        Command::Merge(args) => merge::run(&args),
        Command::Fingerprint(args) => fingerprint::run(&args),
    };
    exit_code(result, codes)
}
