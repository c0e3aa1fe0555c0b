//! Printers for scan results.
//!
//! Every format implements [`Report`] and writes to a `Write` it was given, so the
//! same code prints to a terminal, a file or a test buffer. A report hears about the
//! run once at the start ([`RunInfo`]), each result as the engine decides it, and the
//! [`Summary`] at the end; streaming formats write as they go, the table collects
//! what it needs (open ports, and closed or filtered ones only while they are few)
//! and prints at the end. The host-by-host formats (XML, grepable, the JSON
//! document) gather results in [`hosts::Hosts`] with the same bound; CSV and NDJSON
//! stream. `docs/formats.md` describes each format.

pub mod clock;
pub mod csv;
#[cfg(test)]
mod fixture;
pub mod grepable;
pub mod hosts;
pub mod json;
pub mod ndjson;
pub mod table;
pub mod text;
#[cfg(test)]
mod tools;
pub mod wire;
pub mod xml;

use std::io;
use std::time::SystemTime;

use portolan_engine::{PortResult, Summary};

pub use csv::CsvReport;
pub use grepable::GrepableReport;
pub use json::JsonReport;
pub use ndjson::NdjsonReport;
pub use table::{Colour, TableReport};
pub use xml::XmlReport;

/// What a report may want to say about the run as a whole.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The command line as typed.
    pub command_line: String,
    pub started: SystemTime,
    /// The port list in compact form (`1-1024,8080`).
    pub ports: String,
    pub hosts: u128,
}

/// A destination for results in one format.
pub trait Report {
    fn start(&mut self, _info: &RunInfo) -> io::Result<()> {
        Ok(())
    }
    fn result(&mut self, result: &PortResult) -> io::Result<()>;
    /// Writes anything buffered so that a reader sees results promptly.
    fn flush(&mut self) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}
