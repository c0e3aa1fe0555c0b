//! Recording a running scan: a [`Report`] that writes into the history.
//!
//! Results are buffered and written in one transaction at most every
//! [`COMMIT_EVERY`] (at the engine's progress ticks) and at the end, so the
//! database costs little time and a `kill -9` loses at most the last interval.
//! Each transaction writes the new non-closed results, the host rows touched (closed
//! count and answered bitmap) and the run's open count together, so the answered
//! bitmap never claims a pair whose result is not stored.
//!
//! With `-sV` ([`Recorder::identifying`]) an open port that arrives without a
//! service (its probe was cut off by Ctrl-C) is noted in the `unidentified` table,
//! in the same transaction, and cleared when a resumed session brings it back
//! identified.
//!
//! # A database held by someone else
//! Another process (a `history` reader, a second scan, a backup) may hold the
//! database's write lock for a while. A commit then waits [`FLUSH_WAIT`] at most, so
//! the scan is not stalled, and keeps everything it buffered for the next attempt,
//! retried with a back-off doubling from [`COMMIT_EVERY`] up to [`MAX_BACKOFF`]. The
//! buffer is bounded: past [`MAX_PENDING`] buffered results and hosts, the recorder
//! waits for the database (up to [`PATIENCE`]) before it takes more, slowing the
//! scan rather than growing without bound. At the end of the scan it waits up to
//! [`PATIENCE`] as well, so a lock released within that time still leaves the run
//! recorded whole and finished. Only then, or on any error other than "busy", does
//! recording stop (and the caller says so).

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use portolan_engine::{PortResult, PortState, Protocol, Summary};
use portolan_output::wire;
use portolan_output::Report;
use rusqlite::params;

use crate::answered::{Answered, HostKey};
use crate::db::{ms, RunRow, Store};
use crate::StoreError;

/// The longest time between two writes to the database while a scan runs.
pub const COMMIT_EVERY: Duration = Duration::from_millis(250);
/// How long one commit during the scan waits for a busy database.
pub const FLUSH_WAIT: Duration = Duration::from_millis(100);
/// The longest pause between two attempts on a busy database.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// Buffered results and hosts beyond which the recorder waits for the database
/// (about 10 MB: a sweep whose results outrun the disk is slowed, not buffered).
pub const MAX_PENDING: usize = 50_000;
/// How long the recorder waits for a busy database when it must write.
pub const PATIENCE: Duration = Duration::from_mins(2);

/// Totals carried over from the earlier sessions of a resumed run.
#[derive(Debug, Default, Clone, Copy)]
struct Carried {
    elapsed: Duration,
    probes_sent: u64,
    retries: u64,
}

/// A host while the scan runs: the name shared with the engine's results, so
/// keeping count costs no allocation per result; turned into a [`HostKey`] at commit.
type LiveKey = (IpAddr, Option<Arc<str>>);

fn host_key((addr, name): &LiveKey) -> HostKey {
    (*addr, name.as_deref().unwrap_or_default().to_owned())
}

/// Writes one run into the history.
pub struct Recorder {
    store: Store,
    run: i64,
    answered: Option<Answered>,
    /// Closed results per host since the last commit.
    closed: HashMap<LiveKey, u64>,
    dirty: HashSet<LiveKey>,
    pending: Vec<PortResult>,
    open: u64,
    carried: Carried,
    last_commit: Instant,
    /// The database was busy: when to try again, and the pause after that.
    retry: Option<(Instant, Duration)>,
    /// `-sV`: open ports arriving without a service did not finish identification.
    identifying: bool,
    /// Open ports stored unidentified by an earlier session, expected again with
    /// their service (already counted as open).
    reidentify: HashSet<crate::db::PortKey>,
    /// Hosts whose group is done: their answered bitmaps are dropped from memory
    /// by the next commit that stores them.
    forget: Vec<LiveKey>,
}

