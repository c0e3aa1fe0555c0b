//! What a UDP answer says about its service (`scan -sU -sV`), sans-IO.
//!
//! Each parser takes the datagram that came back and pulls out the few fields worth
//! showing: the DNS `version.bind` text, the NTP version, stratum and reference, the
//! SNMP `sysDescr.0`, the SSDP `SERVER` header, the memcached version. Parsers are
//! checked (every read bounded by the datagram) and never panic, whatever the bytes.
//!
//! The free-text fields are then named by the UDP fingerprints
//! (`fingerprints/udp.toml`, the same `[[fingerprint]]` format as TCP's), matched
//! against the extracted text rather than the raw datagram, under the pseudo-probe
//! names in [`field`]. That file is loaded on its own, so the TCP catch-alls never
//! run over these short texts.

use portolan_engine::{Method, Service};

use super::ber::{self, tag, Reader};
use super::build::SYS_DESCR;
use super::dns::{rr, Message};
use crate::db::Database;
use crate::error::ProbeError;
use crate::matcher::{printable, Exchange};

/// The pseudo-probe names the UDP fingerprints use.
pub mod field {
    /// The text of a CHAOS TXT `version.bind` answer.
    pub const DNS_VERSION: &str = "udp-dns-version";
    /// An SSDP answer's `SERVER` header.
    pub const SSDP_SERVER: &str = "udp-ssdp-server";
    /// SNMP `sysDescr.0`.
    pub const SNMP_SYSDESCR: &str = "udp-snmp-sysdescr";
}

/// The most bytes of an answer kept as the service's banner.
const BANNER_BYTES: usize = 512;

/// The fields one answer yielded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A DNS response; `version` is the `version.bind` text when it was asked for.
    Dns { rcode: u8, version: Option<Vec<u8>> },
    /// An NTP server (mode 4) or symmetric peer answer.
    Ntp {
        version: u8,
        stratum: u8,
        refid: String,
    },
    /// An SNMP `GetResponse`.
    Snmp {
        version: i64,
        sys_descr: Option<Vec<u8>>,
    },
    /// An SSDP answer (an HTTP-over-UDP status line).
    Ssdp { server: Option<Vec<u8>> },
    /// memcached's `VERSION x` over its UDP framing.
    Memcached { version: Vec<u8> },
}

/// Decodes `answer` as the reply to the payload called `payload` (a name from
/// `payloads/udp.toml`). `None` when the answer is not that protocol.
pub fn decode(payload: &str, answer: &[u8]) -> Option<Decoded> {
    match payload {
        "dns-root-ns" | "dns-version-bind" | "mdns-services" => dns(answer),
        "ntp-client" => ntp(answer),
        "snmp-v1-sysdescr" | "snmp-v2c-sysdescr" => snmp(answer),
        "ssdp-msearch" => ssdp(answer),
        "memcached-version" => memcached(answer),
        _ => None,
    }
}

/// A DNS response; the TXT text if it answers `version.bind` in class CHAOS.
pub fn dns(answer: &[u8]) -> Option<Decoded> {
    let m = Message::parse(answer).ok()?;
    if !m.is_response() {
        return None;
    }
    let version = m
        .answer_records()
        .iter()
        .find(|r| {
            r.rtype == rr::TXT && r.class == rr::CH && r.name.eq_ignore_ascii_case(b"version.bind")
        })
        .and_then(super::dns::Record::txt);
    Some(Decoded::Dns {
        rcode: m.rcode(),
        version,
    })
}

/// An NTP header (RFC 5905 §7.3) from a server (mode 4) or peer (modes 1, 2).
pub fn ntp(answer: &[u8]) -> Option<Decoded> {
    let h = answer.get(..48)?;
    let version = (h[0] >> 3) & 7;
    let mode = h[0] & 7;
    if !(1..=4).contains(&version) || !matches!(mode, 1 | 2 | 4) {
        return None;
    }
    let stratum = h[1];
    let id = &h[12..16];
    let refid = if stratum <= 1 {
        // A kiss code or reference source: up to four ASCII letters.
        id.iter()
            .take_while(|b| **b != 0)
            .filter(|b| b.is_ascii_graphic())
            .map(|b| char::from(*b))
            .collect()
    } else {
        format!("{}.{}.{}.{}", id[0], id[1], id[2], id[3])
    };
    Some(Decoded::Ntp {
        version,
        stratum,
        refid,
    })
}

