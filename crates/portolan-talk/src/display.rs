//! How the bytes of a session are shown: unchanged, escaped for a terminal, or as a
//! hex dump of both directions. [`Printer`] is sans-IO: it turns bytes into the bytes
//! to write to the output. [`parse_hex_dump`] reads a hex dump back into the bytes
//! of each direction (a capture for `portolan fingerprint`).

use std::fmt::Write as _;

use portolan_text::TerminalEscaper;

/// How received bytes are written to the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Display {
    /// Unchanged (stdout is not a terminal, or `--raw`).
    #[default]
    Raw,
    /// Terminal controls shown as escapes (stdout is a terminal).
    Escaped,
    /// A hex dump of both directions, `>` for sent and `<` for received (`--hex`).
    Hex,
}

/// Renders the bytes of a session for the output; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Printer {
    display: Display,
    escaper: TerminalEscaper,
    sent_offset: u64,
    received_offset: u64,
}

impl Printer {
    /// A printer for the given display mode.
    pub fn new(display: Display) -> Self {
        Self {
            display,
            ..Self::default()
        }
    }

    /// The output for `bytes` received from the peer.
    pub fn received(&mut self, bytes: &[u8]) -> Vec<u8> {
        match self.display {
            Display::Raw => bytes.to_vec(),
            Display::Escaped => self.escaper.push(bytes).into_bytes(),
            Display::Hex => hex_dump('<', &mut self.received_offset, bytes).into_bytes(),
        }
    }

    /// The output for `bytes` sent to the peer (only a hex dump shows them).
    pub fn sent(&mut self, bytes: &[u8]) -> Vec<u8> {
        match self.display {
            Display::Hex => hex_dump('>', &mut self.sent_offset, bytes).into_bytes(),
            Display::Raw | Display::Escaped => Vec::new(),
        }
    }

    /// Output still held back at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        match self.display {
            Display::Escaped => self.escaper.finish().into_bytes(),
            Display::Raw | Display::Hex => Vec::new(),
        }
    }
}

/// A hex dump in the shape of `ncat -x`: offset, 16 bytes in hex, printable ASCII.
fn hex_dump(mark: char, offset: &mut u64, bytes: &[u8]) -> String {
    let mut out = String::new();
    for line in bytes.chunks(16) {
        let _ = write!(out, "{mark} {offset:08x}  ");
        for i in 0..16 {
            match line.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(line.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
        *offset += line.len() as u64;
    }
    out
}

/// The bytes of each direction of a hex dump written by `connect --hex`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HexDump {
    /// The `>` lines: what was sent.
    pub sent: Vec<u8>,
    /// The `<` lines: what was received.
    pub received: Vec<u8>,
}

/// Why a text is not a hex dump of `connect --hex`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct HexDumpError {
    /// The line (from 1).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Reads the output of `connect --hex` back into bytes: every line is `> ` or `< `,
/// an offset (which must follow on from that direction's previous lines), up to 16
/// bytes in hex and the printable column between bars, as [`Display::Hex`] shows them.
/// Blank lines are skipped; anything else is an error that names its line.
pub fn parse_hex_dump(text: &str) -> Result<HexDump, HexDumpError> {
    let mut dump = HexDump::default();
    for (i, line) in text.lines().enumerate() {
        let bad = |reason: &str| HexDumpError {
            line: i + 1,
            reason: reason.to_string(),
        };
        if line.trim().is_empty() {
            continue;
        }
        let (bytes, rest) = match line.get(..2) {
            Some("> ") => (&mut dump.sent, &line[2..]),
            Some("< ") => (&mut dump.received, &line[2..]),
            _ => {
                return Err(bad(
                    "not a line of `connect --hex` (it starts with `>` or `<`)",
                ))
            }
        };
        let (offset, rest) = rest
            .split_once("  ")
            .ok_or_else(|| bad("no offset before the bytes"))?;
        let offset =
            u64::from_str_radix(offset, 16).map_err(|_| bad("the offset is not hexadecimal"))?;
        if offset != bytes.len() as u64 {
            return Err(bad(&format!(
                "offset {offset:08x}, but {:08x} bytes came before in this direction",
                bytes.len()
            )));
        }
        let hex = rest.split_once(" |").map_or(rest, |(hex, _)| hex);
        let mut count = 0;
        for word in hex.split_whitespace() {
            let byte = (word.len() == 2)
                .then(|| u8::from_str_radix(word, 16).ok())
                .flatten()
                .ok_or_else(|| bad(&format!("`{}` is not a byte in hex", word.escape_debug())))?;
            bytes.push(byte);
            count += 1;
        }
        if count == 0 || count > 16 {
            return Err(bad("a line holds 1 to 16 bytes"));
        }
    }
    Ok(dump)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_hex_dump_reads_back_as_its_bytes(
            chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..8)
        ) {
            let mut p = Printer::new(Display::Hex);
            let mut text = Vec::new();
            let mut want = HexDump::default();
            for (sent, bytes) in &chunks {
                if *sent {
                    text.extend(p.sent(bytes));
                    want.sent.extend(bytes);
                } else {
                    text.extend(p.received(bytes));
                    want.received.extend(bytes);
                }
            }
            let text = String::from_utf8(text).unwrap();
            prop_assert_eq!(parse_hex_dump(&text).unwrap(), want);
        }

        #[test]
        fn any_text_is_read_or_refused_without_a_panic(text in "\\PC{0,200}") {
            let _ = parse_hex_dump(&text);
        }
    }

    #[test]
    fn bad_dumps_name_their_line() {
        let err = parse_hex_dump("< 00000000  41 42  |AB|\nhello\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_hex_dump("< 00000000  41  |A|\n< 00000002  42  |B|\n").unwrap_err();
        assert!(
            err.to_string().starts_with("line 2: offset 00000002"),
            "{err}"
        );
        let err = parse_hex_dump("< 00000000  4g  |A|\n").unwrap_err();
        assert!(err.reason.contains("`4g`"), "{err}");
        // The printable column may hold bars and spaces.
        let text = String::from_utf8(Printer::new(Display::Hex).received(b"| |x")).unwrap();
        assert_eq!(parse_hex_dump(&text).unwrap().received, b"| |x");
    }

    #[test]
    fn hex_dump_marks_direction_and_offsets() {
        let mut p = Printer::new(Display::Hex);
        let sent = String::from_utf8(p.sent(b"PING\r\n")).unwrap();
        assert_eq!(
            sent,
            "> 00000000  50 49 4e 47 0d 0a                                 |PING..|\n"
        );
        let got = String::from_utf8(p.received(&[0x41; 17])).unwrap();
        let lines: Vec<&str> = got.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("< 00000000  41 41"));
        assert!(lines[1].starts_with("< 00000010  41 "));
    }

    #[test]
    fn escaped_and_raw() {
        assert_eq!(
            Printer::new(Display::Escaped).received(b"\x1b[2J"),
            b"\\x1b[2J"
        );
        assert_eq!(Printer::new(Display::Raw).received(b"\x1b[2J"), b"\x1b[2J");
        assert!(Printer::new(Display::Raw).sent(b"x").is_empty());
    }
}
