//! Making untrusted one-line text safe to print.
//!
//! Host names come from the user or from DNS; banners come from servers. Inside a
//! table cell even tab, CR and LF would break the layout, so on top of what
//! [`portolan_text::is_unsafe_char`] escapes, every control character is written as a
//! visible escape (`\x0a`).

use std::fmt::Write as _;

/// Escapes every character that could control a terminal, reorder text or break a line.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if portolan_text::is_unsafe_char(c) || c.is_control() {
            let _ = if u32::from(c) <= 0xff {
                write!(out, "\\x{:02x}", u32::from(c))
            } else {
                write!(out, "\\u{{{:x}}}", u32::from(c))
            };
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(super::clean("ok.example"), "ok.example");
        assert_eq!(super::clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(super::clean("x\u{202e}y\n"), "x\\u{202e}y\\x0a");
        assert_eq!(super::clean("\u{9b}"), "\\x9b");
    }
}
