//! Splitting one scan over machines: `--shard I/N`, the spec hash and the seed
//! derived from it.
//!
//! Shards walk the same keyed order ([`crate::ScanOrder::shard`]): shard `I` of `N`
//! takes every `N`-th slot of the permuted walk from slot `I - 1`, so the shards are
//! disjoint and cover every pair whatever the sizes. That holds only if every shard
//! walks the same pair space with the same seed, so:
//!
//! - the **spec hash** names the pair space: a 64-bit FNV-1a hash, finished with
//!   splitmix64, of `portolan-spec-v1`, the protocol, every port of the list (two
//!   bytes each, in order) and the target set's canonical description
//!   ([`crate::TargetSet::describe`]: its blocks after resolution and merging, and
//!   its exclusions). It is printed as 16 hex digits. It is not a security
//!   boundary: it tells honest specs apart.
//! - without `--seed`, the **seed** is derived from the spec hash
//!   ([`derived_seed`]), so shards started on different machines agree without
//!   talking to each other.

use std::fmt;
use std::str::FromStr;

use portolan_model::Protocol;
use thiserror::Error;

use crate::ports::PortList;
use crate::spec::TargetSet;

/// Why `--shard` was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShardError {
    /// Not of the form `I/N` with two whole numbers (the text as given).
    #[error("expected I/N with 1 <= I <= N (e.g. 2/4), not {0:?}")]
    Syntax(String),
    /// Well formed, but I is 0 or greater than N.
    #[error("shard {index}/{count}: I must be from 1 to N")]
    OutOfRange {
        /// The I given.
        index: u64,
        /// The N given.
        count: u64,
    },
}

/// One shard of a scan: `index` from 1 to `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// `index` of `count`, both 1-based; `None` unless `1 <= index <= count`.
    pub fn new(index: u64, count: u64) -> Option<Self> {
        (index >= 1 && index <= count).then_some(Shard { index, count })
    }

    /// The whole scan as one shard.
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    /// `I`, from 1.
    pub fn index(self) -> u64 {
        self.index
    }

    /// `N`.
    pub fn count(self) -> u64 {
        self.count
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Self, ShardError> {
        let syntax = || ShardError::Syntax(text.to_owned());
        let (i, n) = text.trim().split_once('/').ok_or_else(syntax)?;
        let index: u64 = i.trim().parse().map_err(|_| syntax())?;
        let count: u64 = n.trim().parse().map_err(|_| syntax())?;
        Shard::new(index, count).ok_or(ShardError::OutOfRange { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The hash of a scan's pair space (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpecHash(pub u64);

impl SpecHash {
    /// The hash of `targets` × `ports` over `proto`.
    pub fn of(targets: &TargetSet, ports: &PortList, proto: Protocol) -> Self {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.feed(b"portolan-spec-v1\0");
        h.feed(proto.as_str().as_bytes());
        h.feed(b"\0");
        for p in ports.as_slice() {
            h.feed(&p.to_be_bytes());
        }
        h.feed(b"\0");
        targets.describe(&mut |bytes| h.feed(bytes));
        SpecHash(finish(h.0))
    }
}

impl fmt::Display for SpecHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for SpecHash {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(text, 16).map(SpecHash)
    }
}

/// The seed shards use when none was given: a function of the spec hash alone.
pub fn derived_seed(spec: SpecHash) -> u64 {
    finish(spec.0 ^ 0x7368_6172_642d_7365) // "shard-se"
}

struct Fnv(u64);

impl Fnv {
    fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn finish(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{SystemResolver, TargetSetBuilder};

    fn set(words: &[&str], exclude: &[&str]) -> TargetSet {
        let mut b = TargetSetBuilder::new();
        for w in words {
            b = b.target(w).unwrap();
        }
        for w in exclude {
            b = b.exclude(w).unwrap();
        }
        b.build(&SystemResolver).unwrap()
    }

    #[test]
    fn shard_syntax() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(" 1/1 ".parse(), Ok(Shard::WHOLE));
        for bad in ["0/4", "5/4", "1/0"] {
            assert!(matches!(
                bad.parse::<Shard>(),
                Err(ShardError::OutOfRange { .. })
            ));
        }
        for bad in ["", "2", "2/", "/4", "a/b", "-1/4", "1/4/2"] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(Shard::new(3, 8).unwrap().to_string(), "3/8");
    }

    #[test]
    fn spec_hash_names_the_pair_space() {
        let ports = PortList::parse("22,80").unwrap();
        let a = SpecHash::of(&set(&["10.0.0.0/24"], &[]), &ports, Protocol::Tcp);
        // Another spelling of the same hosts, and overlapping ranges merged.
        let b = SpecHash::of(
            &set(
                &[
                    "10.0.0.128/25",
                    "10.0.0.0/26",
                    "10.0.0.32/27",
                    "10.0.0.64/26",
                ],
                &[],
            ),
            &ports,
            Protocol::Tcp,
        );
        assert_eq!(a, b);
        let excluded = SpecHash::of(&set(&["10.0.0.0/24"], &["10.0.0.7"]), &ports, Protocol::Tcp);
        let other_ports = SpecHash::of(
            &set(&["10.0.0.0/24"], &[]),
            &PortList::parse("22,81").unwrap(),
            Protocol::Tcp,
        );
        let udp = SpecHash::of(&set(&["10.0.0.0/24"], &[]), &ports, Protocol::Udp);
        for other in [excluded, other_ports, udp] {
            assert_ne!(a, other);
        }
        // Endpoints are pairs of the space: one more, or another port, is another space.
        let with_endpoint = SpecHash::of(
            &set(&["10.0.0.0/24", "10.9.0.1:443"], &[]),
            &ports,
            Protocol::Tcp,
        );
        let other_endpoint = SpecHash::of(
            &set(&["10.0.0.0/24", "10.9.0.1:444"], &[]),
            &ports,
            Protocol::Tcp,
        );
        assert_ne!(a, with_endpoint);
        assert_ne!(with_endpoint, other_endpoint);
        assert_eq!(a.to_string().parse::<SpecHash>().unwrap(), a);
        assert_eq!(a.to_string().len(), 16);
        assert_ne!(derived_seed(a), derived_seed(excluded));
    }
}
