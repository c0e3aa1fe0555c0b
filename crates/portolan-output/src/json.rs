//! The JSON document (`-oJ`): the run, each host with its ports, the groups not
//! listed, and the summary, in one object. Its schema is `docs/schema/scan-v1.json`
//! (JSON Schema 2020-12), versioned by the `version` field: fields may be added
//! within a version, never renamed or removed.
//!
//! Port objects are results in the model's serde form (`portolan_model::PortResult`),
//! the same as NDJSON lines, and the writer is [`crate::wire::to_writer`], which
//! escapes C0, C1 and bidi characters.
//! The head is written when the scan starts and the hosts when it ends; a cancelled
//! scan still gets a complete, valid document, with `"complete": false`.
//!
//! Host discovery (`-sn`, `--discover`) gives each host a `status` (`state`,
//! `reason`, `rtt_ms`, `tries`), lists down hosts too, and adds `hosts_up` and
//! `hosts_down` to the summary.

use std::io::{self, Write};

use portolan_engine::{HostResult, PortResult, Summary};
use serde::Serialize;

use crate::clock::Utc;
use crate::hosts::{HostKey, HostView, Hosts};
use crate::wire;
use crate::{Report, RunInfo};

/// The `format` field's value.
pub const FORMAT: &str = "portolan-scan";
/// The schema version this code writes.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Head<'a> {
    format: &'static str,
    version: u32,
    run: Run<'a>,
}

#[derive(Serialize)]
struct Run<'a> {
    scanner: &'static str,
    scanner_version: &'static str,
    command_line: &'a str,
    started: String,
    ports: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a crate::ShardInfo>,
    hosts: u128,
}

#[derive(Serialize)]
struct HostLine<'a> {
    addr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    ports: &'a [std::borrow::Cow<'a, PortResult>],
    not_shown: Vec<Count>,
    /// `all-open` and `not-scanned`, when the host has them.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    mark: Option<crate::marks::HostMark>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
}

/// A host's discovery result, without its address (the host line has it).
#[derive(Serialize)]
struct Status {
    state: &'static str,
    reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rtt_ms: Option<f64>,
    tries: u8,
}

#[derive(Serialize)]
#[expect(
    clippy::struct_field_names,
    reason = "`count` is the schema's field name"
)]
struct Count {
    state: &'static str,
    reason: &'static str,
    count: u64,
}

#[derive(Serialize)]
struct SummaryLine {
    complete: bool,
    ended: String,
    elapsed_s: f64,
    hosts_listed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts_up: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts_down: Option<u64>,
    probes_sent: u64,
    /// Probes sent per second of the run, to one decimal.
    #[serde(skip_serializing_if = "Option::is_none")]
    probes_per_s: Option<f64>,
    retries: u64,
    excluded: u64,
    counts: Vec<Count>,
    /// Hosts whose ICMP rate limit shaped a UDP scan (empty when none did).
    icmp_limited: Vec<crate::IcmpLimited>,
}

/// Writes the JSON document to `W`.
pub struct JsonReport<W: Write> {
    out: W,
    hosts: Hosts,
    /// Hosts written so far.
    listed: usize,
    info: Option<RunInfo>,
}

impl<W: Write> JsonReport<W> {
    /// A JSON document written to `out` at the end; `open_only` is `--open`.
    pub fn new(out: W, open_only: bool) -> Self {
        JsonReport {
            out,
            hosts: Hosts::new(open_only),
            listed: 0,
            info: None,
        }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }

    fn head(&mut self, info: &RunInfo) -> io::Result<()> {
        let head = Head {
            format: FORMAT,
            version: VERSION,
            run: Run {
                scanner: "portolan",
                scanner_version: env!("CARGO_PKG_VERSION"),
                command_line: &info.command_line,
                started: Utc::from(info.started).rfc3339(),
                ports: &info.ports,
                hosts: info.hosts,
                shard: info.shard.as_ref(),
            },
        };
        let mut text = wire::to_string(&head);
        text.pop(); // the closing brace: the hosts follow
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b",\"hosts\":[")
    }

    /// Writes one host of the `hosts` array.
    fn host(&mut self, h: &HostView<'_>, summary: &Summary) -> io::Result<()> {
        let sep: &[u8] = if self.listed == 0 { b"\n" } else { b",\n" };
        self.out.write_all(sep)?;
        wire::to_writer(&mut self.out, &host_line(h, summary))?;
        self.listed += 1;
        Ok(())
    }
}

fn host_line<'a>(h: &'a HostView<'a>, summary: &Summary) -> HostLine<'a> {
    HostLine {
        mark: crate::marks::HostMark::of(h.addr, summary),
        addr: h.addr.to_string(),
        hostname: h.name,
        ports: &h.ports,
        not_shown: h
            .hidden
            .iter()
            .map(|g| Count {
                state: g.state.as_str(),
                reason: g.reason.as_str(),
                count: g.count,
            })
            .collect(),
        status: h.status.map(|s| Status {
            state: s.state.as_str(),
            reason: s.reason.as_str(),
            rtt_ms: s.rtt.map(|d| (d.as_secs_f64() * 1e6).round() / 1e3),
            tries: s.tries,
        }),
    }
}

