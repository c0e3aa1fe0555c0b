//! The database: its schema, the run rows, and reading a past scan back.
//!
//! ```text
//! runs     one row per scan: command line, arguments (JSON), targets, ports, seed,
//!          start and end (unix ms; no end = killed or still running), complete,
//!          totals (open, probes, retries, excluded, elapsed), and target_specs:
//!          the targets as given, `-iL` files' words included (JSON array; NULL
//!          for runs recorded before it existed; schema version 2), and spec: the
//!          spec hash of a shard's pair space (`scan --shard`; NULL otherwise and
//!          for runs recorded before it existed; schema version 3), and udp_ports:
//!          the UDP port list of a run with `-sU` (NULL without; schema version 4)
//! results  (run, addr, hostname, port, proto): every result that is not closed, with
//!          its service as JSON (the model's serde form, written by portolan_output::wire)
//! hosts    (run, addr, hostname): closed TCP ports as a count, and the answered
//!          bitmaps (see crate::answered) when the run is resumable: `answered` of
//!          the TCP ports, `answered_udp` of the UDP ones (schema version 4)
//! unidentified (run, addr, hostname, port): open ports of a `-sV` run whose
//!          identification was cut off, for `--resume` to identify
//! ```
//! A host name of `""` means none. Times are milliseconds since the Unix epoch.
//!
//! # Versions
//! The schema's version is kept in `PRAGMA user_version`. Opening a database brings
//! an older one forward in one transaction, so a history written by an earlier
//! portolan keeps working: version 0 (the first, results without a protocol) gets a
//! `proto` column, part of the key, with every stored result read as `tcp`. Version
//! 3 → 4 adds the UDP port list and bitmaps; runs with UDP recorded before it have
//! no bitmaps (they were recorded as not resumable) and stay so. A database from a
//! newer portolan is refused rather than misread.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use portolan_engine::{PortResult, Protocol, Reason, Service};
use portolan_target::{Endpoint, PortList};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
};

use crate::answered::{Answered, HostKey};
use crate::StoreError;

/// The schema version this code reads and writes.
pub const SCHEMA_VERSION: i64 = 4;

const RUNS_AND_HOSTS: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started INTEGER NOT NULL,
    ended INTEGER,
    complete INTEGER NOT NULL DEFAULT 0,
    command_line TEXT NOT NULL,
    argv TEXT NOT NULL,
    targets TEXT NOT NULL,
    ports TEXT NOT NULL,
    hosts INTEGER NOT NULL,
    seed INTEGER,
    resumable INTEGER NOT NULL,
    open INTEGER NOT NULL DEFAULT 0,
    elapsed_ms INTEGER NOT NULL DEFAULT 0,
    probes_sent INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    excluded INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS hosts (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    addr TEXT NOT NULL,
    hostname TEXT NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    answered BLOB,
    PRIMARY KEY (run, addr, hostname)
) WITHOUT ROWID;
";

const RESULTS: &str = "
CREATE TABLE IF NOT EXISTS results (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    addr TEXT NOT NULL,
    hostname TEXT NOT NULL,
    port INTEGER NOT NULL,
    proto TEXT NOT NULL DEFAULT 'tcp',
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    rtt_us INTEGER,
    tries INTEGER NOT NULL,
    service TEXT,
    PRIMARY KEY (run, addr, hostname, port, proto)
) WITHOUT ROWID;
";

/// The open ports of a `-sV` run whose identification did not finish (cut off by
/// an interrupt): `--resume` identifies them again. A table of its own (schema
/// version 2), so that older runs simply have none.
const UNIDENTIFIED: &str = "
CREATE TABLE IF NOT EXISTS unidentified (
    run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    addr TEXT NOT NULL,
    hostname TEXT NOT NULL,
    port INTEGER NOT NULL,
    PRIMARY KEY (run, addr, hostname, port)
) WITHOUT ROWID;
";

/// An open port waiting for its identification: host and port.
pub type PortKey = (HostKey, u16);

