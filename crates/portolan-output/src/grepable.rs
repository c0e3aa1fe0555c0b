//! nmap's grepable format (`-oG`): one `Host:` line per host with its ports.
//!
//! ```text
//! # portolan 0.1.0 scan initiated 2024-05-01 12:00:00 UTC as: portolan scan ...
//! Host: 198.18.0.1 (lab.test)<TAB>Status: Up
//! Host: 198.18.0.1 (lab.test)<TAB>Ports: 22/open/tcp//ssh//OpenSSH 9.2p1/<TAB>Ignored State: closed (97)
//! # portolan done at 2024-05-01 12:00:01 UTC -- 2 IP addresses (2 hosts up) scanned in 0.78 seconds
//! ```
//! (`<TAB>` stands for a tab character.)
//!
//! Each port is `port/state/protocol/owner/service/rpc/version/`. As in nmap, `/`
//! inside a field becomes `|` and `,` becomes a space so that the fields split
//! cleanly; control and bidi characters are escaped (`\x1b`). When more than one
//! state is summarised, `Ignored State:` names them all, largest first.
//!
//! With host discovery (`-sn`, `--discover`) the `Status:` is what it found (`Up`
//! or `Down`); a down host has its `Status: Down` line and no ports, and the last
//! line counts up hosts as discovery found them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use portolan_engine::{HostResult, HostState, PortResult, PortState, Summary};
use portolan_target::services;

use crate::clock::Utc;
use crate::hosts::{HostKey, HostView, Hosts};
use crate::text::clean;
use crate::{Report, RunInfo};

/// Writes the grepable format to `W`.
pub struct GrepableReport<W: Write> {
    out: W,
    hosts: Hosts,
    /// Hosts written already (their group was done).
    written: usize,
    info: Option<RunInfo>,
}

impl<W: Write> GrepableReport<W> {
    /// A grepable report written to `out` at the end; `open_only` is `--open`.
    pub fn new(out: W, open_only: bool) -> Self {
        GrepableReport {
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

/// A field made safe for the `/`- and `,`-separated port list.
fn field(s: &str) -> String {
    clean(s).replace('/', "|").replace(',', " ")
}

fn port(r: &PortResult) -> String {
    let (name, version) = match r.service.as_deref() {
        Some(s) => {
            let parts: Vec<&str> = [&s.product, &s.version, &s.info]
                .into_iter()
                .filter_map(|p| p.as_deref())
                .collect();
            (field(&s.name), field(&parts.join(" ")))
        }
        None => (
            services::name_of(r.endpoint.port, r.endpoint.proto)
                .unwrap_or_default()
                .to_owned(),
            String::new(),
        ),
    };
    format!(
        "{}/{}/{}//{name}//{version}/",
        r.endpoint.port, r.state, r.endpoint.proto
    )
}

fn host(h: &HostView<'_>, summary: &Summary) -> String {
    let label = match h.name {
        Some(n) => format!("Host: {} ({})", h.addr, field(n)),
        None => format!("Host: {} ()", h.addr),
    };
    let status = match h.status.map(|s| s.state) {
        Some(HostState::Down) => "Down",
        Some(HostState::Up) | None => "Up",
    };
    let mut t = format!("{label}\tStatus: {status}\n");
    if h.ports.is_empty() && h.hidden.is_empty() {
        return t;
    }
    t.push_str(&label);
    if !h.ports.is_empty() {
        let ports: Vec<String> = h.ports.iter().map(|r| port(r)).collect();
        let _ = write!(t, "\tPorts: {}", ports.join(", "));
    }
    let mut ignored: BTreeMap<PortState, u64> = BTreeMap::new();
    for g in &h.hidden {
        *ignored.entry(g.state).or_default() += g.count;
    }
    let mut ignored: Vec<(PortState, u64)> = ignored.into_iter().collect();
    ignored.sort_by_key(|(state, n)| (std::cmp::Reverse(*n), *state));
    if !ignored.is_empty() {
        let list: Vec<String> = ignored.iter().map(|(s, n)| format!("{s} ({n})")).collect();
        let _ = write!(t, "\tIgnored State: {}", list.join(", "));
    }
    // Fields of our own, tab-separated like nmap's: readers that split on tabs
    // and look for the fields they know pass over them.
    if let Some(a) = summary.all_open(h.addr) {
        let _ = write!(
            t,
            "\tAll-open: {} ({})",
            portolan_engine::AllOpen::REASON,
            field(&crate::marks::all_open_text(a))
        );
    }
    if let Some((_, n)) = summary.capped.iter().find(|(a, _)| *a == h.addr) {
        let _ = write!(t, "\tNot scanned: {n} (max-open-per-host)");
    }
    t.push('\n');
    t
}

impl<W: Write> Report for GrepableReport<W> {
    fn start(&mut self, info: &RunInfo) -> io::Result<()> {
        writeln!(
            self.out,
            "# portolan {} scan initiated {} as: {}",
            env!("CARGO_PKG_VERSION"),
            Utc::from(info.started).human(),
            clean(&info.command_line)
        )?;
        if let Some(shard) = &info.shard {
            writeln!(self.out, "# portolan {}", shard.line())?;
        }
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
            self.out
                .write_all(host(&h, &Summary::default()).as_bytes())?;
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
        let mut listed = self.written;
        for h in self.hosts.views() {
            self.out.write_all(host(&h, summary).as_bytes())?;
            listed += 1;
        }
        let (found_up, found_down) = self.hosts.discovered();
        let (addresses, up) = if found_up + found_down > 0 {
            let total = usize::try_from(found_up + found_down).unwrap_or(usize::MAX);
            (total, usize::try_from(found_up).unwrap_or(usize::MAX))
        } else {
            (listed, listed)
        };
        let started = self
            .info
            .as_ref()
            .map_or(std::time::UNIX_EPOCH, |i| i.started);
        let what = if summary.complete {
            "done"
        } else {
            "interrupted"
        };
        let s = |n: usize| if n == 1 { "" } else { "es" };
        writeln!(
            self.out,
            "# portolan {what} at {} -- {addresses} IP address{} ({up} host{} up) scanned in {:.2} seconds",
            Utc::from(started + summary.elapsed).human(),
            s(addresses),
            if up == 1 { "" } else { "s" },
            summary.elapsed.as_secs_f64()
        )?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn snapshot() {
        let text = fixture::render(
            GrepableReport::new(Vec::new(), false),
            GrepableReport::into_inner,
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn open_only() {
        let text = fixture::render(
            GrepableReport::new(Vec::new(), true),
            GrepableReport::into_inner,
        );
        assert!(!text.contains("Host: 198.18.0.2"));
        assert!(!text.contains("filtered/tcp"));
    }
}
