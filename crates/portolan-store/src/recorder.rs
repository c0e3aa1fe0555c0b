//! Recording a running scan: a [`Report`] that writes into the history.
//!
//! Results are buffered and written in one transaction at most every
//! [`COMMIT_EVERY`] (at the engine's progress ticks) and at the end, so the
//! database costs little time and a `kill -9` loses at most the last interval.
//! Each transaction writes the new non-closed results, the host rows touched (closed
//! count and answered bitmap) and the run's open count together, so the answered
//! bitmap never claims a pair whose result is not stored.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use portolan_engine::{PortResult, PortState, Summary};
use portolan_output::wire;
use portolan_output::Report;
use rusqlite::params;

use crate::answered::{Answered, HostKey};
use crate::db::{ms, RunRow, Store};
use crate::StoreError;

/// The longest time between two writes to the database while a scan runs.
pub const COMMIT_EVERY: Duration = Duration::from_millis(250);

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
        })
    }

    /// Writes everything buffered in one transaction.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let tx = self.store.conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO results (run, addr, hostname, port, proto, state, reason, rtt_us, tries, service)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in self.pending.drain(..) {
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
            let mut host = tx.prepare_cached(
                "INSERT INTO hosts (run, addr, hostname, closed, answered) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (run, addr, hostname) DO UPDATE SET closed = hosts.closed + excluded.closed,
                 answered = COALESCE(excluded.answered, hosts.answered)",
            )?;
            for live in self.dirty.drain() {
                let closed =
                    i64::try_from(self.closed.get(&live).copied().unwrap_or(0)).unwrap_or(i64::MAX);
                let k = host_key(&live);
                let bits = self.answered.as_ref().and_then(|a| a.bits(&k));
                host.execute(params![self.run, k.0.to_string(), k.1, closed, bits])?;
            }
            self.closed.clear();
            tx.execute(
                "UPDATE runs SET open = ?2 WHERE id = ?1",
                params![self.run, i64::try_from(self.open).unwrap_or(i64::MAX)],
            )?;
        }
        tx.commit()?;
        self.last_commit = Instant::now();
        Ok(())
    }

    fn end(&mut self, summary: &Summary) -> Result<(), StoreError> {
        self.commit()?;
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
        if let Some(a) = &mut self.answered {
            a.mark(&r.endpoint);
        }
        match r.state {
            PortState::Closed => *self.closed.entry(k.clone()).or_default() += 1,
            PortState::Open => {
                self.open += 1;
                self.pending.push(r.clone());
            }
            PortState::Filtered | PortState::OpenFiltered => self.pending.push(r.clone()),
        }
        self.dirty.insert(k);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.last_commit.elapsed() >= COMMIT_EVERY {
            self.commit().map_err(io::Error::other)?;
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.end(summary).map_err(io::Error::other)
    }
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
        let store = Store::open(&path).unwrap();
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
}
