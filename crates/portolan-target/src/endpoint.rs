//! Explicit endpoints: `HOST:PORT`, `[v6]:PORT` and `HOST:PORT/udp` targets.
//!
//! Other tools print what they found as endpoints (naabu's `host:port`, masscan's
//! `-oL` list, nmap's `-oG`), and piping that into `portolan scan -iL -` should
//! scan (or, with `-sV`, identify) exactly those pairs, not every port of every
//! host. An endpoint is a target of its own kind: it names one host and one port
//! and is not crossed with the `-p` list. The [`TargetSet`](crate::TargetSet) keeps
//! them beside its host blocks, and the scan order walks both in one keyed
//! permutation (see [`crate::ScanOrder`]), so shards and `--resume` cover every
//! pair, endpoint or not, exactly once.
//!
//! What counts as an endpoint, word by word ([`EndpointSpec::parse`]):
//! - `[ADDR]:PORT` (any address in brackets, IPv6 in practice);
//! - `HOST:PORT` where HOST has no colon (an address, a name);
//! - either followed by `/tcp` or `/udp`.
//!
//! A word with two or more colons and no brackets is an IPv6 address, never an
//! endpoint: `2001:db8::1:80` is ambiguous, and we do not guess. Whole lines of
//! other tools' formats are recognised by [`line_endpoints`].

use portolan_model::Protocol;

use crate::file::quote;
use crate::spec::{SpecError, TargetSpec};

/// One endpoint as typed, its host checked for syntax but not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The host, without brackets.
    pub host: String,
    /// The port, 1 to 65535.
    pub port: u16,
    /// `/tcp` (the default) or `/udp`.
    pub proto: Protocol,
}

/// Why an endpoint word was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The port part is not a port number.
    #[error("endpoint {}: {} is not a port from 1 to 65535", quote(.word), quote(.port))]
    Port {
        /// The word as given.
        word: String,
        /// Its port part.
        port: String,
    },
    /// A protocol suffix other than `/tcp` or `/udp`.
    #[error("endpoint {}: the protocol must be /tcp or /udp", quote(.0))]
    Protocol(String),
    /// A bracket that is not closed, or text after it that is no port.
    #[error("endpoint {}: expected [ADDRESS]:PORT", quote(.0))]
    Brackets(String),
    /// The host names more than one address (a CIDR block, an octet range).
    #[error("endpoint {}: an endpoint names one host, not a block", quote(.0))]
    Block(String),
}

impl EndpointSpec {
    /// Reads `word` as an endpoint: `Ok(None)` when it is an ordinary target (an
    /// address, block or name without a port), an error when it is shaped like an
    /// endpoint but wrong.
    pub fn parse(word: &str) -> Result<Option<Self>, EndpointError> {
        let word = word.trim();
        let (hostport, proto) = match word.rsplit_once('/') {
            Some((head, p)) if head.contains(':') && !p.chars().all(|c| c.is_ascii_digit()) => {
                let proto = match p.to_ascii_lowercase().as_str() {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    _ => return Err(EndpointError::Protocol(word.to_owned())),
                };
                (head, proto)
            }
            _ => (word, Protocol::Tcp),
        };
        let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
            let Some((host, after)) = rest.split_once(']') else {
                return Err(EndpointError::Brackets(word.to_owned()));
            };
            if after.is_empty() {
                return Ok(None); // `[::1]`: an address in brackets, no port
            }
            let Some(port) = after.strip_prefix(':') else {
                return Err(EndpointError::Brackets(word.to_owned()));
            };
            (host, port)
        } else {
            match hostport.split_once(':') {
                Some((host, port)) if !port.contains(':') => (host, port),
                _ => return Ok(None),
            }
        };
        let port = match port.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                return Err(EndpointError::Port {
                    word: word.to_owned(),
                    port: port.to_owned(),
                })
            }
        };
        Ok(Some(EndpointSpec {
            host: host.to_owned(),
            port,
            proto,
        }))
    }

    /// The host as a target spec; an error unless it names one host.
    pub(crate) fn target(&self, word: &str) -> Result<TargetSpec, SpecError> {
        let spec = TargetSpec::parse(&self.host)?;
        match &spec {
            TargetSpec::Net(net) if net.prefix_len() == net.max_prefix_len() => Ok(spec),
            TargetSpec::Name(_) => Ok(spec),
            _ => Err(SpecError::Endpoint(EndpointError::Block(word.to_owned()))),
        }
    }
}

