//! `portolan scan`: check the request, open the history and the reports, run the
//! engine, finish every report whatever happened.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use portolan_engine::{ConnectTransport, Summary, Transport};
use portolan_output::{RunInfo, ShardInfo};
use portolan_target::ScanOrder;

use crate::exit::{Outcome, Signal};
use crate::request::{self, OrderKind, Typed};
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

    fn which(&self) -> Signal {
        if self.terminated.load(Ordering::Relaxed) {
            Signal::Terminate
        } else {
            Signal::Interrupt
        }
    }
}

/// The connect transport, or the raw SYN one (`-sS`).
fn transport(kind: ScanKind) -> anyhow::Result<Box<dyn Transport>> {
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
    let mut transport = transport(cfg.kind)?;
    session.open_history(&cfg)?;
    for note in &cfg.notes {
        eprintln!("portolan: note: {note}");
    }
    let cancel = signals.cancel.clone();
    let order = match cfg.order {
        OrderKind::Random { seed } => {
            ScanOrder::random(cfg.targets.clone(), cfg.ports.clone(), seed)
        }
        OrderKind::Sequential => ScanOrder::sequential(cfg.targets.clone(), cfg.ports.clone()),
    };
    let order = match cfg.shard {
        Some(plan) => order.shard(
            u128::from(plan.shard.index() - 1),
            u128::from(plan.shard.count()),
        ),
        None => order,
    };
    let mut sink = crate::reports::reports(&cfg, order.total())?;
    let info = RunInfo {
        command_line,
        started: SystemTime::now(),
        ports: cfg.ports.to_spec(),
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
    };
    sink.start(&info)?;
    let answered = session.attach(&cfg, &info, &mut sink)?;
    let answered = answered.unwrap_or_else(|| portolan_store::Answered::new(cfg.ports.clone()));
    let mut order = crate::resume::Skip::new(order, answered);
    let scanner = cfg.engine.clone().cancel_flag(cancel.clone()).build();
    let to_identify = session.take_to_identify();
    let scanned = crate::probe::run(cfg.probe.as_ref(), &mut sink, &cancel, |sink| {
        // `--resume` of a `-sV` scan: the open ports its probing did not finish.
        for r in &to_identify {
            sink.result(r).map_err(portolan_engine::EngineError::Sink)?;
        }
        scanner.run(&mut order, transport.as_mut(), sink)
    });
    // Whatever happened, every report is closed properly before the error is told.
    let (summary, failure) = match scanned {
        Ok(summary) => (session.merge(summary), None),
        Err(e) => (session.merge(Summary::default()), Some(e)),
    };
    let finished = sink.finish(&summary);
    if let Some(e) = failure {
        return Err(e);
    }
    finished?;
    Ok(if summary.complete {
        Outcome::Done
    } else {
        Outcome::Stopped(signals.which())
    })
}
