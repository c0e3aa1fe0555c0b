//! The per-host cap (`--max-host-concurrency`): at most so many probes in flight to
//! one address, with the pairs that must wait parked per host.
//!
//! Why park rather than skip ahead in the order or re-queue at the back: the order
//! is a keyed permutation walked once, and the scheduler must stay in constant
//! memory. A pair whose host is at its cap waits in that host's queue, and the
//! moment one of the host's probes leaves, the oldest waiting pair of that host is
//! handed back (to be sent before anything new). How many pairs may be parked in
//! all is the scheduler's decision (it stops drawing new pairs past a bound), not
//! this type's.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroUsize;

/// Probes in flight per host, and the pairs waiting for their host.
#[derive(Debug)]
pub(crate) struct HostCaps<P> {
    cap: Option<NonZeroUsize>,
    active: HashMap<IpAddr, usize>,
    parked: HashMap<IpAddr, VecDeque<P>>,
    parked_count: usize,
}

impl<P> HostCaps<P> {
    /// With no cap, every method but [`Self::admits`] (always true) does nothing.
    pub(crate) fn new(cap: Option<NonZeroUsize>) -> Self {
        HostCaps {
            cap,
            active: HashMap::new(),
            parked: HashMap::new(),
            parked_count: 0,
        }
    }

    /// Whether one more probe to `addr` stays within the cap.
    pub(crate) fn admits(&self, addr: IpAddr) -> bool {
        self.cap
            .is_none_or(|cap| self.active.get(&addr).copied().unwrap_or(0) < cap.get())
    }

    /// Keeps `probe` until a probe to `addr` leaves.
    pub(crate) fn park(&mut self, addr: IpAddr, probe: P) {
        self.parked.entry(addr).or_default().push_back(probe);
        self.parked_count += 1;
    }

    /// Pairs waiting for their host, in all.
    pub(crate) fn parked(&self) -> usize {
        self.parked_count
    }

    /// Takes every pair parked for `addr` (its host was stopped).
    pub(crate) fn drain(&mut self, addr: IpAddr) -> VecDeque<P> {
        let queue = self.parked.remove(&addr).unwrap_or_default();
        self.parked_count -= queue.len();
        queue
    }

    /// A probe to `addr` went out.
    pub(crate) fn started(&mut self, addr: IpAddr) {
        if self.cap.is_some() {
            *self.active.entry(addr).or_default() += 1;
        }
    }

    /// A probe to `addr` left (answered, expired or put back); returns the host's
    /// oldest parked pair, which now fits.
    pub(crate) fn finished(&mut self, addr: IpAddr) -> Option<P> {
        self.cap?;
        if let Some(n) = self.active.get_mut(&addr) {
            *n -= 1;
            if *n == 0 {
                self.active.remove(&addr);
            }
        }
        let queue = self.parked.get_mut(&addr)?;
        let probe = queue.pop_front();
        if probe.is_some() {
            self.parked_count -= 1;
        }
        if queue.is_empty() {
            self.parked.remove(&addr);
        }
        probe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn no_cap_admits_everything_and_keeps_no_state() {
        let mut caps: HostCaps<u16> = HostCaps::new(None);
        for _ in 0..1000 {
            assert!(caps.admits(ip(1)));
            caps.started(ip(1));
        }
        assert!(caps.active.is_empty());
        assert_eq!(caps.finished(ip(1)), None);
    }

    #[test]
    fn the_cap_holds_per_host() {
        let mut caps: HostCaps<u16> = HostCaps::new(NonZeroUsize::new(2));
        caps.started(ip(1));
        assert!(caps.admits(ip(1)));
        caps.started(ip(1));
        assert!(!caps.admits(ip(1)), "two in flight, cap two");
        assert!(caps.admits(ip(2)), "another host is not held back");
        caps.finished(ip(1));
        assert!(caps.admits(ip(1)));
    }

    #[test]
    fn parked_pairs_come_back_oldest_first_when_their_host_frees_up() {
        let mut caps = HostCaps::new(NonZeroUsize::new(1));
        caps.started(ip(1));
        caps.started(ip(2));
        caps.park(ip(1), 22);
        caps.park(ip(1), 80);
        caps.park(ip(2), 443);
        assert_eq!(caps.parked(), 3);
        assert_eq!(caps.finished(ip(1)), Some(22));
        assert_eq!(caps.parked(), 2);
        caps.started(ip(1));
        assert_eq!(caps.finished(ip(2)), Some(443));
        assert_eq!(caps.finished(ip(1)), Some(80));
        assert_eq!(caps.finished(ip(1)), None);
        assert_eq!(caps.parked(), 0);
        assert!(caps.parked.is_empty(), "empty queues are dropped");
    }

    #[test]
    fn hosts_leave_the_table_when_idle() {
        let mut caps: HostCaps<()> = HostCaps::new(NonZeroUsize::new(4));
        for last in 0..=255 {
            caps.started(ip(last));
        }
        for last in 0..=255 {
            caps.finished(ip(last));
        }
        assert!(caps.active.is_empty(), "memory follows what is in flight");
    }
}
