//! Printers for scan results.
//!
//! Every format implements [`Report`] and writes to a `Write` it was given, so the
//! same code prints to a terminal, a file or a test buffer. A report hears about the
//! run once at the start ([`RunInfo`]), each result as the engine decides it, and the
//! [`Summary`] at the end; streaming formats write as they go, the table collects
//! what it needs (open ports, and closed or filtered ones only while they are few)
//! and prints at the end. The host-by-host formats (XML, grepable, the JSON
//! document) gather results in [`Hosts`] with the same bound; CSV and NDJSON
//! stream. The engine walks hosts in groups and says when a group is decided
//! ([`Report::hosts_done`]): the table and the host-by-host formats then write
//! that group's hosts and forget them, so none of them holds more than a few
//! groups of hosts, however large the target set. `docs/formats.md` describes each format.
//!
//! Host discovery (`-sn`, `--discover`) adds one [`HostResult`] per host
//! ([`Report::host`]): its state (`up`, `down`) and the reason, in every format
//! (nmap's `<status state="up" reason="echo-reply">` and `<hosts up= down=>`,
//! grepable `Status: Up`, an NDJSON line with `host_state`, a CSV row without a
//! port, the table's host lines and summary).
//!
//! The modules are private and this root is the crate's surface, except [`wire`],
//! the one JSON writer every JSON format (and the history) shares, whose functions
//! read best qualified (`wire::to_string`).

#![warn(missing_docs)]

mod clock;
mod csv;
#[cfg(test)]
mod fixture;
mod grepable;
mod hosts;
mod json;
mod marks;
mod ndjson;
mod table;
mod text;
#[cfg(test)]
mod tools;
pub mod wire;
mod xml;

use std::io;
use std::time::SystemTime;

use portolan_engine::{HostResult, PortResult, Summary};
use portolan_target::HostKey;

pub use clock::{unix, Utc};
pub use csv::CsvReport;
pub use grepable::GrepableReport;
pub use hosts::{Hidden, HostView, Hosts, FEW};
pub use json::JsonReport;
pub use ndjson::NdjsonReport;
pub use table::{Colour, TableReport, QUIET_HOSTS};
pub use text::clean;
pub use xml::XmlReport;

/// One host whose ICMP rate limit shaped a UDP scan (`Summary::icmp_limited`), as
/// the JSON document's summary and the NDJSON stream write it:
/// `{"addr":"198.18.0.1","period_ms":1000}`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct IcmpLimited {
    addr: std::net::IpAddr,
    period_ms: u64,
}

/// The hosts whose ICMP rate limit shaped the scan, in the summary's order.
pub(crate) fn icmp_limited(summary: &Summary) -> Vec<IcmpLimited> {
    summary
        .icmp_limited
        .iter()
        .map(|&(addr, period)| IcmpLimited {
            addr,
            period_ms: u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
        })
        .collect()
}

/// What a report may want to say about the run as a whole.
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// The command line as typed.
    pub command_line: String,
    /// When the run started.
    pub started: SystemTime,
    /// The port list in compact form (`1-1024,8080`).
    pub ports: String,
    /// Host slots in the targets, excluded ones included.
    pub hosts: u128,
    /// The shard this run is (`--shard I/N`), if it is one.
    pub shard: Option<ShardInfo>,
}

/// What every format records about a shard (`--shard I/N`), so that `portolan
/// merge` can check that its inputs belong together and cover the scan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// `I`, from 1.
    pub index: u64,
    /// `N`.
    pub count: u64,
    /// The seed of the order (absent for `--no-randomize`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The spec hash: 16 hex digits naming the pair space.
    pub spec: String,
    /// The scan's arguments (after `scan`), paths absolute: what `merge` parses
    /// to rebuild the pair space.
    pub argv: Vec<String>,
    /// Whether every answered pair is written (no `--open`).
    pub all_ports: bool,
}

impl ShardInfo {
    /// One line for the text formats: `shard 2/4 seed 17 spec 0123456789abcdef`.
    pub fn line(&self) -> String {
        let seed = self
            .seed
            .map_or_else(|| "none".to_owned(), |s| s.to_string());
        format!(
            "shard {}/{} seed {seed} spec {}",
            self.index, self.count, self.spec
        )
    }
}

