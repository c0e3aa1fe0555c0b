//! Recording a scan in the history, and resuming an interrupted one.
//!
//! A scan's run row keeps the arguments as typed and the seed of its random order.
//! `scan --resume [ID]` parses those arguments again, rebuilds the same
//! [`ScanOrder`](portolan_target::ScanOrder) from the same seed, and walks it through
//! [`Skip`], which passes over every pair the run's answered bitmaps record
//! (see `portolan_store::answered`). The pairs already answered are replayed into
//! this session's reports, so its outputs hold the whole scan, and the new results
//! are recorded into the same run, which is complete once a session finishes.
//! Targets are resolved again: a host name that now resolves elsewhere is scanned
//! at its new address.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use portolan_engine::scheduler::TargetOrder;
use portolan_engine::{Endpoint, PortResult, Summary};
use portolan_output::RunInfo;
use portolan_store::db::{self, NewRun};
use portolan_store::{Answered, Recorder, RunRow, Store};

use crate::args::{rewrite_nmap_style, Cli, Command, ScanArgs};
use crate::config::{OrderKind, ScanConfig};
use crate::exit::usage;
use crate::scan::{BestEffort, Reports};

/// A walk that leaves out the pairs already answered.
pub struct Skip<O> {
    inner: O,
    answered: Answered,
    skipped: u128,
}

impl<O: TargetOrder> Skip<O> {
    pub fn new(inner: O, answered: Answered) -> Self {
        Skip {
            inner,
            answered,
            skipped: 0,
        }
    }
}

impl<O: TargetOrder> TargetOrder for Skip<O> {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        loop {
            let e = self.inner.next_endpoint()?;
            if !self.answered.contains(&e) {
                return Some(e);
            }
            self.skipped += 1;
        }
    }

    fn total(&self) -> u128 {
        self.inner
            .total()
            .saturating_sub(u128::from(self.answered.count()))
    }

    fn consumed(&self) -> u128 {
        self.inner.consumed().saturating_sub(self.skipped)
    }
}

/// The history database named by `--db`, or the default one.
pub fn db_path(db: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match db {
        Some(p) => Ok(p.clone()),
        None => db::default_path().ok_or_else(|| {
            usage("no home directory for the history database: give --db PATH or --no-history")
        }),
    }
}

/// One `portolan scan` as the history sees it.
pub struct Session {
    store: Option<Store>,
    resumed: Option<RunRow>,
    args: ScanArgs,
    /// Counts of the results replayed from earlier sessions.
    replayed: Summary,
}

impl Session {
    /// Opens the history (unless `--no-history`) and, for `--resume`, loads the run.
    pub fn open(args: &ScanArgs) -> anyhow::Result<Self> {
        let out = &args.output;
        let Some(which) = &out.resume else {
            let store = if out.no_history {
                None
            } else if out.db.is_some() {
                // The user named the database: failing to open it is an error.
                Some(Store::open(&db_path(out.db.as_ref())?)?)
            } else {
                // The default history is a convenience: without it the scan goes on.
                match db_path(None).and_then(|p| Ok(Store::open(&p)?)) {
                    Ok(store) => Some(store),
                    Err(e) => {
                        eprintln!("portolan: warning: scanning without history: {e:#}");
                        None
                    }
                }
            };
            return Ok(Session {
                store,
                resumed: None,
                args: args.clone(),
                replayed: Summary::default(),
            });
        };
        if out.no_history {
            return Err(usage(
                "--resume needs the history; it cannot go with --no-history",
            ));
        }
        only_resume_options()?;
        if !args.targets.is_empty() || !args.input_list.is_empty() {
            return Err(usage(
                "--resume takes the targets of the scan it continues; give none",
            ));
        }
        let store = Store::open(&db_path(out.db.as_ref())?)?;
        let id = if which == "last" {
            store
                .last_incomplete()?
                .ok_or_else(|| usage("no interrupted scan to resume"))?
        } else {
            which
                .parse()
                .map_err(|_| usage(format!("--resume {which:?}: expected a scan id")))?
        };
        let run = store.run(id)?;
        if run.complete {
            return Err(usage(format!("scan {id} is complete: nothing to resume")));
        }
        if !run.resumable {
            return Err(usage(format!(
                "scan {id} was too large to record for resuming"
            )));
        }
        let mut stored = stored_args(&run)?;
        stored.seed = run.seed;
        stored.output.db.clone_from(&out.db);
        stored.no_progress |= args.no_progress;
        Ok(Session {
            store: Some(store),
            resumed: Some(run),
            args: stored,
            replayed: Summary::default(),
        })
    }

