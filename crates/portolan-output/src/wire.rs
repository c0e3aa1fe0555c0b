//! The machine-readable form of a port result, shared by every JSON-based format
//! (NDJSON, the JSON document, the history database), so field names never drift.
//!
//! [`to_writer`] writes JSON that is safe to show: besides the escapes JSON needs,
//! C1 controls (U+0080–U+009F) and bidi controls (U+200E, U+200F, U+202A–U+202E,
//! U+2066–U+2069, U+061C) are written as `\uXXXX`, so a hostile banner or host name
//! cannot reorder or control a terminal that displays the JSON raw.

use std::io::{self, Write};

use portolan_engine::{HttpInfo, PortResult, Service, TlsInfo};
use serde::Serialize;

/// One port result on the wire.
#[derive(Debug, Serialize)]
pub struct PortLine<'a> {
    pub addr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<&'a str>,
    pub port: u16,
    pub proto: &'static str,
    pub state: &'static str,
    pub reason: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    pub tries: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceLine<'a>>,
}

impl<'a> PortLine<'a> {
    pub fn new(r: &'a PortResult) -> Self {
        PortLine {
            addr: r.endpoint.addr.to_string(),
            hostname: r.endpoint.name.as_deref(),
            port: r.endpoint.port,
            proto: "tcp",
            state: r.state.as_str(),
            reason: r.reason.as_str(),
            rtt_ms: r.rtt.map(|d| (d.as_secs_f64() * 1e6).round() / 1e3),
            tries: r.tries,
            service: r.service.as_deref().map(ServiceLine::new),
        }
    }
}

/// The `service` object.
#[derive(Debug, Serialize)]
pub struct ServiceLine<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub cpe: &'a [String],
    pub method: &'static str,
    pub confidence: u8,
    /// The banner as text: valid UTF-8 kept, other bytes as `\xNN`, controls escaped
    /// (see `portolan_text`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsLine<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpLine<'a>>,
}

impl<'a> ServiceLine<'a> {
    pub fn new(s: &'a Service) -> Self {
        ServiceLine {
            name: &s.name,
            product: s.product.as_deref(),
            version: s.version.as_deref(),
            info: s.info.as_deref(),
            cpe: &s.cpe,
            method: s.method.as_str(),
            confidence: s.confidence,
            banner: s.banner.as_deref().map(portolan_text::escape_terminal),
            tls: s.tls.as_ref().map(TlsLine::new),
            http: s.http.as_ref().map(HttpLine::new),
        }
    }
}

/// The `tls` object.
#[derive(Debug, Serialize)]
pub struct TlsLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub sans: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<&'a str>,
}

impl<'a> TlsLine<'a> {
    pub fn new(t: &'a TlsInfo) -> Self {
        TlsLine {
            version: t.version.as_deref(),
            alpn: t.alpn.as_deref(),
            subject_cn: t.subject_cn.as_deref(),
            sans: &t.sans,
            issuer: t.issuer.as_deref(),
            not_before: t.not_before.as_deref(),
            not_after: t.not_after.as_deref(),
            sha256: t.sha256.as_deref(),
        }
    }
}

/// The `http` object.
#[derive(Debug, Serialize)]
pub struct HttpLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
}

impl<'a> HttpLine<'a> {
    pub fn new(h: &'a HttpInfo) -> Self {
        HttpLine {
            status: h.status,
            server: h.server.as_deref(),
            location: h.location.as_deref(),
            title: h.title.as_deref(),
        }
    }
}

/// Writes `value` as compact JSON with the extra escapes described above.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(out: W, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, SafeFormatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Like [`to_writer`], into a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail, and the formatter only emits ASCII escapes.
    let _ = to_writer(&mut buf, value);
    String::from_utf8(buf).unwrap_or_default()
}

fn needs_escape(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9f}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

/// `serde_json`'s compact formatter, plus `\uXXXX` for C1 and bidi characters.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if fragment.is_ascii() {
            // Nothing to escape beyond what serde_json already did: the common case.
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_c1_and_bidi_but_keeps_other_unicode() {
        let s = to_string(&"caf\u{e9} \u{9b}31m \u{202e}evil \u{1b}[2J");
        assert_eq!(s, r#""café \u009b31m \u202eevil \u001b[2J""#);
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "caf\u{e9} \u{9b}31m \u{202e}evil \u{1b}[2J");
    }
}
