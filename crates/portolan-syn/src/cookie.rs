//! Keyed initial sequence numbers: the proof that a reply answers our SYN.
//!
//! The sequence number of the SYN to a 4-tuple is SipHash-1-3, under a key drawn at
//! random for each scan, of that 4-tuple. A SYN-ACK or reset must acknowledge it plus
//! one, and an ICMP error must quote it; so a reply is checked with no table of what
//! was sent, and a forged or stray reply (another scan, an old connection, a spoofer
//! who cannot see our SYNs) fails the check with probability 2^-32. Retries of a probe
//! reuse the same number, so a late answer to the first try still counts.

use std::hash::Hasher;
use std::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher13;

/// The per-scan key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Cookie {
    k0: u64,
    k1: u64,
}

impl std::fmt::Debug for Cookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cookie(..)")
    }
}

impl Cookie {
    /// A key from the operating system's random source.
    pub fn random() -> Result<Self, getrandom::Error> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)?;
        let (k0, k1) = b.split_at(8);
        Ok(Cookie {
            k0: u64::from_le_bytes(k0.try_into().unwrap_or_default()),
            k1: u64::from_le_bytes(k1.try_into().unwrap_or_default()),
        })
    }

    /// A fixed key, for tests and reproducible simulations.
    pub fn from_key(k0: u64, k1: u64) -> Self {
        Cookie { k0, k1 }
    }

    fn hash(&self, domain: u8, local: SocketAddr, remote: SocketAddr) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.k0, self.k1);
        h.write_u8(domain);
        for a in [local, remote] {
            match a.ip() {
                IpAddr::V4(ip) => h.write(&ip.octets()),
                IpAddr::V6(ip) => h.write(&ip.octets()),
            }
            h.write_u16(a.port());
        }
        h.finish()
    }

    /// The sequence number of the SYN from `local` to `remote`.
    pub fn isn(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        self.hash(0, local, remote) as u32
    }

    /// A per-flow number for the fields a SYN should vary (timestamp offset, IPv4
    /// identification, IPv6 flow label), independent of the sequence number.
    pub fn flow(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        self.hash(1, local, remote) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn isn_depends_on_key_and_every_part_of_the_tuple() {
        let c = Cookie::from_key(1, 2);
        let base = c.isn(sa("10.0.0.1:40000"), sa("10.0.0.2:80"));
        assert_eq!(base, c.isn(sa("10.0.0.1:40000"), sa("10.0.0.2:80")));
        for (l, r) in [
            ("10.0.0.3:40000", "10.0.0.2:80"),
            ("10.0.0.1:40001", "10.0.0.2:80"),
            ("10.0.0.1:40000", "10.0.0.4:80"),
            ("10.0.0.1:40000", "10.0.0.2:81"),
            ("10.0.0.2:80", "10.0.0.1:40000"),
        ] {
            assert_ne!(base, c.isn(sa(l), sa(r)), "{l} {r}");
        }
        let other = Cookie::from_key(1, 3);
        assert_ne!(base, other.isn(sa("10.0.0.1:40000"), sa("10.0.0.2:80")));
        assert_ne!(base, c.flow(sa("10.0.0.1:40000"), sa("10.0.0.2:80")));
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(Cookie::random().unwrap(), Cookie::random().unwrap());
    }
}
