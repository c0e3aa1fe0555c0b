//! `portolan scan`: check the request, open the history and the reports, run the
//! engine, finish every report whatever happened.
//!
//! A scan of TCP and UDP (`-sT -sU`) is two passes of the engine into the same
//! reports, TCP first (it is quick) and then UDP, each with its own transport and
//! order; their summaries add up to the run's, and the progress bar counts both.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use portolan_engine::{
    ConnectTransport, EngineError, PortResult, Progress, Protocol, ProxyTransport, Scanner, Sink,
    SinkError, Summary, TargetOrder, Transport, UdpTransport,
};
use portolan_output::{RunInfo, ShardInfo};
use portolan_probe::UdpPayloads;
use portolan_target::{HostKey, PortList, ScanOrder, TargetSet};

use crate::exit::{Outcome, Signal};
use crate::request::{self, OrderKind, ScanRequest, Typed};
use crate::resume::Session;
use crate::scantype::ScanKind;
use crate::sysenv::SystemEnv;

/// Which signals arrived: any of them cancels the scan; SIGTERM is remembered for
/// the exit code (143, not Ctrl-C's 130).
struct Signals {
    cancel: Arc<AtomicBool>,
    terminated: Arc<AtomicBool>,
}

impl Signals {
    /// The flags of the handlers `main` installed first thing (see `crate::signal`).
    fn installed() -> Self {
        Signals {
            cancel: crate::signal::cancel_flag(),
            terminated: crate::signal::terminate_flag(),
        }
    }

    /// How the run ended: done, or stopped by a signal.
    fn outcome(&self, complete: bool) -> Outcome {
        if complete {
            Outcome::Done
        } else {
            Outcome::Stopped(self.which())
        }
    }

    fn which(&self) -> Signal {
        if self.terminated.load(Ordering::Relaxed) {
            Signal::Terminate
        } else {
            Signal::Interrupt
        }
    }
}

/// The TCP transport: connects, through a proxy (`--proxy`), or the raw SYN one
/// (`-sS`).
fn transport(
    kind: ScanKind,
    proxy: Option<&request::ProxyConfig>,
) -> anyhow::Result<Box<dyn Transport>> {
    if let Some(p) = proxy {
        let t = ProxyTransport::new(p.url.clone(), p.addr)
            .context("cannot create the event poller")?
            .remote_names(p.names.table());
        return Ok(Box::new(t));
    }
    match kind {
        ScanKind::Connect => {
            let connect = ConnectTransport::new().context("cannot create the event poller")?;
            Ok(Box::new(connect))
        }
        ScanKind::Syn => match portolan_syn::SynTransport::new() {
            Ok(t) => Ok(Box::new(t)),
            Err(portolan_syn::SynError::NotPermitted) => Err(crate::exit::usage(
                "-sS needs the CAP_NET_RAW capability: run it with sudo, give the binary \
                 `setcap cap_net_raw+ep`, or use the connect scan (-sT, the default)",
            )),
            Err(e) => Err(anyhow::Error::new(e).context("cannot set up the SYN scan")),
        },
    }
}

