//! nmap's scan types (`-sT`, `-sS`, `-sU`, ...): the one place that knows them.
//!
//! The arguments turn every `-sX` into `--scan-type X` and the request asks
//! [`ScanType::parse`] what it means. Only the connect scan exists today; the SYN
//! and UDP transports switch their letter on here ([`ScanType::kind`]), and until
//! they do the user is told what to use instead of clap's "unexpected argument '-s'".

/// A scan type as nmap names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanType {
    /// `-sT`: a full TCP connect per port.
    Connect,
    /// `-sS`: half-open SYN scan (raw sockets).
    Syn,
    /// `-sU`: UDP.
    Udp,
    /// `-sn`: host discovery only, no port scan.
    NoPortScan,
    /// `-sC`: nmap's default scripts.
    Scripts,
}

/// How portolan scans, once the scan type is known to be available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    /// Full TCP connects (the default).
    Connect,
    /// Raw SYN packets (`-sS`, needs `CAP_NET_RAW`; checked when the scan starts).
    Syn,
}

impl ScanType {
    /// The scan type of `-s<letters>`, or a line saying what exists.
    pub fn parse(letters: &str) -> Result<Self, String> {
        match letters {
            "T" => Ok(ScanType::Connect),
            "S" => Ok(ScanType::Syn),
            "U" => Ok(ScanType::Udp),
            "n" => Ok(ScanType::NoPortScan),
            "C" => Ok(ScanType::Scripts),
            other => Err(format!(
                "-s{other} is not a scan type portolan knows: it scans with TCP connects (-sT, the default) and identifies services with -sV"
            )),
        }
    }

    /// What the engine runs for this scan type, or a line saying what to use instead.
    pub fn kind(self) -> Result<ScanKind, String> {
        match self {
            ScanType::Connect => Ok(ScanKind::Connect),
            ScanType::Syn => Ok(ScanKind::Syn),
            ScanType::Udp => Err("-sU (UDP scan) is not available yet: portolan scans TCP ports only".into()),
            ScanType::NoPortScan => Err("-sn (host discovery only) is not available: portolan never pings; scan a few common ports instead, e.g. -p 22,80,443 --open".into()),
            ScanType::Scripts => Err("-sC (nmap scripts) is not supported: -sV identifies the service behind each open port".into()),
        }
    }
}

/// The scan kind of every `-sX` given (the default when none is).
pub fn resolve(letters: &[String]) -> Result<ScanKind, String> {
    let mut kind = ScanKind::Connect;
    for l in letters {
        kind = ScanType::parse(l)?.kind()?;
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_is_the_default_and_st_selects_it() {
        assert_eq!(resolve(&[]), Ok(ScanKind::Connect));
        assert_eq!(resolve(&["T".into()]), Ok(ScanKind::Connect));
        assert_eq!(resolve(&["S".into()]), Ok(ScanKind::Syn));
    }

    #[test]
    fn unavailable_types_say_what_to_use() {
        for (l, hint) in [("U", "TCP"), ("n", "-p 22,80,443"), ("C", "-sV")] {
            let e = resolve(&[l.into()]).unwrap_err();
            assert!(e.starts_with(&format!("-s{l}")), "{e}");
            assert!(e.contains(hint), "{e}");
        }
    }

    #[test]
    fn unknown_letters_are_named() {
        let e = resolve(&["Z".into()]).unwrap_err();
        assert!(e.contains("-sZ") && e.contains("-sT"), "{e}");
    }
}
