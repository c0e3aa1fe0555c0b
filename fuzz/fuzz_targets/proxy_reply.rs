//! The SOCKS5 and HTTP CONNECT handshakes fed a proxy's bytes in pieces: never a
//! panic, and a tunnel's leftover bytes are never more than what came in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_proxy::{Destination, Handshake, Progress, ProxyUrl};

fuzz_target!(|data: &[u8]| {
    let Some((&step, input)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let dest = Destination::Name {
        host: "lab.test".into(),
        port: 22,
    };
    for url in ["socks5://127.0.0.1:1", "socks5h://u:p@127.0.0.1:1", "http://127.0.0.1:1"] {
        let Ok(proxy) = url.parse::<ProxyUrl>() else {
            return;
        };
        let Ok(mut h) = Handshake::new(&proxy, &dest) else {
            return;
        };
        let mut done = false;
        for piece in input.chunks(step) {
            let n = h.transmit().len();
            h.sent(n);
            match h.receive(piece) {
                Ok(Progress::Done(_)) => done = true,
                Ok(Progress::Pending) => {}
                Err(_) => break,
            }
        }
        if !done {
            let _ = h.closed();
        }
        assert!(h.take_leftover().len() <= input.len(), "leftover out of nothing");
    }
});
