//! The human table, in the shape nmap users know.
//!
//! Open ports are always listed. Closed and filtered ports are listed when a host
//! has few of them in one (state, reason) group, and otherwise summarised as
//! `Not shown: 64400 closed (conn-refused), 1000 filtered (no-response)`. The
//! results are gathered in [`Hosts`], as the other host-by-host formats do, so
//! memory is bounded by the open ports plus [`FEW`](crate::FEW) entries per group and host.
//!
//! Hosts with nothing open are kept one by one only up to [`QUIET_HOSTS`] of them
//! (none with `--open`, which would not show them). Past that, a sweep of a large
//! range would grow the table by hundreds of bytes per host for lines nobody reads,
//! so every host without an open port is folded into counts per (state, reason),
//! printed as one `Not shown:` line for those hosts, and the table's memory stays
//! bounded by the hosts with an open port. A host folded before its first open port
//! arrives is listed from that port on; its earlier ports stay in the folded counts.
//!
//! When the engine says a host group is done ([`Report::hosts_done`]), the table
//! writes that group's hosts at once, by address, and forgets them: a sweep larger
//! than one group prints group by group, and the table holds at most the groups
//! still in progress, whatever the number of hosts with an open port. Hosts
//! without an open port written so far count towards [`QUIET_HOSTS`]: once a
//! group would pass it, its quiet hosts (and every later one) are folded into the
//! counts instead, so the first few thousand stay listed one by one.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::Duration;

use portolan_engine::{HostResult, Method, PortResult, PortState, Reason, Service, Summary};
use portolan_target::services;

use crate::hosts::{HostKey, HostView, Hosts};
use crate::text::clean;
use crate::Report;

/// Hosts without an open port listed one by one before they are folded into counts.
pub const QUIET_HOSTS: usize = 4096;

/// Whether to colour states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// ANSI colours: green open, red closed, yellow filtered.
    Always,
    /// Plain text.
    Never,
}

/// Collects results and prints the table at the end.
pub struct TableReport<W: Write> {
    out: W,
    colour: Colour,
    open_only: bool,
    hosts: Hosts,
    /// Once more than [`QUIET_HOSTS`] hosts had nothing open: their port counts.
    folded: Option<BTreeMap<(PortState, Reason), u64>>,
    /// Host blocks written so far (groups done, and at the end).
    shown: usize,
    /// Hosts written because their group was done.
    written: usize,
    /// Of those, hosts without an open port listed one by one.
    quiet_written: usize,
    /// Host discovery: every host found up (listed, as open ports are).
    up: HashMap<std::net::IpAddr, HostResult>,
    /// Host discovery: hosts found down, per reason, and the first few of them.
    down: BTreeMap<Reason, u64>,
    down_listed: Vec<HostResult>,
    /// Hosts found up whose block was written when their group was done.
    up_written: usize,
}

impl<W: Write> TableReport<W> {
    /// A table written to `out` at the end; `open_only` is `--open`.
    pub fn new(out: W, colour: Colour, open_only: bool) -> Self {
        TableReport {
            out,
            colour,
            open_only,
            hosts: Hosts::new(open_only),
            folded: None,
            shown: 0,
            written: 0,
            quiet_written: 0,
            up: HashMap::new(),
            down: BTreeMap::new(),
            down_listed: Vec::new(),
            up_written: 0,
        }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }

    fn quiet_limit(&self) -> usize {
        if self.open_only {
            0
        } else {
            QUIET_HOSTS
        }
    }

    /// Folds every host without an open port into counts, from now on.
    fn fold(&mut self) {
        let folded = self.folded.get_or_insert_with(BTreeMap::new);
        self.hosts.fold_quiet(|g| {
            *folded.entry((g.state, g.reason)).or_default() += g.count;
        });
    }

    /// The `Not shown:` line of the folded hosts.
    fn folded_text(&self) -> Option<String> {
        let folded = self
            .folded
            .as_ref()
            .filter(|f| !f.is_empty() && !self.open_only)?;
        let groups: Vec<String> = folded
            .iter()
            .map(|((state, reason), n)| format!("{n} {state} ({reason})"))
            .collect();
        let which = match self.quiet_written {
            0 => format!("more than {QUIET_HOSTS}"),
            n => format!("after the {n} listed above"),
        };
        Some(format!(
            "Hosts with no open port ({which}, folded into counts)\nNot shown: {}\n",
            groups.join(", ")
        ))
    }

