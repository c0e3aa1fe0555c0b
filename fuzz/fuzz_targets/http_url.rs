//! A URL (`portolan http URL`) and a server's `Location` joined to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::http::HttpUrl;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (url, location) = text.split_once('\n').unwrap_or((text, "/"));
    let base = HttpUrl::parse(url).or_else(|_| HttpUrl::parse("http://127.0.0.1/a/b"));
    let Ok(base) = base else {
        return;
    };
    let _ = base.host_header();
    if let Ok(next) = base.join(location) {
        let _ = next.host_header();
    }
});