/// Whether `e` means another connection holds the lock (worth retrying).
fn is_busy(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Sql(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl Recorder {
    /// Records into `run`; a resumed run starts from what is already stored.
    pub fn new(store: Store, run: &RunRow) -> Result<Self, StoreError> {
        // Closed counts are kept as deltas since the last commit and added to the
        // stored ones, so memory does not grow with the number of hosts scanned.
        let closed = HashMap::new();
        let answered = if run.resumable {
            Some(store.answered(run)?)
        } else {
            None
        };
        let carried = Carried {
            elapsed: run.elapsed,
            probes_sent: run.probes_sent,
            retries: run.retries,
        };
        Ok(Recorder {
            store,
            run: run.id,
            answered,
            closed,
            dirty: HashSet::new(),
            pending: Vec::new(),
            open: run.open,
            carried,
            last_commit: Instant::now(),
            retry: None,
            identifying: false,
            reidentify: HashSet::new(),
            forget: Vec::new(),
        })
    }

    /// Records which open ports a `-sV` scan identified: one that arrives without a
    /// service is stored as unidentified, for `--resume` to identify again.
    pub fn identifying(mut self, on: bool) -> Result<Self, StoreError> {
        self.identifying = on;
        if on {
            self.reidentify = self.store.unidentified(self.run)?;
        }
        Ok(self)
    }

    /// Commits if the database is free within [`FLUSH_WAIT`]; when it is busy,
    /// keeps the buffer and schedules the next attempt with back-off.
    fn try_commit(&mut self, now: Instant) -> Result<(), StoreError> {
        if self.retry.is_some_and(|(at, _)| now < at) {
            return Ok(());
        }
        self.store.conn.busy_timeout(FLUSH_WAIT)?;
        match self.commit() {
            Ok(()) => {
                self.retry = None;
                Ok(())
            }
            Err(e) if is_busy(&e) => {
                let pause = self
                    .retry
                    .map_or(COMMIT_EVERY, |(_, p)| (p * 2).min(MAX_BACKOFF));
                self.retry = Some((now + pause, pause));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Runs `write` until the database is free, for up to [`PATIENCE`].
    fn patiently(
        &mut self,
        mut write: impl FnMut(&mut Self) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let deadline = Instant::now() + PATIENCE;
        let mut pause = COMMIT_EVERY;
        loop {
            self.store.conn.busy_timeout(FLUSH_WAIT)?;
            match write(self) {
                Err(e) if is_busy(&e) && Instant::now() + pause < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
                done => {
                    self.retry = None;
                    return done;
                }
            }
        }
    }

    fn buffered(&self) -> usize {
        self.pending.len() + self.dirty.len()
    }

    /// Writes everything buffered in one transaction.
    /// Nothing buffered is dropped when it fails: it is all written by the next
    /// commit that succeeds.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let tx = self
            .store
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO results (run, addr, hostname, port, proto, state, reason, rtt_us, tries, service)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in &self.pending {
                // The service in the model's serde form, the same object as in NDJSON.
                let service = r.service.as_deref().map(wire::to_string);
                let rtt = r
                    .rtt
                    .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
                let name = r.endpoint.name.as_deref().unwrap_or_default();
                let addr = r.endpoint.addr.to_string();
                insert.execute(params![
                    self.run,
                    addr,
                    name,
                    r.endpoint.port,
                    r.endpoint.proto.as_str(),
                    r.state.as_str(),
                    r.reason.as_str(),
                    rtt,
                    r.tries,
                    service
                ])?;
            }
            if self.identifying {
                write_identification(&tx, self.run, &self.pending)?;
            }
            let mut host = tx.prepare_cached(
                "INSERT INTO hosts (run, addr, hostname, closed, answered, answered_udp) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (run, addr, hostname) DO UPDATE SET closed = hosts.closed + excluded.closed,
                 answered = COALESCE(excluded.answered, hosts.answered),
                 answered_udp = COALESCE(excluded.answered_udp, hosts.answered_udp)",
            )?;
            for live in &self.dirty {
                let closed =
                    i64::try_from(self.closed.get(live).copied().unwrap_or(0)).unwrap_or(i64::MAX);
                let k = host_key(live);
                let a = self.answered.as_ref();
                let tcp = a.and_then(|a| a.bits(Protocol::Tcp, &k));
                let udp = a.and_then(|a| a.bits(Protocol::Udp, &k));
                host.execute(params![self.run, k.0.to_string(), k.1, closed, tcp, udp])?;
            }
            tx.execute(
                "UPDATE runs SET open = ?2 WHERE id = ?1",
                params![self.run, i64::try_from(self.open).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        self.pending.clear();
        self.dirty.clear();
        self.closed.clear();
        // Stored now, and no result of theirs is to come.
        for live in self.forget.drain(..) {
            if let Some(a) = self.answered.as_mut() {
                a.forget(&host_key(&live));
            }
        }
        self.last_commit = Instant::now();
        Ok(())
    }

    fn end(&mut self, summary: &Summary) -> Result<(), StoreError> {
        self.patiently(Self::commit)?;
        self.patiently(|rec| rec.write_end(summary))
    }

    fn write_end(&mut self, summary: &Summary) -> Result<(), StoreError> {
        let c = self.carried;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.store.conn.execute(
            "UPDATE runs SET ended = ?2, complete = ?3, elapsed_ms = ?4, probes_sent = ?5, retries = ?6, excluded = ?7 WHERE id = ?1",
            params![
                self.run,
                ms(SystemTime::now()),
                summary.complete,
                n((c.elapsed + summary.elapsed).as_millis() as u64),
                n(c.probes_sent + summary.probes_sent),
                n(c.retries + summary.retries),
                n(summary.excluded),
            ],
        )?;
        Ok(())
    }
}

impl Report for Recorder {
    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        let k: LiveKey = (r.endpoint.addr, r.endpoint.name.clone());
        if let Some(a) = self.answered.as_mut() {
            a.mark(&r.endpoint);
        }
        match r.state {
            // Closed counts are of TCP pairs; a closed UDP port is a row of its own.
            PortState::Closed if r.endpoint.proto == Protocol::Tcp => {
                *self.closed.entry(k.clone()).or_default() += 1;
            }
            PortState::Open => {
                let again = (host_key(&k), r.endpoint.port);
                if !self.reidentify.remove(&again) {
                    self.open += 1;
                }
                self.pending.push(r.clone());
            }
            PortState::Closed | PortState::Filtered | PortState::OpenFiltered => {
                self.pending.push(r.clone());
            }
        }
        self.dirty.insert(k);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffered() > MAX_PENDING {
            // Bounded memory: wait for the database rather than buffer more.
            return self.patiently(Self::commit).map_err(io::Error::other);
        }
        if self.last_commit.elapsed() >= COMMIT_EVERY {
            self.try_commit(Instant::now()).map_err(io::Error::other)?;
        }
        Ok(())
    }

    fn hosts_done(&mut self, hosts: &[LiveKey]) -> io::Result<()> {
        if self.answered.is_some() {
            self.forget.extend_from_slice(hosts);
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.end(summary).map_err(io::Error::other)
    }
}

/// Notes which open ports of `results` finished identification (a service) and
/// which did not.
fn write_identification(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    results: &[PortResult],
) -> Result<(), StoreError> {
    let mut unfinished = tx.prepare_cached(
        "INSERT OR IGNORE INTO unidentified (run, addr, hostname, port) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut finished = tx.prepare_cached(
        "DELETE FROM unidentified WHERE run = ?1 AND addr = ?2 AND hostname = ?3 AND port = ?4",
    )?;
    for r in results.iter().filter(|r| r.state == PortState::Open) {
        let name = r.endpoint.name.as_deref().unwrap_or_default();
        let row = params![run, r.endpoint.addr.to_string(), name, r.endpoint.port];
        if r.service.is_some() {
            finished.execute(row)?;
        } else {
            unfinished.execute(row)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::NewRun;
    use portolan_engine::{Endpoint, Method, Protocol, Reason, Service};
    use portolan_target::PortList;
    use std::collections::BTreeSet;

    fn result(port: u16, reason: Reason) -> PortResult {
        let mut r = PortResult::new(
            Endpoint {
                addr: "127.0.0.1".parse().unwrap(),
                port,
                name: Some("h\u{1b}".into()),
                proto: Protocol::Tcp,
            },
            reason,
            Some(Duration::from_micros(300)),
            1,
        );
        if port == 22 {
            r.service = Some(Box::new(Service {
                name: "ssh".into(),
                product: Some("OpenSSH".into()),
                version: None,
                info: None,
                cpe: vec!["cpe:/a:x".into()],
                method: Method::Banner,
                confidence: 10,
                soft: false,
                banner: Some(b"SSH-2.0-x\x1b[2J".to_vec()),
                tls: None,
                http: None,
            }));
        }
        r
    }

    fn key_of(r: &PortResult) -> (u16, Reason, Option<String>) {
        (
            r.endpoint.port,
            r.reason,
            r.service.as_ref().and_then(|s| s.product.clone()),
        )
    }

    #[test]
    fn records_and_replays_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history.db");
        let store = Store::open_in_data_dir(&path).unwrap();
        let ports = PortList::parse("20-30").unwrap();
        let argv = vec!["127.0.0.1".to_owned()];
        let new = NewRun {
            command_line: "portolan scan 127.0.0.1",
            argv: &argv,
            targets: "127.0.0.1",
            ports: &ports,
            hosts: 1,
            seed: Some(u64::MAX),
            started: SystemTime::now(),
            udp: None,
        };
        let id = store.begin_run(&new).unwrap();
        let run = store.run(id).unwrap();
        assert!(run.resumable && run.ended.is_none() && run.seed == Some(u64::MAX));
        let mut rec = Recorder::new(store, &run).unwrap();
        let results: Vec<PortResult> = (20..=30)
            .map(|p| {
                result(
                    p,
                    match p {
                        22 => Reason::SynAck,
                        25 => Reason::NoResponse,
                        _ => Reason::ConnRefused,
                    },
                )
            })
            .collect();
        for (i, r) in results.iter().enumerate() {
            rec.result(r).unwrap();
            if i == 5 {
                // Closed counts are deltas between commits; they must add up.
                rec.commit().unwrap();
            }
        }
        rec.finish(&Summary {
            complete: true,
            probes_sent: 11,
            ..Summary::default()
        })
        .unwrap();
        let store = Store::open(&path).unwrap();
        let run = store.run(id).unwrap();
        assert!(run.complete && run.ended.is_some());
        assert_eq!((run.open, run.probes_sent), (1, 11));
        let mut back = BTreeSet::new();
        let missing = store.replay::<StoreError>(&run, |r| {
            back.insert(key_of(r));
            Ok(())
        });
        assert_eq!(missing.unwrap(), 0);
        assert_eq!(back, results.iter().map(key_of).collect());
        assert_eq!(store.answered(&run).unwrap().count(), 11);
        let hosts = store.hosts(id).unwrap();
        assert_eq!(hosts.len(), 1);
        assert_eq!(hosts[0].1, 9, "closed ports counted across commits");
        let stored = store.results(id).unwrap();
        let ssh = stored.iter().find(|r| r.endpoint.port == 22).unwrap();
        assert_eq!(ssh.endpoint.name.as_deref(), Some("h\u{1b}"));
        // The banner is stored as its escaped text and read back as its bytes.
        assert_eq!(
            ssh.service.as_ref().unwrap().banner.as_deref(),
            Some(&b"SSH-2.0-x\x1b[2J"[..])
        );
    }

    #[test]
    fn regression_a_locked_database_is_waited_for_and_the_run_finished() {
        // Another process holding the write lock longer than a commit waits used to
        // stop the recording for good and leave the run unfinished forever.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let store = Store::open(&path).unwrap();
        let ports = PortList::parse("1-100").unwrap();
        let argv = vec!["127.0.0.1".to_owned()];
        let id = store
            .begin_run(&NewRun {
                command_line: "portolan scan 127.0.0.1",
                argv: &argv,
                targets: "127.0.0.1",
                ports: &ports,
                hosts: 1,
                seed: Some(1),
                started: SystemTime::now(),
                udp: None,
            })
            .unwrap();
        let run = store.run(id).unwrap();
        let mut rec = Recorder::new(store, &run).unwrap();
        let holder = rusqlite::Connection::open(&path).unwrap();
        holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let hold = std::thread::spawn(move || {
            locked_rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            holder.execute_batch("COMMIT").unwrap();
        });
        for p in 1..=50 {
            rec.result(&result(
                p,
                if p == 22 {
                    Reason::SynAck
                } else {
                    Reason::ConnRefused
                },
            ))
            .unwrap();
        }
        std::thread::sleep(COMMIT_EVERY);
        rec.flush().expect("a busy database is not a failure");
        assert!(rec.retry.is_some(), "the commit was put off");
        assert_eq!(rec.pending.len(), 1, "nothing buffered was dropped");
        locked_tx.send(()).unwrap();
        for p in 51..=100 {
            rec.result(&result(p, Reason::NoResponse)).unwrap();
            rec.flush().unwrap();
        }
        rec.finish(&Summary {
            complete: true,
            probes_sent: 100,
            ..Summary::default()
        })
        .expect("the lock was released in time");
        hold.join().unwrap();
        let store = Store::open(&path).unwrap();
        let run = store.run(id).unwrap();
        assert!(run.complete && run.ended.is_some(), "{run:?}");
        assert_eq!(store.answered(&run).unwrap().count(), 100);
        assert_eq!(store.results(id).unwrap().len(), 51);
        assert_eq!(store.hosts(id).unwrap()[0].1, 49, "closed counted once");
    }

    #[test]
    fn regression_cut_off_identifications_are_recorded_and_finished_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let store = Store::open(&path).unwrap();
        let ports = PortList::parse("20-30").unwrap();
        let argv = vec!["-sV".to_owned()];
        let id = store
            .begin_run(&NewRun {
                command_line: "portolan scan -sV 127.0.0.1",
                argv: &argv,
                targets: "127.0.0.1",
                ports: &ports,
                hosts: 1,
                seed: Some(1),
                started: SystemTime::now(),
                udp: None,
            })
            .unwrap();
        let run = store.run(id).unwrap();
        let mut rec = Recorder::new(store, &run)
            .unwrap()
            .identifying(true)
            .unwrap();
        // 22 identified (result() gives it a service); 23 cut off by Ctrl-C.
        rec.result(&result(22, Reason::SynAck)).unwrap();
        rec.result(&result(23, Reason::SynAck)).unwrap();
        rec.finish(&Summary::default()).unwrap();
        let store = Store::open(&path).unwrap();
        let left = store.unidentified(id).unwrap();
        let key: crate::db::PortKey = (("127.0.0.1".parse().unwrap(), "h\u{1b}".into()), 23);
        assert_eq!(left, [key].into());
        // The resumed session identifies 23.
        let run = store.run(id).unwrap();
        assert_eq!(run.open, 2);
        let mut rec = Recorder::new(store, &run)
            .unwrap()
            .identifying(true)
            .unwrap();
        let mut again = result(23, Reason::SynAck);
        again.service = result(22, Reason::SynAck).service;
        rec.result(&again).unwrap();
        rec.finish(&Summary {
            complete: true,
            ..Summary::default()
        })
        .unwrap();
        let store = Store::open(&path).unwrap();
        assert!(store.unidentified(id).unwrap().is_empty());
        let run = store.run(id).unwrap();
        assert_eq!(run.open, 2, "an open port identified again is counted once");
        let stored = store.results(id).unwrap();
        assert!(stored.iter().all(|r| r.service.is_some()));
    }

    #[test]
    fn a_mixed_run_keeps_each_protocol_apart_and_is_resumable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.db");
        let store = Store::open(&path).unwrap();
        let ports = PortList::parse("53").unwrap();
        let udp_ports = PortList::parse("53,161").unwrap();
        let argv = vec!["127.0.0.1".to_owned()];
        let id = store
            .begin_run(&NewRun {
                command_line: "portolan scan -sT -sU -p 53 127.0.0.1",
                argv: &argv,
                targets: "127.0.0.1",
                ports: &ports,
                hosts: 1,
                seed: None,
                started: SystemTime::now(),
                udp: Some(&udp_ports),
            })
            .unwrap();
        let run = store.run(id).unwrap();
        assert!(run.resumable, "each protocol has its answered bitmap");
        assert_eq!(run.udp_ports.as_deref(), Some("53,161"));
        let mut rec = Recorder::new(store, &run).unwrap();
        let tcp = result(53, Reason::ConnRefused);
        let mut e = tcp.endpoint.clone();
        e.proto = Protocol::Udp;
        let udp = PortResult::new(e, Reason::PortUnreach, None, 1);
        rec.result(&tcp).unwrap();
        rec.result(&udp).unwrap();
        rec.finish(&Summary::default()).unwrap();
        let store = Store::open(&path).unwrap();
        let stored = store.results(id).unwrap();
        assert_eq!(stored.len(), 1, "a closed UDP port is a row");
        assert_eq!(
            (stored[0].endpoint.proto, stored[0].state),
            (Protocol::Udp, PortState::Closed)
        );
        assert_eq!(store.hosts(id).unwrap()[0].1, 1, "the TCP one is counted");
        // What `--resume` skips: each pair under its own protocol, and only those.
        let answered = store.answered(&store.run(id).unwrap()).unwrap();
        assert!(answered.contains(&tcp.endpoint) && answered.contains(&udp.endpoint));
        let mut udp161 = udp.endpoint.clone();
        udp161.port = 161;
        assert!(!answered.contains(&udp161));
        assert_eq!(
            (
                answered.count_of(Protocol::Tcp),
                answered.count_of(Protocol::Udp)
            ),
            (1, 1)
        );
    }
}
