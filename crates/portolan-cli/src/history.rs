//! `portolan history`, `show` and `diff`: past scans from the history database.
//!
//! `diff` exits as ndiff does, for cron and CI: 0 when nothing changed, 1 when
//! something did, 2 on any error (no such scan, not a database, cannot write), so
//! that a failure is never read as "changed".
//!
//! These commands only read the history: a database that does not exist is an
//! error, never created (with its directories) on the way.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use portolan_engine::Summary;
use portolan_output::clean;
use portolan_output::Utc;
use portolan_output::{wire, RunInfo};
use portolan_store::{diff, Change, ServiceId, Snapshot};
use portolan_store::{RunRow, Store};
use portolan_target::PortList;
use serde::Serialize;

use crate::args::{DiffArgs, HistoryArgs, ShowArgs};
use crate::exit::{usage, Outcome};
use crate::formats;
use crate::reports::writer;

/// Opens an existing history database: `--db PATH` must exist (a typo is not
/// created); the default one that does not exist yet holds no scan (`None`).
fn open(db: Option<&PathBuf>) -> anyhow::Result<Option<Store>> {
    let path = match db {
        Some(p) => p.clone(),
        None => portolan_store::default_path()
            .ok_or_else(|| usage("no home directory for the history database: give --db PATH"))?,
    };
    if path.is_file() {
        // Reading needs no write access: a database that cannot be opened for
        // writing (a read-only file, directory or mount) is read as it is.
        return match Store::open(&path) {
            Ok(store) => Ok(Some(store)),
            Err(e) => match Store::open_read_only(&path) {
                Ok(store) => Ok(Some(store)),
                Err(ro @ portolan_store::StoreError::ReadOnlySchema { .. }) => Err(ro.into()),
                Err(_) => Err(e.into()),
            },
        };
    }
    match (db, path.exists()) {
        (None, false) => Ok(None),
        _ => Err(usage(format!("no history database at {}", path.display()))),
    }
}

/// The history, which must hold a scan.
fn open_some(db: Option<&PathBuf>) -> anyhow::Result<Store> {
    open(db)?.ok_or_else(|| usage("the history is empty"))
}

fn status(run: &RunRow) -> &'static str {
    match (run.complete, run.ended) {
        (true, _) => "complete",
        (false, Some(_)) => "interrupted",
        (false, None) => "unfinished",
    }
}

pub fn run_history(args: &HistoryArgs) -> anyhow::Result<Outcome> {
    let store = open(args.db.as_ref())?;
    let runs = match &store {
        Some(store) => store.runs()?,
        None => Vec::new(),
    };
    let mut out = BufWriter::new(io::stdout().lock());
    writeln!(
        out,
        "{:<5} {:<24} {:<12} {:>6} {:>9}  TARGETS",
        "ID", "STARTED", "STATUS", "OPEN", "DURATION"
    )?;
    for run in runs {
        let duration = if run.ended.is_some() {
            format!("{:.2}s", run.elapsed.as_secs_f64())
        } else {
            "-".to_owned()
        };
        writeln!(
            out,
            "{:<5} {:<24} {:<12} {:>6} {:>9}  {}",
            run.id,
            Utc::from(run.started).human(),
            status(&run),
            run.open,
            duration,
            clean(&short(&run.targets))
        )?;
    }
    out.flush()?;
    Ok(Outcome::Done)
}

pub fn run_show(args: &ShowArgs) -> anyhow::Result<Outcome> {
    let store = open_some(args.db.as_ref())?;
    let id = match args.id {
        Some(id) => id,
        None => store
            .latest()?
            .ok_or_else(|| usage("the history is empty"))?,
    };
    let run = store.run(id)?;
    let info = RunInfo {
        command_line: run.command_line.clone(),
        started: run.started,
        ports: run.ports.clone(),
        hosts: u128::from(run.hosts),
        shard: None,
    };
    let mut report = formats::report(args.format, writer(Path::new("-"))?, args.open);
    report.start(&info)?;
    let mut summary = Summary {
        probes_sent: run.probes_sent,
        retries: run.retries,
        excluded: run.excluded,
        elapsed: run.elapsed,
        complete: run.complete,
        ..Summary::default()
    };
    let missing = store.replay(&run, |r| -> anyhow::Result<()> {
        *summary.counts.entry((r.state, r.reason)).or_default() += 1;
        Ok(report.result(r)?)
    })?;
    report.finish(&summary)?;
    if missing > 0 {
        eprintln!("portolan: note: scan {id} kept {missing} closed ports only as counts; they are not listed");
    }
    Ok(Outcome::Done)
}

