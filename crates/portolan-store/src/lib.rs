//! The scan history: every scan recorded in an embedded SQLite database, so that
//! past scans can be listed, shown again in any format, compared, and resumed.
//!
//! - [`db`]: the database (schema, opening in WAL mode, the run rows, reading a
//!   past scan back as [`PortResult`](portolan_engine::PortResult)s).
//! - [`recorder`]: a [`Report`](portolan_output::Report) that writes a running scan
//!   into the database, in one transaction per progress tick.
//! - [`answered`]: which (host, port) pairs of a run have been answered, one bit
//!   per pair, the bookkeeping behind `scan --resume`.
//! - [`diff`]: what changed between two scans, computed without I/O.
//! - [`lock`]: one process per run, so a `--resume` cannot write beside the scan
//!   it continues while that scan still runs.
//!
//! # Crash safety
//! The database is in WAL mode and every write is a transaction that leaves it
//! consistent: the results of a tick, the host rows with their closed counts and
//! answered bitmaps, and the run's totals move together. A `kill -9` loses at most
//! the last tick; the run row then has no end time, which marks it incomplete.

pub mod answered;
pub mod db;
pub mod diff;
pub mod lock;
pub mod recorder;

pub use answered::Answered;
pub use db::{RunRow, Store};
pub use lock::RunLock;
pub use recorder::Recorder;

use std::path::PathBuf;

/// What can go wrong with the history database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the history database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create the directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the history database {path}: {source}")]
    Schema {
        path: PathBuf,
        source: db::MigrateError,
    },
    #[error("history database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("no scan {0} in the history")]
    NoSuchRun(i64),
    #[error("scan {0} is still running")]
    Running(i64),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("scan {run}: corrupt {what} in the history")]
    Corrupt { run: i64, what: &'static str },
}
