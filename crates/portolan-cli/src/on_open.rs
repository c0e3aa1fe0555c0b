//! `--on-open CMD`: run a command for each open port.
//!
//! The port's result reaches the command as one JSON object on its stdin (the NDJSON
//! line of that port, `-sV`'s service included), and `PORTOLAN_ADDR`,
//! `PORTOLAN_PORT`, `PORTOLAN_PROTO` (and `PORTOLAN_HOSTNAME` for a named target)
//! are set for convenience. Nothing from the network ever reaches an argument or
//! the environment: a hostile banner or service name can fill the JSON, which is
//! data, but never a command line.
//!
//! No shell runs the command unless asked (`--on-open-shell`): `CMD` is split into
//! words once, with `shlex`'s POSIX quoting rules, and executed directly.
//!
//! Commands run on worker threads, at most `--on-open-concurrency` at once, so a
//! slow command never stalls the scan (the jobs wait in a queue). A command that
//! cannot be started, exits non-zero, or runs past `--on-open-timeout` (it is then
//! killed) is reported on stderr, one line each, and counted; the scan goes on.
//! When the scan ends, the queue is drained and a summary line says how many ran
//! and how many failed.

use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use portolan_engine::{PortResult, PortState, Summary};
use portolan_output::{wire, Report};

use crate::exit::usage;

/// Commands at once when `--on-open-concurrency` is not given.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How long a command may run when `--on-open-timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What to run, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnOpenCommand {
    /// The program and its arguments, no shell.
    Argv(Vec<String>),
    /// A script for `sh -c` (`--on-open-shell`).
    Shell(String),
}

impl OnOpenCommand {
    /// Splits `text` into words (no shell), or keeps it whole for `sh -c`.
    pub fn parse(text: &str, shell: bool) -> anyhow::Result<Self> {
        if shell {
            if text.trim().is_empty() {
                return Err(usage("--on-open: the command is empty"));
            }
            return Ok(OnOpenCommand::Shell(text.to_owned()));
        }
        match shlex::split(text) {
            Some(words) if !words.is_empty() => Ok(OnOpenCommand::Argv(words)),
            Some(_) => Err(usage("--on-open: the command is empty")),
            None => Err(usage(format!(
                "--on-open {}: an unclosed quote or a trailing backslash",
                portolan_target::file::quote(text)
            ))),
        }
    }

    fn command(&self) -> Command {
        match self {
            OnOpenCommand::Argv(words) => {
                let mut c = Command::new(&words[0]);
                c.args(&words[1..]);
                c
            }
            OnOpenCommand::Shell(script) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(script);
                c
            }
        }
    }
}

/// `--on-open`, checked.
#[derive(Debug, Clone)]
pub struct OnOpenConfig {
    pub command: OnOpenCommand,
    pub concurrency: usize,
    pub timeout: Duration,
}

/// One open port's job: its JSON line and the variables.
struct Job {
    json: String,
    env: Vec<(&'static str, String)>,
    what: String,
}

/// Counts shared with the workers.
#[derive(Default)]
struct Counts {
    ran: AtomicU64,
    failed: AtomicU64,
}

/// The report that runs the commands (kept beside the real reports: it never stops
/// the scan).
pub struct OnOpen {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    counts: Arc<Counts>,
}

impl OnOpen {
    pub fn start(cfg: &OnOpenConfig) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let counts = Arc::new(Counts::default());
        let workers = (0..cfg.concurrency.max(1))
            .map(|_| {
                let (rx, counts, cfg) = (rx.clone(), counts.clone(), cfg.clone());
                thread::spawn(move || worker(&rx, &counts, &cfg))
            })
            .collect();
        OnOpen {
            jobs: Some(tx),
            workers,
            counts,
        }
    }
}

fn worker(rx: &Mutex<Receiver<Job>>, counts: &Counts, cfg: &OnOpenConfig) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        counts.ran.fetch_add(1, Ordering::Relaxed);
        if let Err(why) = run(&job, cfg) {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            eprintln!("portolan: --on-open for {}: {why}", job.what);
        }
    }
}

/// Runs one command to its end (or its timeout); the error says what went wrong.
fn run(job: &Job, cfg: &OnOpenConfig) -> Result<(), String> {
    let mut cmd = cfg.command.command();
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .envs(job.env.iter().map(|(k, v)| (k, v)));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the command: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let json = job.json.clone();
        // A command that does not read its stdin must not block this thread.
        thread::spawn(move || {
            let _ = stdin.write_all(json.as_bytes());
        });
    }
    let deadline = Instant::now() + cfg.timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("the command failed ({status})")),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "the command ran past {}s and was killed",
                    cfg.timeout.as_secs_f64()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("cannot wait for the command: {e}")),
        }
    }
}

impl Report for OnOpen {
    /// An open port replayed on `--resume` had its command run by the session
    /// that found it; running it again would repeat whatever it does.
    fn replayed(&mut self, _: &PortResult) -> io::Result<()> {
        Ok(())
    }
    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        if r.state != PortState::Open {
            return Ok(());
        }
        let e = &r.endpoint;
        let mut env = vec![
            ("PORTOLAN_ADDR", e.addr.to_string()),
            ("PORTOLAN_PORT", e.port.to_string()),
            ("PORTOLAN_PROTO", e.proto.as_str().to_owned()),
        ];
        if let Some(name) = &e.name {
            env.push(("PORTOLAN_HOSTNAME", name.to_string()));
        }
        let what = match e.addr {
            std::net::IpAddr::V6(a) => format!("[{a}]:{}/{}", e.port, e.proto.as_str()),
            a @ std::net::IpAddr::V4(_) => format!("{a}:{}/{}", e.port, e.proto.as_str()),
        };
        let mut json = wire::to_string(r);
        json.push('\n');
        if let Some(tx) = &self.jobs {
            // The workers only stop once the sender is dropped, so this cannot fail.
            let _ = tx.send(Job { json, env, what });
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        let (ran, failed) = (
            self.counts.ran.load(Ordering::Relaxed),
            self.counts.failed.load(Ordering::Relaxed),
        );
        eprintln!("portolan: --on-open: {ran} commands run, {failed} failed");
        Ok(())
    }

    fn essential(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_split_without_a_shell() {
        assert_eq!(
            OnOpenCommand::parse("notify --to 'ops team' \"a b\"", false).unwrap(),
            OnOpenCommand::Argv(vec![
                "notify".into(),
                "--to".into(),
                "ops team".into(),
                "a b".into()
            ])
        );
        // Shell syntax is only words here: no pipe, no substitution.
        assert_eq!(
            OnOpenCommand::parse("cat | sh; $(reboot)", false).unwrap(),
            OnOpenCommand::Argv(vec![
                "cat".into(),
                "|".into(),
                "sh;".into(),
                "$(reboot)".into()
            ])
        );
        assert!(OnOpenCommand::parse("echo 'open", false).is_err());
        assert!(OnOpenCommand::parse("   ", false).is_err());
        assert_eq!(
            OnOpenCommand::parse("jq . | tee x", true).unwrap(),
            OnOpenCommand::Shell("jq . | tee x".into())
        );
    }
}