/// Brings the schema to [`SCHEMA_VERSION`], inside `tx`.
fn migrate(tx: &Transaction<'_>) -> Result<(), MigrateError> {
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(MigrateError::Newer(version));
    }
    let has_results: bool = tx.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'results'",
        [],
        |r| r.get(0),
    )?;
    if version < 1 && has_results {
        // Version 0 → 1: the key gains the protocol, which needs a new table; every
        // result stored so far came from a TCP scan.
        tx.execute_batch("ALTER TABLE results RENAME TO results_v0")?;
        tx.execute_batch(RESULTS)?;
        tx.execute_batch(
            "INSERT INTO results (run, addr, hostname, port, proto, state, reason, rtt_us, tries, service)
                 SELECT run, addr, hostname, port, 'tcp', state, reason, rtt_us, tries, service FROM results_v0;
             DROP TABLE results_v0;",
        )?;
    }
    tx.execute_batch(RUNS_AND_HOSTS)?;
    tx.execute_batch(RESULTS)?;
    // Version 1 → 2: the targets as given.
    migrate_target_specs(tx)?;
    // Version 2 → 3: a shard's spec hash.
    add_column(tx, "spec")?;
    tx.execute_batch(UNIDENTIFIED)?;
    // Version 3 → 4: the UDP port list, and the answered bitmap of UDP pairs.
    add_column(tx, "udp_ports")?;
    let has_udp_bits: bool = tx.query_row(
        "SELECT count(*) FROM pragma_table_info('hosts') WHERE name = 'answered_udp'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_udp_bits {
        tx.execute_batch("ALTER TABLE hosts ADD COLUMN answered_udp BLOB")?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(())
}

/// Adds `runs.target_specs` (a JSON array of the targets as given) to a database
/// made before it existed; older runs keep it NULL.
fn migrate_target_specs(conn: &Connection) -> rusqlite::Result<()> {
    let has: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('runs') WHERE name = 'target_specs'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        conn.execute_batch("ALTER TABLE runs ADD COLUMN target_specs TEXT")?;
    }
    Ok(())
}

/// Adds the nullable text column `name` to `runs`, unless it is there.
fn add_column(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    let has: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('runs') WHERE name = ?1",
        [name],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        conn.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {name} TEXT"))?;
    }
    Ok(())
}

/// Why a database could not be brought to the current schema.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("{0}")]
    /// SQLite refused a migration step.
    Sql(#[from] rusqlite::Error),
    #[error("it was written by a newer portolan (schema version {0}, this one reads up to {SCHEMA_VERSION})")]
    /// The schema version is above the one this build knows.
    Newer(i64),
}

/// A host row: its key, closed count and answered bitmap.
pub type HostRow = (HostKey, u64, Option<Vec<u8>>);

/// An open history database.
pub struct Store {
    pub(crate) conn: Connection,
}

/// What is known about a run when it starts.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    /// The command line as typed, for `history`.
    pub command_line: &'a str,
    /// The arguments after `scan`, as typed: what `--resume` parses again.
    pub argv: &'a [String],
    /// The targets as typed.
    pub targets: &'a str,
    /// The ports scanned (the TCP ones; the UDP ones for a UDP scan alone).
    pub ports: &'a PortList,
    /// Host slots in the targets, excluded ones included.
    pub hosts: u128,
    /// The order's seed, when random: `--resume` walks the same order again.
    pub seed: Option<u64>,
    /// When the run started.
    pub started: SystemTime,
    /// The UDP ports, when the run scans UDP (alone or with TCP). Every UDP result
    /// is a row (closed ones too); the answered bitmap of UDP pairs is kept beside
    /// the TCP one (see `crate::answered`).
    pub udp: Option<&'a PortList>,
}

/// One run as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// The run's number in the history.
    pub id: i64,
    /// When it started.
    pub started: SystemTime,
    /// `None` when the process was killed (or is still running).
    pub ended: Option<SystemTime>,
    /// Whether every pair was answered.
    pub complete: bool,
    /// The command line as typed.
    pub command_line: String,
    /// The arguments after `scan`.
    pub argv: Vec<String>,
    /// The targets as typed.
    pub targets: String,
    /// The ports, in compact form.
    pub ports: String,
    /// Host slots in the targets.
    pub hosts: u64,
    /// The order's seed, when random.
    pub seed: Option<u64>,
    /// Whether answered pairs were recorded, so the run can be resumed.
    pub resumable: bool,
    /// The UDP ports, in compact form, of a run that scanned UDP (`None` without,
    /// and for runs recorded before schema version 4).
    pub udp_ports: Option<String>,
    /// Open ports found.
    pub open: u64,
    /// How long it ran.
    pub elapsed: Duration,
    /// Probes sent.
    pub probes_sent: u64,
    /// Retries among them.
    pub retries: u64,
    /// Pairs skipped by exclusions.
    pub excluded: u64,
}

