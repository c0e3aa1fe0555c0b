//! The JSON of a service and the text of a reason as read back from a history
//! database (which a user may hand us from elsewhere).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portolan_store::recorder::{reason, service};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = service(&text);
    let _ = reason(&text);
});