impl<W: Write> Report for JsonReport<W> {
    fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        self.head(info)?;
        self.info = Some(info.clone());
        self.out.flush()
    }

    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        self.hosts.add(r);
        Ok(())
    }

    fn hosts_done(&mut self, keys: &[HostKey]) -> io::Result<()> {
        let done = self.hosts.take(keys);
        for h in done.views() {
            self.host(&h, &Summary::default())?;
        }
        Ok(())
    }

    fn host(&mut self, h: &HostResult) -> io::Result<()> {
        self.hosts.add_host(h);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let info = if let Some(i) = self.info.take() {
            i
        } else {
            // `start` was never called: write the head now so the document is whole.
            let i = RunInfo {
                command_line: String::new(),
                started: std::time::SystemTime::now(),
                ports: String::new(),
                hosts: 0,
                shard: None,
            };
            self.head(&i)?;
            i
        };
        let hosts = std::mem::take(&mut self.hosts);
        for h in hosts.views() {
            self.host(&h, summary)?;
        }
        let listed = self.listed;
        let discovered = Some(hosts.discovered()).filter(|(u, d)| u + d > 0);
        let line = SummaryLine {
            complete: summary.complete,
            ended: Utc::from(info.started + summary.elapsed).rfc3339(),
            elapsed_s: (summary.elapsed.as_secs_f64() * 1e3).round() / 1e3,
            hosts_listed: listed,
            hosts_up: discovered.map(|d| d.0),
            hosts_down: discovered.map(|d| d.1),
            probes_sent: summary.probes_sent,
            probes_per_s: summary
                .probes_per_second()
                .map(|r| (r * 10.0).round() / 10.0),
            retries: summary.retries,
            excluded: summary.excluded,
            counts: summary
                .counts
                .iter()
                .map(|(&(s, r), &n)| Count {
                    state: s.as_str(),
                    reason: r.as_str(),
                    count: n,
                })
                .collect(),
            icmp_limited: crate::icmp_limited(summary),
        };
        self.out.write_all(b"\n],\"summary\":")?;
        wire::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"}\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn render(open_only: bool) -> String {
        fixture::render(
            JsonReport::new(Vec::new(), open_only),
            JsonReport::into_inner,
        )
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render(false));
    }

    #[test]
    fn valid_against_its_schema() {
        let schema_text = include_str!("../../../docs/schema/scan-v1.json");
        let schema: serde_json::Value = serde_json::from_str(schema_text).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        for open_only in [false, true] {
            let doc: serde_json::Value = serde_json::from_str(&render(open_only)).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{errors:?}");
        }
    }

    #[test]
    fn schema_rejects_a_wrong_document() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/scan-v1.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&render(false)).unwrap();
        doc["hosts"][0]["ports"][0]["state"] = "ajar".into();
        assert!(!validator.is_valid(&doc));
    }

    #[test]
    fn schema_accepts_a_udp_port() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/scan-v1.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&render(false)).unwrap();
        let port = &mut doc["hosts"][0]["ports"][0];
        port["proto"] = "udp".into();
        port["state"] = "open|filtered".into();
        port["reason"] = "no-response".into();
        assert!(validator.is_valid(&doc));
        doc["hosts"][0]["ports"][0]["proto"] = "sctp".into();
        assert!(!validator.is_valid(&doc));
    }

    #[test]
    fn schema_names_every_variant_of_the_model() {
        use portolan_engine::{Method, PortState, Protocol, Reason};
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/scan-v1.json")).unwrap();
        let names = |pointer: &str| -> Vec<String> {
            let list = schema.pointer(pointer).and_then(|v| v.as_array());
            let list = list.unwrap_or_else(|| panic!("no list at {pointer}"));
            list.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let of = |all: &[&str]| all.iter().map(|&s| s.to_owned()).collect::<Vec<_>>();
        let protos: Vec<&str> = Protocol::ALL.iter().map(|p| p.as_str()).collect();
        let states: Vec<&str> = PortState::ALL.iter().map(|p| p.as_str()).collect();
        let reasons: Vec<&str> = Reason::ALL.iter().map(|p| p.as_str()).collect();
        let methods: Vec<&str> = Method::ALL.iter().map(|p| p.as_str()).collect();
        assert_eq!(names("/$defs/proto/enum"), of(&protos));
        assert_eq!(names("/$defs/state/enum"), of(&states));
        assert_eq!(names("/$defs/reason/enum"), of(&reasons));
        assert_eq!(names("/$defs/service/properties/method/enum"), of(&methods));
    }

    #[test]
    fn hostile_text_is_escaped() {
        let text = render(false);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
        assert!(!text.contains('\u{202e}'));
        assert!(text.contains("\\u202e"));
    }

    #[test]
    fn the_summary_carries_the_icmp_rate_limit_verdict() {
        let text = crate::fixture::render_limited(
            JsonReport::new(Vec::new(), false),
            JsonReport::into_inner,
        );
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            doc["summary"]["icmp_limited"],
            serde_json::json!([
                {"addr": "198.18.0.1", "period_ms": 1000},
                {"addr": "2001:db8::1", "period_ms": 250}
            ])
        );
    }
}
