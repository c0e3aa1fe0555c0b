//! What a server says, matched against the built-in fingerprint database as the
//! answer to each probe (the first byte picks the probe), and the HTTP summary.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portolan_probe::{Database, Exchange, BANNER};

static DB: OnceLock<Database> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let db = DB.get_or_init(|| Database::builtin().expect("the built-in database loads"));
    let Some((&pick, received)) = data.split_first() else {
        return;
    };
    let payloads = ["http-get", "tls-hello", "dns-version", "sip-options", BANNER];
    let probe = payloads[usize::from(pick) % payloads.len()];
    let sent = db.payload(probe).map_or(&[][..], |p| p.bytes.as_slice());
    if let Some(m) = db.identify(&Exchange { probe, sent, received }) {
        assert!(m.confidence <= 10);
        for field in [&m.product, &m.version, &m.info].into_iter().flatten() {
            assert!(field.chars().count() <= portolan_probe::MAX_FIELD * 4 + 8);
        }
    }
    let _ = portolan_probe::http_info(received);
});
