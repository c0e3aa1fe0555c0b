//! Port lists: parsing `-p` specifications and the `--top-ports` ranking.
//!
//! A [`PortList`] is sorted and free of duplicates; port 0, reversed ranges and
//! numbers above 65535 are errors, never silently fixed.

use std::fmt::{self, Write as _};
use std::num::NonZeroU16;

use crate::services;

/// Why a port specification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortSpecError {
    #[error("empty port specification")]
    /// Nothing was given.
    Empty,
    #[error("port {} is not a number from 1 to 65535", crate::file::quote(.0))]
    /// A word that is not a port number.
    NotAPort(String),
    #[error("port 0 cannot be scanned")]
    /// Port 0, which cannot be scanned.
    Zero,
    #[error("port range {lo}-{hi} is reversed")]
    /// A range whose end is below its start.
    Reversed {
        /// The start as given.
        lo: u16,
        /// The end as given.
        hi: u16,
    },
    #[error("the number of top ports must be from 1 to 65535, not {0}")]
    /// A count of top ports outside 1..=65535.
    TopCount(usize),
}

/// A TCP port number, never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port(NonZeroU16);

impl Port {
    /// Checks a port number: `None` for 0.
    pub fn new(n: u16) -> Option<Self> {
        NonZeroU16::new(n).map(Port)
    }

    /// The port number.
    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A sorted, de-duplicated, non-empty list of ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortList {
    ports: Vec<u16>,
}

impl PortList {
    /// Parses `22,80,8000-8100`; `-` alone, `N-` and `-N` are open-ended ranges.
    pub fn parse(spec: &str) -> Result<Self, PortSpecError> {
        let mut ports = Vec::new();
        for part in spec.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(PortSpecError::Empty);
            }
            match part.split_once('-') {
                None => ports.push(parse_port(part)?),
                Some((lo, hi)) => {
                    let lo = if lo.trim().is_empty() {
                        1
                    } else {
                        parse_port(lo)?
                    };
                    let hi = if hi.trim().is_empty() {
                        65535
                    } else {
                        parse_port(hi)?
                    };
                    if lo > hi {
                        return Err(PortSpecError::Reversed { lo, hi });
                    }
                    ports.extend(lo..=hi);
                }
            }
        }
        Self::from_ports(ports).ok_or(PortSpecError::Empty)
    }

    /// Every port, 1 to 65535.
    pub fn all() -> Self {
        PortList {
            ports: (1..=65535).collect(),
        }
    }

    /// The `n` highest-ranked ports of our own ranking (see [`services::RANKING`]),
    /// followed, past the end of the ranking, by the remaining ports in ascending order.
    pub fn top(n: usize) -> Result<Self, PortSpecError> {
        Self::top_of(&services::RANKING, n)
    }

    /// The `n` highest-ranked UDP ports of our own UDP ranking (see
    /// [`services::UDP_RANKING`]), then the remaining ports in ascending order.
    pub fn top_udp(n: usize) -> Result<Self, PortSpecError> {
        Self::top_of(&services::UDP_RANKING, n)
    }

    /// The first `n` ports of `ranking`, then the remaining ports in ascending order
    /// (each port once).
    fn top_of(ranking: &[u16], n: usize) -> Result<Self, PortSpecError> {
        if n == 0 || n > 65535 {
            return Err(PortSpecError::TopCount(n));
        }
        let mut seen = vec![false; 65536];
        let ranked = ranking
            .iter()
            .copied()
            .chain(1..=65535)
            .filter(|&p| !std::mem::replace(&mut seen[usize::from(p)], true))
            .take(n);
        Ok(Self::from_ports(ranked.collect()).unwrap_or_else(Self::all))
    }

    /// Sorts and de-duplicates; `None` when empty or when it contains 0.
    pub fn from_ports(mut ports: Vec<u16>) -> Option<Self> {
        if ports.is_empty() || ports.contains(&0) {
            return None;
        }
        ports.sort_unstable();
        ports.dedup();
        Some(PortList { ports })
    }

    /// How many ports.
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether the list has no port (never, once checked).
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// The ports, ascending, each once.
    pub fn as_slice(&self) -> &[u16] {
        &self.ports
    }

    /// The list without the ports of `other` (`--exclude-ports`); `None` when
    /// nothing is left.
    pub fn without(&self, other: &PortList) -> Option<Self> {
        let left: Vec<u16> = self
            .ports
            .iter()
            .copied()
            .filter(|&p| !other.contains(p))
            .collect();
        (!left.is_empty()).then_some(PortList { ports: left })
    }

    /// Whether `port` is in the list.
    pub fn contains(&self, port: u16) -> bool {
        self.ports.binary_search(&port).is_ok()
    }

    /// A compact form: `1-1024,8080`.
    pub fn to_spec(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.ports.len() {
            let start = self.ports[i];
            let mut end = start;
            while i + 1 < self.ports.len() && self.ports[i + 1] == end + 1 {
                i += 1;
                end = self.ports[i];
            }
            if !out.is_empty() {
                out.push(',');
            }
            let _ = if start == end {
                write!(out, "{start}")
            } else {
                write!(out, "{start}-{end}")
            };
            i += 1;
        }
        out
    }
}