    /// Writes the blocks of `hosts`, by address.
    fn write_hosts(&mut self, hosts: &Hosts, summary: &Summary) -> io::Result<()> {
        for host in hosts.views() {
            let text = self.host_text(&host, summary);
            if self.shown > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(text.as_bytes())?;
            self.shown += 1;
        }
        Ok(())
    }

    fn paint(&self, state: PortState) -> String {
        let text = state.as_str();
        match (self.colour, state) {
            (Colour::Never, _) => format!("{text:<9}"),
            (Colour::Always, PortState::Open) => format!("\x1b[32m{text:<9}\x1b[0m"),
            (Colour::Always, PortState::Closed) => format!("\x1b[31m{text:<9}\x1b[0m"),
            (Colour::Always, PortState::Filtered | PortState::OpenFiltered) => {
                format!("\x1b[33m{text:<9}\x1b[0m")
            }
        }
    }

    fn host_text(&self, host: &HostView<'_>, summary: &Summary) -> String {
        let addr = host.addr;
        let mut t = String::new();
        let _ = match host.name {
            Some(n) => writeln!(t, "portolan scan report for {} ({addr})", clean(n)),
            None => writeln!(t, "portolan scan report for {addr}"),
        };
        if let Some(h) = self.up.get(&addr) {
            let _ = writeln!(t, "Host is up ({}).", status_detail(h));
        }
        if let Some(h) = summary.all_open(addr) {
            let _ = writeln!(t, "All open: {}", crate::marks::all_open_text(h));
        }
        if let Some((_, n)) = summary.capped.iter().find(|(a, _)| *a == addr) {
            let _ = writeln!(t, "Stopped: {}", crate::marks::capped_text(*n));
        }
        // One entry per (state, reason), whatever the protocol, in that order.
        let mut hidden: BTreeMap<(PortState, Reason), u64> = BTreeMap::new();
        for h in &host.hidden {
            *hidden.entry((h.state, h.reason)).or_default() += h.count;
        }
        if !hidden.is_empty() {
            let hidden: Vec<String> = hidden
                .iter()
                .map(|((state, reason), n)| format!("{n} {state} ({reason})"))
                .collect();
            let _ = writeln!(t, "Not shown: {}", hidden.join(", "));
        }
        if host.ports.is_empty() {
            let _ = writeln!(
                t,
                "All {} scanned ports are in the states above.",
                host.total()
            );
            return t;
        }
        let probed = host.ports.iter().any(|r| r.service.is_some());
        let version = if probed { "RTT      VERSION" } else { "RTT" };
        let _ = writeln!(
            t,
            "{:<11}{:<10}{:<16}{:<18}{version}",
            "PORT", "STATE", "SERVICE", "REASON"
        );
        for r in &host.ports {
            let rtt = r.rtt.map_or_else(|| "-".to_owned(), format_rtt);
            let service = r.service.as_deref();
            let (name, version) = service_cells(r.endpoint.port, r.endpoint.proto, service);
            let line = format!(
                "{:<11}{} {name:<16}{:<18}{rtt:<9}{version}",
                format!("{}/{}", r.endpoint.port, r.endpoint.proto),
                self.paint(r.state),
                r.reason.as_str()
            );
            let _ = writeln!(t, "{}", line.trim_end());
            for detail in service.map(details).unwrap_or_default() {
                let _ = writeln!(t, "|  {detail}");
            }
        }
        t
    }
}

/// The SERVICE and VERSION cells: the probed service (a port-number guess marked
/// `name?`), else the port's registered name.
fn service_cells(
    port: u16,
    proto: portolan_engine::Protocol,
    service: Option<&Service>,
) -> (String, String) {
    let Some(s) = service else {
        return (
            services::name_of(port, proto)
                .unwrap_or("unknown")
                .to_owned(),
            String::new(),
        );
    };
    let guess = if s.method == Method::Port { "?" } else { "" };
    let mut version: Vec<String> = [&s.product, &s.version]
        .into_iter()
        .flatten()
        .map(|v| clean(v))
        .collect();
    if let Some(info) = &s.info {
        version.push(format!("({})", clean(info)));
    }
    (format!("{}{guess}", clean(&s.name)), version.join(" "))
}

