//! A server's response head, fed to the sans-IO parser in two pieces (the first byte
//! says where to cut), then its framing and the body decoder over what followed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::http::{BodyDecoder, Framing, HeadParser};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(rest.len());
    let mut parser = HeadParser::new();
    let mut done = match parser.push(&rest[..cut]) {
        Ok(done) => done,
        Err(_) => return,
    };
    if done.is_none() {
        done = match parser.push(&rest[cut..]) {
            Ok(done) => done,
            Err(_) => return,
        };
    }
    let Some((head, after)) = done else {
        return;
    };
    assert!((100..=999).contains(&head.status), "status {}", head.status);
    let _ = head.header_str("location");
    for method in ["GET", "HEAD"] {
        let Ok(framing) = Framing::of(method, &head) else {
            continue;
        };
        let mut decoder = BodyDecoder::new(framing);
        let mut out = Vec::new();
        let _ = decoder.push(&after, &mut out);
        if let Framing::Length(n) = framing {
            assert!(out.len() as u64 <= n, "more body than Content-Length");
        }
    }
});
