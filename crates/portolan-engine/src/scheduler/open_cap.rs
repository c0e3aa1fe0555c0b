//! `--max-open-per-host N`: stop scanning a host once N of its ports were found open.
//!
//! A sweep over many hosts meets a few that answer every port (SYN proxies, some
//! firewalls, tarpits); without a cap each of them costs the whole port list and
//! fills the reports with ports that mean nothing. Once a host has `N` open
//! results, the machine drops every pair of it that is still pending (queued
//! retries, parked and held pairs, probes in flight, whose sockets are cancelled)
//! and every pair the order yields for it later. Those pairs get no result, and
//! they are never lost silently either: each is counted here, per host, and the
//! [`Summary`](crate::Summary) lists the hosts stopped with how many of their
//! pairs were not scanned.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Open results per host, and the hosts stopped with the pairs they skipped.
#[derive(Debug, Default)]
pub(crate) struct OpenCap {
    cap: Option<NonZeroU32>,
    open: HashMap<IpAddr, u32>,
    stopped: HashMap<IpAddr, u64>,
}

impl OpenCap {
    /// No cap: nothing is counted and no host is ever stopped.
    pub(crate) fn new(cap: Option<NonZeroU32>) -> Self {
        OpenCap {
            cap,
            ..OpenCap::default()
        }
    }

    /// An open result for `addr`; true when this one reaches the cap (the host is
    /// stopped from now on).
    pub(crate) fn on_open(&mut self, addr: IpAddr) -> bool {
        let Some(cap) = self.cap else { return false };
        let n = self.open.entry(addr).or_default();
        *n += 1;
        if *n == cap.get() {
            self.stopped.insert(addr, 0);
            true
        } else {
            false
        }
    }

    /// Whether `addr` was stopped.
    pub(crate) fn is_stopped(&self, addr: IpAddr) -> bool {
        !self.stopped.is_empty() && self.stopped.contains_key(&addr)
    }

    /// Counts one pair of a stopped host as not scanned.
    pub(crate) fn skip(&mut self, addr: IpAddr) {
        if let Some(n) = self.stopped.get_mut(&addr) {
            *n += 1;
        }
    }

    /// Pairs not scanned, in all.
    pub(crate) fn skipped(&self) -> u128 {
        self.stopped.values().map(|&n| u128::from(n)).sum()
    }

    /// The hosts stopped, by address, with the pairs of each not scanned.
    pub(crate) fn stopped(&self) -> Vec<(IpAddr, u64)> {
        let mut v: Vec<_> = self.stopped.iter().map(|(a, n)| (*a, *n)).collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_host_stops_at_the_cap_and_counts_what_it_skips() {
        let mut cap = OpenCap::new(NonZeroU32::new(2));
        assert!(!cap.on_open(ip(1)));
        assert!(!cap.is_stopped(ip(1)));
        assert!(cap.on_open(ip(1)), "the second open port reaches the cap");
        assert!(!cap.on_open(ip(1)), "stopped once, not again");
        assert!(cap.is_stopped(ip(1)) && !cap.is_stopped(ip(2)));
        cap.skip(ip(1));
        cap.skip(ip(1));
        cap.skip(ip(2)); // not stopped: not counted
        assert_eq!(cap.stopped(), [(ip(1), 2)]);
        assert_eq!(cap.skipped(), 2);
    }

    #[test]
    fn no_cap_keeps_nothing() {
        let mut cap = OpenCap::new(None);
        for _ in 0..100 {
            assert!(!cap.on_open(ip(1)));
        }
        assert!(cap.open.is_empty() && cap.stopped().is_empty());
    }
}