fn parse_port(text: &str) -> Result<u16, PortSpecError> {
    let text = text.trim();
    let n: u32 = text
        .parse()
        .map_err(|_| PortSpecError::NotAPort(text.to_owned()))?;
    match n {
        0 => Err(PortSpecError::Zero),
        1..=65535 => Ok(n as u16),
        _ => Err(PortSpecError::NotAPort(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_lists_and_ranges() {
        let p = PortList::parse("80,22,8000-8002,22").unwrap();
        assert_eq!(p.as_slice(), &[22, 80, 8000, 8001, 8002]);
        assert_eq!(p.to_spec(), "22,80,8000-8002");
    }

    #[test]
    fn open_ended_ranges() {
        assert_eq!(PortList::parse("-").unwrap().len(), 65535);
        assert_eq!(PortList::parse("65530-").unwrap().len(), 6);
        assert_eq!(PortList::parse("-3").unwrap().as_slice(), &[1, 2, 3]);
    }

    #[test]
    fn refuses_bad_ports() {
        assert_eq!(PortList::parse("0"), Err(PortSpecError::Zero));
        assert_eq!(PortList::parse("0-10"), Err(PortSpecError::Zero));
        assert_eq!(
            PortList::parse("100-10"),
            Err(PortSpecError::Reversed { lo: 100, hi: 10 })
        );
        assert!(matches!(
            PortList::parse("65536"),
            Err(PortSpecError::NotAPort(_))
        ));
        assert!(matches!(
            PortList::parse("http"),
            Err(PortSpecError::NotAPort(_))
        ));
        assert_eq!(PortList::parse("22,,80"), Err(PortSpecError::Empty));
        assert_eq!(PortList::parse(""), Err(PortSpecError::Empty));
    }

    #[test]
    fn top_ports_are_ranked_and_exact_in_count() {
        let top = PortList::top(1000).unwrap();
        assert_eq!(top.len(), 1000);
        for p in [22, 80, 443, 3389, 8080] {
            assert!(top.contains(p), "{p} missing from top 1000");
        }
        assert_eq!(PortList::top(1).unwrap().len(), 1);
        assert_eq!(PortList::top(65535).unwrap().len(), 65535);
        assert!(PortList::top(0).is_err());
        assert!(PortList::top(65536).is_err());
    }

    #[test]
    fn without_leaves_out_ports_and_keeps_the_ranking_order_sorted() {
        let p = PortList::parse("20-25,80").unwrap();
        let left = p
            .without(&PortList::parse("22-23,80,9999").unwrap())
            .unwrap();
        assert_eq!(left.as_slice(), &[20, 21, 24, 25]);
        assert!(p.without(&PortList::all()).is_none());
    }

    #[test]
    fn regression_a_huge_bad_port_is_not_echoed_whole() {
        let e = PortList::parse(&"9".repeat(1_000_000))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 200, "{} bytes", e.len());
    }

    proptest! {
        #[test]
        fn spec_round_trips(ports in proptest::collection::vec(1u16..=65535, 1..200)) {
            let list = PortList::from_ports(ports).unwrap();
            prop_assert_eq!(PortList::parse(&list.to_spec()).unwrap(), list);
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = PortList::parse(&s);
        }
    }
}
