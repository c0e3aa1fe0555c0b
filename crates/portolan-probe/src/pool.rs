//! [`Prober`]: probes open ports on a tokio runtime of its own thread, so a
//! synchronous caller (the scan engine's sink) can hand ports over as they are found
//! and collect the identified results later, without blocking the scan.
//!
//! At most [`Settings::concurrency`] ports are probed at once; every submitted
//! result comes back exactly once, with `service` filled in.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use portolan_engine::PortResult;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::db::Database;
use crate::error::ProbeError;
use crate::plan::Settings;
use crate::runner::identify;

/// A running probe stage.
pub struct Prober {
    input: Option<tokio::sync::mpsc::UnboundedSender<PortResult>>,
    output: mpsc::Receiver<PortResult>,
    thread: Option<JoinHandle<()>>,
    pending: usize,
}

impl Prober {
    /// Starts the runtime thread.
    pub fn start(db: Arc<Database>, settings: Settings) -> Result<Self, ProbeError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ProbeError::Runtime)?;
        let (in_tx, in_rx) = tokio::sync::mpsc::unbounded_channel();
        let (out_tx, out_rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("portolan-probe".into())
            .spawn(move || runtime.block_on(serve(db, settings, in_rx, out_tx)))
            .map_err(ProbeError::Runtime)?;
        Ok(Prober {
            input: Some(in_tx),
            output: out_rx,
            thread: Some(thread),
            pending: 0,
        })
    }

    /// Hands over an open port to identify.
    pub fn submit(&mut self, result: PortResult) {
        if let Some(input) = &self.input {
            if input.send(result).is_ok() {
                self.pending += 1;
            }
        }
    }

    /// Results identified so far, without waiting.
    pub fn ready(&mut self) -> Vec<PortResult> {
        let done: Vec<PortResult> = self.output.try_iter().collect();
        self.pending -= done.len();
        done
    }

    /// Ports submitted and not yet returned.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Waits for the next identified result; `None` once every submitted one is back.
    pub fn next_blocking(&mut self) -> Option<PortResult> {
        self.input = None;
        if self.pending == 0 {
            return None;
        }
        let r = self.output.recv().ok()?;
        self.pending -= 1;
        Some(r)
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        self.input = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    db: Arc<Database>,
    settings: Settings,
    mut input: tokio::sync::mpsc::UnboundedReceiver<PortResult>,
    output: mpsc::Sender<PortResult>,
) {
    let settings = Arc::new(settings);
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    while let Some(mut result) = input.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (db, settings, output) = (db.clone(), settings.clone(), output.clone());
        tasks.spawn(async move {
            let service = identify(&db, &result.endpoint, result.rtt, &settings).await;
            result.service = Some(Box::new(service));
            let _ = output.send(result);
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}
