//! A target file (`-iL FILE`) or exclude file: words split from the text, comments
//! dropped, each one a target, then the set built with a fake resolver (no DNS).
#![no_main]

use std::io;
use std::net::{IpAddr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use portolan_target::{words, Resolver, TargetSetBuilder};

/// Every name is ::1.
struct Fake;

impl Resolver for Fake {
    fn resolve(&self, _name: &str) -> io::Result<Vec<IpAddr>> {
        Ok(vec![IpAddr::V6(Ipv6Addr::LOCALHOST)])
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut b = TargetSetBuilder::new();
    for (i, w) in words(&text).enumerate().take(64) {
        let next = if i % 5 == 4 { b.exclude(w) } else { b.target(w) };
        match next {
            Ok(next) => b = next,
            Err(_) => return,
        }
    }
    if let Ok(set) = b.build(&Fake) {
        let _ = set.host_at(0);
        let _ = set.host_at(set.hosts().saturating_sub(1));
    }
});