    /// The arguments to scan with: the stored ones when resuming.
    pub fn args(&self) -> &ScanArgs {
        &self.args
    }

    /// Starts recording into `sink`; when resuming, first replays what earlier
    /// sessions found and returns the pairs to skip.
    pub fn attach(
        &mut self,
        cfg: &ScanConfig,
        info: &RunInfo,
        sink: &mut Reports,
    ) -> anyhow::Result<Option<Answered>> {
        let Some(store) = self.store.take() else {
            return Ok(None);
        };
        let Some(run) = self.resumed.take() else {
            let argv: Vec<String> = std::env::args_os()
                .skip(2)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let seed = match cfg.order {
                OrderKind::Random { seed } => Some(seed),
                OrderKind::Sequential => None,
            };
            let targets = self.args.targets.join(" ");
            let new = NewRun {
                command_line: &info.command_line,
                argv: &argv,
                targets: &targets,
                ports: &cfg.ports,
                hosts: info.hosts,
                seed,
                started: info.started,
            };
            let id = store.begin_run(&new)?;
            let run = store.run(id)?;
            sink.outputs.push(Box::new(BestEffort::new(
                Box::new(Recorder::new(store, &run)?),
                "history recording",
            )));
            return Ok(None);
        };
        let replayed = &mut self.replayed;
        store.replay(&run, |r: &PortResult| -> anyhow::Result<()> {
            *replayed.counts.entry((r.state, r.reason)).or_default() += 1;
            sink.outputs.iter_mut().try_for_each(|rep| rep.result(r))?;
            Ok(())
        })?;
        let answered = store.answered(&run)?;
        store.reopen_run(run.id)?;
        eprintln!(
            "portolan: resuming scan {}: {} port results recorded, {} to go",
            run.id,
            answered.count(),
            cfg_total(cfg).saturating_sub(u128::from(answered.count()))
        );
        sink.outputs.push(Box::new(BestEffort::new(
            Box::new(Recorder::new(store, &run)?),
            "history recording",
        )));
        Ok(Some(answered))
    }

    /// This session's summary plus the results replayed from earlier ones.
    pub fn merge(&self, mut summary: Summary) -> Summary {
        for (k, n) in &self.replayed.counts {
            *summary.counts.entry(*k).or_default() += n;
        }
        summary
    }
}

/// `--resume` continues a scan with the options it was started with; refuses any
/// other option rather than drop it silently (only `--db` and `--no-progress` may
/// be given again).
fn only_resume_options() -> anyhow::Result<()> {
    let argv: Vec<String> = std::env::args_os()
        .skip(2)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut words = argv.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--resume" | "--no-progress" => {}
            "--db" => {
                words.next();
            }
            w if w.starts_with("--db=") || w.starts_with("--resume=") || !w.starts_with('-') => {}
            other => {
                return Err(usage(format!(
                    "--resume continues a scan with its own options; {other} cannot be given with it (only --db and --no-progress)"
                )))
            }
        }
    }
    Ok(())
}

fn cfg_total(cfg: &ScanConfig) -> u128 {
    cfg.targets.hosts().saturating_mul(cfg.ports.len() as u128)
}

/// The scan arguments a run was started with.
fn stored_args(run: &RunRow) -> anyhow::Result<ScanArgs> {
    let mut argv: Vec<OsString> = vec!["portolan".into(), "scan".into()];
    argv.extend(run.argv.iter().map(OsString::from));
    let cli = Cli::try_parse_from(rewrite_nmap_style(argv))
        .with_context(|| format!("the stored arguments of scan {}", run.id))?;
    match cli.command {
        Command::Scan(args) => Ok(*args),
        _ => Err(usage(format!(
            "scan {} was not recorded by `portolan scan`",
            run.id
        ))),
    }
}
