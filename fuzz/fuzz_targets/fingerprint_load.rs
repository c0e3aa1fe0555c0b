//! A fingerprint file (`--fingerprints DIR`): TOML with payloads and patterns, loaded
//! into an empty database and then used once on a fixed banner.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_probe::{Database, Exchange, BANNER};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut db = Database::default();
    if db.add_file("fuzz.toml", text).is_ok() {
        let _ = db.identify(&Exchange {
            probe: BANNER,
            sent: b"",
            received: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
        });
    }
});
