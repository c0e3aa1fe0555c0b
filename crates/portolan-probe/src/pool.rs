//! [`Prober`]: probes open ports on a tokio runtime of its own thread, so a
//! synchronous caller (the scan engine's sink) can hand ports over as they are found
//! and collect the identified results later, without blocking the scan.
//!
//! Guarantees:
//!
//! - At most [`Settings::concurrency`] ports are probed at once, and at most [`QUEUE`]
//!   more wait for a probe. [`Prober::submit`] on a full queue waits for room (it
//!   holds the caller, the scan engine, back: probing is then the slow part of the
//!   run, and a port found is never reported without a probe just because many were
//!   found at once), collecting finished results meanwhile. The stop flag ends the wait.
//! - Once the stop flag is set (Ctrl-C, SIGTERM), no new probe starts: probes under
//!   way are abandoned and queued ports come back without a `service`, within a
//!   few tens of milliseconds. Dropping a `Prober` abandons its probes the same way.
//! - Every submitted result comes back exactly once: with `service` filled in when
//!   its probe finished, without when the probe panicked, was abandoned, or the
//!   runtime thread is gone.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use portolan_engine::{Method, PortResult, Protocol, Service};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::oneshot;
use tokio::task::{self, JoinSet};

use crate::db::Database;
use crate::error::ProbeError;
use crate::plan::{Settings, Waits};
use crate::runner::identify;
use crate::udp::{answer, identify_udp, UdpPayloads};

/// Names an open UDP port from its answers; the port's usual name when no payload
/// drew an answer a parser understands (it answered the scan, so it is open).
async fn udp_service(
    r: &PortResult,
    table: &UdpPayloads,
    db: &Database,
    settings: &Settings,
) -> Service {
    let addr = std::net::SocketAddr::new(r.endpoint.addr, r.endpoint.port);
    let wait = Waits::new(r.rtt, settings.fixed_wait).reply;
    let id = u64::from(r.endpoint.port) << 16 ^ 0x5eed;
    if let Some(s) = identify_udp(addr, table, db, wait, id).await {
        return s;
    }
    let (name, method, confidence) = match portolan_target::services::udp_name(r.endpoint.port) {
        Some(name) => (name, Method::Port, 1),
        None => ("unknown", Method::Probed, 0),
    };
    Service {
        name: name.to_owned(),
        product: None,
        version: None,
        info: None,
        cpe: Vec::new(),
        method,
        confidence,
        soft: false,
        banner: None,
        tls: None,
        http: None,
    }
}

/// The most ports that wait for a probe (on top of those being probed).
pub const QUEUE: usize = 4096;

/// How often the runtime looks at the stop flag, and how long a waiting
/// [`Prober::submit`] sleeps between looks.
const TICK: Duration = Duration::from_millis(20);

/// What identifies one port; [`identify`] but for tests.
type ProbeFn =
    Arc<dyn Fn(PortResult) -> Pin<Box<dyn Future<Output = Service> + Send>> + Send + Sync>;

/// A submitted result and its submission number.
type Item = (u64, PortResult);

