//! One target specification from the command line (`scan SPEC`, `--exclude SPEC`),
//! checked, resolved by a fake resolver (no DNS) and indexed. The first byte picks
//! `--large`; the rest is split at the first newline into a target and an exclusion.
#![no_main]

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use portolan_target::{Resolver, TargetSetBuilder, TargetSpec};

/// Every name is 127.0.0.1, except names ending in `.invalid`, which do not resolve.
struct Fake;

impl Resolver for Fake {
    fn resolve(&self, name: &str) -> io::Result<Vec<IpAddr>> {
        if name.ends_with(".invalid") {
            return Err(io::Error::other("no such name"));
        }
        Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)])
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (target, exclude) = text.split_once('\n').unwrap_or((text, ""));
    let _ = TargetSpec::parse(target);
    let Ok(mut b) = TargetSetBuilder::new()
        .allow_large(flags & 1 == 1)
        .target(target)
    else {
        return;
    };
    if !exclude.is_empty() {
        let Ok(next) = b.exclude(exclude) else {
            return;
        };
        b = next;
    }
    if let Ok(set) = b.build(&Fake) {
        let hosts = set.hosts();
        for i in [0, 1, hosts / 2, hosts.saturating_sub(1), hosts] {
            let _ = set.host_at(i);
        }
    }
});
