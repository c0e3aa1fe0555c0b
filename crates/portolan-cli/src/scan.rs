//! `portolan scan`: build the configuration, wire the reports to the engine, run.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use portolan_engine::scheduler::SinkError;
use portolan_engine::{ConnectTransport, PortResult, Progress, Sink, Summary};
use portolan_output::{Colour, Report, RunInfo, TableReport};
use portolan_target::ScanOrder;

use crate::args::ScanArgs;
use crate::config::{self, OrderKind, ScanConfig};
use crate::exit::Outcome;
use crate::progress::Bar;

/// Feeds every report, and the progress bar, from the engine.
pub struct Reports {
    pub outputs: Vec<Box<dyn Report>>,
    pub bar: Option<Bar>,
    /// Print each progress snapshot on stderr (`--debug-timeline`).
    pub timeline: bool,
}

impl Sink for Reports {
    fn result(&mut self, r: &PortResult) -> Result<(), SinkError> {
        for report in &mut self.outputs {
            report.result(r)?;
        }
        Ok(())
    }

    fn progress(&mut self, p: &Progress) -> Result<(), SinkError> {
        if let Some(bar) = &self.bar {
            bar.update(p);
        }
        if self.timeline {
            eprintln!("{p:?}");
        }
        for report in &mut self.outputs {
            report.flush()?;
        }
        Ok(())
    }
}

impl Reports {
    pub fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        self.outputs.iter_mut().try_for_each(|r| r.start(info))
    }

    /// Finishes every report, even when one of them fails (a closed stdout must
    /// not leave an XML file without its end), and returns the first error.
    pub fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        let mut first = Ok(());
        for report in &mut self.outputs {
            if let Err(e) = report.finish(summary) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// Wraps a report whose failure must not stop the scan (the history): the first
/// error is said once on stderr, and the report is dropped from then on.
pub struct BestEffort {
    inner: Option<Box<dyn Report>>,
    what: &'static str,
}

impl BestEffort {
    pub fn new(inner: Box<dyn Report>, what: &'static str) -> Self {
        BestEffort {
            inner: Some(inner),
            what,
        }
    }

    fn call(&mut self, f: impl FnOnce(&mut dyn Report) -> io::Result<()>) {
        if let Some(inner) = self.inner.as_deref_mut() {
            if let Err(e) = f(inner) {
                eprintln!("portolan: warning: {} stopped: {e}", self.what);
                self.inner = None;
            }
        }
    }
}

impl Report for BestEffort {
    fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        self.call(|r| r.start(info));
        Ok(())
    }
    fn result(&mut self, result: &PortResult) -> io::Result<()> {
        self.call(|r| r.result(result));
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.call(|r| r.flush());
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.call(|r| r.finish(summary));
        Ok(())
    }
}

/// The command line as typed, for reports and the history (lossy for arguments
/// that are not UTF-8).
pub fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Opens `path` for writing, `-` meaning stdout.
pub fn writer(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufWriter::new(io::stdout())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(BufWriter::new(file)))
}

/// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn colour() -> Colour {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if io::stdout().is_terminal() && !no_color {
        Colour::Always
    } else {
        Colour::Never
    }
}

/// The reports a configuration asks for: the table on stdout unless another
/// format took stdout, plus each file format.
pub fn reports(cfg: &ScanConfig, total: u128) -> anyhow::Result<Reports> {
    let mut reports: Vec<Box<dyn Report>> = Vec::new();
    let files = cfg.output.files(cfg.ndjson.as_deref());
    if !crate::formats::takes_stdout(&files) {
        reports.push(Box::new(TableReport::new(
            BufWriter::new(io::stdout()),
            colour(),
            cfg.open_only,
        )));
    }
    crate::formats::push(&files, cfg.open_only, &mut reports)?;
    let bar = (cfg.progress && io::stderr().is_terminal()).then(|| Bar::new(total));
    Ok(Reports {
        outputs: reports,
        bar,
        timeline: cfg.timeline,
    })
}

pub fn run(args: &ScanArgs) -> anyhow::Result<Outcome> {
    let file_limit = portolan_engine::sys::raise_file_limit();
    let mut session = crate::resume::Session::open(args)?;
    let cfg = config::build(session.args(), file_limit)?;
    for note in &cfg.notes {
        eprintln!("portolan: note: {note}");
    }
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, cancel.clone())
            .context("cannot install signal handler")?;
    }
    let order = match cfg.order {
        OrderKind::Random { seed } => {
            ScanOrder::random(cfg.targets.clone(), cfg.ports.clone(), seed)
        }
        OrderKind::Sequential => ScanOrder::sequential(cfg.targets.clone(), cfg.ports.clone()),
    };
    let mut sink = reports(&cfg, order.total())?;
    let info = RunInfo {
        command_line: command_line(),
        started: SystemTime::now(),
        ports: cfg.ports.to_spec(),
        hosts: cfg.targets.hosts(),
    };
    sink.start(&info)?;
    let answered = session.attach(&cfg, &info, &mut sink)?;
    let answered = answered.unwrap_or_else(|| portolan_store::Answered::new(cfg.ports.clone()));
    let mut order = crate::resume::Skip::new(order, answered);
    let mut transport = ConnectTransport::new().context("cannot create the event poller")?;
    let scanner = cfg.engine.clone().cancel_flag(cancel.clone()).build();
    let scanned = crate::probe::run(cfg.probe.as_ref(), &mut sink, &cancel, |sink| {
        scanner.run(&mut order, &mut transport, sink)
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
        Outcome::Interrupted
    })
}
