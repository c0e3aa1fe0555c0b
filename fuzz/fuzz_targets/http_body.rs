//! A response body under each framing, fed in pieces of varying size (the first
//! byte picks the framing and the piece size). Never more than the framing allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::http::{BodyDecoder, Framing};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let framing = match pick % 4 {
        0 => Framing::Chunked,
        1 => Framing::Length(u64::from(pick) * 3),
        2 => Framing::UntilClose,
        _ => Framing::Empty,
    };
    let step = usize::from(pick / 4).max(1);
    let mut decoder = BodyDecoder::new(framing);
    let mut out = Vec::new();
    for piece in body.chunks(step) {
        if decoder.push(piece, &mut out).is_err() || decoder.is_done() {
            break;
        }
    }
    match framing {
        Framing::Length(n) => assert!(out.len() as u64 <= n),
        Framing::Empty => assert!(out.is_empty()),
        Framing::Chunked => assert!(out.len() <= body.len()),
        Framing::UntilClose => assert_eq!(out, body),
    }
});
