//! The one escaping rule for text that came from outside: banners, HTTP `Server`,
//! `Location` and `<title>`, fingerprint products and versions, certificate subjects,
//! issuers and names, everything a stranger sent.
//!
//! A port scanner and a port client print what a stranger sent. Written to a terminal
//! unchanged, those bytes can clear the screen, move the cursor, set the window title,
//! reorder text with bidi controls or, on some terminals, answer queries into the
//! input. Dropped silently, they hide what the server really said. So they are shown,
//! visibly escaped:
//!
//! | input | shown as |
//! | --- | --- |
//! | a backslash | `\\` |
//! | C0 controls (`0x00`–`0x1f`) and DEL (`0x7f`) | `\x1b`, `\x00`, `\x7f` |
//! | C1 controls (U+0080–U+009F, encoded in UTF-8) | `\u{9b}` |
//! | bidi controls: U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069 | `\u{202e}` |
//! | bytes that are not valid UTF-8 (including a raw C1 byte such as `0x9b`) | `\x9b` |
//!
//! Everything else, all printable Unicode, passes unchanged. Tab, CR and LF are the
//! only choice: a multi-line stream ([`escape_terminal`], [`TerminalEscaper`], what
//! `connect` shows) keeps them, a one-line field ([`escape_line`], [`escape_field`])
//! escapes them too (`\x0a`), so a field can never start a line of its own.
//!
//! Because the backslash itself is escaped, the mapping is injective: a server that
//! sends the four characters `\x1b` is shown as `\\x1b`, never like one that sends
//! ESC, and two inputs that differ in one byte are shown differently. [`unescape`]
//! is the inverse (a banner stored as its escaped text is read back as its bytes).
//!
//! Long fields are cut by [`truncate`], which counts characters of the escaped text,
//! never cuts inside an escape, and ends a cut text with [`TRUNCATED`] (`…`).
//!
//! Output formats add their own syntax on top (JSON string escapes, XML entities, CSV
//! quotes); [`escape_controls`] is their guard for text that was not already escaped
//! here (a host name the user typed, a command line): it escapes the same character
//! class, tab, CR and LF, and leaves backslashes alone, so applying it to text that
//! went through this crate changes nothing.

#![warn(missing_docs)]

use std::borrow::Cow;
use std::fmt::Write as _;

/// The marker that ends text cut by [`truncate`] or [`escape_field`].
pub const TRUNCATED: char = '…';

/// Whether `c` is a bidi control: an embedding, override, isolate or mark.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether a character must be shown escaped rather than written to a terminal: C0
/// controls except tab, CR and LF, DEL, C1 controls, bidi controls.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\r' | '\n')) || is_bidi_control(c)
}

/// Whether a character must be escaped inside one line of text: what
/// [`is_unsafe_char`] says, plus tab, CR and LF.
pub fn is_unsafe_in_line(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Renders `bytes` for a terminal, keeping tab, CR and LF: everything else the crate
/// documentation lists is escaped.
///
/// ```
/// assert_eq!(portolan_text::escape_terminal(b"\x1b[2Jhi\\\r\n"), "\\x1b[2Jhi\\\\\r\n");
/// ```
pub fn escape_terminal(bytes: &[u8]) -> String {
    let mut escaper = TerminalEscaper::new();
    let mut out = escaper.push(bytes);
    out.push_str(&escaper.finish());
    out
}

/// Renders `bytes` as one line: like [`escape_terminal`], and tab, CR and LF escaped.
///
/// ```
/// assert_eq!(portolan_text::escape_line(b"Evil\x1b]0;x\x07\r\n"), "Evil\\x1b]0;x\\x07\\x0d\\x0a");
/// ```
pub fn escape_line(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let rest = render_complete(bytes, Mode::Line, &mut out);
    for &b in rest {
        push_byte_escape(b, &mut out);
    }
    out
}

/// [`escape_line`], then cut to at most `max_chars` characters with [`truncate`].
///
/// ```
/// assert_eq!(portolan_text::escape_field(b"abc\x1bdef", 6), "abc…");
/// ```
pub fn escape_field(bytes: &[u8], max_chars: usize) -> String {
    truncate(&escape_line(bytes), max_chars).into_owned()
}

/// Cuts escaped text to at most `max_chars` characters, the [`TRUNCATED`] marker
/// included, never inside an escape (`\\`, `\xNN`, `\u{...}`); text that fits is
/// returned unchanged.
///
/// ```
/// assert_eq!(portolan_text::truncate("ab\\x1bcd", 5), "ab…");
/// assert_eq!(portolan_text::truncate("ab\\x1b", 6), "ab\\x1b");
/// ```
pub fn truncate(escaped: &str, max_chars: usize) -> Cow<'_, str> {
    if escaped.chars().count() <= max_chars {
        return Cow::Borrowed(escaped);
    }
    let budget = max_chars.saturating_sub(1);
    let mut end = 0;
    let mut used = 0;
    let mut rest = escaped;
    while !rest.is_empty() {
        let unit = unit_len(rest);
        let chars = rest[..unit].chars().count();
        if used + chars > budget {
            break;
        }
        used += chars;
        end += unit;
        rest = &rest[unit..];
    }
    let mut out = escaped[..end].to_string();
    if max_chars > 0 {
        out.push(TRUNCATED);
    }
    Cow::Owned(out)
}

