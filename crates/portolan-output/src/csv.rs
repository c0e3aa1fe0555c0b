//! CSV (`--csv`): a header, then one row per port, written as results arrive.
//!
//! Columns: `addr,hostname,port,proto,state,reason,rtt_ms,tries,service,product,
//! version,info,method,confidence,banner`. Cells are quoted when they hold a comma,
//! a quote or a line break (RFC 4180). Text from outside is escaped for terminals
//! (`\x1b`) and, so that a spreadsheet never runs it as a formula, a cell starting
//! with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
//!
//! Host discovery (`-sn`, `--discover`) adds one row per host with empty `port`
//! and `proto`, the host's state (`up`, `down`) in `state` and its reason.

use std::io::{self, Write};

use portolan_engine::{HostResult, PortResult, PortState, Summary};

use crate::text::clean;
use crate::Report;

const HEADER: &str =
    "addr,hostname,port,proto,state,reason,rtt_ms,tries,service,product,version,info,method,confidence,banner\n";

/// Writes CSV to `W`.
pub struct CsvReport<W: Write> {
    out: W,
    open_only: bool,
    header: bool,
}

impl<W: Write> CsvReport<W> {
    /// A CSV report written to `out`; `open_only` is `--open`.
    pub fn new(out: W, open_only: bool) -> Self {
        CsvReport {
            out,
            open_only,
            header: false,
        }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header {
            self.header = true;
            self.out.write_all(HEADER.as_bytes())?;
        }
        Ok(())
    }
}

/// One cell: escaped, neutralised and quoted as needed.
pub fn cell(text: &str) -> String {
    let mut s = clean(text);
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn row(r: &PortResult) -> String {
    let svc = r.service.as_deref();
    let text = |v: Option<&str>| v.map(cell).unwrap_or_default();
    let banner = svc
        .and_then(|s| s.banner.as_deref())
        .map(portolan_text::escape_terminal);
    let cells = [
        r.endpoint.addr.to_string(),
        text(r.endpoint.name.as_deref()),
        r.endpoint.port.to_string(),
        r.endpoint.proto.as_str().to_owned(),
        r.state.as_str().to_owned(),
        r.reason.as_str().to_owned(),
        r.rtt_ms().map(|v| v.to_string()).unwrap_or_default(),
        r.tries.to_string(),
        text(svc.map(|s| s.name.as_str())),
        text(svc.and_then(|s| s.product.as_deref())),
        text(svc.and_then(|s| s.version.as_deref())),
        text(svc.and_then(|s| s.info.as_deref())),
        svc.map(|s| s.method.as_str().to_owned())
            .unwrap_or_default(),
        svc.map(|s| s.confidence.to_string()).unwrap_or_default(),
        text(banner.as_deref()),
    ];
    let mut out = cells.join(",");
    out.push('\n');
    out
}

fn host_row(h: &HostResult) -> String {
    let name = h.name.as_deref().map(cell).unwrap_or_default();
    let rtt = h
        .rtt
        .map(|d| ((d.as_secs_f64() * 1e6).round() / 1e3).to_string())
        .unwrap_or_default();
    format!(
        "{},{name},,,{},{},{rtt},{},,,,,,,\n",
        h.addr, h.state, h.reason, h.tries
    )
}

impl<W: Write> Report for CsvReport<W> {
    fn host(&mut self, h: &HostResult) -> io::Result<()> {
        self.header()?;
        if self.open_only && !h.is_up() {
            return Ok(());
        }
        self.out.write_all(host_row(h).as_bytes())
    }

    fn start(&mut self, _info: &crate::RunInfo) -> io::Result<()> {
        self.header()
    }

    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        self.header()?;
        if self.open_only && r.state != PortState::Open {
            return Ok(());
        }
        self.out.write_all(row(r).as_bytes())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.header()?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn neutralises_formulas_and_quotes() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("-cmd"), "'-cmd");
        assert_eq!(cell("@x"), "'@x");
        assert_eq!(cell("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(cell("ok"), "ok");
    }

    #[test]
    fn snapshot() {
        let text = fixture::render(CsvReport::new(Vec::new(), true), CsvReport::into_inner);
        insta::assert_snapshot!(text);
    }

    #[test]
    fn one_row_per_port() {
        let text = fixture::render(CsvReport::new(Vec::new(), false), CsvReport::into_inner);
        assert_eq!(text.lines().count(), 1 + fixture::results().len());
    }
}
