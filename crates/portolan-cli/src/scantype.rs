//! nmap's scan types (`-sT`, `-sS`, `-sU`, ...): the one place that knows them.
//!
//! The arguments turn every `-sX` into `--scan-type X` and the request asks
//! [`ScanType::parse`] what it means. The connect scan (`-sT`) and the UDP scan
//! (`-sU`) exist, alone or together ([`Plan`]); the SYN transport switches its letter
//! on here ([`ScanType::kind`]), and until it does the user is told what to use
//! instead of clap's "unexpected argument '-s'".

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

/// How portolan scans TCP, once the scan type is known to be available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    /// Full TCP connects (the default).
    Connect,
    /// Raw SYN packets (`-sS`, needs `CAP_NET_RAW`; checked when the scan starts).
    Syn,
}

/// What a scan covers: TCP (with its kind), UDP, or both in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub tcp: Option<ScanKind>,
    pub udp: bool,
}

/// What one `-sX` adds to the plan.
enum Part {
    Tcp(ScanKind),
    Udp,
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
                "-s{other} is not a scan type portolan knows: it scans with TCP connects (-sT, the default) or UDP (-sU) and identifies services with -sV"
            )),
        }
    }

    /// What the engine runs for this scan type, or a line saying what to use instead.
    fn kind(self) -> Result<Part, String> {
        match self {
            ScanType::Connect => Ok(Part::Tcp(ScanKind::Connect)),
            ScanType::Syn => Ok(Part::Tcp(ScanKind::Syn)),
            ScanType::Udp => Ok(Part::Udp),
            ScanType::NoPortScan => Err("-sn finds hosts without a port scan: it cannot go with -sT, -sS or -sU (use --discover to port-scan the hosts found up)".into()),
            ScanType::Scripts => Err("-sC (nmap scripts) is not supported: -sV identifies the service behind each open port".into()),
        }
    }
}

/// Whether `-sn` (host discovery, no port scan) was given: alone, or with other
/// `-sn`s (any other scan type with it is an error, from [`resolve`]).
pub fn discovery_only(letters: &[String]) -> Result<bool, String> {
    let mut only = false;
    for l in letters {
        only |= ScanType::parse(l)? == ScanType::NoPortScan;
    }
    if only && letters.iter().any(|l| l != "n") {
        return Err(ScanType::NoPortScan.kind().err().unwrap_or_default());
    }
    Ok(only)
}

/// The plan of every `-sX` given: TCP connects when none is; `-sU` alone scans
/// only UDP, `-sT -sU` both.
pub fn resolve(letters: &[String]) -> Result<Plan, String> {
    let mut plan = Plan {
        tcp: None,
        udp: false,
    };
    for l in letters {
        match ScanType::parse(l)?.kind()? {
            Part::Tcp(kind) => plan.tcp = Some(kind),
            Part::Udp => plan.udp = true,
        }
    }
    if !plan.udp {
        plan.tcp.get_or_insert(ScanKind::Connect);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_is_the_default_and_st_selects_it() {
        let tcp = Plan {
            tcp: Some(ScanKind::Connect),
            udp: false,
        };
        assert_eq!(resolve(&[]), Ok(tcp));
        assert_eq!(resolve(&["T".into()]), Ok(tcp));
        assert_eq!(
            resolve(&["S".into()]),
            Ok(Plan {
                tcp: Some(ScanKind::Syn),
                udp: false
            })
        );
    }

    #[test]
    fn ss_with_su_is_a_syn_and_udp_run() {
        assert_eq!(
            resolve(&["S".into(), "U".into()]),
            Ok(Plan {
                tcp: Some(ScanKind::Syn),
                udp: true
            })
        );
    }

    #[test]
    fn su_alone_is_udp_only_and_with_st_both() {
        assert_eq!(
            resolve(&["U".into()]),
            Ok(Plan {
                tcp: None,
                udp: true
            })
        );
        for letters in [["T", "U"], ["U", "T"]] {
            let letters: Vec<String> = letters.iter().map(ToString::to_string).collect();
            assert_eq!(
                resolve(&letters),
                Ok(Plan {
                    tcp: Some(ScanKind::Connect),
                    udp: true
                })
            );
        }
    }

    #[test]
    fn unavailable_types_say_what_to_use() {
        for (l, hint) in [("n", "--discover"), ("C", "-sV")] {
            let e = resolve(&[l.into()]).unwrap_err();
            assert!(e.starts_with(&format!("-s{l}")), "{e}");
            assert!(e.contains(hint), "{e}");
        }
    }

    #[test]
    fn sn_alone_is_discovery_only_and_with_a_port_scan_an_error() {
        let l = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(discovery_only(&l(&["n"])), Ok(true));
        assert_eq!(discovery_only(&l(&["n", "n"])), Ok(true));
        assert_eq!(discovery_only(&l(&["T"])), Ok(false));
        assert_eq!(discovery_only(&[]), Ok(false));
        let e = discovery_only(&l(&["n", "S"])).unwrap_err();
        assert!(e.starts_with("-sn") && e.contains("--discover"), "{e}");
    }

    #[test]
    fn unknown_letters_are_named() {
        let e = resolve(&["Z".into()]).unwrap_err();
        assert!(e.contains("-sZ") && e.contains("-sT"), "{e}");
    }
}
