//! Recording a scan in the history, and resuming an interrupted one.
//!
//! A scan's run row keeps the arguments as typed (output and input paths made
//! absolute, so that a resume from another directory writes where the scan first
//! wrote) and the seed of its random order. `scan --resume [ID]` has the request
//! ([`crate::request`]) check those arguments again, rebuilds the same
//! [`ScanOrder`](portolan_target::ScanOrder) from the same seed, and walks it through
//! [`Skip`], which passes over every pair the run's answered bitmaps record
//! (see `portolan_store::Answered`: one per protocol, so a `-sU` or `-sS -sU` run
//! resumes its UDP pass as its TCP one). The pairs already answered are replayed into
//! this session's reports, so its outputs hold the whole scan, and the new results
//! are recorded into the same run, which is complete once a session finishes.
//! The targets are those stored with the run (`-iL` files' words included), not the
//! files as they are now: a file changed or removed since does not change the scan.
//! Host names are resolved again: one that now resolves elsewhere is scanned at its
//! new address.

use std::path::PathBuf;

use portolan_engine::TargetOrder;
use portolan_engine::{Endpoint, PortResult, Protocol, Summary};
use portolan_output::RunInfo;
use portolan_store::{Answered, NewRun, Recorder, RunLock, RunRow, Store};

use crate::args::HistoryOptions;
use crate::exit::usage;
use crate::reports::{BestEffort, Reports};
use crate::request::{History, OrderKind, ResumeWhich, ScanRequest, Stored};

/// A walk of one protocol's pass that leaves out the pairs already answered.
pub struct Skip<O> {
    inner: O,
    answered: Answered,
    proto: Protocol,
    skipped: u128,
}

impl<O: TargetOrder> Skip<O> {
    /// Walks `inner`, the pass of `proto`, past what `answered` records.
    pub fn new(inner: O, answered: Answered, proto: Protocol) -> Self {
        Skip {
            inner,
            answered,
            proto,
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
            .saturating_sub(u128::from(self.answered.count_of(self.proto)))
    }

    fn consumed(&self) -> u128 {
        self.inner.consumed().saturating_sub(self.skipped)
    }

    fn group(&self) -> u128 {
        self.inner.group()
    }

    fn walked(&self) -> u128 {
        self.inner.walked()
    }

    fn hosts_of(&self, g: u128) -> Vec<portolan_target::HostKey> {
        self.inner.hosts_of(g)
    }
}

/// One `portolan scan` as the history sees it.
pub struct Session {
    store: Option<Store>,
    resumed: Option<RunRow>,
    stored: Option<Stored>,
    /// Counts of the results replayed from earlier sessions.
    replayed: Summary,
    /// `-sV`: open ports of earlier sessions whose identification was cut off,
    /// to be identified in this one.
    to_identify: Vec<PortResult>,
    /// The run this process records, held until the session ends (see
    /// `portolan_store::RunLock`).
    lock: Option<RunLock>,
}

/// Whether the recorded arguments of a run ask for a UDP scan (`-sU`, in any of
/// the spellings the arguments accept). Runs with UDP recorded before the history's
/// schema version 4 have no answered bitmaps, so they are refused with this reason
/// rather than the size one.
fn scanned_udp(argv: &[String]) -> bool {
    argv.iter().enumerate().any(|(i, w)| {
        w == "-sU"
            || w == "--scan-type=U"
            || (w == "--scan-type" && argv.get(i + 1).is_some_and(|n| n == "U"))
    })
}

/// The database `--resume` reads: `--db`, or the default one.
fn resume_db(db: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    match db {
        Some(p) => Ok(p.clone()),
        None => portolan_store::default_path()
            .ok_or_else(|| usage("no home directory for the history database: give --db PATH")),
    }
}

impl Session {
    /// For `--resume`, opens the history and loads the run to continue; otherwise
    /// opens nothing yet (see [`Session::open_history`]).
    pub fn load(which: Option<ResumeWhich>, history: &HistoryOptions) -> anyhow::Result<Self> {
        let mut session = Session {
            store: None,
            resumed: None,
            stored: None,
            replayed: Summary::default(),
            to_identify: Vec::new(),
            lock: None,
        };
        let Some(which) = which else {
            return Ok(session);
        };
        let store = Store::open(&resume_db(history.db.as_ref())?)?;
        let id = match which {
            ResumeWhich::Last => store
                .last_incomplete()?
                .ok_or_else(|| usage("no interrupted scan to resume"))?,
            ResumeWhich::Id(id) => id,
        };
        let run = store.run(id)?;
        if run.complete {
            return Err(usage(format!("scan {id} is complete: nothing to resume")));
        }
        if !run.resumable && scanned_udp(&run.argv) {
            return Err(usage(format!(
                "scan {id} scanned UDP and was recorded by an older portolan, without the answered UDP pairs: it cannot be resumed; start it again"
            )));
        }
        if !run.resumable {
            return Err(usage(format!(
                "scan {id} was too large to record for resuming"
            )));
        }
        // Before any output is opened: a scan still running keeps its run.
        session.lock = Some(store.lock_run(id)?);
        session.stored = Some(Stored {
            target_specs: store.target_specs(id)?,
            id,
            argv: run.argv.clone(),
            seed: run.seed,
        });
        session.store = Some(store);
        session.resumed = Some(run);
        Ok(session)
    }

