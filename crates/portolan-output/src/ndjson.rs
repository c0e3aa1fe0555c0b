//! NDJSON: one JSON object per port result, one per line, written as results arrive.
//!
//! Each line is the result model's serde form (`portolan_model::PortResult`), written
//! by [`crate::wire`] like every JSON format:
//! `{"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"syn-ack","rtt_ms":0.41,"tries":1}`
//! plus `"hostname"` when the target was a name. JSON string escaping covers every
//! control character, and C1 and bidi characters are escaped too (see `wire`).

use std::io::{self, Write};

use crate::wire;
use crate::Report;
use portolan_engine::{PortResult, PortState, Summary};

/// Writes NDJSON to `W`.
pub struct NdjsonReport<W: Write> {
    out: W,
    open_only: bool,
}

impl<W: Write> NdjsonReport<W> {
    /// `open_only` keeps only open ports (`--open`).
    pub fn new(out: W, open_only: bool) -> Self {
        NdjsonReport { out, open_only }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> Report for NdjsonReport<W> {
    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        if self.open_only && r.state != PortState::Open {
            return Ok(());
        }
        wire::to_writer(&mut self.out, r)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
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
}
