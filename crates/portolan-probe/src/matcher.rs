//! The sans-IO matcher: what one exchange (probe sent, bytes received) says about a
//! service. Bytes in, a [`Match`] out; no sockets, no clocks.
//!
//! Every fingerprint whose probe list allows the exchange is tried; the match with
//! the highest confidence wins, then one that names the product over a soft one (the
//! service alone), then the earlier one (so a user's files and the specific products
//! come before the catch-alls). Templates (`$1`, `${name}`) are
//! expanded from the pattern's groups, and what they produce is made printable with
//! `portolan_text`'s one rule: controls, bidi controls, backslashes and invalid UTF-8
//! escaped visibly (never dropped), at most [`MAX_FIELD`] characters with a `…` when
//! cut, empty fields left out. A server that repeats our probe back is an `echo` service.

use crate::db::{Database, Fingerprint};

/// The longest product, version or info string kept from a server.
pub const MAX_FIELD: usize = 120;

/// The name of the pseudo-probe "say nothing and listen".
pub const BANNER: &str = "banner";

/// One exchange with a server.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The probe's name ([`BANNER`] when the server spoke first).
    pub probe: &'a str,
    /// What we sent (empty for the banner).
    pub sent: &'a [u8],
    /// What came back (at most `--banner-bytes`).
    pub received: &'a [u8],
}

/// What an exchange identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The service (`ssh`).
    pub service: String,
    /// The product (`OpenSSH`).
    pub product: Option<String>,
    /// Its version, filled from the pattern's groups.
    pub version: Option<String>,
    /// Extra information, filled from the pattern's groups.
    pub info: Option<String>,
    /// CPE names, filled from the pattern's groups.
    pub cpe: Vec<String>,
    /// 0 to 10.
    pub confidence: u8,
    /// The service is known, the product is not (a soft fingerprint matched, or a
    /// product template came out empty).
    pub soft: bool,
}

impl Match {
    fn named(service: &str, confidence: u8) -> Self {
        Match {
            service: service.to_string(),
            product: None,
            version: None,
            info: None,
            cpe: Vec::new(),
            confidence,
            soft: false,
        }
    }

    /// How a match ranks against another: by confidence, then a match that names
    /// the product before a soft one.
    pub fn rank(&self) -> (u8, bool) {
        (self.confidence, !self.soft)
    }
}

impl Database {
    /// The best match for an exchange, if any fingerprint fits.
    pub fn identify(&self, ex: &Exchange<'_>) -> Option<Match> {
        if ex.received.is_empty() {
            return None;
        }
        let mut best: Option<Match> = None;
        for fp in &self.fingerprints {
            // Only a more confident fingerprint, or one as confident that may name
            // the product where the best so far does not, can do better.
            if best.as_ref().is_some_and(|b| {
                b.confidence > fp.confidence
                    || (b.confidence == fp.confidence && (!b.soft || fp.soft))
            }) {
                continue;
            }
            if !fp.payloads.is_empty() && !fp.payloads.iter().any(|p| p == ex.probe) {
                continue;
            }
            if let Some(m) = apply(fp, ex.received) {
                if best.as_ref().is_none_or(|b| m.rank() > b.rank()) {
                    best = Some(m);
                }
            }
        }
        if best.is_none() && is_echo(ex) {
            return Some(Match::named("echo", 8));
        }
        best
    }
}

/// Whether the server sent our probe back (or the start of it).
fn is_echo(ex: &Exchange<'_>) -> bool {
    let n = ex.received.len().min(ex.sent.len());
    n >= 4 && ex.sent[..n] == ex.received[..n]
}

fn apply(fp: &Fingerprint, received: &[u8]) -> Option<Match> {
    let caps = fp.pattern.captures(received)?;
    let expand = |template: &str| {
        let mut out = Vec::new();
        caps.expand(template.as_bytes(), &mut out);
        printable(&out)
    };
    let cpe = fp
        .cpe
        .iter()
        .filter_map(|c| expand(c))
        .map(|c| c.trim_end_matches(':').to_string())
        .collect();
    let product = fp.product.as_deref().and_then(expand);
    let soft = if fp.product.is_some() {
        product.is_none()
    } else {
        fp.soft
    };
    Some(Match {
        service: fp.service.clone(),
        product,
        version: fp.version.as_deref().and_then(expand),
        info: fp.info.as_deref().and_then(expand),
        cpe,
        confidence: fp.confidence,
        soft,
    })
}