/// An SNMP v1/v2c `GetResponse` (RFC 3416 §3); `sys_descr` if its first binding is
/// `sysDescr.0` with a string value.
pub fn snmp(answer: &[u8]) -> Option<Decoded> {
    let mut msg = Reader::new(answer).enter(tag::SEQUENCE).ok()?;
    let version = msg.int(tag::INTEGER).ok()?;
    msg.expect(tag::OCTET_STRING).ok()?;
    let mut pdu = msg.enter(0xa2).ok()?;
    pdu.int(tag::INTEGER).ok()?;
    pdu.int(tag::INTEGER).ok()?;
    pdu.int(tag::INTEGER).ok()?;
    let sys_descr = pdu
        .enter(tag::SEQUENCE)
        .and_then(|mut list| list.enter(tag::SEQUENCE))
        .ok()
        .and_then(|mut bind| {
            let oid = ber::decode_oid(bind.expect(tag::OID).ok()?).ok()?;
            let value = bind.expect(tag::OCTET_STRING).ok()?;
            (oid == SYS_DESCR).then(|| value.to_vec())
        });
    Some(Decoded::Snmp { version, sys_descr })
}

/// An SSDP answer: an `HTTP/1.x 200` status line and, if present, `SERVER`.
pub fn ssdp(answer: &[u8]) -> Option<Decoded> {
    let mut lines = answer.split(|b| *b == b'\n');
    let status = lines.next()?;
    if !status.starts_with(b"HTTP/1.") {
        return None;
    }
    let server = lines.take(64).find_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        let (name, value) = line.split_at(colon);
        name.trim_ascii()
            .eq_ignore_ascii_case(b"server")
            .then(|| value[1..].trim_ascii().to_vec())
    });
    Some(Decoded::Ssdp { server })
}

/// memcached's answer to `version`: the 8-byte UDP frame header, then `VERSION x`.
pub fn memcached(answer: &[u8]) -> Option<Decoded> {
    let text = answer.get(8..)?;
    let rest = text.strip_prefix(b"VERSION ")?;
    let end = rest
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(rest.len());
    Some(Decoded::Memcached {
        version: rest[..end].to_vec(),
    })
}

/// The UDP fingerprints, loaded on their own (see the module overview).
pub fn fingerprints() -> Result<Database, ProbeError> {
    let mut db = Database::default();
    db.add_file_with(
        "udp.toml",
        include_str!("../../fingerprints/udp.toml"),
        &[field::DNS_VERSION, field::SSDP_SERVER, field::SNMP_SYSDESCR],
    )?;
    Ok(db)
}

/// The service an answer shows; `db` holds the UDP fingerprints ([`fingerprints`]).
pub fn service(db: &Database, decoded: &Decoded, answer: &[u8]) -> Service {
    let mut s = Service {
        name: String::new(),
        product: None,
        version: None,
        info: None,
        cpe: Vec::new(),
        method: Method::Probed,
        confidence: 9,
        soft: false,
        banner: Some(answer[..answer.len().min(BANNER_BYTES)].to_vec()),
        tls: None,
        http: None,
    };
    let named = |s: &mut Service, probe: &str, text: &[u8]| {
        if let Some(m) = db.identify(&Exchange {
            probe,
            sent: &[],
            received: text,
        }) {
            // What the fingerprint leaves out keeps what the parser found.
            s.product = m.product.or(s.product.take());
            s.version = m.version.or(s.version.take());
            s.info = m.info.or(s.info.take());
            s.cpe = m.cpe;
            s.confidence = m.confidence;
            true
        } else {
            false
        }
    };
    match decoded {
        Decoded::Dns { version, .. } => {
            s.name = "domain".into();
            if let Some(v) = version {
                if !named(&mut s, field::DNS_VERSION, v) {
                    s.version = printable(v);
                }
            }
        }
        Decoded::Ntp {
            version,
            stratum,
            refid,
        } => {
            s.name = "ntp".into();
            s.version = Some(format!("v{version}"));
            s.info = printable(format!("stratum {stratum}, refid {refid}").as_bytes());
        }
        Decoded::Snmp { version, sys_descr } => {
            s.name = "snmp".into();
            let proto = if *version == 0 { "SNMPv1" } else { "SNMPv2c" };
            s.version = Some(proto.into());
            match sys_descr {
                Some(d) if named(&mut s, field::SNMP_SYSDESCR, d) => {}
                Some(d) => s.info = printable(d),
                None => s.info = Some(proto.into()),
            }
        }
        Decoded::Ssdp { server } => {
            s.name = "upnp".into();
            if let Some(v) = server {
                if !named(&mut s, field::SSDP_SERVER, v) {
                    s.info = printable(v);
                }
            }
        }
        Decoded::Memcached { version } => {
            s.name = "memcached".into();
            s.product = Some("memcached".into());
            s.version = printable(version);
            s.confidence = 10;
        }
    }
    s
}
