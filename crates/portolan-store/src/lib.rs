//! The scan history: every scan recorded in an embedded SQLite database, so that
//! past scans can be listed, shown again in any format, compared, and resumed.
//!
//! The modules are private; what they offer is re-exported here:
//!
//! - `db`: the [`Store`] (schema, opening in WAL mode, the run rows, reading a past
//!   scan back as [`PortResult`](portolan_engine::PortResult)s).
//! - `recorder`: a [`Recorder`], the [`Report`](portolan_output::Report) that writes
//!   a running scan into the database, in one transaction per progress tick.
//! - `answered`: [`Answered`], which (host, port) pairs of a run have been
//!   answered, one bit per pair, the bookkeeping behind `scan --resume`.
//! - `diff`: what changed between two scans ([`diff()`]), computed without I/O.
//! - `lock`: [`RunLock`], one process per run, so a `--resume` cannot write beside
//!   the scan it continues while that scan still runs.
//!
//! # Crash safety
//! The database is in WAL mode and every write is a transaction that leaves it
//! consistent: the results of a tick, the host rows with their closed counts and
//! answered bitmaps, and the run's totals move together. A `kill -9` loses at most
//! the last tick; the run row then has no end time, which marks it incomplete.

#![warn(missing_docs)]

mod answered;
mod db;
mod diff;
mod lock;
mod recorder;

pub use answered::{fits, key, Answered, HostKey, MAX_BYTES};
pub use db::{default_path, HostRow, MigrateError, NewRun, RunRow, Store, SCHEMA_VERSION};
pub use diff::{diff, Change, ServiceId, Snapshot};
pub use lock::{lock_path, RunLock};
pub use recorder::{Recorder, COMMIT_EVERY};

use std::path::PathBuf;

/// What can go wrong with the history database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened.
    #[error("cannot open the history database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A file that is not an SQLite database (and is left as it is).
    #[error("{path} is not a database (not an SQLite file); it was left as it is")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// A database that cannot be written, whose schema is not this version's (it
    /// cannot be upgraded where it is).
    #[error("cannot read the history database {path}: it is read-only and has schema version {found}, not {want}; open it once where it can be written to upgrade it")]
    ReadOnlySchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// This version's.
        want: i64,
    },
    /// The database's directory could not be created.
    #[error("cannot create the directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why it could not be created.
        source: std::io::Error,
    },
    /// The database could not be brought to the current schema.
    #[error("cannot use the history database {path}: {source}")]
    Schema {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: db::MigrateError,
    },
    /// A query failed.
    #[error("history database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// No run has this number.
    #[error("no scan {0} in the history")]
    NoSuchRun(i64),
    /// Another process holds the run (a scan still running, or its `--resume`).
    #[error("scan {0} is still running")]
    Running(i64),
    /// The run's lock file beside the database could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A stored value cannot be read back.
    #[error("scan {run}: corrupt {what} in the history")]
    Corrupt {
        /// The run's number.
        run: i64,
        /// What could not be read.
        what: &'static str,
    },
}
