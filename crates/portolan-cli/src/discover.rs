//! `scan -sn` and `scan --discover`: which hosts are up, before (or instead of)
//! the port scan.
//!
//! The engine's [`Discoverer`] decides; this module picks the pinger and the
//! methods, from what the process may do:
//!
//! - with `CAP_NET_RAW` (and without `--unprivileged`): raw ICMP echo and
//!   timestamp, a raw SYN to 443 and a raw ACK to 80 (the SYN scan's transport;
//!   the ACK finds hosts behind stateless filters that drop SYNs, since an up
//!   host resets an ACK of no connection), and ARP / IPv6 neighbour discovery
//!   for hosts on a directly connected Ethernet network;
//! - without it: ICMP echo through ping sockets, when `net.ipv4.ping_group_range`
//!   lets the process's group open one (else a note says why there is no ICMP),
//!   and TCP connect pings to 80, 443 and 22.
//!
//! A TCP ping is a `connect()`: an accepted or a refused connection both mean up.

use std::net::IpAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use portolan_engine::{Discoverer, EngineError, HostSummary, IcmpMode, PingMethod, SocketPinger};
use portolan_target::{HostBlock, TargetSet};

use crate::reports::Reports;
use crate::request::{DiscoveryConfig, PingMode};

/// The pings of a process with `CAP_NET_RAW`, nmap's: a raw SYN to 443 and a raw
/// ACK to 80 (through the SYN scan's transport).
const PRIVILEGED: &[PingMethod] = &[
    PingMethod::Echo,
    PingMethod::Timestamp,
    PingMethod::Syn(443),
    PingMethod::Ack(80),
    PingMethod::Neighbor,
];

/// The same when the SYN transport cannot be set up: a connect to 443 instead.
const PRIVILEGED_NO_SYN: &[PingMethod] = &[
    PingMethod::Echo,
    PingMethod::Timestamp,
    PingMethod::Connect(443),
    PingMethod::Connect(80),
    PingMethod::Neighbor,
];

/// The pings of a process without it (ICMP echo only where ping sockets open).
const UNPRIVILEGED: &[PingMethod] = &[
    PingMethod::Echo,
    PingMethod::Connect(80),
    PingMethod::Connect(443),
    PingMethod::Connect(22),
];

/// Hosts pinged at once, at most (each with one ping per method in flight).
const MAX_HOSTS: usize = 1024;

/// What discovery found: the hosts up, for the port scan, and its summary.
pub struct Found {
    pub up: Vec<(IpAddr, Option<Arc<str>>)>,
    pub summary: HostSummary,
}

impl Found {
    /// The hosts found up as a target set; `None` when none is.
    pub fn targets(&self) -> Option<TargetSet> {
        let blocks: Vec<HostBlock> = self
            .up
            .iter()
            .map(|(addr, name)| match name {
                Some(name) => HostBlock::Named {
                    name: name.clone(),
                    addr: *addr,
                },
                None => HostBlock::Range {
                    start: *addr,
                    count: 1,
                },
            })
            .collect();
        TargetSet::from_blocks(blocks).ok()
    }
}

/// The pinger and its methods for `mode`, with a note when ICMP is not possible.
fn pinger(mode: PingMode) -> anyhow::Result<(SocketPinger, &'static [PingMethod], Option<String>)> {
    // The identifier of raw echo requests: this process's, as ping(8) does.
    let ident = (std::process::id() & 0xffff) as u16;
    if mode == PingMode::Auto {
        let raw =
            SocketPinger::new(IcmpMode::Raw, ident).context("cannot create the event poller")?;
        if raw.icmp_unavailable().is_none() {
            let transports = portolan_syn::SynTransport::new()
                .and_then(|syn| Ok((syn, portolan_syn::SynTransport::ack_pings()?)));
            return Ok(match transports {
                Ok((syn, ack)) => (
                    raw.with_raw_tcp(Box::new(syn))
                        .and_then(|p| p.with_raw_ack(Box::new(ack)))
                        .context("cannot add the SYN socket to the event poller")?,
                    PRIVILEGED,
                    None,
                ),
                Err(e) => (
                    raw,
                    PRIVILEGED_NO_SYN,
                    Some(format!("no SYN pings ({e}); TCP connects instead")),
                ),
            });
        }
    }
    let dgram =
        SocketPinger::new(IcmpMode::Datagram, ident).context("cannot create the event poller")?;
    let note = dgram.icmp_unavailable().map(|e| {
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").map_or_else(
            |_| "unknown".into(),
            |r| r.split_whitespace().collect::<Vec<_>>().join(" "),
        );
        format!(
            "no ICMP echo ({e}): net.ipv4.ping_group_range is `{range}`, which does not hold this process's group {}; discovery uses TCP pings only (allow the group with `sysctl net.ipv4.ping_group_range`, or give raw sockets)",
            std::fs::metadata("/proc/self").map_or_else(|_| "?".into(), |m| {
                use std::os::unix::fs::MetadataExt;
                m.gid().to_string()
            })
        )
    });
    Ok((dgram, UNPRIVILEGED, note))
}

/// Pings every host of `targets`, reporting each one to `sink`.
pub fn run(
    cfg: &DiscoveryConfig,
    targets: &TargetSet,
    cancel: &Arc<AtomicBool>,
    sink: &mut Reports,
) -> anyhow::Result<Found> {
    let (mut pinger, methods, note) = pinger(cfg.mode)?;
    if let Some(note) = note {
        eprintln!("portolan: note: {note}");
    }
    let file_limit = usize::try_from(portolan_engine::file_limit()).unwrap_or(usize::MAX);
    let max_hosts = MAX_HOSTS.min((file_limit / (methods.len() + 1)).max(1));
    let hosts = (0..targets.hosts())
        .filter_map(|i| targets.host_at(i).map(|(addr, name)| (addr, name.cloned())));
    let mut collect = Collect {
        sink,
        up: Vec::new(),
    };
    let summary = Discoverer::new(cfg.timing, max_hosts)
        .cancel_flag(cancel.clone())
        .run(hosts, targets.hosts(), methods, &mut pinger, &mut collect)
        .map_err(|e: EngineError| anyhow::Error::new(e).context("host discovery failed"))?;
    Ok(Found {
        up: collect.up,
        summary,
    })
}

/// Passes host results to the reports and keeps the hosts that are up.
struct Collect<'a> {
    sink: &'a mut Reports,
    up: Vec<(IpAddr, Option<Arc<str>>)>,
}

impl portolan_engine::HostSink for Collect<'_> {
    fn host(&mut self, r: &portolan_engine::HostResult) -> Result<(), portolan_engine::SinkError> {
        if r.is_up() {
            self.up.push((r.addr, r.name.clone()));
        }
        self.sink.host(r)
    }
}
