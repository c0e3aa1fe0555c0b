//! nmap-compatible XML (`-oX`), so that tools built for nmap read portolan's scans:
//! `ndiff` compares two of them and `xsltproc /usr/share/nmap/nmap.xsl` renders one.
//!
//! The document follows nmap's DTD (`/usr/share/nmap/nmap.dtd`) element by element;
//! the one deliberate difference is `scanner="portolan"`, which the DTD's
//! `(nmap)` enumeration does not list (tests check that this is the only one).
//! The header is written when the scan starts and each host when the scan ends
//! (results arrive in random order, so no host is complete before then); a
//! cancelled scan still ends the document properly with what was done.
//!
//! With host discovery (`-sn`, `--discover`), each host's `<status>` says what
//! it found (`state="up" reason="echo-reply"`); as nmap does without `-v`, hosts
//! found down are not listed, only counted in `<runstats><hosts down=...>`.
//!
//! Text from outside (host names, banners, service fields) is made safe the way
//! nmap does it: characters XML forbids, and every other control or bidi
//! character, become visible `\xNN` escapes, and markup characters become entities.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use portolan_engine::{HostResult, HostState, Method, PortResult, PortState, Summary};
use portolan_target::services;

use crate::clock::{unix, Utc};
use crate::hosts::{HostKey, HostView, Hosts};
use crate::text::clean;
use crate::{Report, RunInfo};

/// Escapes `s` for an XML attribute value or text node.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out
}

/// Writes nmap-style XML to `W`.
pub struct XmlReport<W: Write> {
    out: W,
    hosts: Hosts,
    /// Hosts written already (their group was done).
    written: u64,
    info: Option<RunInfo>,
}

impl<W: Write> XmlReport<W> {
    /// `open_only` lists only open ports (`--open`).
    pub fn new(out: W, open_only: bool) -> Self {
        XmlReport {
            out,
            hosts: Hosts::new(open_only),
            written: 0,
            info: None,
        }
    }

    /// The writer back, after [`Report::finish`].
    pub fn into_inner(self) -> W {
        self.out
    }
}

fn header(info: &RunInfo) -> String {
    let start = Utc::from(info.started).human();
    let mut scaninfo = String::new();
    // No port list (`-sn`): no `scaninfo`, as nmap writes for a ping scan.
    let scanned = if info.ports.is_empty() {
        Vec::new()
    } else {
        scaninfo_of(&info.ports)
    };
    for (kind, proto, spec) in scanned {
        let count = spec.split(',').map(port_count).sum::<u64>();
        let _ = writeln!(
            scaninfo,
            "<scaninfo type=\"{kind}\" protocol=\"{proto}\" numservices=\"{count}\" services=\"{}\"/>",
            escape(spec)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n\
         <?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n\
         <nmaprun scanner=\"portolan\" args=\"{}\" start=\"{}\" startstr=\"{start}\" version=\"{}\" xmloutputversion=\"1.05\">\n\
         {scaninfo}\
         <verbose level=\"0\"/>\n<debugging level=\"0\"/>\n",
        escape(&info.command_line),
        unix(info.started),
        env!("CARGO_PKG_VERSION"),
    ) + &info
        .shard
        .as_ref()
        .map(|s| format!("<!-- portolan {} -->\n", s.line()))
        .unwrap_or_default()
}

/// One `scaninfo` per protocol, as nmap writes them: the port list is plain for a
/// TCP scan, `U:...` for a UDP scan and `T:...,U:...` for both.
fn scaninfo_of(ports: &str) -> Vec<(&'static str, &'static str, &str)> {
    let tcp = ("connect", "tcp");
    let udp = ("udp", "udp");
    match (ports.strip_prefix("T:"), ports.strip_prefix("U:")) {
        (Some(rest), _) => match rest.split_once(",U:") {
            Some((t, u)) => vec![(tcp.0, tcp.1, t), (udp.0, udp.1, u)],
            None => vec![(tcp.0, tcp.1, rest)],
        },
        (None, Some(u)) => vec![(udp.0, udp.1, u)],
        (None, None) => vec![(tcp.0, tcp.1, ports)],
    }
}

fn port_count(range: &str) -> u64 {
    match range.split_once('-') {
        Some((a, b)) => match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(a), Ok(b)) if b >= a => b - a + 1,
            _ => 0,
        },
        None => u64::from(range.parse::<u16>().is_ok()),
    }
}

