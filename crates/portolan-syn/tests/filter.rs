//! The receive filter on packets captured from a real stack (the packet crate's
//! fixtures), run through the interpreter.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly on what it did not expect"
)]

#[path = "../../portolan-packet/tests/fixtures/mod.rs"]
#[allow(dead_code)]
mod fixtures;

use portolan_syn::bpf::{program, run, SNAP_LEN};

const HOST: u32 = 0;
const OUTGOING: u32 = 4;

#[test]
fn replies_to_our_port_pass() {
    // The client ports of the capture.
    for (packet, port) in [
        (fixtures::SYN_ACK_V4, 33890),
        (fixtures::RST_V4, 52538),
        (fixtures::SYN_ACK_V6, 52576),
        (fixtures::RST_V6, 55150),
    ] {
        assert_eq!(run(&program(port), packet, HOST), SNAP_LEN, "port {port}");
        assert_eq!(
            run(&program(port + 1), packet, HOST),
            0,
            "port {}",
            port + 1
        );
        assert_eq!(run(&program(port), packet, OUTGOING), 0, "outgoing copy");
    }
}

#[test]
fn icmp_unreachable_passes_whatever_the_port() {
    for packet in [fixtures::ICMP_ADMIN_V4, fixtures::ICMP_ADMIN_V6] {
        assert_eq!(run(&program(1), packet, HOST), SNAP_LEN);
    }
}

#[test]
fn syns_to_a_port_are_not_replies_from_it() {
    // A SYN *to* 8080 is dropped by a filter for source port 8080 replies unless its
    // destination is our port: ours are outgoing and dropped by type.
    assert_eq!(run(&program(33890), fixtures::SYN_V4, OUTGOING), 0);
    assert_eq!(run(&program(33890), fixtures::SYN_V4, HOST), 0);
    assert_eq!(run(&program(52576), fixtures::SYN_V6, HOST), 0);
}