/// The most characters of a banner the table shows (the cut ends with `…`).
const BANNER_CHARS: usize = 60;

/// Lines under a probed port: what HTTP and TLS showed.
fn details(s: &Service) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = &s.http {
        let mut parts: Vec<String> = h.status.map(|c| c.to_string()).into_iter().collect();
        if let Some(l) = &h.location {
            let status = parts.pop().unwrap_or_default();
            parts.push(format!("{status} -> {}", clean(l)).trim_start().to_owned());
        }
        parts.extend(
            h.title
                .as_deref()
                .map(|l| format!("title \"{}\"", clean(l))),
        );
        if !parts.is_empty() {
            out.push(format!("http: {}", parts.join(", ")));
        }
    }
    if let Some(tls) = &s.tls {
        let mut parts: Vec<String> = tls.version.iter().map(|v| clean(v)).collect();
        parts.extend(
            tls.subject_cn
                .as_deref()
                .map(|c| format!("CN={}", clean(c))),
        );
        parts.extend(
            tls.not_after
                .as_deref()
                .map(|c| format!("until {}", clean(c))),
        );
        out.push(format!("tls: {}", parts.join(", ")));
    }
    if s.product.is_none() {
        if let Some(b) = s.banner.as_deref().filter(|b| !b.is_empty()) {
            let text = portolan_text::escape_field(b, BANNER_CHARS);
            out.push(format!("banner: {text}"));
        }
    }
    out
}

/// The run's probe rate as people read it (`, 835 probes/s`, `, 12.4k probes/s`),
/// or nothing for a run that took no time.
fn per_second(summary: &Summary) -> String {
    match summary.probes_per_second() {
        None => String::new(),
        Some(r) if r < 10_000.0 => format!(", {r:.0} probes/s"),
        Some(r) if r < 1_000_000.0 => format!(", {:.1}k probes/s", r / 1000.0),
        Some(r) => format!(", {:.1}M probes/s", r / 1_000_000.0),
    }
}

/// `echo-reply, 0.31ms`: why a host is up or down, and how fast it answered.
fn status_detail(h: &HostResult) -> String {
    match h.rtt {
        Some(rtt) => format!("{}, {}", h.reason, format_rtt(rtt)),
        None => h.reason.to_string(),
    }
}