fn host(h: &HostView<'_>, time: u64, summary: &Summary) -> String {
    let mut t = String::new();
    let kind = if matches!(h.addr, IpAddr::V4(_)) {
        "ipv4"
    } else {
        "ipv6"
    };
    let (state, reason) = match h.status {
        Some(s) => (s.state.as_str(), s.reason.as_str()),
        None => ("up", "user-set"),
    };
    let _ = writeln!(t, "<host starttime=\"{time}\" endtime=\"{time}\"><status state=\"{state}\" reason=\"{reason}\" reason_ttl=\"0\"/>");
    let _ = writeln!(t, "<address addr=\"{}\" addrtype=\"{kind}\"/>", h.addr);
    match h.name {
        Some(n) => {
            let _ = writeln!(
                t,
                "<hostnames>\n<hostname name=\"{}\" type=\"user\"/>\n</hostnames>",
                escape(n)
            );
        }
        None => t.push_str("<hostnames>\n</hostnames>\n"),
    }
    if h.status.is_some() && h.ports.is_empty() && h.hidden.is_empty() {
        // Discovery only (`-sn`): nmap writes no `<ports>` then.
        if let Some(rtt) = h.status.and_then(|s| s.rtt) {
            let _ = writeln!(
                t,
                "<times srtt=\"{}\" rttvar=\"0\" to=\"100000\"/>",
                rtt.as_micros()
            );
        }
        t.push_str("</host>\n");
        return t;
    }
    t.push_str("<ports>");
    let mut extra: BTreeMap<PortState, Vec<(&str, u64, &str)>> = BTreeMap::new();
    for g in &h.hidden {
        extra
            .entry(g.state)
            .or_default()
            .push((g.reason.as_str(), g.count, g.proto.as_str()));
    }
    for (state, reasons) in extra {
        let total: u64 = reasons.iter().map(|r| r.1).sum();
        let _ = writeln!(t, "<extraports state=\"{state}\" count=\"{total}\">");
        for (reason, count, proto) in reasons {
            let _ = writeln!(
                t,
                "<extrareasons reason=\"{reason}\" count=\"{count}\" proto=\"{proto}\"/>"
            );
        }
        t.push_str("</extraports>\n");
    }
    for r in &h.ports {
        port(&mut t, r);
    }
    t.push_str("</ports>\n");
    host_marks(&mut t, h.addr, summary);
    t.push_str("</host>\n");
    t
}

/// A host that answers every port, or one stopped by `--max-open-per-host`, as a
/// host script result: an element nmap's own DTD has, so tools that read nmap's
/// XML show it rather than choke on it.
fn host_marks(t: &mut String, addr: IpAddr, summary: &Summary) {
    let all = summary.all_open(addr);
    let capped = summary.capped.iter().find(|(a, _)| *a == addr);
    if all.is_none() && capped.is_none() {
        return;
    }
    t.push_str("<hostscript>");
    if let Some(h) = all {
        let _ = write!(
            t,
            "<script id=\"all-open\" output=\"{}\"><elem key=\"all-open\">true</elem><elem key=\"reason\">{}</elem>",
            escape(&crate::marks::all_open_text(h)),
            portolan_engine::AllOpen::REASON
        );
        for c in &h.canaries {
            let _ = write!(t, "<elem key=\"canary\">{c}</elem>");
        }
        t.push_str("</script>");
    }
    if let Some((_, n)) = capped {
        let _ = write!(
            t,
            "<script id=\"max-open-per-host\" output=\"{}\"><elem key=\"not-scanned\">{n}</elem></script>",
            escape(&crate::marks::capped_text(*n))
        );
    }
    t.push_str("</hostscript>\n");
}

fn port(t: &mut String, r: &PortResult) {
    let _ = write!(
        t,
        "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>",
        r.endpoint.proto, r.endpoint.port, r.state, r.reason
    );
    match r.service.as_deref() {
        Some(s) => {
            let _ = write!(t, "<service name=\"{}\"", escape(&s.name));
            for (key, value) in [
                ("product", &s.product),
                ("version", &s.version),
                ("extrainfo", &s.info),
            ] {
                if let Some(v) = value {
                    let _ = write!(t, " {key}=\"{}\"", escape(v));
                }
            }
            let method = if s.method == Method::Port {
                "table"
            } else {
                "probed"
            };
            let tunnel = if s.tls.is_some() {
                " tunnel=\"ssl\""
            } else {
                ""
            };
            let _ = write!(
                t,
                "{tunnel} method=\"{method}\" conf=\"{}\">",
                s.confidence.min(10)
            );
            for cpe in &s.cpe {
                let _ = write!(t, "<cpe>{}</cpe>", escape(cpe));
            }
            t.push_str("</service>");
            if let Some(b) = &s.banner {
                let _ = write!(
                    t,
                    "<script id=\"banner\" output=\"{}\"/>",
                    escape(&portolan_text::escape_terminal(b))
                );
            }
            if let Some(title) = s.http.as_ref().and_then(|h| h.title.as_deref()) {
                let _ = write!(
                    t,
                    "<script id=\"http-title\" output=\"{}\"/>",
                    escape(title)
                );
            }
        }
        None => {
            if let Some(name) = services::name_of(r.endpoint.port, r.endpoint.proto) {
                let _ = write!(t, "<service name=\"{name}\" method=\"table\" conf=\"3\"/>");
            }
        }
    }
    t.push_str("</port>\n");
}

