//! A URL (`portolan http URL`) and a server's `Location` (raw bytes, as sent) joined
//! to it. The two are split at the first newline.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::http::HttpUrl;

fuzz_target!(|data: &[u8]| {
    let (url, location) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"/"[..]),
    };
    let url = String::from_utf8_lossy(url);
    let base = HttpUrl::parse(&url).or_else(|_| HttpUrl::parse("http://127.0.0.1/a/b"));
    let Ok(base) = base else {
        return;
    };
    let _ = base.host_header();
    if let Ok(next) = base.join(location) {
        let _ = next.host_header();
    }
});