impl<W: Write> TableReport<W> {
    /// The host discovery part: up hosts that have no port list of their own,
    /// the few down ones, and the counts; `None` when discovery did not run.
    fn discovery_text(&self, summary: &Summary, listed: &[std::net::IpAddr]) -> Option<String> {
        let down: u64 = self.down.values().sum();
        if self.up.is_empty() && self.up_written == 0 && down == 0 {
            return None;
        }
        let mut t = String::new();
        let mut up: Vec<&HostResult> = self
            .up
            .values()
            .filter(|h| !listed.contains(&h.addr))
            .collect();
        up.sort_by_key(|h| h.addr);
        for h in up {
            let name = h.name.as_deref().map(|n| format!(" ({})", clean(n)));
            let _ = writeln!(
                t,
                "Host {}{} is up ({})",
                h.addr,
                name.unwrap_or_default(),
                status_detail(h)
            );
        }
        if down <= crate::FEW as u64 && !self.open_only {
            let mut listed: Vec<&HostResult> = self.down_listed.iter().collect();
            listed.sort_by_key(|h| h.addr);
            for h in listed {
                let _ = writeln!(t, "Host {} is down ({})", h.addr, h.reason);
            }
        }
        let reasons: Vec<String> = self
            .down
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        let reasons = if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        };
        // The time is the run's: said here only when discovery was the whole run.
        let time = if summary.results() == 0 {
            format!(" in {:.2} s", summary.elapsed.as_secs_f64())
        } else {
            String::new()
        };
        let interrupted = if summary.complete {
            ""
        } else {
            " (interrupted)"
        };
        let _ = writeln!(
            t,
            "Host discovery{interrupted}: {} host{} up, {down} down{reasons}{time}",
            self.up.len() + self.up_written,
            if self.up.len() + self.up_written == 1 {
                ""
            } else {
                "s"
            },
        );
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
        if self.folded.is_some() && r.state != PortState::Open && !self.hosts.contains(&r.endpoint)
        {
            if let Some(folded) = &mut self.folded {
                *folded.entry((r.state, r.reason)).or_default() += 1;
            }
            return Ok(());
        }
        self.hosts.add(r);
        if self.quiet_written + self.hosts.quiet() > self.quiet_limit() {
            self.fold();
        }
        Ok(())
    }

    fn host(&mut self, h: &HostResult) -> io::Result<()> {
        if h.is_up() {
            self.up.insert(h.addr, h.clone());
        } else {
            *self.down.entry(h.reason).or_default() += 1;
            if self.down_listed.len() < crate::FEW {
                self.down_listed.push(h.clone());
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn hosts_done(&mut self, keys: &[HostKey]) -> io::Result<()> {
        let mut done = self.hosts.take(keys);
        if self.quiet_written + done.quiet() > self.quiet_limit() {
            // This group would list more hosts without an open port than allowed.
            let folded = self.folded.get_or_insert_with(BTreeMap::new);
            done.fold_quiet(|g| {
                *folded.entry((g.state, g.reason)).or_default() += g.count;
            });
        }
        self.quiet_written += done.quiet();
        self.written += done.len();
        for h in done.views() {
            if self.up.remove(&h.addr).is_some() {
                self.up_written += 1;
            }
        }
        // Hosts done early have no mark to show (see `Report::hosts_done`).
        self.write_hosts(&done, &Summary::default())?;
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let listed: Vec<std::net::IpAddr> = self.hosts.views().map(|h| h.addr).collect();
        let rest = std::mem::take(&mut self.hosts);
        self.write_hosts(&rest, summary)?;
        if let Some(text) = self.folded_text() {
            if self.shown > 0 {
                self.out.write_all(b"\n")?;
            }
            self.out.write_all(text.as_bytes())?;
            self.shown += 1;
        }
        if self.shown > 0 {
            self.out.write_all(b"\n")?;
        }
        if let Some(text) = self.discovery_text(summary, &listed) {
            self.out.write_all(text.as_bytes())?;
            if summary.results() == 0 {
                // Discovery only (`-sn`): no port line to follow.
                return self.out.flush();
            }
        }
        let hosts = self.written + rest.len();
        // Only UDP leaves ports open|filtered; a TCP scan's line stays as it was.
        let open_filtered = match summary.count(PortState::OpenFiltered) {
            0 => String::new(),
            n => format!(", {n} open|filtered"),
        };
        let more = match (self.folded.is_some(), self.quiet_written) {
            (false, _) => "",
            (true, 0) => " with an open port, more without",
            (true, _) => " listed, more without an open port",
        };
        writeln!(
            self.out,
            "{} {hosts} host{}{more}, {} port results in {:.2} s: {} open, {} closed, {} filtered{open_filtered} ({} probes, {} retries{})",
            if summary.complete { "Scanned" } else { "Interrupted after" },
            if hosts == 1 { "" } else { "s" },
            summary.results(),
            summary.elapsed.as_secs_f64(),
            summary.count(PortState::Open),
            summary.count(PortState::Closed),
            summary.count(PortState::Filtered),
            summary.probes_sent,
            summary.retries,
            per_second(summary),
        )?;
        // Said so that a slow UDP scan explains itself: closed ports of these hosts
        // were waited for, one ICMP answer per period, rather than guessed.
        if !summary.all_open.is_empty() {
            let hosts: Vec<String> = summary
                .all_open
                .iter()
                .map(|h| h.addr.to_string())
                .collect();
            writeln!(
                self.out,
                "All open (wildcard): {} {} every port, canary ports included, so their open ports say nothing: {}",
                hosts.len(),
                if hosts.len() == 1 { "host answers" } else { "hosts answer" },
                hosts.join(", ")
            )?;
        }
        if !summary.capped.is_empty() {
            writeln!(
                self.out,
                "Not scanned: {} pairs of {} host{} stopped at --max-open-per-host",
                summary.not_scanned(),
                summary.capped.len(),
                if summary.capped.len() == 1 { "" } else { "s" }
            )?;
        }
        for (addr, period) in &summary.icmp_limited {
            writeln!(
                self.out,
                "ICMP rate limit: {addr} answers closed UDP ports once every {} ms; the scan waited for each answer",
                period.as_millis()
            )?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portolan_engine::{Endpoint, HttpInfo, Protocol, TlsInfo};

    fn feed(
        report: &mut TableReport<Vec<u8>>,
        addr: &str,
        name: Option<&str>,
        ports: impl Iterator<Item = (u16, Reason)>,
    ) -> Summary {
        let mut summary = Summary {
            complete: true,
            elapsed: Duration::from_millis(780),
            ..Summary::default()
        };
        for (port, reason) in ports {
            let endpoint = Endpoint {
                addr: addr.parse().unwrap(),
                port,
                name: name.map(Into::into),
                proto: Protocol::Tcp,
            };
            let rtt = (reason != Reason::NoResponse).then_some(Duration::from_micros(410));
            let r = PortResult::new(endpoint, reason, rtt, 1);
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
        let summary = feed(
            &mut report,
            "198.18.0.1",
            Some("lab.test\u{1b}[2J"),
            lab_ports(),
        );
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

        Scanned 1 host, 3000 port results in 0.78 s: 2 open, 1895 closed, 1103 filtered (3000 probes, 0 retries, 3846 probes/s)
        ");
    }

    #[test]
    fn a_done_group_is_written_at_once_and_forgotten() {
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let ports = || [(22, Reason::SynAck), (23, Reason::ConnRefused)].into_iter();
        feed(&mut report, "198.18.0.2", None, ports());
        feed(&mut report, "198.18.0.1", None, ports());
        let first: Vec<HostKey> = ["198.18.0.1", "198.18.0.2", "198.18.0.9"]
            .iter()
            .map(|a| (a.parse().unwrap(), None))
            .collect();
        report.hosts_done(&first).unwrap();
        let text = String::from_utf8(report.out.clone()).unwrap();
        let one = text.find("report for 198.18.0.1").unwrap();
        let two = text.find("report for 198.18.0.2").unwrap();
        assert!(one < two, "a group is written by address: {text}");
        assert!(report.hosts.is_empty(), "and forgotten");
        let mut summary = feed(&mut report, "198.18.0.3", None, ports());
        summary.counts.clear();
        report.finish(&summary).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        assert_eq!(text.matches("scan report for").count(), 3, "{text}");
        assert!(
            text.contains("\n\nportolan scan report for 198.18.0.3"),
            "{text}"
        );
        assert!(text.contains("Scanned 3 hosts,"), "{text}");
    }

    fn service(name: &str, method: Method) -> Service {
        Service {
            name: name.into(),
            product: None,
            version: None,
            info: None,
            cpe: Vec::new(),
            method,
            confidence: 10,
            soft: false,
            banner: None,
            tls: None,
            http: None,
        }
    }

    #[test]
    fn probed_services_fill_service_and_version() {
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let endpoint = |port| Endpoint {
            addr: "127.0.0.1".parse().unwrap(),
            port,
            name: None,
            proto: Protocol::Tcp,
        };
        let ssh = Service {
            product: Some("OpenSSH".into()),
            version: Some("9.2p1".into()),
            info: Some("Debian-2+deb12u3; protocol 2.0".into()),
            ..service("ssh", Method::Banner)
        };
        let https = Service {
            product: Some("nginx".into()),
            http: Some(HttpInfo {
                status: Some(302),
                location: Some("/login".into()),
                title: Some("Lab\x1b[2J".into()),
                server: None,
            }),
            tls: Some(TlsInfo {
                version: Some("TLSv1.3".into()),
                subject_cn: Some("lab.test".into()),
                not_after: Some("Dec 1 2030".into()),
                ..TlsInfo::default()
            }),
            ..service("https", Method::Probed)
        };
        let guess = Service {
            banner: Some(b"\x1b]0;pwned\x07hi\r\n".to_vec()),
            confidence: 1,
            soft: false,
            ..service("http", Method::Port)
        };
        let mut summary = Summary {
            complete: true,
            ..Summary::default()
        };
        for (port, s) in [
            (22, ssh),
            (443, https),
            (8080, guess),
            (9999, service("unknown", Method::Probed)),
        ] {
            let r = PortResult {
                service: Some(Box::new(s)),
                ..PortResult::new(
                    endpoint(port),
                    Reason::SynAck,
                    Some(Duration::from_micros(80)),
                    1,
                )
            };
            *summary.counts.entry((r.state, r.reason)).or_default() += 1;
            report.result(&r).unwrap();
        }
        report.finish(&summary).unwrap();
        insta::assert_snapshot!(String::from_utf8(report.into_inner()).unwrap());
    }

    #[test]
    fn regression_a_sweep_of_quiet_hosts_is_folded_into_counts() {
        // 127.0.0.0/8 -p 80 grew the table by ~630 bytes per closed host.
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let mut summary = Summary {
            complete: true,
            ..Summary::default()
        };
        let n: u32 = 3 * QUIET_HOSTS as u32;
        for i in 0..n {
            let addr = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
            let reason = if i % 1000 == 7 {
                Reason::NoResponse
            } else {
                Reason::ConnRefused
            };
            let s = feed(&mut report, &addr, None, [(80, reason)].into_iter());
            summary.counts.extend(s.counts);
            assert!(report.hosts.len() <= QUIET_HOSTS + 1, "host {i} kept");
        }
        // A host folded already, whose open port comes later, is listed from then on.
        feed(
            &mut report,
            "10.0.0.9",
            None,
            [(22, Reason::SynAck)].into_iter(),
        );
        feed(
            &mut report,
            "10.0.0.9",
            None,
            [(23, Reason::ConnRefused)].into_iter(),
        );
        assert_eq!(report.hosts.len(), 1);
        report.finish(&summary).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        let expect = format!(
            "Hosts with no open port (more than {QUIET_HOSTS}, folded into counts)\n\
             Not shown: {} closed (conn-refused), 13 filtered (no-response)\n",
            n - 13
        );
        assert!(text.contains(&expect), "{text}");
        assert!(
            text.contains("portolan scan report for 10.0.0.9\n"),
            "{text}"
        );
        assert!(text.contains("22/tcp     open"), "{text}");
        assert!(text.contains("23/tcp     closed"), "{text}");
        assert!(
            text.contains("Scanned 1 host with an open port, more without"),
            "{text}"
        );
    }

    #[test]
    fn a_few_quiet_hosts_are_still_listed() {
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let s = feed(
            &mut report,
            "10.0.0.1",
            None,
            [(80, Reason::ConnRefused)].into_iter(),
        );
        report.finish(&s).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        assert!(text.contains("80/tcp     closed"), "{text}");
        assert!(!text.contains("folded"), "{text}");
    }

    #[test]
    fn open_only_hides_hosts_without_open_ports() {
        let mut report = TableReport::new(Vec::new(), Colour::Always, true);
        let mut s = feed(&mut report, "198.18.0.1", None, lab_ports());
        let s2 = feed(
            &mut report,
            "198.18.0.2",
            None,
            (1..=10).map(|p| (p, Reason::ConnRefused)),
        );
        s.counts.extend(s2.counts);
        report.finish(&s).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        assert!(text.contains("\x1b[32mopen"));
        assert!(!text.contains("198.18.0.2"));
        assert!(!text.contains("2500/tcp"), "only open ports are listed");
    }

    #[test]
    fn the_summary_says_when_an_icmp_limit_shaped_the_scan() {
        let mut report = TableReport::new(Vec::new(), Colour::Never, false);
        let mut s = feed(&mut report, "198.18.0.1", None, lab_ports());
        s.icmp_limited = vec![("198.18.0.1".parse().unwrap(), Duration::from_secs(1))];
        report.finish(&s).unwrap();
        let text = String::from_utf8(report.into_inner()).unwrap();
        assert!(
            text.contains(
                "ICMP rate limit: 198.18.0.1 answers closed UDP ports once every 1000 ms"
            ),
            "{text}"
        );
    }
}
