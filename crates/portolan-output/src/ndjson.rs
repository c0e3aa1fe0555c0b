//! NDJSON: one JSON object per port result, one per line, written as results arrive.
//!
//! Each line is the result model's serde form (`portolan_model::PortResult`), written
//! by [`crate::wire`] like every JSON format:
//! `{"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"syn-ack","rtt_ms":0.41,"tries":1}`
//! plus `"hostname"` when the target was a name. JSON string escaping covers every
//! control character, and C1 and bidi characters are escaped too (see `wire`).
//!
//! A shard (`--shard I/N`) adds a first line `{"shard":{...}}` ([`crate::ShardInfo`])
//! and, when the run ends (complete or interrupted), a last line
//! `{"shard_end":{"index","count","spec","complete"}}`: a file without it was cut
//! short by a kill. After the port lines (before any `shard_end`) come the host
//! lines (`{"host":{...}}`, see `marks`) and, when an ICMP rate limit set the pace of
//! a UDP scan, `{"icmp_limited":[{"addr","period_ms"}]}`, the verdict the table's
//! summary words.
//!
//! Host discovery (`-sn`, `--discover`) writes one line per host, before its ports:
//! `{"addr":"198.18.0.1","host_state":"up","reason":"echo-reply","rtt_ms":0.2,"tries":1}`
//! (`portolan_model::HostResult`); a reader tells it from a port line by
//! `host_state` (and the absence of `port`). `--open` keeps only hosts that are up.

use std::io::{self, Write};

use crate::wire;
use crate::Report;
use portolan_engine::{HostResult, PortResult, PortState, Summary};

/// Writes NDJSON to `W`.
pub struct NdjsonReport<W: Write> {
    out: W,
    open_only: bool,
    shard: Option<crate::ShardInfo>,
}

impl<W: Write> NdjsonReport<W> {
    /// `open_only` keeps only open ports (`--open`).
    pub fn new(out: W, open_only: bool) -> Self {
        NdjsonReport {
            out,
            open_only,
            shard: None,
        }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The first line of a shard's NDJSON.
#[derive(serde::Serialize)]
struct Header<'a> {
    shard: &'a crate::ShardInfo,
}

/// A line about a host (`all-open`, `not-scanned`), after the port lines.
#[derive(serde::Serialize)]
struct HostLine {
    host: crate::marks::HostMark,
}

/// The line saying which hosts' ICMP rate limit shaped the scan.
#[derive(serde::Serialize)]
struct Limited {
    icmp_limited: Vec<crate::IcmpLimited>,
}

/// The last line of a shard's NDJSON: its absence means the shard was killed.
#[derive(serde::Serialize)]
struct Trailer<'a> {
    shard_end: End<'a>,
}

#[derive(serde::Serialize)]
struct End<'a> {
    index: u64,
    count: u64,
    spec: &'a str,
    complete: bool,
}

impl<W: Write> Report for NdjsonReport<W> {
    fn start(&mut self, info: &crate::RunInfo) -> io::Result<()> {
        if let Some(shard) = &info.shard {
            wire::to_writer(&mut self.out, &Header { shard })?;
            self.out.write_all(b"\n")?;
            self.shard = Some(shard.clone());
        }
        Ok(())
    }

    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        if self.open_only && r.state != PortState::Open {
            return Ok(());
        }
        wire::to_writer(&mut self.out, r)?;
        self.out.write_all(b"\n")
    }

    fn host(&mut self, h: &HostResult) -> io::Result<()> {
        if self.open_only && !h.is_up() {
            return Ok(());
        }
        wire::to_writer(&mut self.out, h)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        // Hosts that answer every port, and hosts stopped by --max-open-per-host:
        // one line each, after their ports.
        for host in crate::marks::HostMark::all(summary) {
            wire::to_writer(&mut self.out, &HostLine { host })?;
            self.out.write_all(b"\n")?;
        }
        if !summary.icmp_limited.is_empty() {
            let line = Limited {
                icmp_limited: crate::icmp_limited(summary),
            };
            wire::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        if let Some(shard) = &self.shard {
            let end = End {
                index: shard.index,
                count: shard.count,
                spec: &shard.spec,
                complete: summary.complete,
            };
            wire::to_writer(&mut self.out, &Trailer { shard_end: end })?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::{Endpoint, Protocol, Reason};
    use std::time::Duration;

    fn result(port: u16, reason: Reason, name: Option<&str>) -> PortResult {
        let endpoint = Endpoint {
            addr: "198.18.0.1".parse().unwrap(),
            port,
            name: name.map(Into::into),
            proto: Protocol::Tcp,
        };
        let rtt = (reason != Reason::NoResponse).then_some(Duration::from_micros(410));
        PortResult::new(endpoint, reason, rtt, 1)
    }

    #[test]
    fn one_line_per_result_with_stable_fields() {
        let mut r = NdjsonReport::new(Vec::new(), false);
        r.result(&result(22, Reason::SynAck, None)).unwrap();
        r.result(&result(
            1000,
            Reason::NoResponse,
            Some("lab\u{1b}[31m.test"),
        ))
        .unwrap();
        let text = String::from_utf8(r.into_inner()).unwrap();
        insta::assert_snapshot!(text, @r#"
        {"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"syn-ack","rtt_ms":0.41,"tries":1}
        {"addr":"198.18.0.1","hostname":"lab\u001b[31m.test","port":1000,"proto":"tcp","state":"filtered","reason":"no-response","tries":1}
        "#);
    }

    #[test]
    fn open_only_drops_the_rest() {
        let mut r = NdjsonReport::new(Vec::new(), true);
        r.result(&result(22, Reason::SynAck, None)).unwrap();
        r.result(&result(23, Reason::ConnRefused, None)).unwrap();
        assert_eq!(
            String::from_utf8(r.into_inner()).unwrap().lines().count(),
            1
        );
    }

    #[test]
    fn the_icmp_rate_limit_verdict_is_a_line_of_its_own() {
        let text = crate::fixture::render_limited(
            NdjsonReport::new(Vec::new(), false),
            NdjsonReport::into_inner,
        );
        assert_eq!(
            text.lines().last().unwrap(),
            r#"{"icmp_limited":[{"addr":"198.18.0.1","period_ms":1000},{"addr":"2001:db8::1","period_ms":250}]}"#
        );
        let plain = crate::fixture::render(
            NdjsonReport::new(Vec::new(), false),
            NdjsonReport::into_inner,
        );
        assert!(
            !plain.contains("icmp_limited"),
            "said only when it happened"
        );
    }
}
