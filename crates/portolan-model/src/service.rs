//! What listens behind an open port, as the service-probe stage found it.

use serde::{Deserialize, Serialize};

use crate::names::names;

/// How a service was identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// A response to a probe we sent matched a fingerprint.
    Probed,
    /// What the server said first matched a fingerprint.
    Banner,
    /// Only the port number suggests it: a guess.
    Port,
}

names!(Method, "method", {
    Probed => "probed",
    Banner => "banner",
    Port => "port",
});

/// What is listening behind an open port. Bytes from the server are kept as bytes;
/// every printer escapes them for its own format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Service name (`http`, `ssh`, `tcpwrapped`, `unknown`).
    pub name: String,
    /// The product, when a fingerprint names it (`OpenSSH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The product's version (`9.2p1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Further detail (`protocol 2.0`, `Debian`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// CPE names of the product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpe: Vec<String>,
    /// How the service was identified.
    pub method: Method,
    /// 0 (a guess) to 10 (certain).
    pub confidence: u8,
    /// A soft match: a fingerprint named the service but not the product (`ftp` from
    /// a 220 greeting no product fingerprint knows). Not the same as a guess from the
    /// port number ([`Method::Port`]), where nothing matched at all.
    #[serde(default, skip_serializing_if = "is_false")]
    pub soft: bool,
    /// The first bytes the server sent (at most `--banner-bytes`).
    ///
    /// Serialised as terminal-safe text ([`portolan_text::escape_terminal`]: valid
    /// UTF-8 kept, controls and other bytes as `\xNN`, a backslash as `\\`), and read
    /// back as the same bytes with [`portolan_text::unescape`] (the escaping is
    /// injective), so printing it again gives the same text.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "banner")]
    pub banner: Option<Vec<u8>>,
    /// What a TLS handshake showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// What an HTTP exchange showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpInfo>,
}

/// What a TLS handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsInfo {
    /// The negotiated version (`TLSv1.3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The negotiated ALPN protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The certificate's subject common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    /// The certificate's subject alternative names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    /// The certificate's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Start of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of the certificate's validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// SHA-256 of the certificate, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// What an HTTP exchange showed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpInfo {
    /// The status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `Server` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The `Location` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The page's `<title>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `skip_serializing_if` passes the field by reference"
)]
fn is_false(b: &bool) -> bool {
    !b
}

/// A banner's bytes as terminal-safe text, and that text back as bytes.
mod banner {
    use serde::{Deserialize, Deserializer, Serializer};

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` passes the field by reference"
    )]
    pub(crate) fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(bytes) => s.serialize_some(&portolan_text::escape_terminal(bytes)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        // Text that `portolan_text` did not write (a hand-edited file) stays as it is.
        Ok(Option::<String>::deserialize(d)?
            .map(|text| portolan_text::unescape(&text).unwrap_or_else(|| text.into_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh() -> Service {
        Service {
            name: "ssh".into(),
            product: Some("OpenSSH".into()),
            version: None,
            info: None,
            cpe: vec!["cpe:/a:openbsd:openssh".into()],
            method: Method::Banner,
            confidence: 10,
            soft: false,
            banner: Some(b"SSH-2.0-x\x1b[2J\xff".to_vec()),
            tls: Some(TlsInfo {
                sans: vec!["a.test".into()],
                ..TlsInfo::default()
            }),
            http: Some(HttpInfo {
                status: Some(200),
                ..HttpInfo::default()
            }),
        }
    }

    #[test]
    fn methods_round_trip() {
        for &m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>().unwrap(), m);
        }
        assert!("guess".parse::<Method>().is_err());
    }

    #[test]
    fn serialises_with_the_banner_escaped_and_empty_fields_left_out() {
        let text = serde_json::to_string(&ssh()).unwrap();
        assert_eq!(
            text,
            r#"{"name":"ssh","product":"OpenSSH","cpe":["cpe:/a:openbsd:openssh"],"method":"banner","confidence":10,"banner":"SSH-2.0-x\\x1b[2J\\xff","tls":{"sans":["a.test"]},"http":{"status":200}}"#
        );
    }

    #[test]
    fn reads_back_the_banner_bytes() {
        let text = serde_json::to_string(&ssh()).unwrap();
        let back: Service = serde_json::from_str(&text).unwrap();
        // The escaping is injective, so the bytes come back exactly (a literal
        // backslash is not taken for an escape) ...
        assert_eq!(back, ssh());
        let literal = Service {
            banner: Some(br"\x1b".to_vec()),
            ..ssh()
        };
        let again = serde_json::to_string(&literal).unwrap();
        assert_eq!(serde_json::from_str::<Service>(&again).unwrap(), literal);
        // ... and writing them again gives the same JSON.
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }

    #[test]
    fn soft_is_written_only_when_true_and_read_as_false_when_absent() {
        let soft = Service {
            product: None,
            soft: true,
            ..ssh()
        };
        let text = serde_json::to_string(&soft).unwrap();
        assert!(text.contains(r#""confidence":10,"soft":true,"#), "{text}");
        assert_eq!(serde_json::from_str::<Service>(&text).unwrap(), soft);
        let old = r#"{"name":"x","method":"banner","confidence":8}"#;
        assert!(!serde_json::from_str::<Service>(old).unwrap().soft);
    }

    #[test]
    fn an_unknown_method_is_an_error() {
        let text = r#"{"name":"x","method":"guess","confidence":1}"#;
        assert!(serde_json::from_str::<Service>(text).is_err());
    }
}