/// `portolan scan`, as typed; `command_line` is recorded in the reports.
pub fn run(typed: &Typed, command_line: String) -> anyhow::Result<Outcome> {
    let env = SystemEnv {
        file_limit: portolan_engine::raise_file_limit(),
    };
    let mut session = Session::load(request::resume_wanted(typed)?, &typed.args.history)?;
    let cfg = request::scan_request(typed, session.stored(), &env)?;
    // Caught since the start of `main`: a Ctrl-C that came while the request was
    // checked is already in the flags, and the scan below ends at once with every
    // report finished (a second Ctrl-C ends the process, e.g. at `-iL -`).
    let signals = Signals::installed();
    // Before any history or report is opened: a missing privilege is a usage error.
    let mut tcp_transport = cfg
        .kind
        .map(|kind| transport(kind, cfg.proxy.as_ref()))
        .transpose()?;
    session.open_history(&cfg);
    for note in &cfg.notes {
        eprintln!("portolan: note: {note}");
    }
    let cancel = signals.cancel.clone();
    let total: u128 = passes(&cfg, &cfg.targets).iter().map(|p| p.1.total()).sum();
    let mut sink = crate::reports::reports(&cfg, total)?;
    let info = run_info(&cfg, command_line);
    sink.start(&info)?;
    let answered = session.attach(&cfg, &info, &mut sink)?;
    let answered = answered.unwrap_or_else(|| {
        let none = portolan_store::Answered::new(cfg.answered_ports());
        match cfg.answered_udp_ports() {
            Some(udp) => none.with_udp(udp),
            None => none,
        }
    });
    let (passes, discovered) = match discover_first(&cfg, &cancel, &mut sink, &session)? {
        First::Scan(passes, discovered) => (passes, discovered),
        First::Done(summary) => return Ok(signals.outcome(summary.complete)),
    };
    let scanner = cfg.engine.clone().cancel_flag(cancel.clone()).build();
    let to_identify = session.take_to_identify();
    let payload_seed = match cfg.order {
        OrderKind::Random { seed } => seed,
        OrderKind::Sequential => 0,
    };
    let mut tally = crate::wildcard::Tally::default();
    let mut all_open = Vec::new();
    let scanned = crate::probe::run(cfg.probe.as_ref(), &mut sink, &cancel, |sink| {
        // `--resume` of a `-sV` scan: the open ports its probing did not finish.
        for r in &to_identify {
            sink.result(r).map_err(EngineError::Sink)?;
        }
        let mut summary: Option<Summary> = None;
        let mut before: u128 = 0;
        let mut passes = passes.into_iter().peekable();
        while let Some((proto, order)) = passes.next() {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let pass_total = order.total();
            let mut transport: Box<dyn Transport> = match proto {
                Protocol::Tcp => match tcp_transport.take() {
                    Some(t) => t,
                    None => Box::new(ConnectTransport::new().map_err(EngineError::Poll)?),
                },
                Protocol::Udp => {
                    let payloads =
                        UdpPayloads::builtin().map_err(|e| EngineError::Sink(Box::new(e)))?;
                    Box::new(
                        UdpTransport::new(move |addr, n| {
                            payloads.scan_datagram(addr, payload_seed ^ n)
                        })
                        .map_err(EngineError::Poll)?,
                    )
                }
            };
            let mut offset = Offset {
                inner: &mut *sink,
                before,
                total,
                tally: &mut tally,
                hosts_done: passes.peek().is_none(),
            };
            // A resumed run skips what each protocol's pass already answered.
            let mut order = crate::resume::Skip::new(order, answered.clone(), proto);
            let pass = run_pass(&scanner, &mut order, transport.as_mut(), &mut offset)?;
            before += pass_total;
            summary = Some(summary.map_or(pass.clone(), |s| add(s, pass)));
        }
        if !cancel.load(Ordering::Relaxed) {
            let capped = summary.as_ref().map_or(&[][..], |s| &s.capped[..]);
            all_open = check_wildcards(&cfg, &scanner, &tally.suspects(capped), payload_seed)?;
        }
        Ok(summary.unwrap_or_default())
    });
    // Whatever happened, every report is closed properly before the error is told.
    let (mut summary, failure) = match scanned {
        Ok(summary) => (session.merge(summary), None),
        Err(e) => (session.merge(Summary::default()), Some(e)),
    };
    sink.confirmed.fill(&mut all_open);
    summary.all_open = all_open;
    let summary = with_discovery(summary, discovered);
    let finished = sink.finish(&summary);
    if let Some(e) = failure {
        return Err(e);
    }
    finished?;
    Ok(signals.outcome(summary.complete))
}

/// The run's summary, host discovery's time and completeness included.
fn with_discovery(mut summary: Summary, d: Option<portolan_engine::HostSummary>) -> Summary {
    if let Some(d) = d {
        summary.elapsed += d.elapsed;
        summary.complete &= d.complete;
    }
    summary
}

/// What host discovery leaves to do.
enum First {
    /// These passes: over every target when discovery did not run, else over the
    /// hosts found up (hosts found down are not port-scanned), with discovery's
    /// summary.
    Scan(
        Vec<(Protocol, ScanOrder)>,
        Option<portolan_engine::HostSummary>,
    ),
    /// `-sn`: the reports are finished with this summary.
    Done(Summary),
}

/// Host discovery, when asked for: `-sn` finishes the reports; an error finishes
/// them too before it is told.
fn discover_first(
    cfg: &ScanRequest,
    cancel: &Arc<AtomicBool>,
    sink: &mut crate::reports::Reports,
    session: &Session,
) -> anyhow::Result<First> {
    let Some(d) = &cfg.discovery else {
        return Ok(First::Scan(passes(cfg, &cfg.targets), None));
    };
    let found = match crate::discover::run(d, &cfg.targets, cancel, sink) {
        Ok(found) => found,
        Err(e) => {
            let _ = sink.finish(&session.merge(Summary::default()));
            return Err(e);
        }
    };
    if !d.only {
        let passes = found
            .targets()
            .map_or_else(Vec::new, |up| passes(cfg, &Arc::new(up)));
        return Ok(First::Scan(passes, Some(found.summary)));
    }
    let summary = Summary {
        elapsed: found.summary.elapsed,
        complete: found.summary.complete,
        ..Summary::default()
    };
    sink.finish(&summary)?;
    Ok(First::Done(summary))
}

