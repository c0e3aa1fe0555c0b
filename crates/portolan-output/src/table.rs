//! The human table, in the shape nmap users know.
//!
//! Open ports are always listed. Closed and filtered ports are listed when a host
//! has few of them in one (state, reason) group, and otherwise summarised as
//! `Not shown: 64400 closed (conn-refused), 1000 filtered (no-response)`. Memory is
//! bounded by the open ports plus [`FEW`] entries per group and host.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use portolan_engine::{PortResult, PortState, Reason, Summary};
use portolan_target::services;

use crate::text::clean;
use crate::Report;

/// Groups with at most this many ports are listed one by one.
pub const FEW: usize = 25;

/// Whether to colour states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Always,
    Never,
}

#[derive(Debug, Default)]
struct Group {
    count: u64,
    listed: Vec<(u16, Option<Duration>)>,
}

#[derive(Debug, Default)]
struct Host {
    groups: BTreeMap<(PortState, Reason), Group>,
}

/// Collects results and prints the table at the end.
pub struct TableReport<W: Write> {
    out: W,
    colour: Colour,
    open_only: bool,
    hosts: BTreeMap<(IpAddr, Option<Arc<str>>), Host>,
}

impl<W: Write> TableReport<W> {
    pub fn new(out: W, colour: Colour, open_only: bool) -> Self {
        TableReport { out, colour, open_only, hosts: BTreeMap::new() }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn paint(&self, state: PortState) -> String {
        let text = state.as_str();
        match (self.colour, state) {
            (Colour::Never, _) => format!("{text:<9}"),
            (Colour::Always, PortState::Open) => format!("\x1b[32m{text:<9}\x1b[0m"),
            (Colour::Always, PortState::Closed) => format!("\x1b[31m{text:<9}\x1b[0m"),
            (Colour::Always, PortState::Filtered) => format!("\x1b[33m{text:<9}\x1b[0m"),
        }
    }

    fn host_text(&self, addr: IpAddr, name: Option<&Arc<str>>, host: &Host) -> Option<String> {
        let has_open = host.groups.keys().any(|(s, _)| *s == PortState::Open);
        if self.open_only && !has_open {
            return None;
        }
        let mut t = String::new();
        let _ = match name {
            Some(n) => writeln!(t, "portolan scan report for {} ({addr})", clean(n)),
            None => writeln!(t, "portolan scan report for {addr}"),
        };
        let mut hidden = Vec::new();
        let mut rows: Vec<(u16, PortState, Reason, Option<Duration>)> = Vec::new();
        for (&(state, reason), g) in &host.groups {
            let list = state == PortState::Open || (!self.open_only && g.listed.len() as u64 == g.count);
            if list {
                rows.extend(g.listed.iter().map(|&(p, rtt)| (p, state, reason, rtt)));
            } else {
                hidden.push(format!("{} {state} ({reason})", g.count));
            }
        }
        if !hidden.is_empty() {
            let _ = writeln!(t, "Not shown: {}", hidden.join(", "));
        }
        if rows.is_empty() {
            let total: u64 = host.groups.values().map(|g| g.count).sum();
            let _ = writeln!(t, "All {total} scanned ports are in the states above.");
            return Some(t);
        }
        rows.sort_unstable_by_key(|r| r.0);
        let _ = writeln!(t, "{:<11}{:<10}{:<16}{:<18}RTT", "PORT", "STATE", "SERVICE", "REASON");
        for (port, state, reason, rtt) in rows {
            let rtt = rtt.map_or_else(|| "-".to_owned(), format_rtt);
            let service = services::name(port).unwrap_or("unknown");
            let _ = writeln!(
                t,
                "{:<11}{} {:<16}{:<18}{rtt}",
                format!("{port}/tcp"),
                self.paint(state),
                service,
                reason.as_str()
            );
        }
        Some(t)
    }
}

fn format_rtt(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

impl<W: Write> Report for TableReport<W> {
    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        let host = self.hosts.entry((r.endpoint.addr, r.endpoint.name.clone())).or_default();
        let group = host.groups.entry((r.state, r.reason)).or_default();
        group.count += 1;
        if r.state == PortState::Open || group.listed.len() < FEW + 1 {
            group.listed.push((r.endpoint.port, r.rtt));
        }
        if r.state != PortState::Open && group.count > FEW as u64 && !group.listed.is_empty() {
            group.listed = Vec::new();
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let mut shown = 0;
        for ((addr, name), host) in &self.hosts {
            if let Some(text) = self.host_text(*addr, name.as_ref(), host) {
                if shown > 0 {
                    self.out.write_all(b"\n")?;
                }
                self.out.write_all(text.as_bytes())?;
                shown += 1;
            }
        }
        if shown > 0 {
            self.out.write_all(b"\n")?;
        }
        let hosts = self.hosts.len();
        writeln!(
            self.out,
            "{} {hosts} host{}, {} port results in {:.2} s: {} open, {} closed, {} filtered ({} probes, {} retries)",
            if summary.complete { "Scanned" } else { "Interrupted after" },
            if hosts == 1 { "" } else { "s" },
            summary.results(),
            summary.elapsed.as_secs_f64(),
            summary.count(PortState::Open),
            summary.count(PortState::Closed),
            summary.count(PortState::Filtered),
            summary.probes_sent,
            summary.retries,
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::Endpoint;

    fn feed(report: &mut TableReport<Vec<u8>>, addr: &str, name: Option<&str>, ports: impl Iterator<Item = (u16, Reason)>) -> Summary {
        let mut summary = Summary { complete: true, elapsed: Duration::from_millis(780), ..Summary::default() };
        for (port, reason) in ports {
            let r = PortResult {
                endpoint: Endpoint { addr: addr.parse().unwrap(), port, name: name.map(Into::into) },
                state: reason.state(),
                reason,
                rtt: (reason != Reason::NoResponse).then_some(Duration::from_micros(410)),
                tries: 1,
                service: None,
            };
            *summary.counts.entry((r.state, reason)).or_default() += 1;
            summary.probes_sent += 1;
            report.result(&r).unwrap();
        }
        summary
    }

    fn lab_ports() -> impl Iterator<Item = (u16, Reason)> {
        (1..=3000).map(|p| match p {
            22 | 80 => (p, Reason::SynAck),
            1000..=1999 => (p, Reason::NoResponse),
            2000..=2099 => (p, Reason::AdminProhibited),
            2500..=2502 => (p, Reason::HostUnreach),
            _ => (p, Reason::ConnRefused),
        })
    }

    #[test]
    fn summarises_many_and_lists_few() {
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let summary = feed(&mut report, "198.18.0.1", Some("lab.test\u{1b}[2J"), lab_ports());
        report.finish(&summary).unwrap();
        insta::assert_snapshot!(String::from_utf8(report.into_inner()).unwrap(), @r"
        portolan scan report for lab.test\x1b[2J (198.18.0.1)
        Not shown: 1895 closed (conn-refused), 1000 filtered (no-response), 100 filtered (admin-prohibited)
        PORT       STATE     SERVICE         REASON            RTT
        22/tcp     open      ssh             syn-ack           0.41ms
        80/tcp     open      http            syn-ack           0.41ms
        2500/tcp   filtered  unknown         host-unreach      0.41ms
        2501/tcp   filtered  unknown         host-unreach      0.41ms
        2502/tcp   filtered  unknown         host-unreach      0.41ms

        Scanned 1 host, 3000 port results in 0.78 s: 2 open, 1895 closed, 1103 filtered (3000 probes, 0 retries)
        ");
    }

    #[test]
    fn open_only_hides_hosts_without_open_ports() {
        let mut report = TableReport::new(Vec::new(), Colour::Always, true);
        let mut s = feed(&mut report, "198.18.0.1", None, lab_ports());
        let s2 = feed(&mut report, "198.18.0.2", None, (1..=10).map(|p| (p, Reason::ConnRefused)));
        s.counts.extend(s2.counts);
        report.finish(&s).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        assert!(text.contains("\x1b[32mopen"));
        assert!(!text.contains("198.18.0.2"));
        assert!(!text.contains("2500/tcp"), "only open ports are listed");
    }
}
