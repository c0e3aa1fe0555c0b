//! The JSON writer shared by every JSON-based format (NDJSON, the JSON document, the
//! history database's service column).
//!
//! What is written is the result model's own serde form (`portolan_model`: a
//! [`PortResult`](portolan_engine::PortResult) is one flat object, its service a nested
//! one), so field names cannot drift between formats. This module only decides how
//! strings are written: [`to_writer`] writes JSON that is safe to show. Besides the
//! escapes JSON needs, C1 controls (U+0080–U+009F) and bidi controls (U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069, U+061C) are written as `\uXXXX`, so a hostile banner
//! or host name cannot reorder or control a terminal that displays the JSON raw.

use std::io::{self, Write};

use serde::Serialize;

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

/// `serde_json`'s compact formatter, plus `\uXXXX` for C1 and bidi characters.
struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !fragment.contains(portolan_text::is_unsafe_char) {
            // Nothing to escape beyond what serde_json already did: the common case.
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if portolan_text::is_unsafe_char(c) {
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
