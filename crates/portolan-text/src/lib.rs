//! Terminal-safe rendering of bytes that came from the network.
//!
//! A port scanner and a port client print what a stranger sent. Written to a terminal
//! unchanged, those bytes can clear the screen, move the cursor, set the window title,
//! reorder text with bidi overrides or, on some terminals, answer queries into the
//! input. This crate turns such bytes into visible escapes instead:
//!
//! | input | shown as |
//! | --- | --- |
//! | C0 controls except tab, CR and LF (`0x00`–`0x1f`), DEL (`0x7f`) | `\x1b`, `\x00`, `\x7f` |
//! | C1 controls (U+0080–U+009F, encoded in UTF-8) | `\u{9b}` |
//! | bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) | `\u{202e}` |
//! | bytes that are not valid UTF-8 (including a raw C1 byte such as `0x9b`) | `\x9b` |
//!
//! Everything else, including tab, CR, LF and all printable Unicode, passes unchanged.
//! The mapping is for people, not for round trips: a peer that sends the four
//! characters `\x1b` is shown exactly like a peer that sends ESC. That is deliberate;
//! what matters is that nothing the peer sends is obeyed by the terminal.
//!
//! [`escape_terminal`] renders a complete buffer; [`TerminalEscaper`] renders a stream
//! that arrives in pieces, keeping a UTF-8 sequence that was split across two reads
//! together so it is not mistaken for invalid bytes.

use std::fmt::Write as _;

/// Renders `bytes` for a terminal: control sequences, bidi overrides and invalid
/// UTF-8 are shown as escapes (see the crate documentation for the exact rules).
///
/// ```
/// assert_eq!(portolan_text::escape_terminal(b"\x1b[2Jhi\r\n"), "\\x1b[2Jhi\r\n");
/// ```
pub fn escape_terminal(bytes: &[u8]) -> String {
    let mut escaper = TerminalEscaper::new();
    let mut out = escaper.push(bytes);
    out.push_str(&escaper.finish());
    out
}

/// Whether a character must be shown escaped rather than written to a terminal.
pub fn is_unsafe_char(c: char) -> bool {
    let control =
        matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}') && !matches!(c, '\t' | '\r' | '\n');
    let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    control || bidi
}

/// A streaming terminal escaper: feed it the pieces of a byte stream in order and
/// write what each call returns. The result of all the calls plus [`finish`] equals
/// [`escape_terminal`] of the whole stream, however the stream was split.
///
/// [`finish`]: TerminalEscaper::finish
#[derive(Debug, Default, Clone)]
pub struct TerminalEscaper {
    /// The start of a UTF-8 sequence that the previous piece cut off (at most 3 bytes).
    pending: Vec<u8>,
}

impl TerminalEscaper {
    /// A new escaper with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renders the next piece of the stream. Up to three bytes of an incomplete UTF-8
    /// sequence at its end are held back until the next call or [`finish`].
    ///
    /// [`finish`]: TerminalEscaper::finish
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut joined;
        let mut input = bytes;
        if !self.pending.is_empty() {
            joined = std::mem::take(&mut self.pending);
            joined.extend_from_slice(bytes);
            input = &joined;
        }
        let mut out = String::with_capacity(input.len());
        let rest = render_complete(input, &mut out);
        self.pending = rest.to_vec();
        out
    }

    /// Renders whatever is still held back (an incomplete UTF-8 sequence at the end of
    /// the stream) as `\xNN` escapes.
    pub fn finish(&mut self) -> String {
        let mut out = String::new();
        for b in std::mem::take(&mut self.pending) {
            push_byte_escape(b, &mut out);
        }
        out
    }
}

/// Renders `input` into `out` and returns the incomplete UTF-8 sequence at its end,
/// if any, unrendered.
fn render_complete<'a>(mut input: &'a [u8], out: &mut String) -> &'a [u8] {
    loop {
        match std::str::from_utf8(input) {
            Ok(text) => {
                push_text(text, out);
                return &[];
            }
            Err(error) => {
                let (valid, after) = input.split_at(error.valid_up_to());
                // `valid_up_to` guarantees this prefix is UTF-8.
                push_text(std::str::from_utf8(valid).unwrap_or_default(), out);
                match error.error_len() {
                    None => return after,
                    Some(len) => {
                        for &b in &after[..len] {
                            push_byte_escape(b, out);
                        }
                        input = &after[len..];
                    }
                }
            }
        }
    }
}

fn push_text(text: &str, out: &mut String) {
    for c in text.chars() {
        if !is_unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            push_byte_escape(c as u8, out);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn push_byte_escape(b: u8, out: &mut String) {
    let _ = write!(out, "\\x{b:02x}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_csi_clear_screen() {
        assert_eq!(escape_terminal(b"\x1b[2J"), "\\x1b[2J");
    }

    #[test]
    fn keeps_tab_cr_lf_and_text() {
        assert_eq!(escape_terminal(b"a\tb\r\nc"), "a\tb\r\nc");
        assert_eq!(escape_terminal("päivää 🌍".as_bytes()), "päivää 🌍");
    }

    #[test]
    fn escapes_other_c0_and_del() {
        assert_eq!(escape_terminal(b"\x00\x07\x08\x7f"), "\\x00\\x07\\x08\\x7f");
    }

    #[test]
    fn escapes_c1_as_unicode_and_raw_c1_byte_as_hex() {
        assert_eq!(escape_terminal("\u{9b}2J".as_bytes()), "\\u{9b}2J");
        assert_eq!(escape_terminal(b"\x9b2J"), "\\x9b2J");
    }

    #[test]
    fn escapes_bidi_overrides_and_isolates() {
        let s = "a\u{202e}b\u{2066}c\u{2069}";
        assert_eq!(
            escape_terminal(s.as_bytes()),
            "a\\u{202e}b\\u{2066}c\\u{2069}"
        );
    }

    #[test]
    fn escapes_invalid_utf8() {
        assert_eq!(escape_terminal(b"\xff\xfeok\xc3"), "\\xff\\xfeok\\xc3");
    }

    #[test]
    fn streaming_joins_split_utf8() {
        let mut e = TerminalEscaper::new();
        let bytes = "ä".as_bytes();
        assert_eq!(e.push(&bytes[..1]), "");
        assert_eq!(e.push(&bytes[1..]), "ä");
        assert_eq!(e.finish(), "");
    }

    #[test]
    fn streaming_finish_escapes_truncated_sequence() {
        let mut e = TerminalEscaper::new();
        assert_eq!(e.push(b"x\xe2\x80"), "x");
        assert_eq!(e.finish(), "\\xe2\\x80");
    }

    proptest! {
        #[test]
        fn output_never_contains_unsafe_chars(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let out = escape_terminal(&bytes);
            prop_assert!(!out.chars().any(is_unsafe_char));
        }

        #[test]
        fn streaming_equals_whole(bytes in proptest::collection::vec(any::<u8>(), 0..128),
                                  cuts in proptest::collection::vec(0usize..128, 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut e = TerminalEscaper::new();
            let mut out = String::new();
            let mut start = 0;
            for cut in cuts {
                out.push_str(&e.push(&bytes[start..cut]));
                start = cut;
            }
            out.push_str(&e.push(&bytes[start..]));
            out.push_str(&e.finish());
            prop_assert_eq!(out, escape_terminal(&bytes));
        }
    }
}