    /// The run `--resume` continues, as the request needs it.
    pub fn stored(&self) -> Option<&Stored> {
        self.stored.as_ref()
    }

    /// Opens the history a new scan is recorded in (the request has checked that no
    /// output is the database, and that a named one's directory exists). A database
    /// that cannot be opened (locked past the wait, read-only, full, corrupt) is a
    /// warning and the scan goes on unrecorded: the history is a record of the scan,
    /// never a reason to lose it.
    pub fn open_history(&mut self, req: &ScanRequest) {
        if self.store.is_some() {
            return;
        }
        self.store = match &req.history {
            History::Off => None,
            // A database that cannot be opened (locked past the wait, read-only,
            // on a full disk, corrupt) costs the record, never the scan.
            History::Named(path) => match Store::open(path) {
                Ok(store) => Some(store),
                Err(e) => {
                    without_history(&e.into());
                    None
                }
            },
            History::Default(None) => {
                eprintln!("portolan: warning: scanning without history: no home directory for the history database (give --db PATH or --no-history)");
                None
            }
            History::Default(Some(path)) => match Store::open_in_data_dir(path) {
                Ok(store) => Some(store),
                Err(e) => {
                    without_history(&e.into());
                    None
                }
            },
        };
    }

    /// Starts recording into `sink`; when resuming, first replays what earlier
    /// sessions found and returns the pairs to skip.
    pub fn attach(
        &mut self,
        cfg: &ScanRequest,
        info: &RunInfo,
        sink: &mut Reports,
    ) -> anyhow::Result<Option<Answered>> {
        let Some(store) = self.store.take() else {
            return Ok(None);
        };
        let Some(run) = self.resumed.take() else {
            let seed = match cfg.order {
                OrderKind::Random { seed } => Some(seed),
                OrderKind::Sequential => None,
            };
            let targets = cfg.target_words.join(" ");
            let answered_ports = cfg.answered_ports();
            let answered_udp = cfg.answered_udp_ports();
            let new = NewRun {
                command_line: &info.command_line,
                argv: &cfg.record_argv,
                targets: &targets,
                ports: &answered_ports,
                // Endpoints' hosts have answered bitmaps too: counted (at most one
                // each) in the size that decides whether the run is resumable.
                hosts: info.hosts.saturating_add(
                    (cfg.targets.endpoints(Protocol::Tcp).len()
                        + cfg.targets.endpoints(Protocol::Udp).len()) as u128,
                ),
                seed,
                started: info.started,
                udp: answered_udp.as_deref(),
            };
            // The reports are open by now: a database that fails here (full,
            // read-only, locked past the wait) is a warning, and the scan goes on
            // so that every report is finished.
            let begun = (|| -> anyhow::Result<_> {
                let id = store.begin_run(&new)?;
                let lock = store.lock_run(id)?;
                store.set_target_specs(id, &cfg.target_words)?;
                if let Some(plan) = cfg.shard {
                    store.set_spec(id, &plan.spec.to_string())?;
                }
                let run = store.run(id)?;
                let recorder = Recorder::new(store, &run)?.identifying(cfg.probe.is_some())?;
                Ok((lock, recorder))
            })();
            match begun {
                Ok((lock, recorder)) => {
                    self.lock = Some(lock);
                    sink.outputs.push(Box::new(BestEffort::new(
                        Box::new(recorder),
                        "history recording",
                    )));
                }
                Err(e) => without_history(&e),
            }
            return Ok(None);
        };
        let unidentified = if cfg.probe.is_some() {
            store.unidentified(run.id)?
        } else {
            std::collections::HashSet::new()
        };
        let (replayed, to_identify) = (&mut self.replayed, &mut self.to_identify);
        store.replay(&run, |r: &PortResult| -> anyhow::Result<()> {
            *replayed.counts.entry((r.state, r.reason)).or_default() += 1;
            let name = r.endpoint.name.as_deref().unwrap_or_default().to_owned();
            if unidentified.contains(&((r.endpoint.addr, name), r.endpoint.port)) {
                // Reaches the reports once identified, through the probe stage.
                to_identify.push(r.clone());
                return Ok(());
            }
            sink.outputs
                .iter_mut()
                .try_for_each(|rep| rep.replayed(r))?;
            Ok(())
        })?;
        let answered = store.answered(&run)?;
        store.reopen_run(run.id)?;
        let identify = if self.to_identify.is_empty() {
            String::new()
        } else {
            format!(", {} open ports to identify", self.to_identify.len())
        };
        eprintln!(
            "portolan: resuming scan {}: {} port results recorded, {} to go{identify}",
            run.id,
            answered.count(),
            cfg_total(cfg).saturating_sub(u128::from(answered.count()))
        );
        sink.outputs.push(Box::new(BestEffort::new(
            Box::new(Recorder::new(store, &run)?.identifying(cfg.probe.is_some())?),
            "history recording",
        )));
        Ok(Some(answered))
    }

