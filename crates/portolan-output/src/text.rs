//! Making untrusted one-line text safe to print, with `portolan-text`'s one rule.
//!
//! Fields from the network (banners aside, which are kept as bytes) were escaped by
//! `portolan_text` when they were read, so here they only pass the format's guard;
//! host names and command lines come from the user. [`clean`] is that guard: the
//! control and bidi class of `portolan_text`, tab, CR and LF included, escaped, and a
//! no-op on text that was escaped already (so nothing is escaped twice).

/// Escapes every character that could control a terminal, reorder text or break a
/// line ([`portolan_text::escape_controls`]).
pub fn clean(s: &str) -> String {
    portolan_text::escape_controls(s).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_controls_and_bidi() {
        assert_eq!(super::clean("ok.example"), "ok.example");
        assert_eq!(super::clean("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(super::clean("x\u{202e}y\n"), "x\\u{202e}y\\x0a");
        assert_eq!(super::clean("\u{9b}\u{200f}"), "\\u{9b}\\u{200f}");
    }
}