impl<W: Write> Report for XmlReport<W> {
    fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        self.out.write_all(header(info).as_bytes())?;
        self.info = Some(info.clone());
        self.out.flush()
    }

    fn result(&mut self, r: &PortResult) -> io::Result<()> {
        self.hosts.add(r);
        Ok(())
    }

    fn hosts_done(&mut self, keys: &[HostKey]) -> io::Result<()> {
        let done = self.hosts.take(keys);
        let now = unix(std::time::SystemTime::now());
        for h in done.views() {
            if h.status.is_some_and(|s| s.state == HostState::Down) {
                continue;
            }
            self.out
                .write_all(host(&h, now, &Summary::default()).as_bytes())?;
            self.written += 1;
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
        let started = self
            .info
            .as_ref()
            .map_or(std::time::UNIX_EPOCH, |i| i.started);
        let ended = started + summary.elapsed;
        let mut up = self.written;
        for h in self.hosts.views() {
            if h.status.is_some_and(|s| s.state == HostState::Down) {
                continue;
            }
            self.out
                .write_all(host(&h, unix(ended), summary).as_bytes())?;
            up += 1;
        }
        let (_, down) = self.hosts.discovered();
        let (exit, what) = if summary.complete {
            ("success", "done")
        } else {
            ("error", "interrupted")
        };
        let rate = summary
            .probes_per_second()
            .map_or_else(String::new, |r| format!(" ({r:.0} probes/s)"));
        let mut text = format!(
            "portolan {what} at {}; {up} host{} up scanned in {:.2} seconds{rate}",
            Utc::from(ended).human(),
            if up == 1 { "" } else { "s" },
            summary.elapsed.as_secs_f64()
        );
        // The ICMP rate limit verdict: in `finished`'s summary for people, and as a
        // `postscript` script (addresses and periods) for programs; both are valid
        // under nmap's DTD, which allows nothing new inside `runstats`.
        if !summary.icmp_limited.is_empty() {
            let mut output = String::new();
            let mut elems = String::new();
            for (i, (addr, period)) in summary.icmp_limited.iter().enumerate() {
                let ms = period.as_millis();
                let sep = if i == 0 { "" } else { ", " };
                let _ = write!(output, "{sep}{addr} every {ms} ms");
                let _ = write!(elems, "<elem key=\"{addr}\">{ms}</elem>");
            }
            let _ = write!(text, "; ICMP rate limit shaped the scan: {output}");
            writeln!(
                self.out,
                "<postscript><script id=\"icmp-ratelimit\" output=\"closed UDP ports answered once per period: {output}\">{elems}</script></postscript>"
            )?;
        }
        let errormsg = if summary.complete {
            String::new()
        } else {
            " errormsg=\"interrupted\"".to_owned()
        };
        write!(
            self.out,
            "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"{text}\" elapsed=\"{:.2}\" exit=\"{exit}\"{errormsg}/>\
             <hosts up=\"{up}\" down=\"{down}\" total=\"{}\"/>\n</runstats>\n</nmaprun>\n",
            unix(ended),
            Utc::from(ended).human(),
            summary.elapsed.as_secs_f64(),
            up + down,
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    pub fn render() -> String {
        fixture::render(XmlReport::new(Vec::new(), false), XmlReport::into_inner)
    }

    #[test]
    fn escapes_what_xml_forbids() {
        assert_eq!(
            escape("a<b>&\"'\u{1b}\u{0}\u{fffe}\u{202e}"),
            "a&lt;b&gt;&amp;&quot;&apos;\\x1b\\x00\\u{fffe}\\u{202e}"
        );
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(render());
    }

    #[test]
    fn valid_against_nmap_dtd() {
        crate::tools::check_xml(&render());
    }

    #[test]
    fn the_icmp_rate_limit_verdict_is_said_and_stays_valid() {
        let xml = fixture::render_limited(XmlReport::new(Vec::new(), false), XmlReport::into_inner);
        assert!(
            xml.contains("<postscript><script id=\"icmp-ratelimit\" output=\"closed UDP ports answered once per period: 198.18.0.1 every 1000 ms, 2001:db8::1 every 250 ms\"><elem key=\"198.18.0.1\">1000</elem><elem key=\"2001:db8::1\">250</elem></script></postscript>\n<runstats>"),
            "{xml}"
        );
        assert!(
            xml.contains("probes/s); ICMP rate limit shaped the scan: 198.18.0.1 every 1000 ms, 2001:db8::1 every 250 ms\""),
            "{xml}"
        );
        assert!(
            !render().contains("icmp-ratelimit"),
            "said only when it happened"
        );
        crate::tools::check_xml(&xml);
    }
}