/// The endpoints of one line in another tool's format, or `None` when the line is
/// not one (it is then read word by word):
///
/// - masscan's list (`-oL`): `open tcp 22 198.18.0.1 1700000000` (only `open` lines;
///   its `#` comments are comments here too);
/// - nmap's grepable output (`-oG`): `Host: ADDR (NAME)<TAB>Ports: 22/open/tcp//ssh///, ...`
///   gives the open ports of ADDR; its `Host: ... Status: Up` lines give nothing.
pub fn line_endpoints(line: &str) -> Option<Vec<String>> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    match fields.as_slice() {
        ["open", proto @ ("tcp" | "udp"), port, addr, ts]
            if port.parse::<u16>().is_ok() && ts.chars().all(|c| c.is_ascii_digit()) =>
        {
            Some(vec![endpoint_word(addr, port, proto)])
        }
        ["Host:", addr, ..] => {
            let Some((_, ports)) = line.split_once("Ports: ") else {
                return Some(Vec::new());
            };
            let ports = ports.split('\t').next().unwrap_or_default();
            Some(
                ports
                    .split(',')
                    .filter_map(|entry| {
                        let mut f = entry.trim().split('/');
                        let (port, state, proto) = (f.next()?, f.next()?, f.next()?);
                        (state == "open").then(|| endpoint_word(addr, port, proto))
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn endpoint_word(addr: &str, port: &str, proto: &str) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}/{proto}")
    } else {
        format!("{addr}:{port}/{proto}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ep(host: &str, port: u16, proto: Protocol) -> EndpointSpec {
        EndpointSpec {
            host: host.into(),
            port,
            proto,
        }
    }

    #[test]
    fn endpoint_words() {
        let tcp = Protocol::Tcp;
        assert_eq!(
            EndpointSpec::parse("198.18.0.1:22"),
            Ok(Some(ep("198.18.0.1", 22, tcp)))
        );
        assert_eq!(
            EndpointSpec::parse("[2001:db8::1]:80"),
            Ok(Some(ep("2001:db8::1", 80, tcp)))
        );
        assert_eq!(
            EndpointSpec::parse("lab.example:443/tcp"),
            Ok(Some(ep("lab.example", 443, tcp)))
        );
        assert_eq!(
            EndpointSpec::parse("10.0.0.1:53/UDP"),
            Ok(Some(ep("10.0.0.1", 53, Protocol::Udp)))
        );
        for plain in [
            "198.18.0.1",
            "2001:db8::1",
            "[::1]",
            "10.0.0.0/24",
            "::1",
            "2001:db8::1:80",
        ] {
            assert_eq!(EndpointSpec::parse(plain), Ok(None), "{plain}");
        }
        for bad in [
            "10.0.0.1:0",
            "10.0.0.1:65536",
            "10.0.0.1:ssh",
            "10.0.0.1:",
            "[::1",
            "[::1]80",
            "h:22/sctp",
        ] {
            assert!(EndpointSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_tools_lines() {
        assert_eq!(
            line_endpoints("open tcp 22 198.18.0.1 1700000000"),
            Some(vec!["198.18.0.1:22/tcp".into()])
        );
        let grepable = "Host: 198.18.0.1 (lab)\tPorts: 22/open/tcp//ssh///, 23/closed/tcp//telnet///, 53/open/udp//domain///\tIgnored State: closed (997)";
        assert_eq!(
            line_endpoints(grepable),
            Some(vec!["198.18.0.1:22/tcp".into(), "198.18.0.1:53/udp".into()])
        );
        assert_eq!(
            line_endpoints("Host: 2001:db8::1 ()\tPorts: 80/open/tcp//http///"),
            Some(vec!["[2001:db8::1]:80/tcp".into()])
        );
        assert_eq!(
            line_endpoints("Host: 198.18.0.1 ()\tStatus: Up"),
            Some(vec![])
        );
        assert_eq!(line_endpoints("198.18.0.1:22 10.0.0.1"), None);
    }

    #[test]
    fn endpoints_are_excluded_scoped_and_kept_once() {
        use crate::spec::{Scope, SystemResolver, TargetSetBuilder};
        let set = TargetSetBuilder::new()
            .target("10.0.0.1:22")
            .unwrap()
            .target("10.0.0.1:22/tcp")
            .unwrap()
            .target("10.0.0.2:22")
            .unwrap()
            .target("10.0.0.1:53/udp")
            .unwrap()
            .exclude("10.0.0.2")
            .unwrap()
            .build(&SystemResolver)
            .unwrap();
        assert_eq!(set.hosts(), 0, "endpoints alone: no host crossed with -p");
        let tcp: Vec<(String, u16)> = set
            .endpoints(Protocol::Tcp)
            .iter()
            .map(|e| (e.addr.to_string(), e.port))
            .collect();
        assert_eq!(tcp, [("10.0.0.1".to_owned(), 22)]);
        assert_eq!(set.endpoints(Protocol::Udp).len(), 1);
        let all_excluded = TargetSetBuilder::new()
            .target("10.0.0.2:22")
            .unwrap()
            .exclude("10.0.0.0/24")
            .unwrap()
            .build(&SystemResolver);
        assert!(matches!(all_excluded, Err(SpecError::AllExcluded)));
        let out_of_scope = TargetSetBuilder::new()
            .target("10.9.9.9:22")
            .unwrap()
            .scope(Some(Scope::parse("10.0.0.0/24").unwrap()))
            .build(&SystemResolver);
        assert!(matches!(out_of_scope, Err(SpecError::OutOfScope { .. })));
        assert!(matches!(
            TargetSetBuilder::new().target("10.0.0.0/24:80"),
            Err(SpecError::Endpoint(EndpointError::Block(_)))
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = EndpointSpec::parse(&s);
            let _ = line_endpoints(&s);
        }

        #[test]
        fn written_endpoints_read_back(a: std::net::IpAddr, port in 1u16.., udp: bool) {
            let proto = if udp { "udp" } else { "tcp" };
            let word = endpoint_word(&a.to_string(), &port.to_string(), proto);
            let e = EndpointSpec::parse(&word).unwrap().unwrap();
            prop_assert_eq!(e.host.parse::<std::net::IpAddr>().unwrap(), a);
            prop_assert_eq!(e.port, port);
        }
    }
}
