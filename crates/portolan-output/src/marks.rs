//! The words every format uses for a host that answers every port
//! ([`AllOpen`], reason `wildcard`) and for a host stopped by
//! `--max-open-per-host` (its pairs not scanned), so that the table, the
//! grepable lines and the XML say the same thing.

use portolan_engine::AllOpen;

/// `answers every port (wildcard): canary ports 50001, 61234, 63000 open too; 1000 of
/// 1000 answered ports open[; -sV confirmed: 22/ssh, 80/http]`.
pub(crate) fn all_open_text(h: &AllOpen) -> String {
    let canaries: Vec<String> = h.canaries.iter().map(u16::to_string).collect();
    let mut text = format!(
        "answers every port ({}): canary ports {} open too; {} of {} answered ports open",
        AllOpen::REASON,
        canaries.join(", "),
        h.open,
        h.answered
    );
    text.push_str(&confirmed_text(h));
    text
}

/// `; -sV confirmed: 22/ssh, 80/http`, or nothing without identified services.
pub(crate) fn confirmed_text(h: &AllOpen) -> String {
    if h.identified.is_empty() {
        return String::new();
    }
    let found: Vec<String> = h
        .identified
        .iter()
        .map(|(port, name)| format!("{port}/{}", crate::clean(name)))
        .collect();
    format!("; -sV confirmed: {}", found.join(", "))
}

/// `990 ports not scanned (--max-open-per-host reached)`.
pub(crate) fn capped_text(skipped: u64) -> String {
    format!("{skipped} ports not scanned (--max-open-per-host reached)")
}

/// What the JSON formats say about a marked host: in the JSON document, fields of
/// the host; in NDJSON, a `{"host":{...}}` line at the end (with `addr`).
#[derive(serde::Serialize, Default)]
pub(crate) struct HostMark {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(rename = "all-open", skip_serializing_if = "std::ops::Not::not")]
    pub all_open: bool,
    #[serde(rename = "all-open-reason", skip_serializing_if = "Option::is_none")]
    pub all_open_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canaries: Option<Vec<u16>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<Vec<Confirmed>>,
    #[serde(rename = "not-scanned", skip_serializing_if = "Option::is_none")]
    pub not_scanned: Option<u64>,
}

/// A port `-sV` confirmed on an all-open host.
#[derive(serde::Serialize)]
pub(crate) struct Confirmed {
    pub port: u16,
    pub service: String,
}

impl HostMark {
    /// The marks of `addr` in `summary`; `None` when it has none.
    pub(crate) fn of(addr: std::net::IpAddr, summary: &portolan_engine::Summary) -> Option<Self> {
        let all = summary.all_open(addr);
        let capped = summary
            .capped
            .iter()
            .find(|(a, _)| *a == addr)
            .map(|(_, n)| *n);
        if all.is_none() && capped.is_none() {
            return None;
        }
        Some(HostMark {
            addr: None,
            all_open: all.is_some(),
            all_open_reason: all.map(|_| AllOpen::REASON),
            canaries: all.map(|h| h.canaries.clone()),
            confirmed: all.filter(|h| !h.identified.is_empty()).map(|h| {
                h.identified
                    .iter()
                    .map(|(port, name)| Confirmed {
                        port: *port,
                        service: name.clone(),
                    })
                    .collect()
            }),
            not_scanned: capped,
        })
    }

    /// Every marked host of `summary`, by address, each with its `addr`.
    pub(crate) fn all(summary: &portolan_engine::Summary) -> Vec<Self> {
        let mut addrs: Vec<std::net::IpAddr> = summary
            .all_open
            .iter()
            .map(|h| h.addr)
            .chain(summary.capped.iter().map(|(a, _)| *a))
            .collect();
        addrs.sort_unstable();
        addrs.dedup();
        addrs
            .into_iter()
            .filter_map(|a| {
                let mut m = Self::of(a, summary)?;
                m.addr = Some(a.to_string());
                Some(m)
            })
            .collect()
    }
}