    /// The open ports whose identification an earlier session did not finish (to
    /// be sent through the `-sV` stage before the scan); empty after the first call.
    pub fn take_to_identify(&mut self) -> Vec<PortResult> {
        std::mem::take(&mut self.to_identify)
    }

    /// This session's summary plus the results replayed from earlier ones.
    pub fn merge(&self, mut summary: Summary) -> Summary {
        for (k, n) in &self.replayed.counts {
            *summary.counts.entry(*k).or_default() += n;
        }
        summary
    }
}

/// Pairs of the whole scan, of every protocol (before any shard takes its share).
fn cfg_total(cfg: &ScanRequest) -> u128 {
    let pass = |ports: usize, proto| {
        cfg.targets
            .hosts()
            .saturating_mul(ports as u128)
            .saturating_add(cfg.targets.endpoints(proto).len() as u128)
    };
    let tcp = if cfg.kind.is_some() {
        pass(cfg.ports.len(), Protocol::Tcp)
    } else {
        0
    };
    let udp = cfg.udp.as_ref().map_or(0, |u| pass(u.len(), Protocol::Udp));
    tcp.saturating_add(udp)
}

/// Says once that this scan goes unrecorded, and why.
fn without_history(e: &anyhow::Error) {
    eprintln!(
        "portolan: warning: scanning without history: {}",
        crate::exit::error_line(e)
    );
}
