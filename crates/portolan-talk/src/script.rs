//! Scripted sessions: `--send` strings with backslash escapes and `--expect` regular
//! expressions matched in order against what the peer sends.
//!
//! [`Expecter`] is sans-IO: it is fed received bytes and says how many expectations
//! are still open. Patterns are byte regexes in multi-line mode, so `^` matches at the
//! start of any line. Text before and including a match is consumed; the next
//! pattern only sees what came after. The buffer is bounded: when more than
//! [`MAX_BUFFER`] bytes arrive without a match, only the last quarter is kept.

use std::collections::VecDeque;
use std::time::Duration;

use regex::bytes::{Regex, RegexBuilder};

use crate::error::UsageError;

/// The most unmatched received bytes kept for matching.
pub const MAX_BUFFER: usize = 1024 * 1024;

/// What to send and expect in a scripted session.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Byte strings sent in order right after connecting (escapes resolved).
    pub sends: Vec<Vec<u8>>,
    /// Patterns to expect, in order.
    pub expects: Vec<Expectation>,
    /// How long to wait for each expectation.
    pub timeout: Duration,
}

impl Script {
    /// Whether the session reads stdin (only when there is nothing to `--send`).
    pub fn reads_input(&self) -> bool {
        self.sends.is_empty()
    }
}

/// One compiled `--expect` pattern.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// The pattern as the user typed it.
    pub pattern: String,
    regex: Regex,
}

impl Expectation {
    /// Compiles `pattern` (multi-line mode).
    pub fn new(pattern: &str) -> Result<Self, UsageError> {
        let regex = RegexBuilder::new(pattern)
            .multi_line(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|cause| UsageError::Regex {
                pattern: pattern.to_string(),
                cause: Box::new(cause),
            })?;
        Ok(Self {
            pattern: pattern.to_string(),
            regex,
        })
    }
}

/// Matches received bytes against the expectations in order.
#[derive(Debug, Clone, Default)]
pub struct Expecter {
    pending: VecDeque<Expectation>,
    buf: Vec<u8>,
}

impl Expecter {
    /// An expecter for `expects`, in order.
    pub fn new(expects: &[Expectation]) -> Self {
        Self {
            pending: expects.iter().cloned().collect(),
            buf: Vec::new(),
        }
    }

    /// Feeds received bytes. Returns how many expectations matched now.
    pub fn feed(&mut self, bytes: &[u8]) -> usize {
        if self.pending.is_empty() {
            return 0;
        }
        self.buf.extend_from_slice(bytes);
        let mut matched = 0;
        while let Some(next) = self.pending.front() {
            let Some(found) = next.regex.find(&self.buf) else {
                break;
            };
            self.buf.drain(..found.end());
            self.pending.pop_front();
            matched += 1;
        }
        if self.buf.len() > MAX_BUFFER {
            self.buf.drain(..self.buf.len() - MAX_BUFFER / 4);
        }
        matched
    }

    /// The pattern being waited for, if any.
    pub fn waiting_for(&self) -> Option<&str> {
        self.pending.front().map(|e| e.pattern.as_str())
    }
}

/// Resolves backslash escapes in a `--send` string: `\r`, `\n`, `\t`, `\0`, `\e`,
/// `\\` and `\xNN`.
pub fn unescape(text: &str) -> Result<Vec<u8>, UsageError> {
    let bad = |reason: &str| UsageError::Escape {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let byte = match chars.next() {
            Some('r') => b'\r',
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('0') => 0,
            Some('e') => 0x1b,
            Some('\\') => b'\\',
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                if hex.len() != 2 {
                    return Err(bad("\\x needs two hex digits"));
                }
                u8::from_str_radix(&hex, 16).map_err(|_| bad("\\x needs two hex digits"))?
            }
            Some(other) => return Err(bad(&format!("unknown escape \\{other}"))),
            None => return Err(bad("a lone backslash at the end")),
        };
        out.push(byte);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes() {
        assert_eq!(unescape(r"PING\r\n").unwrap(), b"PING\r\n");
        assert_eq!(
            unescape(r"a\x00\xffb\\\e\t").unwrap(),
            b"a\x00\xffb\\\x1b\t"
        );
        assert_eq!(unescape("ä").unwrap(), "ä".as_bytes());
        assert!(unescape(r"\q").is_err());
        assert!(unescape(r"\x4").is_err());
        assert!(unescape("x\\").is_err());
    }

    #[test]
    fn matches_in_order_across_reads() {
        let e = [
            Expectation::new(r"^\+PONG").unwrap(),
            Expectation::new("bye").unwrap(),
        ];
        let mut x = Expecter::new(&e);
        assert_eq!(x.feed(b"+PO"), 0);
        assert_eq!(x.waiting_for(), Some(r"^\+PONG"));
        assert_eq!(x.feed(b"NG\r\nby"), 1);
        assert_eq!(x.feed(b"e"), 1);
        assert_eq!(x.waiting_for(), None);
    }

    #[test]
    fn caret_matches_line_starts_only() {
        let mut x = Expecter::new(&[Expectation::new(r"^\+PONG").unwrap()]);
        assert_eq!(x.feed(b"x+PONG\r\n"), 0);
        assert_eq!(x.feed(b"+PONG\r\n"), 1);
    }

    #[test]
    fn later_pattern_only_sees_later_bytes() {
        let e = [
            Expectation::new("a").unwrap(),
            Expectation::new("a").unwrap(),
        ];
        let mut x = Expecter::new(&e);
        assert_eq!(x.feed(b"a"), 1);
        assert_eq!(x.feed(b"a"), 1);
    }

    #[test]
    fn buffer_is_bounded() {
        let mut x = Expecter::new(&[Expectation::new("never").unwrap()]);
        for _ in 0..5 {
            x.feed(&vec![b'x'; MAX_BUFFER / 2]);
        }
        assert!(x.buf.len() <= MAX_BUFFER);
        assert!(Expectation::new("(").is_err());
    }
}
