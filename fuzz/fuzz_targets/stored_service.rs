//! What the history database and the NDJSON/JSON readers take back from text that a
//! user may hand us from elsewhere: a service's JSON, a whole result line, and the
//! names of a reason, a state and a protocol. A name that parses prints back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_model::{PortResult, PortState, Protocol, Reason, Service};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<Service>(data);
    let _ = serde_json::from_slice::<PortResult>(data);
    let text = String::from_utf8_lossy(data);
    if let Ok(reason) = text.parse::<Reason>() {
        assert_eq!(reason.to_string(), text, "reason name round trip");
    }
    if let Ok(state) = text.parse::<PortState>() {
        assert_eq!(state.to_string(), text, "state name round trip");
    }
    if let Ok(proto) = text.parse::<Protocol>() {
        assert_eq!(proto.to_string(), text, "protocol name round trip");
    }
});