/// A destination for results in one format.
pub trait Report {
    /// Called once before the first result; the default writes nothing.
    fn start(&mut self, _info: &RunInfo) -> io::Result<()> {
        Ok(())
    }
    /// Takes one result, in the order the engine decided them.
    fn result(&mut self, result: &PortResult) -> io::Result<()>;
    /// Takes one result that an earlier session of a resumed scan decided, read
    /// back from the history before this session probes anything. A report of
    /// the whole scan writes it like any result (the default); one that acts on
    /// results as they come (`--on-open`) ignores it, since the earlier session
    /// acted on it already.
    fn replayed(&mut self, result: &PortResult) -> io::Result<()> {
        self.result(result)
    }
    /// Takes one host's discovery result (`-sn`, `--discover`), before any port
    /// of that host. Every format of this crate writes it; the default ignores it
    /// (for reports kept on the side, such as the history recorder).
    fn host(&mut self, _host: &HostResult) -> io::Result<()> {
        Ok(())
    }
    /// Writes anything buffered so that a reader sees results promptly.
    fn flush(&mut self) -> io::Result<()>;
    /// Every result of these hosts (one host group of the scan) has been given:
    /// the formats that print host by host write their blocks now and forget them,
    /// so memory does not grow with the number of hosts. Only hosts that can get no
    /// mark from the end of the run (`Summary::all_open`, `Summary::capped`) are
    /// given here, so they are written with none. The default does nothing.
    fn hosts_done(&mut self, _hosts: &[HostKey]) -> io::Result<()> {
        Ok(())
    }
    /// Writes what is left (the formats that print host by host write everything here)
    /// and the run's summary.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
    /// Whether the scan is worth going on for this report alone: false for one
    /// kept on the side (the history recorder), so that a scan whose every real
    /// report has failed stops.
    fn essential(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use portolan_engine::{Endpoint, PortResult, Protocol, Reason};

    use super::*;

    /// A UDP port as the coming UDP scan will report it, and a TCP one beside it.
    fn udp_and_tcp() -> Vec<PortResult> {
        let at = |port, proto, reason| {
            let endpoint = Endpoint {
                addr: "198.18.0.1".parse().unwrap(),
                name: None,
                port,
                proto,
            };
            PortResult::new(endpoint, reason, Some(Duration::from_micros(410)), 1)
        };
        vec![
            at(53, Protocol::Udp, Reason::UdpResponse),
            at(53, Protocol::Tcp, Reason::SynAck),
            at(161, Protocol::Udp, Reason::NoResponse),
        ]
    }

    fn render<R: Report>(mut report: R, take: impl FnOnce(R) -> Vec<u8>) -> String {
        let results = udp_and_tcp();
        report.start(&fixture::info()).unwrap();
        for r in &results {
            report.result(r).unwrap();
        }
        report.finish(&fixture::summary(&results)).unwrap();
        String::from_utf8(take(report)).unwrap()
    }

    #[test]
    fn every_format_takes_the_protocol_from_the_endpoint() {
        let ndjson = render(
            NdjsonReport::new(Vec::new(), false),
            NdjsonReport::into_inner,
        );
        assert!(
            ndjson.contains(r#""port":53,"proto":"udp","state":"open","reason":"udp-response""#)
        );
        assert!(ndjson.contains(r#""port":161,"proto":"udp","state":"open|filtered""#));
        let json = render(JsonReport::new(Vec::new(), false), JsonReport::into_inner);
        assert!(json.contains(r#""port":53,"proto":"tcp""#));
        assert!(json.contains(r#""port":53,"proto":"udp""#));
        let xml = render(XmlReport::new(Vec::new(), false), XmlReport::into_inner);
        assert!(xml.contains(
            r#"<port protocol="udp" portid="53"><state state="open" reason="udp-response""#
        ));
        assert!(xml.contains(r#"<port protocol="tcp" portid="53">"#));
        assert!(xml.contains(r#"<port protocol="udp" portid="161"><state state="open|filtered""#));
        let grep = render(
            GrepableReport::new(Vec::new(), false),
            GrepableReport::into_inner,
        );
        assert!(grep.contains("53/open/udp//"), "{grep}");
        assert!(grep.contains("53/open/tcp//"), "{grep}");
        assert!(grep.contains("161/open|filtered/udp//"), "{grep}");
        let csv = render(CsvReport::new(Vec::new(), false), CsvReport::into_inner);
        assert!(
            csv.contains("198.18.0.1,,53,udp,open,udp-response,"),
            "{csv}"
        );
        assert!(
            csv.contains("198.18.0.1,,161,udp,open|filtered,no-response,"),
            "{csv}"
        );
        let table = render(
            TableReport::new(Vec::new(), Colour::Never, false),
            TableReport::into_inner,
        );
        assert!(table.contains("53/udp     open"), "{table}");
        assert!(table.contains("53/tcp     open"), "{table}");
        assert!(table.contains("161/udp    open|filtered"), "{table}");
        assert!(table.contains(", 1 open|filtered ("), "{table}");
    }

    /// Issue 14, part 3: a host that answers every port is marked in every format
    /// but CSV (one row per port, no place for a host), with the reason
    /// `wildcard`, the canaries and what -sV confirmed; a host stopped by
    /// --max-open-per-host says how many pairs it did not scan.
    #[test]
    fn every_format_marks_a_host_that_answers_everything() {
        let results = udp_and_tcp();
        let mut summary = fixture::summary(&results);
        let addr: std::net::IpAddr = "198.18.0.1".parse().unwrap();
        summary.all_open = vec![portolan_engine::AllOpen {
            addr,
            open: 2,
            answered: 3,
            canaries: vec![50001, 61234, 63000],
            identified: vec![(53, "dns\u{1b}[2J".into())],
        }];
        summary.capped = vec![(addr, 997)];
        let go = |report: &mut dyn Report| {
            report.start(&fixture::info()).unwrap();
            for r in &results {
                report.result(r).unwrap();
            }
            report.finish(&summary).unwrap();
        };
        macro_rules! out {
            ($t:ident $(, $arg:expr)*) => {{
                let mut buf = Vec::new();
                go(&mut $t::new(&mut buf $(, $arg)*));
                String::from_utf8(buf).unwrap()
            }};
        }
        let ndjson = out!(NdjsonReport, false);
        let last = ndjson.lines().last().unwrap();
        let v: serde_json::Value = serde_json::from_str(last).unwrap();
        assert_eq!(v["host"]["addr"], "198.18.0.1");
        assert_eq!(v["host"]["all-open"], true);
        assert_eq!(v["host"]["all-open-reason"], "wildcard");
        assert_eq!(v["host"]["canaries"][1], 61234);
        assert_eq!(v["host"]["confirmed"][0]["port"], 53);
        assert_eq!(v["host"]["not-scanned"], 997);
        let json = out!(JsonReport, false);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(doc["hosts"][0]["all-open"], true, "{json}");
        assert_eq!(doc["hosts"][0]["not-scanned"], 997);
        let xml = out!(XmlReport, false);
        assert!(xml.contains(r#"<hostscript><script id="all-open" output="answers every port (wildcard): canary ports 50001, 61234, 63000 open too; 2 of 3 answered ports open; -sV confirmed: 53/dns\x1b[2J">"#), "{xml}");
        assert!(
            xml.contains(r#"<elem key="not-scanned">997</elem>"#),
            "{xml}"
        );
        let grep = out!(GrepableReport, false);
        assert!(grep.contains("\tAll-open: wildcard ("), "{grep}");
        assert!(
            grep.contains("\tNot scanned: 997 (max-open-per-host)"),
            "{grep}"
        );
        let table = out!(TableReport, Colour::Never, false);
        assert!(
            table.contains("All open: answers every port (wildcard)"),
            "{table}"
        );
        assert!(table.contains("Stopped: 997 ports not scanned"), "{table}");
        assert!(
            table.contains("All open (wildcard): 1 host answers every port"),
            "{table}"
        );
        assert!(
            table.contains("Not scanned: 997 pairs of 1 host"),
            "{table}"
        );
        for text in [&ndjson, &json, &xml, &grep, &table] {
            assert!(!text.contains('\u{1b}'), "a raw escape in {text}");
        }
    }

    /// Host discovery: one host up with a port, one up without ports (`-sn`),
    /// one down, through a report.
    fn render_discovery<R: Report>(mut report: R, take: impl FnOnce(R) -> Vec<u8>) -> String {
        use portolan_engine::HostResult;
        let ms = |us| Some(Duration::from_micros(us));
        let hosts = [
            HostResult::new(
                "198.18.0.1".parse().unwrap(),
                None,
                Reason::EchoReply,
                ms(250),
                1,
            ),
            HostResult::new(
                "198.18.0.2".parse().unwrap(),
                None,
                Reason::ConnRefused,
                ms(900),
                2,
            ),
            HostResult::new(
                "198.18.2.9".parse().unwrap(),
                None,
                Reason::NoResponse,
                None,
                2,
            ),
        ];
        let port = PortResult::new(
            Endpoint {
                addr: "198.18.0.1".parse().unwrap(),
                name: None,
                port: 22,
                proto: Protocol::Tcp,
            },
            Reason::SynAck,
            ms(300),
            1,
        );
        report.start(&fixture::info()).unwrap();
        for h in &hosts {
            report.host(h).unwrap();
        }
        report.result(&port).unwrap();
        report.finish(&fixture::summary(&[port])).unwrap();
        String::from_utf8(take(report)).unwrap()
    }

    #[test]
    fn every_format_says_the_host_state_and_its_reason() {
        let xml = render_discovery(XmlReport::new(Vec::new(), false), XmlReport::into_inner);
        assert!(
            xml.contains(r#"<status state="up" reason="echo-reply""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<status state="up" reason="conn-refused""#),
            "{xml}"
        );
        assert!(
            !xml.contains("198.18.2.9"),
            "down hosts are counted, not listed"
        );
        assert!(
            xml.contains(r#"<hosts up="2" down="1" total="3"/>"#),
            "{xml}"
        );
        crate::tools::check_xml(&xml);
        let grep = render_discovery(
            GrepableReport::new(Vec::new(), false),
            GrepableReport::into_inner,
        );
        assert!(grep.contains("Host: 198.18.0.1 ()\tStatus: Up\n"), "{grep}");
        assert!(grep.contains("Host: 198.18.0.2 ()\tStatus: Up\n"), "{grep}");
        assert!(
            grep.contains("Host: 198.18.2.9 ()\tStatus: Down\n"),
            "{grep}"
        );
        assert!(grep.contains("3 IP addresses (2 hosts up)"), "{grep}");
        assert!(grep.contains("Ports: 22/open/tcp//ssh///"), "{grep}");
        let ndjson = render_discovery(
            NdjsonReport::new(Vec::new(), false),
            NdjsonReport::into_inner,
        );
        assert!(ndjson.contains(
            r#"{"addr":"198.18.2.9","host_state":"down","reason":"no-response","tries":2}"#
        ));
        assert!(ndjson.contains(r#""host_state":"up","reason":"echo-reply","rtt_ms":0.25"#));
        let json = render_discovery(JsonReport::new(Vec::new(), false), JsonReport::into_inner);
        assert!(json
            .contains(r#""status":{"state":"up","reason":"conn-refused","rtt_ms":0.9,"tries":2}"#));
        assert!(json.contains(r#""hosts_up":2,"hosts_down":1"#), "{json}");
        let csv = render_discovery(CsvReport::new(Vec::new(), false), CsvReport::into_inner);
        assert!(
            csv.contains("198.18.0.1,,,,up,echo-reply,0.25,1,,,,,,,\n"),
            "{csv}"
        );
        assert!(csv.contains("198.18.2.9,,,,down,no-response,,2,"), "{csv}");
        let table = render_discovery(
            TableReport::new(Vec::new(), Colour::Never, false),
            TableReport::into_inner,
        );
        assert!(
            table.contains("Host is up (echo-reply, 0.25ms)."),
            "{table}"
        );
        assert!(
            table.contains("Host 198.18.0.2 is up (conn-refused, 0.90ms)"),
            "{table}"
        );
        assert!(
            table.contains("Host 198.18.2.9 is down (no-response)"),
            "{table}"
        );
        assert!(
            table.contains("Host discovery: 2 hosts up, 1 down (1 no-response)"),
            "{table}"
        );
    }

    #[test]
    fn the_json_document_with_host_states_fits_the_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schema/scan-v1.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let json = render_discovery(JsonReport::new(Vec::new(), false), JsonReport::into_inner);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(validator.is_valid(&doc), "{json}");
    }

    /// Regression (issue 8 and issue 9, item 17): HTTP `Server`, title and `Location`
    /// reached some formats with ESC, BEL or bidi marks in them. No format may write
    /// a character of `portolan_text`'s class (line breaks between records aside).
    #[test]
    fn no_format_writes_a_control_or_bidi_character() {
        let outputs = [
            (
                "table",
                fixture::render(
                    TableReport::new(Vec::new(), Colour::Never, false),
                    TableReport::into_inner,
                ),
            ),
            (
                "xml",
                fixture::render(XmlReport::new(Vec::new(), false), XmlReport::into_inner),
            ),
            (
                "grepable",
                fixture::render(
                    GrepableReport::new(Vec::new(), false),
                    GrepableReport::into_inner,
                ),
            ),
            (
                "json",
                fixture::render(JsonReport::new(Vec::new(), false), JsonReport::into_inner),
            ),
            (
                "ndjson",
                fixture::render(
                    NdjsonReport::new(Vec::new(), false),
                    NdjsonReport::into_inner,
                ),
            ),
            (
                "csv",
                fixture::render(CsvReport::new(Vec::new(), false), CsvReport::into_inner),
            ),
        ];
        for (name, text) in outputs {
            let bad: Vec<char> = text
                .chars()
                // Grepable separates fields with tabs of its own.
                .filter(|&c| c != '\n' && !(name == "grepable" && c == '\t'))
                .filter(|&c| portolan_text::is_unsafe_in_line(c))
                .collect();
            assert!(bad.is_empty(), "{name}: {bad:?}");
        }
    }
}
