//! Bytes from the network rendered for a terminal, whole and streamed in pieces:
//! both give the same text, and neither lets a control character through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_text::{escape_terminal, TerminalEscaper};

fuzz_target!(|data: &[u8]| {
    let Some((&step, bytes)) = data.split_first() else {
        return;
    };
    let whole = escape_terminal(bytes);
    let mut escaper = TerminalEscaper::new();
    let mut streamed = String::new();
    for piece in bytes.chunks(usize::from(step).max(1)) {
        streamed.push_str(&escaper.push(piece));
    }
    streamed.push_str(&escaper.finish());
    assert_eq!(whole, streamed);
    assert!(!whole.chars().any(portolan_text::is_unsafe_char), "{whole:?}");
});
