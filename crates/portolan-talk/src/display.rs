//! How the bytes of a session are shown: unchanged, escaped for a terminal, or as a
//! hex dump of both directions. [`Printer`] is sans-IO: it turns bytes into the bytes
//! to write to the output.

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

#[cfg(test)]
mod tests {
    use super::*;

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
