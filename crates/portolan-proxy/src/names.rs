//! Names a scan leaves for the proxy to resolve (`socks5h://`, HTTP CONNECT).
//!
//! A scan walks addresses: its order, its history, its outputs are keyed by
//! (address, name). A name the proxy resolves has no address here, and must not
//! get one from the local resolver (that is the point of `socks5h://`: the proxy
//! may see names this machine cannot resolve, and the lookup must not leak). So
//! each such name gets a stand-in from `0.0.0.0/8`, "this network" (RFC 1122
//! 3.2.1.3), which is never a destination: nothing real can be confused with it,
//! and a direct connect to it fails. The transport turns a stand-in back into its
//! name and sends the proxy a domain-name address; results carry the name, and
//! their address says only "resolved by the proxy".

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

/// More names than stand-ins (2^24 - 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than 16777215 names to leave to the proxy")]
pub struct TooManyNames;

/// Whether `addr` is a stand-in for a name the proxy resolves (in `0.0.0.0/8`).
pub fn is_stand_in(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V4(a) if a.octets()[0] == 0)
}

/// The names of one scan that the proxy resolves, each with its stand-in address.
#[derive(Debug, Default)]
pub struct RemoteNames {
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    by_name: HashMap<String, IpAddr>,
    by_addr: HashMap<IpAddr, String>,
}

impl RemoteNames {
    /// The stand-in of `name`: the same every time for one name, a new one (in the
    /// order names are first given) for each other.
    pub fn stand_in(&self, name: &str) -> Result<IpAddr, TooManyNames> {
        let mut t = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(&a) = t.by_name.get(name) {
            return Ok(a);
        }
        let n = u32::try_from(t.by_name.len() + 1).map_err(|_| TooManyNames)?;
        if n >= 1 << 24 {
            return Err(TooManyNames);
        }
        let addr = IpAddr::V4(Ipv4Addr::from(n));
        t.by_name.insert(name.to_owned(), addr);
        t.by_addr.insert(addr, name.to_owned());
        Ok(addr)
    }

    /// Every stand-in and its name.
    pub fn table(&self) -> HashMap<IpAddr, String> {
        let t = self
            .table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        t.by_addr.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_has_one_stand_in_none_of_them_a_destination() {
        let names = RemoteNames::default();
        let a = names.stand_in("lab.portolan.test").unwrap();
        let b = names.stand_in("other.test").unwrap();
        assert_eq!(a, "0.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(b, "0.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(names.stand_in("lab.portolan.test").unwrap(), a);
        assert!(is_stand_in(a) && is_stand_in(b));
        assert!(!is_stand_in("198.18.0.1".parse().unwrap()));
        assert!(!is_stand_in("::1".parse().unwrap()));
        assert_eq!(names.table()[&b], "other.test");
    }
}
