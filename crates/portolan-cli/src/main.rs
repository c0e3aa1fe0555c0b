//! The `portolan` command. Everything lives in the modules; `main` only maps the
//! outcome to an exit code (see [`exit`]).

mod args;
mod config;
mod demo;
mod exit;
mod formats;
mod history;
mod probe;
mod progress;
mod resume;
mod scan;
mod talk;

fn main() -> std::process::ExitCode {
    exit::run(std::env::args_os().collect())
}
