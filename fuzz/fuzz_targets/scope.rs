//! A scope file (`--scope FILE`): parsed, then asked about a few addresses.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use portolan_target::Scope;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(scope) = Scope::parse(&text) {
        for addr in ["127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "::", "ffff::"] {
            let addr: IpAddr = addr.parse().expect("a literal address");
            let _ = scope.contains(addr);
        }
    }
});
