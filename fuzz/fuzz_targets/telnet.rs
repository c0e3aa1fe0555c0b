//! The Telnet state machine (RFC 854/1143) fed a server's bytes in pieces; and data
//! encoded by the encoder comes back unchanged through a fresh decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::telnet::{NegotiationSniffer, TelnetDecoder, TelnetEncoder};

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut decoder = TelnetDecoder::new();
    let mut sniffer = NegotiationSniffer::new();
    let (mut shown, mut reply) = (Vec::new(), Vec::new());
    for piece in input.chunks(step) {
        decoder.receive(piece, &mut shown, &mut reply);
        let _ = sniffer.observe(piece);
    }
    assert!(shown.len() <= input.len(), "more data than input");
    assert!(
        reply.len() <= 3 * input.len() + 3,
        "a reply out of proportion: {} for {}",
        reply.len(),
        input.len()
    );

    let mut encoder = TelnetEncoder::new();
    let mut wire = Vec::new();
    encoder.encode(input, &mut wire);
    encoder.finish(&mut wire);
    let mut back = Vec::new();
    let mut fresh = TelnetDecoder::new();
    fresh.receive(&wire, &mut back, &mut Vec::new());
    assert_eq!(back, input, "encode then decode is the identity");
});
