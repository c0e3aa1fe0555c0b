//! `scan -sV`: the service-probe stage between the engine and the reports.
//!
//! [`Stage`] is a [`Sink`] wrapped around the reports. Results that are not open pass
//! straight through. Open ones are handed to a [`Prober`] (a tokio runtime on its own
//! thread, a few hundred ports at a time) and come back with `service` filled in;
//! they are passed on at the next result or progress call, and the rest are waited
//! for when the scan ends ([`Stage::drain`]), before the reports finish. Every port
//! reaches the reports exactly once: after Ctrl-C (the scan's cancel flag) the ports
//! still queued or being probed reach them without a `service`, at once.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use portolan_engine::SinkError;
use portolan_engine::{EngineError, PortResult, PortState, Progress, Sink, Summary};
use portolan_probe::{Database, Prober, Settings};
use portolan_target::HostKey;

/// What `-sV` needs: the database and the settings.
pub struct ProbeConfig {
    pub db: Arc<Database>,
    pub settings: Settings,
}

/// Runs `scan` with the probe stage in front of `sink` when `cfg` asks for it;
/// `cancel` is the scan's cancel flag, which also ends the probing.
pub fn run<F>(
    cfg: Option<&ProbeConfig>,
    sink: &mut dyn Sink,
    cancel: &Arc<AtomicBool>,
    scan: F,
) -> anyhow::Result<Summary>
where
    F: FnOnce(&mut dyn Sink) -> Result<Summary, EngineError>,
{
    let Some(cfg) = cfg else {
        return Ok(scan(sink)?);
    };
    let prober = Prober::start(cfg.db.clone(), cfg.settings.clone(), cancel.clone())?;
    let mut stage = Stage {
        inner: sink,
        prober,
        done: Vec::new(),
    };
    let started = std::time::Instant::now();
    let mut summary = scan(&mut stage)?;
    // As the engine does, so that a closed stdout stays findable in the chain.
    stage.drain().map_err(EngineError::Sink)?;
    // The run took as long as its last probe, not only its port scan.
    summary.elapsed = summary.elapsed.max(started.elapsed());
    // Interrupted while the last ports were being probed: every port is reported,
    // but some without the service they asked for.
    if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        summary.complete = false;
    }
    Ok(summary)
}

/// The sink that sends open ports through the prober.
///
/// A host group the engine has decided is passed on as done only once nothing is
/// being probed: its open ports may still be in the prober, and the reports must
/// have every result of a host before they write it.
pub struct Stage<'a> {
    inner: &'a mut dyn Sink,
    prober: Prober,
    /// Host groups decided by the engine, waiting for the prober to be idle.
    done: Vec<Vec<HostKey>>,
}

impl Stage<'_> {
    fn deliver(&mut self) -> Result<(), SinkError> {
        for r in self.prober.ready() {
            self.inner.result(&r)?;
        }
        if self.prober.pending() == 0 {
            self.pass_done()?;
        }
        Ok(())
    }

    fn pass_done(&mut self) -> Result<(), SinkError> {
        for hosts in std::mem::take(&mut self.done) {
            self.inner.hosts_done(&hosts)?;
        }
        Ok(())
    }

    /// Waits for every port still being probed and passes it on.
    pub fn drain(mut self) -> Result<(), SinkError> {
        while let Some(r) = self.prober.next_blocking() {
            self.inner.result(&r)?;
        }
        self.pass_done()
    }
}

impl Sink for Stage<'_> {
    fn result(&mut self, r: &PortResult) -> Result<(), SinkError> {
        if r.state == PortState::Open {
            self.prober.submit(r.clone());
        } else {
            self.inner.result(r)?;
        }
        self.deliver()
    }

    fn progress(&mut self, p: &Progress) -> Result<(), SinkError> {
        self.deliver()?;
        self.inner.progress(p)
    }

    fn hosts_done(&mut self, hosts: &[HostKey]) -> Result<(), SinkError> {
        self.done.push(hosts.to_vec());
        self.deliver()
    }
}