/// `bytes` trimmed of whitespace and dangling separators, then escaped by
/// [`portolan_text::escape_field`] to at most [`MAX_FIELD`] characters; `None` when
/// nothing is left.
pub fn printable(bytes: &[u8]) -> Option<String> {
    let edge = |b: &u8| b.is_ascii_whitespace() || matches!(b, b';' | b',');
    let start = bytes.iter().position(|b| !edge(b))?;
    let end = bytes.iter().rposition(|b| !edge(b))?;
    Some(portolan_text::escape_field(&bytes[start..=end], MAX_FIELD))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Database {
        Database::builtin().unwrap()
    }

    fn banner(bytes: &[u8]) -> Option<Match> {
        db().identify(&Exchange {
            probe: BANNER,
            sent: b"",
            received: bytes,
        })
    }

    #[test]
    fn templates_expand_and_empty_groups_vanish() {
        let m = banner(b"SSH-2.0-OpenSSH_9.2p1\r\n").unwrap();
        assert_eq!(m.version.as_deref(), Some("9.2p1"));
        assert_eq!(m.info.as_deref(), Some("protocol 2.0"));
        assert_eq!(m.cpe, ["cpe:/a:openbsd:openssh:9.2p1"]);
    }

    #[test]
    fn version_less_cpe_loses_its_trailing_colon() {
        let m = banner(b"SSH-2.0-dropbear\r\n").unwrap();
        assert_eq!(m.product.as_deref(), Some("Dropbear sshd"));
        assert_eq!(m.version, None);
        assert_eq!(m.cpe, ["cpe:/a:matt_johnston:dropbear_ssh_server"]);
    }

    #[test]
    fn echo_is_recognised_only_when_nothing_else_fits() {
        let sent = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let m = db()
            .identify(&Exchange {
                probe: "http-get",
                sent,
                received: &sent[..10],
            })
            .unwrap();
        assert_eq!(m.service, "echo");
        let none = db().identify(&Exchange {
            probe: "http-get",
            sent,
            received: b"GE",
        });
        assert_eq!(none, None);
    }

    #[test]
    fn probe_lists_restrict_binary_patterns() {
        let connack = b"\x20\x02\x00\x00";
        assert_eq!(banner(connack), None);
        let m = db()
            .identify(&Exchange {
                probe: "mqtt-connect",
                sent: b"",
                received: connack,
            })
            .unwrap();
        assert_eq!(m.service, "mqtt");
    }

    #[test]
    fn hostile_fields_are_made_printable() {
        let m = banner(b"SSH-2.0-Evil\xe2\x80\xae\x1b[2J\r\n").unwrap();
        assert_eq!(m.service, "ssh");
        let product = m.product.unwrap();
        assert!(
            !product.chars().any(portolan_text::is_unsafe_char),
            "{product:?}"
        );
        assert_eq!(printable(b" ;, \r\n"), None);
        assert_eq!(printable(&[b'a'; 500]).unwrap().chars().count(), MAX_FIELD);
        assert!(printable(&[b'a'; 500])
            .unwrap()
            .ends_with(portolan_text::TRUNCATED));
    }

    /// Regression (issue 9, item 17): control and bidi characters in a product were
    /// dropped, so `Evil\e[2J` was shown as `Evil[2J`, not as what the server sent.
    #[test]
    fn hostile_bytes_are_escaped_not_dropped() {
        assert_eq!(printable(b" ;\x00 ").as_deref(), Some("\\x00"));
        assert_eq!(
            printable(b"Evil\x1b]0;T\x07\xe2\x80\x8f\\x1b\xff").as_deref(),
            Some("Evil\\x1b]0;T\\x07\\u{200f}\\\\x1b\\xff")
        );
    }

    #[test]
    fn a_service_without_a_product_is_a_soft_match() {
        let m = banner(b"220 Welcome to the unnamed FTP service\r\n").unwrap();
        assert_eq!((m.service.as_str(), m.product, m.soft), ("ftp", None, true));
        let m = banner(b"220 (vsFTPd 3.0.3)\r\n").unwrap();
        assert!(!m.soft);
    }

    #[test]
    fn a_named_product_beats_a_soft_match_of_equal_confidence() {
        let mut db = Database::default();
        db.add_file(
            "t.toml",
            "[[fingerprint]]\nservice = 'x'\npattern = '^X'\n\
             [[fingerprint]]\nservice = 'x'\nproduct = 'Ex'\npattern = '^X'\nconfidence = 8\n\
             [[fingerprint]]\nservice = 'y'\nproduct = '$1'\npattern = '^Y(\\w*)'\n",
        )
        .unwrap();
        let ex = |received| Exchange {
            probe: BANNER,
            sent: b"",
            received,
        };
        let m = db.identify(&ex(b"X1")).unwrap();
        assert_eq!((m.product.as_deref(), m.soft), (Some("Ex"), false));
        // A product template that comes out empty is soft too.
        let m = db.identify(&ex(b"Y ")).unwrap();
        assert_eq!((m.product, m.soft), (None, true));
        assert!(!db.identify(&ex(b"Yes")).unwrap().soft);
    }

    #[test]
    fn versions_may_be_inferred_as_fixed_text_or_a_template() {
        let mut db = Database::default();
        db.add_file(
            "t.toml",
            "[[fingerprint]]\nservice = 'postgresql'\nproduct = 'PostgreSQL DB'\n\
             pattern = '^R.{8}SCRAM-SHA-256-PLUS'\nversion = '11 or later'\n\
             [[fingerprint]]\nservice = 'z'\nproduct = 'Z'\npattern = '^Z proto (\\d+)'\n\
             version = '${1}.0 or later'\n",
        )
        .unwrap();
        let ex = |received| Exchange {
            probe: BANNER,
            sent: b"",
            received,
        };
        let m = db
            .identify(&ex(b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256-PLUS\0"))
            .unwrap();
        assert_eq!(m.version.as_deref(), Some("11 or later"));
        let m = db.identify(&ex(b"Z proto 3\r\n")).unwrap();
        assert_eq!(m.version.as_deref(), Some("3.0 or later"));
    }

    #[test]
    fn nothing_matches_nothing() {
        assert_eq!(banner(b""), None);
        assert_eq!(banner(b"\x00\x01\x02 random"), None);
    }
}
