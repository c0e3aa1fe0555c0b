//! A port list (`-p SPEC`): parsed, and a parsed list survives `to_spec` and back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_target::PortList;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = PortList::parse(text) {
        let again = PortList::parse(&list.to_spec()).expect("to_spec parses back");
        assert_eq!(list.as_slice(), again.as_slice(), "round trip of {text:?}");
        assert!(list.as_slice().windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
    }
});
