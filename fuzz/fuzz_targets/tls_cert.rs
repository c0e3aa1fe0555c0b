//! A server's certificate (DER), summarised for the terminal: every field one safe line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_talk::tls::CertSummary;

fuzz_target!(|data: &[u8]| {
    let summary = CertSummary::of(data);
    let text = summary.lines();
    assert_eq!(text.lines().count(), 4, "{text:?}");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
});