fn snapshot(store: &Store, run: &RunRow) -> anyhow::Result<Snapshot> {
    let ports = PortList::parse(&run.ports)
        .map_err(|e| anyhow::anyhow!("scan {}: stored port list: {e}", run.id))?;
    let closed = store
        .hosts(run.id)?
        .into_iter()
        .map(|((addr, _), n, _)| (addr, n));
    Ok(Snapshot::new(ports, &store.results(run.id)?, closed))
}

fn pick(store: &Store, args: &DiffArgs) -> anyhow::Result<(RunRow, RunRow)> {
    let (old, new) = match (args.old, args.new) {
        (Some(old), Some(new)) => (old, new),
        (Some(old), None) => {
            let targets = store.run(old)?.targets;
            let new = store.latest_of(&targets, None)?.filter(|&n| n != old);
            (
                old,
                new.ok_or_else(|| usage(format!("no later scan of the targets of scan {old}")))?,
            )
        }
        (None, _) => {
            let new = store
                .latest()?
                .ok_or_else(|| usage("the history is empty"))?;
            let targets = store.run(new)?.targets;
            let old = store.latest_of(&targets, Some(new))?;
            (
                old.ok_or_else(|| usage(format!("no earlier scan of the targets of scan {new}")))?,
                new,
            )
        }
    };
    Ok((store.run(old)?, store.run(new)?))
}

#[derive(Serialize)]
struct DiffDoc<'a> {
    format: &'static str,
    version: u32,
    old: RunRef,
    new: RunRef,
    changes: &'a [Change],
}

#[derive(Serialize)]
struct RunRef {
    id: i64,
    started: String,
    complete: bool,
}

impl RunRef {
    fn of(run: &RunRow) -> Self {
        RunRef {
            id: run.id,
            started: Utc::from(run.started).rfc3339(),
            complete: run.complete,
        }
    }
}

fn service_text(s: Option<&ServiceId>) -> String {
    s.map_or_else(
        || "-".to_owned(),
        |s| {
            let parts: Vec<&str> = [
                Some(s.name.as_str()),
                s.product.as_deref(),
                s.version.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            clean(&parts.join(" "))
        },
    )
}

fn line(c: &Change) -> String {
    match c {
        Change::Host { addr, was, now } => format!("{addr}: host {now} (was {was})"),
        Change::Port {
            addr,
            port,
            proto,
            was,
            now,
        } => {
            format!(
                "{addr} {port}/{proto}: {} -> {}",
                was.unwrap_or("not scanned"),
                now.unwrap_or("not scanned")
            )
        }
        Change::Service {
            addr,
            port,
            proto,
            was,
            now,
        } => {
            format!(
                "{addr} {port}/{proto}: service {} -> {}",
                service_text(was.as_ref()),
                service_text(now.as_ref())
            )
        }
    }
}

pub fn run_diff(args: &DiffArgs) -> anyhow::Result<Outcome> {
    let store = open_some(args.db.as_ref())?;
    let (old, new) = pick(&store, args)?;
    let changes = diff(&snapshot(&store, &old)?, &snapshot(&store, &new)?);
    for run in [&old, &new].into_iter().filter(|r| !r.complete) {
        eprintln!(
            "portolan: note: scan {} is incomplete; ports it did not reach look unscanned",
            run.id
        );
    }
    if let Some(path) = &args.json {
        let doc = DiffDoc {
            format: "portolan-diff",
            version: 1,
            old: RunRef::of(&old),
            new: RunRef::of(&new),
            changes: &changes,
        };
        let mut out = writer(path)?;
        wire::to_writer(&mut out, &doc)?;
        out.write_all(b"\n")?;
        out.flush()?;
    } else {
        let mut out = BufWriter::new(io::stdout().lock());
        let when = |r: &RunRow| Utc::from(r.started).human();
        writeln!(
            out,
            "scan {} ({}) -> scan {} ({}): {} change{}",
            old.id,
            when(&old),
            new.id,
            when(&new),
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        )?;
        for c in &changes {
            writeln!(out, "{}", line(c))?;
        }
        out.flush()?;
    }
    Ok(if changes.is_empty() {
        Outcome::Done
    } else {
        Outcome::Changed
    })
}

/// A run's targets for one line of `history`: an `-iL` file's may be long.
fn short(targets: &str) -> std::borrow::Cow<'_, str> {
    const CHARS: usize = 60;
    match targets.char_indices().nth(CHARS) {
        None => targets.into(),
        Some((cut, _)) => format!(
            "{}… ({} targets)",
            &targets[..cut],
            targets.split_whitespace().count()
        )
        .into(),
    }
}