/// The length in bytes of the first unit of `s` (non-empty): a whole escape or one
/// character.
fn unit_len(s: &str) -> usize {
    let b = s.as_bytes();
    let first = s.chars().next().map_or(1, char::len_utf8);
    if b[0] != b'\\' || b.len() < 2 {
        return first;
    }
    match b[1] {
        b'\\' => 2,
        b'x' if b.len() >= 4 && b[2..4].iter().all(u8::is_ascii_hexdigit) => 4,
        b'u' if b.get(2) == Some(&b'{') => s.find('}').map_or(first, |close| close + 1),
        _ => first,
    }
}

/// The inverse of [`escape_terminal`] and [`escape_line`]: the bytes that were
/// escaped. `None` when `escaped` holds a backslash that starts no escape (so it
/// was not produced by this crate). Used to read back a banner that was stored as
/// its escaped text.
///
/// ```
/// let bytes = b"\x1b[2J \\x1b \xff \xe2\x80\xae";
/// let text = portolan_text::escape_terminal(bytes);
/// assert_eq!(portolan_text::unescape(&text).as_deref(), Some(&bytes[..]));
/// assert_eq!(portolan_text::unescape("C:\\path"), None);
/// ```
pub fn unescape(escaped: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(c) = rest.chars().next() {
        let unit = unit_len(rest);
        let text = &rest[..unit];
        if let Some(hex) = text.strip_prefix("\\x") {
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else if let Some(code) = text.strip_prefix("\\u{") {
            let code = u32::from_str_radix(code.strip_suffix('}')?, 16).ok()?;
            let mut utf8 = [0; 4];
            out.extend_from_slice(char::from_u32(code)?.encode_utf8(&mut utf8).as_bytes());
        } else if text == "\\\\" {
            out.push(b'\\');
        } else if c == '\\' {
            return None;
        } else {
            out.extend_from_slice(text.as_bytes());
        }
        rest = &rest[unit..];
    }
    Some(out)
}

/// The guard an output format applies to any text before adding its own syntax:
/// characters in the [`is_unsafe_in_line`] class are escaped, everything else,
/// backslashes included, is kept. Idempotent, and a no-op on what [`escape_line`]
/// produced.
///
/// ```
/// assert_eq!(portolan_text::escape_controls("a\u{202e}b\n\\x"), "a\\u{202e}b\\x0a\\x");
/// ```
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.contains(is_unsafe_in_line) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_in_line(c) {
            push_char_escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
        let rest = render_complete(input, Mode::Terminal, &mut out);
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

/// Whether tab, CR and LF are kept.
#[derive(Clone, Copy)]
enum Mode {
    Terminal,
    Line,
}

/// Renders `input` into `out` and returns the incomplete UTF-8 sequence at its end,
/// if any, unrendered.
fn render_complete<'a>(mut input: &'a [u8], mode: Mode, out: &mut String) -> &'a [u8] {
    loop {
        match std::str::from_utf8(input) {
            Ok(text) => {
                push_text(text, mode, out);
                return &[];
            }
            Err(error) => {
                let (valid, after) = input.split_at(error.valid_up_to());
                // `valid_up_to` guarantees this prefix is UTF-8.
                push_text(std::str::from_utf8(valid).unwrap_or_default(), mode, out);
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

fn push_text(text: &str, mode: Mode, out: &mut String) {
    for c in text.chars() {
        let unsafe_char = match mode {
            Mode::Terminal => is_unsafe_char(c),
            Mode::Line => is_unsafe_in_line(c),
        };
        if c == '\\' {
            out.push_str("\\\\");
        } else if unsafe_char {
            push_char_escape(c, out);
        } else {
            out.push(c);
        }
    }
}

/// `\xNN` for an ASCII character, `\u{...}` for any other.
fn push_char_escape(c: char, out: &mut String) {
    match u8::try_from(c) {
        Ok(b) if b.is_ascii() => push_byte_escape(b, out),
        _ => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
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

    /// Regression (issue 8): the marks and the Arabic letter mark were let through.
    #[test]
    fn escapes_bidi_marks() {
        let s = "\u{200e}\u{200f}\u{61c}";
        assert_eq!(escape_terminal(s.as_bytes()), "\\u{200e}\\u{200f}\\u{61c}");
        assert_eq!(escape_controls(s), "\\u{200e}\\u{200f}\\u{61c}");
    }

    #[test]
    fn escapes_invalid_utf8() {
        assert_eq!(escape_terminal(b"\xff\xfeok\xc3"), "\\xff\\xfeok\\xc3");
        assert_eq!(escape_line(b"ok\xe2\x80"), "ok\\xe2\\x80");
    }

    /// Regression (issue 9, item 17): a server could send the text `\x1b[2J` and be
    /// shown exactly like one that sent ESC.
    #[test]
    fn a_literal_backslash_cannot_forge_an_escape() {
        assert_eq!(escape_terminal(b"\\x1b[2J"), "\\\\x1b[2J");
        assert_ne!(escape_line(b"\\x1b"), escape_line(b"\x1b"));
    }

    #[test]
    fn one_line_escapes_line_breaks() {
        assert_eq!(
            escape_line(b"Evil\x1b]0;SRVTITLE\x07\t\r\n"),
            "Evil\\x1b]0;SRVTITLE\\x07\\x09\\x0d\\x0a"
        );
    }

    #[test]
    fn truncation_has_a_marker_and_keeps_escapes_whole() {
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("a\\x1bcdef", 4), "a…");
        assert_eq!(truncate("a\\x1bcdef", 6), "a\\x1b…");
        assert_eq!(truncate("a\\u{202e}bc", 9), "a…");
        assert_eq!(truncate("a\\\\bc", 3), "a…");
        assert_eq!(truncate("äöüß", 3), "äö…");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(escape_field(&[b'a'; 500], 120).chars().count(), 120);
    }

    #[test]
    fn escape_controls_guards_and_is_idempotent_on_escaped_text() {
        assert_eq!(escape_controls("ok.example"), "ok.example");
        assert_eq!(escape_controls("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(escape_controls("x\u{202e}y\n"), "x\\u{202e}y\\x0a");
        assert_eq!(escape_controls("\u{9b}"), "\\u{9b}");
        let escaped = escape_line(b"\\ \x1b \xff \xe2\x80\xae");
        assert_eq!(escape_controls(&escaped), escaped);
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

    fn hostile() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            Just(b"\\".to_vec()),
            Just(b"\\x1b".to_vec()),
            Just("\u{202e}".as_bytes().to_vec()),
            Just("\u{200f}".as_bytes().to_vec()),
            Just("\u{61c}".as_bytes().to_vec()),
            Just("\u{9b}".as_bytes().to_vec()),
            Just("é".as_bytes().to_vec()),
        ];
        proptest::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn output_never_contains_unsafe_chars(bytes in hostile()) {
            let out = escape_terminal(&bytes);
            prop_assert!(!out.chars().any(is_unsafe_char));
            let line = escape_line(&bytes);
            prop_assert!(!line.chars().any(is_unsafe_in_line));
            let field = escape_field(&bytes, 17);
            prop_assert!(!field.chars().any(is_unsafe_in_line));
            prop_assert!(field.chars().count() <= 17);
        }

        #[test]
        fn escaping_is_injective(bytes in hostile()) {
            prop_assert_eq!(unescape(&escape_line(&bytes)), Some(bytes.clone()));
            prop_assert_eq!(unescape(&escape_terminal(&bytes)), Some(bytes));
        }

        #[test]
        fn inputs_differing_in_a_control_byte_are_distinguishable(
            bytes in hostile(), at in any::<prop::sample::Index>(), control in 0u8..0x20,
        ) {
            let mut other = bytes.clone();
            let i = at.index(other.len() + 1);
            other.insert(i, control);
            prop_assert_ne!(escape_line(&bytes), escape_line(&other));
            let mut replaced = bytes.clone();
            if let Some(b) = replaced.get_mut(i) {
                if *b != control {
                    *b = control;
                    prop_assert_ne!(escape_line(&bytes), escape_line(&replaced));
                }
            }
        }

        #[test]
        fn truncation_never_splits_an_escape(bytes in hostile(), max in 0usize..60) {
            let whole = escape_line(&bytes);
            let cut = truncate(&whole, max);
            prop_assert!(cut.chars().count() <= max);
            let kept = cut.strip_suffix(TRUNCATED).unwrap_or(&cut);
            prop_assert!(whole.starts_with(kept));
            prop_assert!(unescape(kept).is_some(), "{:?}", kept);
        }

        #[test]
        fn streaming_equals_whole(bytes in hostile(),
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