pub(crate) fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Refuses a file that is not empty and not an SQLite database. SQLite itself
/// would take a file shorter than its header for an empty database and write one
/// over it (a one-byte `notes.db` became a history).
fn refuse_foreign(path: &Path) -> Result<(), StoreError> {
    use std::io::Read as _;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut head = Vec::with_capacity(16);
    let _ = file.by_ref().take(16).read_to_end(&mut head);
    if head.is_empty() || head == b"SQLite format 3\0" {
        return Ok(());
    }
    Err(StoreError::NotADatabase {
        path: path.to_owned(),
    })
}

/// `$XDG_DATA_HOME/portolan/history.db`, else `~/.local/share/portolan/history.db`.
pub fn default_path() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("portolan").join("history.db"))
}

impl Store {
    /// Opens the database at `path` in the default data directory, creating the
    /// directory first: the default location is ours to make, a path the user typed
    /// is not (a typo in `--db /typo/x.db` must not leave directories behind).
    pub fn open_in_data_dir(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: dir.to_owned(),
                source,
            })?;
        }
        Self::open(path)
    }

    /// Opens (creating the file if needed, never its directory) the database at
    /// `path`, in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        refuse_foreign(path)?;
        let open = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open)?;
        let migrate_err = |source| StoreError::Schema {
            path: path.to_owned(),
            source,
        };
        let current = conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
            .map_err(open)?;
        if current == SCHEMA_VERSION {
            // The common case takes no write lock, so `history` or `show` never waits
            // for a scan that is recording.
            return Ok(Store { conn });
        }
        // Immediate: two processes opening an old database migrate it one at a time;
        // `migrate` reads the version again under the lock.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(open)?;
        migrate(&tx).map_err(migrate_err)?;
        tx.commit().map_err(open)?;
        Ok(Store { conn })
    }

    /// Opens the database at `path` for reading only, for `history`, `show` and
    /// `diff` when [`Store::open`] cannot: a file the user may not write, or one in
    /// a directory where SQLite cannot make the WAL's shared-memory file (a
    /// read-only mount, an archived copy). First as an ordinary read-only
    /// connection; if even that cannot open, as an immutable file (nothing can be
    /// writing a file this process cannot write beside). Never migrates: an older
    /// schema is an error here.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        refuse_foreign(path)?;
        let open = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let uri = |extra: &str| {
            let mut u = String::from("file:");
            for b in path.as_os_str().as_encoded_bytes() {
                match b {
                    b'%' | b'?' | b'#' | 0x80.. => {
                        let _ = write!(u, "%{b:02X}");
                    }
                    _ => u.push(char::from(*b)),
                }
            }
            u.push_str(extra);
            u
        };
        let readable = |conn: &Connection| {
            conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))
        };
        let mut result = Connection::open_with_flags(uri("?mode=ro"), flags)
            .and_then(|c| readable(&c).map(|v| (c, v)));
        if result.is_err() {
            result = Connection::open_with_flags(uri("?mode=ro&immutable=1"), flags)
                .and_then(|c| readable(&c).map(|v| (c, v)));
        }
        let (conn, version) = result.map_err(open)?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::ReadOnlySchema {
                path: path.to_owned(),
                found: version,
                want: SCHEMA_VERSION,
            });
        }
        Ok(Store { conn })
    }

    /// Stores the targets of run `id` as given (addresses, blocks, names; the
    /// words of `-iL` files included), so that `--resume` scans the same set even
    /// when a file changed or went away.
    pub fn set_target_specs(&self, id: i64, specs: &[String]) -> Result<(), StoreError> {
        let json = serde_json::to_string(specs).unwrap_or_else(|_| "[]".into());
        self.conn.execute(
            "UPDATE runs SET target_specs = ?2 WHERE id = ?1",
            params![id, json],
        )?;
        Ok(())
    }

    /// The targets stored by [`Store::set_target_specs`]; `None` for runs
    /// recorded before they were stored.
    pub fn target_specs(&self, id: i64) -> Result<Option<Vec<String>>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT target_specs FROM runs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|_| StoreError::Corrupt {
                run: id,
                what: "target list",
            })
        })
        .transpose()
    }

    /// Stores the spec hash of run `id`, a shard (`scan --shard I/N`): what its pair
    /// space was when it began, for `merge` to check against.
    pub fn set_spec(&self, id: i64, spec: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE runs SET spec = ?2 WHERE id = ?1", params![id, spec])?;
        Ok(())
    }

    /// The spec hash stored by [`Store::set_spec`]; `None` for a run that was not a
    /// shard or was recorded before it was stored.
    pub fn spec(&self, id: i64) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT spec FROM runs WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(&self, run: &NewRun<'_>) -> Result<i64, StoreError> {
        let argv = serde_json::to_string(run.argv).unwrap_or_else(|_| "[]".into());
        let all = run.ports.len() + run.udp.map_or(0, PortList::len);
        let resumable = crate::answered::fits(run.hosts, all);
        self.conn.execute(
            "INSERT INTO runs (started, command_line, argv, targets, ports, hosts, seed, resumable, udp_ports)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                ms(run.started),
                run.command_line,
                argv,
                run.targets,
                run.ports.to_spec(),
                i64::try_from(run.hosts).unwrap_or(i64::MAX),
                run.seed.map(|s| s as i64),
                resumable,
                run.udp.map(PortList::to_spec),
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Marks a run as running again (for `--resume`).
    pub fn reopen_run(&self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runs SET ended = NULL, complete = 0 WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    fn row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
        let argv: String = r.get("argv")?;
        Ok(RunRow {
            id: r.get("id")?,
            started: time(r.get("started")?),
            ended: r.get::<_, Option<i64>>("ended")?.map(time),
            complete: r.get("complete")?,
            command_line: r.get("command_line")?,
            argv: serde_json::from_str(&argv).unwrap_or_default(),
            targets: r.get("targets")?,
            ports: r.get("ports")?,
            hosts: u(r.get("hosts")?),
            seed: r.get::<_, Option<i64>>("seed")?.map(|s| s as u64),
            resumable: r.get("resumable")?,
            udp_ports: r.get("udp_ports")?,
            open: u(r.get("open")?),
            elapsed: Duration::from_millis(u(r.get("elapsed_ms")?)),
            probes_sent: u(r.get("probes_sent")?),
            retries: u(r.get("retries")?),
            excluded: u(r.get("excluded")?),
        })
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT * FROM runs ORDER BY id")?;
        let rows = stmt
            .query_map([], Self::row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The run numbered `id`.
    pub fn run(&self, id: i64) -> Result<RunRow, StoreError> {
        self.conn
            .query_row("SELECT * FROM runs WHERE id = ?1", [id], Self::row)
            .optional()?
            .ok_or(StoreError::NoSuchRun(id))
    }

    /// The most recent run that did not complete.
    pub fn last_incomplete(&self) -> Result<Option<i64>, StoreError> {
        let id = self
            .conn
            .query_row("SELECT max(id) FROM runs WHERE complete = 0", [], |r| {
                r.get(0)
            })?;
        Ok(id)
    }

    /// The most recent run before `id` (or the latest, without `id`) with the same targets.
    pub fn latest_of(&self, targets: &str, before: Option<i64>) -> Result<Option<i64>, StoreError> {
        let id = self.conn.query_row(
            "SELECT max(id) FROM runs WHERE targets = ?1 AND id < ?2",
            params![targets, before.unwrap_or(i64::MAX)],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    /// The latest run.
    pub fn latest(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT max(id) FROM runs", [], |r| r.get(0))?)
    }

    /// The results of a run that are not closed, by host and port.
    pub fn results(&self, run: i64) -> Result<Vec<PortResult>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT addr, hostname, port, proto, reason, rtt_us, tries, service FROM results
             WHERE run = ?1 ORDER BY addr, hostname, port, proto",
        )?;
        let rows = stmt.query_map([run], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u16>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, u8>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (addr, name, port, proto, reason, rtt, tries, service) = row?;
            let corrupt = |what| StoreError::Corrupt { run, what };
            let addr = addr.parse().map_err(|_| corrupt("address"))?;
            let proto: Protocol = proto.parse().map_err(|_| corrupt("protocol"))?;
            let reason: Reason = reason.parse().map_err(|_| corrupt("reason"))?;
            let endpoint = Endpoint {
                addr,
                name: (!name.is_empty()).then(|| Arc::from(name)),
                port,
                proto,
            };
            let rtt = rtt.map(|us| Duration::from_micros(u(us)));
            let mut result = PortResult::new(endpoint, reason, rtt, tries);
            result.service = service
                .map(|s| serde_json::from_str::<Service>(&s).map_err(|_| corrupt("service")))
                .transpose()?
                .map(Box::new);
            out.push(result);
        }
        Ok(out)
    }

    /// The open ports of a run whose identification did not finish.
    pub fn unidentified(&self, run: i64) -> Result<std::collections::HashSet<PortKey>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT addr, hostname, port FROM unidentified WHERE run = ?1")?;
        let rows = stmt.query_map([run], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u16>(2)?,
            ))
        })?;
        let mut out = std::collections::HashSet::new();
        for row in rows {
            let (addr, name, port) = row?;
            let addr = addr.parse().map_err(|_| StoreError::Corrupt {
                run,
                what: "address",
            })?;
            out.insert(((addr, name), port));
        }
        Ok(out)
    }

    /// Each host of a run: its key, closed count and answered bitmap.
    pub fn hosts(&self, run: i64) -> Result<Vec<HostRow>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT addr, hostname, closed, answered FROM hosts WHERE run = ?1 ORDER BY addr, hostname")?;
        let rows = stmt.query_map([run], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (addr, name, closed, bits) = row?;
            let addr = addr.parse().map_err(|_| StoreError::Corrupt {
                run,
                what: "address",
            })?;
            out.push(((addr, name), u(closed), bits));
        }
        Ok(out)
    }

    /// The answered pairs of a run, of each protocol it scanned (empty when it was
    /// not resumable).
    pub fn answered(&self, run: &RunRow) -> Result<Answered, StoreError> {
        let corrupt = |what| StoreError::Corrupt { run: run.id, what };
        let ports = PortList::parse(&run.ports).map_err(|_| corrupt("port list"))?;
        let mut answered = Answered::new(Arc::new(ports));
        if let Some(udp) = &run.udp_ports {
            let udp = PortList::parse(udp).map_err(|_| corrupt("UDP port list"))?;
            answered = answered.with_udp(Arc::new(udp));
        }
        let mut stmt = self
            .conn
            .prepare("SELECT addr, hostname, answered, answered_udp FROM hosts WHERE run = ?1")?;
        let rows = stmt.query_map([run.id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
        for row in rows {
            let (addr, name, tcp, udp) = row?;
            let addr: std::net::IpAddr = addr.parse().map_err(|_| corrupt("address"))?;
            for (proto, bits) in [(Protocol::Tcp, tcp), (Protocol::Udp, udp)] {
                if let Some(bits) = bits {
                    if !answered.load(proto, (addr, name.clone()), bits) {
                        return Err(corrupt("answered bitmap"));
                    }
                }
            }
        }
        Ok(answered)
    }

    /// Calls `f` with every result of a run: the stored ones, and the closed ones
    /// rebuilt from the answered bitmaps (without RTT). Returns how many closed
    /// results could not be rebuilt (runs recorded without bitmaps).
    pub fn replay<E: From<StoreError>>(
        &self,
        run: &RunRow,
        mut f: impl FnMut(&PortResult) -> Result<(), E>,
    ) -> Result<u64, E> {
        let stored = self.results(run.id)?;
        let answered = self.answered(run)?;
        let mut missing = 0;
        let mut listed: std::collections::HashMap<HostKey, std::collections::HashSet<u16>> =
            std::collections::HashMap::new();
        for r in &stored {
            f(r)?;
            // The answered bitmaps and closed counts are of TCP pairs.
            if r.endpoint.proto != Protocol::Tcp {
                continue;
            }
            listed
                .entry(crate::answered::key(&r.endpoint))
                .or_default()
                .insert(r.endpoint.port);
        }
        for (key, closed, bits) in self.hosts(run.id)? {
            if bits.is_none() {
                missing += closed;
                continue;
            }
            let name: Option<Arc<str>> = (!key.1.is_empty()).then(|| Arc::from(key.1.as_str()));
            let done = listed.remove(&key).unwrap_or_default();
            for port in answered
                .ports_of(Protocol::Tcp, &key)
                .filter(|p| !done.contains(p))
            {
                let endpoint = Endpoint {
                    addr: key.0,
                    name: name.clone(),
                    port,
                    proto: Protocol::Tcp,
                };
                f(&PortResult::new(endpoint, Reason::ConnRefused, None, 1))?;
            }
        }
        Ok(missing)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_foreign_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.db");
        std::fs::write(&path, "x").unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::NotADatabase { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn open_makes_no_directory_but_the_data_dir_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let typo = dir.path().join("typo/x.db");
        assert!(matches!(Store::open(&typo), Err(StoreError::Open { .. })));
        assert!(!dir.path().join("typo").exists());
        Store::open_in_data_dir(&typo).unwrap();
        assert!(typo.is_file());
    }

    #[test]
    fn read_only_opens_a_current_database_and_refuses_an_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        drop(Store::open(&path).unwrap());
        let ro = Store::open_read_only(&path).unwrap();
        assert!(
            ro.conn.execute("CREATE TABLE t(x)", []).is_err(),
            "read-only"
        );
        let old = dir.path().join("old.db");
        rusqlite::Connection::open(&old)
            .unwrap()
            .execute("CREATE TABLE t(x)", [])
            .unwrap();
        assert!(matches!(
            Store::open_read_only(&old),
            Err(StoreError::ReadOnlySchema { found: 0, .. })
        ));
    }

    #[test]
    fn regression_target_specs_are_stored_and_old_databases_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        {
            // A version 1 database, from before target_specs.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(RUNS_AND_HOSTS).unwrap();
            conn.execute_batch(RESULTS).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO runs (started, command_line, argv, targets, ports, hosts, resumable)
                 VALUES (0, 'portolan scan -iL t', '[\"-iL\",\"t\"]', '', '80', 1, 1)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.target_specs(1).unwrap(), None, "an old run");
        let ports = PortList::parse("80").unwrap();
        let id = store
            .begin_run(&NewRun {
                command_line: "portolan scan -iL t",
                argv: &["-iL".into(), "t".into()],
                targets: "127.0.0.1 127.0.0.0/30",
                ports: &ports,
                hosts: 5,
                seed: None,
                started: SystemTime::now(),
                udp: None,
            })
            .unwrap();
        let specs = vec!["127.0.0.1".to_owned(), "127.0.0.0/30".to_owned()];
        store.set_target_specs(id, &specs).unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.target_specs(id).unwrap(), Some(specs));
        assert!(matches!(
            store.target_specs(99),
            Err(StoreError::NoSuchRun(99))
        ));
        // Version 3: a shard's spec hash, none for the old run and unsharded ones.
        assert_eq!(store.spec(1).unwrap(), None);
        assert_eq!(store.spec(id).unwrap(), None);
        store.set_spec(id, "0123456789abcdef").unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.spec(id).unwrap().as_deref(), Some("0123456789abcdef"));
        assert!(matches!(store.spec(99), Err(StoreError::NoSuchRun(99))));
    }

    /// The schema as version 3 wrote it, kept verbatim: what version 4 migrates.
    const SCHEMA_V3: &str = "
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY, started INTEGER NOT NULL, ended INTEGER,
            complete INTEGER NOT NULL DEFAULT 0, command_line TEXT NOT NULL,
            argv TEXT NOT NULL, targets TEXT NOT NULL, ports TEXT NOT NULL,
            hosts INTEGER NOT NULL, seed INTEGER, resumable INTEGER NOT NULL,
            open INTEGER NOT NULL DEFAULT 0, elapsed_ms INTEGER NOT NULL DEFAULT 0,
            probes_sent INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,
            excluded INTEGER NOT NULL DEFAULT 0, target_specs TEXT, spec TEXT);
        CREATE TABLE hosts (
            run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            addr TEXT NOT NULL, hostname TEXT NOT NULL,
            closed INTEGER NOT NULL DEFAULT 0, answered BLOB,
            PRIMARY KEY (run, addr, hostname)) WITHOUT ROWID;
        CREATE TABLE results (
            run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            addr TEXT NOT NULL, hostname TEXT NOT NULL, port INTEGER NOT NULL,
            proto TEXT NOT NULL DEFAULT 'tcp', state TEXT NOT NULL, reason TEXT NOT NULL,
            rtt_us INTEGER, tries INTEGER NOT NULL, service TEXT,
            PRIMARY KEY (run, addr, hostname, port, proto)) WITHOUT ROWID;
        CREATE TABLE unidentified (
            run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            addr TEXT NOT NULL, hostname TEXT NOT NULL, port INTEGER NOT NULL,
            PRIMARY KEY (run, addr, hostname, port)) WITHOUT ROWID;
        PRAGMA user_version = 3;
        INSERT INTO runs (started, command_line, argv, targets, ports, hosts, resumable)
            VALUES (0, 'portolan scan -p 20-30 127.0.0.1', '[\"-p\",\"20-30\",\"127.0.0.1\"]',
                    '127.0.0.1', '20-30', 1, 1);
        INSERT INTO hosts (run, addr, hostname, closed, answered)
            VALUES (1, '127.0.0.1', '', 2, x'0500');
        INSERT INTO runs (started, command_line, argv, targets, ports, hosts, resumable)
            VALUES (0, 'portolan scan -sU -p 53 127.0.0.1', '[\"-sU\",\"-p\",\"53\",\"127.0.0.1\"]',
                    '127.0.0.1', '53', 1, 0);
        INSERT INTO results (run, addr, hostname, port, proto, state, reason, tries)
            VALUES (2, '127.0.0.1', '', 53, 'udp', 'closed', 'port-unreach', 1);
    ";

    #[test]
    fn regression_a_version_3_history_gains_udp_bitmaps_and_keeps_its_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch(SCHEMA_V3)
            .unwrap();
        let store = Store::open(&path).unwrap();
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        // The TCP run resumes as before: its bitmap (ports 20 and 22) is read back.
        let tcp = store.run(1).unwrap();
        assert!(tcp.resumable && tcp.udp_ports.is_none());
        let answered = store.answered(&tcp).unwrap();
        let ep = |port, proto| Endpoint {
            addr: "127.0.0.1".parse().unwrap(),
            name: None,
            port,
            proto,
        };
        assert_eq!(answered.count(), 2);
        assert!(
            answered.contains(&ep(20, Protocol::Tcp)) && !answered.contains(&ep(21, Protocol::Tcp))
        );
        // The UDP run recorded without bitmaps stays what it was: not resumable,
        // its results intact.
        let old_udp = store.run(2).unwrap();
        assert!(!old_udp.resumable && old_udp.udp_ports.is_none());
        assert_eq!(store.results(2).unwrap()[0].endpoint.proto, Protocol::Udp);
        // A new UDP run records its UDP pairs, and they come back.
        let ports = PortList::parse("53,161").unwrap();
        let id = store
            .begin_run(&NewRun {
                command_line: "portolan scan -sU -p 53,161 127.0.0.1",
                argv: &[],
                targets: "127.0.0.1",
                ports: &ports,
                hosts: 1,
                seed: Some(7),
                started: SystemTime::now(),
                udp: Some(&ports),
            })
            .unwrap();
        let run = store.run(id).unwrap();
        assert!(run.resumable);
        store
            .conn
            .execute(
                "INSERT INTO hosts (run, addr, hostname, answered_udp) VALUES (?1, '127.0.0.1', '', x'02')",
                [id],
            )
            .unwrap();
        let answered = store.answered(&run).unwrap();
        assert!(answered.contains(&ep(161, Protocol::Udp)));
        assert!(
            !answered.contains(&ep(53, Protocol::Udp))
                && !answered.contains(&ep(161, Protocol::Tcp))
        );
    }
}