/// The wildcard check (see `crate::wildcard`): the canary ports of every host
/// with an implausible share of open ports, probed in one more engine pass whose
/// results are not reported; the hosts whose every canary is open are marked.
fn check_wildcards(
    cfg: &ScanRequest,
    scanner: &Scanner,
    suspects: &[(std::net::IpAddr, u64, u64)],
    seed: u64,
) -> Result<Vec<portolan_engine::AllOpen>, EngineError> {
    let Some(kind) = cfg.kind.filter(|_| !suspects.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut transport = transport(kind, cfg.proxy.as_ref())
        .map_err(|e| EngineError::Sink(e.into_boxed_dyn_error()))?;
    let mut canaries = crate::wildcard::Canaries::new(suspects, seed, &cfg.ports);
    let mut found = Collected(Vec::new());
    scanner.run(&mut canaries, transport.as_mut(), &mut found)?;
    Ok(crate::wildcard::verdicts(suspects, &found.0))
}

/// The canary results, kept out of the reports.
struct Collected(Vec<PortResult>);

impl Sink for Collected {
    fn result(&mut self, r: &PortResult) -> Result<(), SinkError> {
        self.0.push(r.clone());
        Ok(())
    }
}

/// What the reports say about the run.
fn run_info(cfg: &ScanRequest, command_line: String) -> RunInfo {
    RunInfo {
        command_line,
        started: SystemTime::now(),
        // `-sn` scans no port.
        ports: if cfg.discovery.is_some_and(|d| d.only) {
            String::new()
        } else {
            ports_spec(cfg)
        },
        hosts: cfg.targets.hosts(),
        shard: cfg.shard.map(|plan| ShardInfo {
            index: plan.shard.index(),
            count: plan.shard.count(),
            seed: match cfg.order {
                OrderKind::Random { seed } => Some(seed),
                OrderKind::Sequential => None,
            },
            spec: plan.spec.to_string(),
            argv: cfg.record_argv.clone(),
            all_ports: !cfg.open_only,
        }),
    }
}

/// The engine passes of a run over `targets` (the request's, or the hosts found
/// up): TCP (when asked for) with its ports, then UDP with its own, each walked in
/// the run's order.
fn passes(cfg: &ScanRequest, targets: &Arc<TargetSet>) -> Vec<(Protocol, ScanOrder)> {
    let walk = |ports: &Arc<PortList>, proto: Protocol| {
        let order = match cfg.order {
            OrderKind::Random { seed } => ScanOrder::random(targets.clone(), ports.clone(), seed),
            OrderKind::Sequential => ScanOrder::sequential(targets.clone(), ports.clone()),
        };
        let order = match cfg.shard {
            Some(plan) => order.shard(
                u128::from(plan.shard.index() - 1),
                u128::from(plan.shard.count()),
            ),
            None => order,
        };
        order.protocol(proto)
    };
    let mut passes = Vec::new();
    if cfg.kind.is_some() {
        passes.push((Protocol::Tcp, walk(&cfg.ports, Protocol::Tcp)));
    }
    if let Some(udp) = &cfg.udp {
        passes.push((Protocol::Udp, walk(udp, Protocol::Udp)));
    }
    passes
}

/// The port list as the reports name it: plain for TCP, `U:...` for UDP alone,
/// `T:...,U:...` for both (as nmap's XML `scaninfo` wants them).
fn ports_spec(cfg: &ScanRequest) -> String {
    match (cfg.kind, &cfg.udp) {
        (None, Some(udp)) => format!("U:{}", udp.to_spec()),
        (Some(_), Some(udp)) => format!("T:{},U:{}", cfg.ports.to_spec(), udp.to_spec()),
        (_, None) => cfg.ports.to_spec(),
    }
}

fn run_pass(
    scanner: &Scanner,
    order: &mut dyn TargetOrder,
    transport: &mut dyn Transport,
    sink: &mut dyn Sink,
) -> Result<Summary, EngineError> {
    scanner.run(order, transport, sink)
}

/// The summary of two passes of one run.
fn add(mut a: Summary, b: Summary) -> Summary {
    for (k, n) in b.counts {
        *a.counts.entry(k).or_default() += n;
    }
    a.probes_sent += b.probes_sent;
    a.retries += b.retries;
    a.excluded += b.excluded;
    a.elapsed += b.elapsed;
    a.complete &= b.complete;
    a.max_in_flight = a.max_in_flight.max(b.max_in_flight);
    a.icmp_limited.extend(b.icmp_limited);
    a.capped.extend(b.capped);
    a
}

/// A pass's progress as part of the whole run: the pairs of earlier passes are
/// done, and the total is every pass's. Only the last pass says when hosts are
/// done: a host of `-sT -sU` has UDP results still to come after its TCP group.
struct Offset<'a> {
    inner: &'a mut dyn Sink,
    before: u128,
    total: u128,
    /// Open and answered ports per host, for the wildcard check.
    tally: &'a mut crate::wildcard::Tally,
    hosts_done: bool,
}

impl Sink for Offset<'_> {
    fn result(&mut self, r: &PortResult) -> Result<(), SinkError> {
        self.tally.count(r);
        self.inner.result(r)
    }

    fn progress(&mut self, p: &Progress) -> Result<(), SinkError> {
        let mut p = *p;
        p.done += self.before;
        p.total = self.total;
        self.inner.progress(&p)
    }

    fn hosts_done(&mut self, hosts: &[HostKey]) -> Result<(), SinkError> {
        if self.hosts_done {
            // Hosts with an open port may get a mark at the end (all-open,
            // capped): they stay with the reports until then.
            let clear = self.tally.settle(hosts);
            if !clear.is_empty() {
                self.inner.hosts_done(&clear)?;
            }
        }
        Ok(())
    }
}
