//! The reports of a scan: every output, the history recorder and the progress bar
//! behind one [`Sink`], and the writers they write to.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use portolan_engine::SinkError;
use portolan_engine::{PortResult, Progress, Sink, Summary};
use portolan_output::{Colour, Report, RunInfo, TableReport};
use portolan_target::HostKey;

use crate::progress::Bar;
use crate::request::ScanRequest;

/// Feeds every report, and the progress bar, from the engine.
///
/// A report that fails to write (a full disk, a closed pipe) is dropped and its
/// error kept: the scan goes on for the others, so one full disk costs one file,
/// and [`Reports::finish`] gives the error (exit 1, naming the file) once every
/// other report is finished. Only when no report is left does the scan stop.
pub struct Reports {
    pub outputs: Vec<Box<dyn Report>>,
    pub bar: Option<Bar>,
    /// Print each progress snapshot on stderr (`--debug-timeline`).
    pub timeline: bool,
    /// The first write error of a dropped report.
    pub failed: Option<io::Error>,
    /// The services `-sV` confirmed, for the all-open marks (`crate::wildcard`).
    pub confirmed: crate::wildcard::Confirmed,
}

/// What a failed report becomes: it takes nothing more.
struct Dropped;

impl Report for Dropped {
    fn result(&mut self, _: &PortResult) -> io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        Ok(())
    }
    fn essential(&self) -> bool {
        false
    }
}

impl Reports {
    /// Calls `f` on every live report; drops the ones that fail. An error only
    /// when every report has failed (nothing is left to scan for; the history
    /// recorder never fails, see [`BestEffort`], and does not count).
    fn each(
        &mut self,
        mut f: impl FnMut(&mut dyn Report) -> io::Result<()>,
    ) -> Result<(), SinkError> {
        let mut live = 0;
        for report in &mut self.outputs {
            match f(report.as_mut()) {
                Ok(()) => live += usize::from(report.essential()),
                Err(e) => {
                    *report = Box::new(Dropped);
                    if self.failed.is_none() {
                        self.failed = Some(e);
                    }
                }
            }
        }
        match &self.failed {
            Some(e) if live == 0 => Err(io::Error::new(e.kind(), e.to_string()).into()),
            _ => Ok(()),
        }
    }
}

impl Sink for Reports {
    fn result(&mut self, r: &PortResult) -> Result<(), SinkError> {
        self.confirmed.count(r);
        self.each(|report| report.result(r))
    }

    fn progress(&mut self, p: &Progress) -> Result<(), SinkError> {
        if let Some(bar) = &self.bar {
            bar.update(p);
        }
        if self.timeline {
            eprintln!("{p:?}");
        }
        self.each(|report| report.flush())
    }

    fn hosts_done(&mut self, hosts: &[HostKey]) -> Result<(), SinkError> {
        self.each(|report| report.hosts_done(hosts))
    }
}

impl Reports {
    /// A host's discovery result, to every report.
    pub fn host(&mut self, h: &portolan_engine::HostResult) -> Result<(), SinkError> {
        self.each(|report| report.host(h))
    }

    pub fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        self.outputs.iter_mut().try_for_each(|r| r.start(info))
    }

    /// Finishes every report, even when one of them fails (a closed stdout must
    /// not leave an XML file without its end), and returns the first error.
    pub fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
        let mut first = self.failed.take().map_or(Ok(()), Err);
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
    fn replayed(&mut self, result: &PortResult) -> io::Result<()> {
        self.call(|r| r.replayed(result));
        Ok(())
    }
    fn host(&mut self, host: &portolan_engine::HostResult) -> io::Result<()> {
        self.call(|r| r.host(host));
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.call(|r| r.flush());
        Ok(())
    }
    fn hosts_done(&mut self, hosts: &[HostKey]) -> io::Result<()> {
        self.call(|r| r.hosts_done(hosts));
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.call(|r| r.finish(summary));
        Ok(())
    }
    fn essential(&self) -> bool {
        false
    }
}

/// Opens `path` for writing, `-` meaning stdout. Every later write error names
/// the file (`-oX /dev/full` fails at the first flush, far from here).
pub fn writer(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(BufWriter::new(io::stdout())));
    }
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(Box::new(Named {
        inner: BufWriter::new(file),
        path: path.to_owned(),
    }))
}

/// A file writer whose errors say which file failed.
struct Named<W> {
    inner: W,
    path: PathBuf,
}

impl<W> Named<W> {
    fn name(&self, e: &io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.path.display()))
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.name(&e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| self.name(&e))
    }
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
pub fn reports(cfg: &ScanRequest, total: u128) -> anyhow::Result<Reports> {
    let mut reports: Vec<Box<dyn Report>> = Vec::new();
    // First, so that its commands have finished before the reports end.
    if let Some(on_open) = &cfg.on_open {
        reports.push(Box::new(crate::on_open::OnOpen::start(on_open)));
    }
    if !cfg.outputs.iter().any(|o| o.path == Path::new("-")) {
        reports.push(Box::new(TableReport::new(
            BufWriter::new(io::stdout()),
            colour(),
            cfg.open_only,
        )));
    }
    for out in &cfg.outputs {
        reports.push(crate::formats::report(
            out.format,
            writer(&out.path)?,
            cfg.open_only,
        ));
    }
    let bar = (cfg.progress && io::stderr().is_terminal()).then(|| Bar::new(total));
    Ok(Reports {
        outputs: reports,
        bar,
        timeline: cfg.timeline,
        failed: None,
        confirmed: crate::wildcard::Confirmed::default(),
    })
}