/// A running probe stage.
pub struct Prober {
    input: Option<tokio::sync::mpsc::Sender<Item>>,
    output: mpsc::Receiver<Item>,
    /// Every result submitted and not yet handed back, as it was submitted.
    outstanding: BTreeMap<u64, PortResult>,
    /// Results taken from the runtime (or never sent to it), not yet handed back.
    done: Vec<PortResult>,
    next_id: u64,
    stop: Arc<AtomicBool>,
    /// Dropped to tell the runtime to abandon its probes.
    abandon: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Prober {
    /// Starts the runtime thread. Setting `stop` ends the probing early (see the
    /// module documentation); pass the scan's cancel flag.
    pub fn start(
        db: Arc<Database>,
        settings: Settings,
        stop: Arc<AtomicBool>,
    ) -> Result<Self, ProbeError> {
        let concurrency = settings.concurrency.max(1);
        let settings = Arc::new(settings);
        // UDP ports (`-sU -sV`) are named by their answers to our UDP payloads.
        let udp = Arc::new((UdpPayloads::builtin()?, answer::fingerprints()?));
        let probe: ProbeFn = Arc::new(move |r: PortResult| {
            let (db, settings, udp) = (db.clone(), settings.clone(), udp.clone());
            Box::pin(async move {
                match r.endpoint.proto {
                    Protocol::Tcp => identify(&db, &r.endpoint, r.rtt, &settings).await,
                    Protocol::Udp => udp_service(&r, &udp.0, &udp.1, &settings).await,
                }
            })
        });
        Self::spawn(probe, concurrency, stop)
    }

    fn spawn(
        probe: ProbeFn,
        concurrency: usize,
        stop: Arc<AtomicBool>,
    ) -> Result<Self, ProbeError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ProbeError::Runtime)?;
        let (in_tx, in_rx) = tokio::sync::mpsc::channel(QUEUE);
        let (out_tx, out_rx) = mpsc::channel();
        let (abandon_tx, abandon_rx) = oneshot::channel();
        let serve = Serve {
            probe,
            concurrency,
            stop: stop.clone(),
            input: in_rx,
            output: out_tx,
            abandon: abandon_rx,
        };
        let thread = std::thread::Builder::new()
            .name("portolan-identify".into())
            .spawn(move || runtime.block_on(serve.run()))
            .map_err(ProbeError::Runtime)?;
        Ok(Prober {
            input: Some(in_tx),
            output: out_rx,
            outstanding: BTreeMap::new(),
            done: Vec::new(),
            next_id: 0,
            stop,
            abandon: Some(abandon_tx),
            thread: Some(thread),
        })
    }

    /// Hands over an open port to identify; waits while the queue is full.
    pub fn submit(&mut self, result: PortResult) {
        let id = self.next_id;
        self.next_id += 1;
        self.outstanding.insert(id, result.clone());
        let mut item = (id, result);
        loop {
            let Some(input) = &self.input else {
                return self.unprobed(id);
            };
            match input.try_send(item) {
                Ok(()) => return,
                Err(TrySendError::Closed(_)) => return self.unprobed(id),
                Err(TrySendError::Full(back)) => {
                    if self.stop.load(Ordering::Relaxed) {
                        return self.unprobed(id);
                    }
                    item = back;
                    self.wait(TICK);
                }
            }
        }
    }

    /// Results identified so far, without waiting.
    pub fn ready(&mut self) -> Vec<PortResult> {
        while let Ok((id, r)) = self.output.try_recv() {
            self.take(id, r);
        }
        std::mem::take(&mut self.done)
    }

    /// Ports submitted and not yet returned.
    pub fn pending(&self) -> usize {
        self.outstanding.len() + self.done.len()
    }

    /// Waits for the next identified result; `None` once every submitted one is back.
    /// No more can be submitted after the first call.
    pub fn next_blocking(&mut self) -> Option<PortResult> {
        self.input = None;
        loop {
            if let Some(r) = self.done.pop() {
                return Some(r);
            }
            if self.outstanding.is_empty() {
                return None;
            }
            match self.output.recv() {
                Ok((id, r)) => self.take(id, r),
                Err(mpsc::RecvError) => self.orphan_all(),
            }
        }
    }

    /// Waits up to `limit` for one result from the runtime.
    fn wait(&mut self, limit: Duration) {
        match self.output.recv_timeout(limit) {
            Ok((id, r)) => self.take(id, r),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => self.orphan_all(),
        }
    }

    /// A result from the runtime, kept unless it was already handed back.
    fn take(&mut self, id: u64, r: PortResult) {
        if self.outstanding.remove(&id).is_some() {
            self.done.push(r);
        }
    }

    /// Hands back submission `id` as it was submitted.
    fn unprobed(&mut self, id: u64) {
        if let Some(r) = self.outstanding.remove(&id) {
            self.done.push(r);
        }
    }

    /// The runtime is gone: everything it still had comes back unprobed.
    fn orphan_all(&mut self) {
        let rest = std::mem::take(&mut self.outstanding);
        self.done.extend(rest.into_values());
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.input = None;
        self.abandon = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The runtime side: takes queued ports while fewer than `concurrency` are being
/// probed, and sends each result back once.
struct Serve {
    probe: ProbeFn,
    concurrency: usize,
    stop: Arc<AtomicBool>,
    input: tokio::sync::mpsc::Receiver<Item>,
    output: mpsc::Sender<Item>,
    abandon: oneshot::Receiver<()>,
}

impl Serve {
    async fn run(mut self) {
        let mut tasks = JoinSet::new();
        let mut running: HashMap<task::Id, Item> = HashMap::new();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let (mut stopping, mut open) = (false, true);
        while open || !tasks.is_empty() {
            tokio::select! {
                got = self.input.recv(), if open && (stopping || tasks.len() < self.concurrency) => {
                    match got {
                        None => open = false,
                        Some(item) if stopping => self.send(item),
                        Some((id, r)) => {
                            let handle = tasks.spawn((self.probe)(r.clone()));
                            running.insert(handle.id(), (id, r));
                        }
                    }
                }
                Some(finished) = tasks.join_next_with_id() => {
                    let (task, service) = match finished {
                        Ok((task, service)) => (task, Some(service)),
                        Err(e) => (e.id(), None),
                    };
                    if let Some((id, mut r)) = running.remove(&task) {
                        r.service = service.map(Box::new);
                        self.send((id, r));
                    }
                }
                _ = tick.tick(), if !stopping => {
                    if self.stop.load(Ordering::Relaxed) {
                        stopping = true;
                        tasks.abort_all();
                    }
                }
                _ = &mut self.abandon, if !stopping => {
                    stopping = true;
                    tasks.abort_all();
                }
                else => break,
            }
        }
    }

    fn send(&self, item: Item) {
        // The receiver is only gone when the `Prober` is, and then nobody waits.
        let _ = self.output.send(item);
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use portolan_engine::{Endpoint, Method, Protocol, Reason};

    use super::*;

    fn open(port: u16) -> PortResult {
        let endpoint = Endpoint {
            addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
            name: None,
            proto: Protocol::Tcp,
        };
        PortResult::new(endpoint, Reason::SynAck, None, 1)
    }

    fn named(port: u16) -> Service {
        Service {
            name: format!("svc{port}"),
            product: None,
            version: None,
            info: None,
            cpe: Vec::new(),
            method: Method::Banner,
            confidence: 10,
            soft: false,
            banner: None,
            tls: None,
            http: None,
        }
    }

    /// A probe that names port `p` `svc{p}` at once, panics on `panic_on`, and never
    /// finishes on `hang_on`.
    fn fake(panic_on: Option<u16>, hang_on: Option<u16>) -> ProbeFn {
        Arc::new(move |r: PortResult| {
            Box::pin(async move {
                let port = r.endpoint.port;
                assert_ne!(Some(port), panic_on, "probe of {port} panicked");
                if Some(port) == hang_on {
                    std::future::pending::<()>().await;
                }
                named(port)
            })
        })
    }

    /// Every result handed back until `next_blocking` ends, sorted by port.
    fn drain(prober: &mut Prober) -> Vec<PortResult> {
        let mut all = prober.ready();
        while let Some(r) = prober.next_blocking() {
            all.push(r);
        }
        all.sort_by_key(|r| r.endpoint.port);
        all
    }

    fn ports(results: &[PortResult]) -> Vec<u16> {
        results.iter().map(|r| r.endpoint.port).collect()
    }

    #[test]
    fn every_result_comes_back_once_within_the_concurrency() {
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (n, m) = (now.clone(), most.clone());
        let probe: ProbeFn = Arc::new(move |r: PortResult| {
            let (n, m) = (n.clone(), m.clone());
            Box::pin(async move {
                m.fetch_max(n.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                named(r.endpoint.port)
            })
        });
        let mut prober = Prober::spawn(probe, 4, Arc::default()).unwrap();
        for port in 1..=100 {
            prober.submit(open(port));
        }
        let all = drain(&mut prober);
        assert_eq!(ports(&all), (1..=100).collect::<Vec<_>>());
        assert!(all
            .iter()
            .all(|r| r.service.as_deref() == Some(&named(r.endpoint.port))));
        assert!(most.load(Ordering::SeqCst) <= 4, "{most:?}");
        assert_eq!(prober.pending(), 0);
    }

    #[test]
    fn a_panicking_probe_still_returns_its_port() {
        let mut prober = Prober::spawn(fake(Some(2), None), 2, Arc::default()).unwrap();
        for port in 1..=3 {
            prober.submit(open(port));
        }
        let all = drain(&mut prober);
        assert_eq!(ports(&all), [1, 2, 3]);
        assert!(all[1].service.is_none());
        assert_eq!(all[2].service.as_deref(), Some(&named(3)));
    }

    #[test]
    fn stop_returns_queued_and_running_ports_promptly() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut prober = Prober::spawn(fake(None, Some(1)), 1, stop.clone()).unwrap();
        for port in 1..=50 {
            prober.submit(open(port));
        }
        std::thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let all = drain(&mut prober);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(ports(&all), (1..=50).collect::<Vec<_>>());
        assert!(all.iter().all(|r| r.service.is_none()));
    }

    #[test]
    fn a_full_queue_holds_submit_until_stopped() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut prober = Prober::spawn(fake(None, Some(1)), 1, stop.clone()).unwrap();
        let flag = stop.clone();
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, Ordering::Relaxed);
        });
        let n = u16::try_from(QUEUE + 10).unwrap();
        let started = Instant::now();
        for port in 1..=n {
            prober.submit(open(port));
        }
        assert!(started.elapsed() >= Duration::from_millis(150));
        setter.join().unwrap();
        let all = drain(&mut prober);
        assert_eq!(ports(&all), (1..=n).collect::<Vec<_>>());
    }

    #[test]
    fn drop_abandons_hanging_probes() {
        let mut prober = Prober::spawn(fake(None, Some(1)), 1, Arc::default()).unwrap();
        for port in 1..=10 {
            prober.submit(open(port));
        }
        let started = Instant::now();
        drop(prober);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
