//! Making untrusted text safe to print.
//!
//! Host names come from the user or from DNS; later, banners come from servers.
//! Before any of it reaches a terminal, control characters, escape sequences and
//! bidirectional overrides are written as visible escapes (`\x1b`, `\u{202e}`).

/// Escapes every character that could control a terminal or reorder text.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_dangerous(c) {
            if u32::from(c) <= 0xff {
                out.push_str(&format!("\\x{:02x}", u32::from(c)));
            } else {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
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
