//! A capture for `portolan fingerprint`: text read as a `connect --hex` dump, and
//! the bytes it holds (or the input itself, as a `--raw` capture) made into a stub,
//! which must load and match the bytes it was made from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_probe::{stub, Database, Exchange, StubInput, StubProbe, BANNER};

fuzz_target!(|data: &[u8]| {
    let received = match std::str::from_utf8(data).map(portolan_talk::parse_hex_dump) {
        Ok(Ok(dump)) => dump.received,
        _ => data.to_vec(),
    };
    let db = Database::default();
    let input = StubInput {
        received: &received,
        probe: StubProbe::Known(BANNER),
        port: None,
        fixture: None,
    };
    let Some(stub) = stub(&db, &input) else {
        assert!(received.is_empty());
        return;
    };
    let mut db = Database::default();
    db.add_file("stub.toml", &stub.toml).expect("a stub loads");
    let m = db.identify(&Exchange {
        probe: BANNER,
        sent: b"",
        received: &received,
    });
    assert!(m.is_some(), "{}", stub.toml);
});
