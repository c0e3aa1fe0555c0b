//! A history written by the first schema (results without a protocol) still opens,
//! reads back as TCP, and is brought to the current schema once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::time::Duration;

use portolan_engine::{Method, PortState, Protocol, Reason};
use portolan_store::SCHEMA_VERSION;
use portolan_store::{Store, StoreError};
use rusqlite::Connection;

/// A database exactly as the first release left it: one run of 127.0.0.1 ports
/// 20-25, 22 open with a service, 25 filtered, the rest closed.
fn old_database(path: &std::path::Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(include_str!("schema-v0.sql")).unwrap();
    conn.execute_batch(
        r#"
        INSERT INTO runs (id, started, ended, complete, command_line, argv, targets, ports, hosts, seed, resumable, open, elapsed_ms, probes_sent, retries)
            VALUES (1, 1714564800000, 1714564801000, 1, 'portolan scan 127.0.0.1 -p 20-25', '["127.0.0.1","-p","20-25"]', '127.0.0.1', '20-25', 1, 7, 1, 1, 1000, 6, 0);
        INSERT INTO results (run, addr, hostname, port, state, reason, rtt_us, tries, service)
            VALUES (1, '127.0.0.1', '', 22, 'open', 'syn-ack', 410, 1,
                    '{"name":"ssh","product":"OpenSSH","method":"banner","confidence":10,"banner":"SSH-2.0-x\\x1b[2J"}');
        INSERT INTO results (run, addr, hostname, port, state, reason, rtt_us, tries, service)
            VALUES (1, '127.0.0.1', '', 25, 'filtered', 'no-response', NULL, 2, NULL);
        INSERT INTO hosts (run, addr, hostname, closed, answered) VALUES (1, '127.0.0.1', '', 4, x'3f');
        "#,
    )
    .unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0, "the fixture is the unversioned schema");
}

fn user_version(path: &std::path::Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_first_schema_database_opens_and_reads_as_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    old_database(&path);

    let store = Store::open(&path).unwrap();
    let results = store.results(1).unwrap();
    assert_eq!(results.len(), 2);
    let ssh = &results[0];
    assert_eq!(ssh.endpoint.port, 22);
    assert_eq!(ssh.endpoint.proto, Protocol::Tcp);
    assert_eq!((ssh.state, ssh.reason), (PortState::Open, Reason::SynAck));
    assert_eq!(ssh.rtt, Some(Duration::from_micros(410)));
    let service = ssh.service.as_deref().unwrap();
    assert_eq!(
        (service.name.as_str(), service.method),
        ("ssh", Method::Banner)
    );
    // The stored text is read back as the bytes it escaped (an ESC, shown again
    // as `\x1b`).
    assert_eq!(service.banner.as_deref(), Some(&b"SSH-2.0-x\x1b[2J"[..]));
    let filtered = &results[1];
    assert_eq!(filtered.endpoint.proto, Protocol::Tcp);
    assert_eq!(filtered.state, PortState::Filtered);

    // The closed ports come back from the answered bitmap, as before.
    let run = store.run(1).unwrap();
    let mut all = Vec::new();
    let missing = store
        .replay::<StoreError>(&run, |r| {
            all.push((r.endpoint.port, r.state));
            Ok(())
        })
        .unwrap();
    all.sort_unstable();
    assert_eq!(missing, 0);
    assert_eq!(
        all,
        [
            (20, PortState::Closed),
            (21, PortState::Closed),
            (22, PortState::Open),
            (23, PortState::Closed),
            (24, PortState::Closed),
            (25, PortState::Filtered),
        ]
    );
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);

    // Opening again is a no-op: same results, same version.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.results(1).unwrap(), results);
    drop(store);
    assert_eq!(user_version(&path), SCHEMA_VERSION);
}

#[test]
fn the_protocol_is_part_of_a_result_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    old_database(&path);
    drop(Store::open(&path).unwrap());
    // The same port over UDP is a second row, not a replacement of the TCP one.
    let conn = Connection::open(&path).unwrap();
    conn.execute(
        "INSERT INTO results (run, addr, hostname, port, proto, state, reason, tries)
         VALUES (1, '127.0.0.1', '', 22, 'udp', 'open|filtered', 'no-response', 2)",
        [],
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let results = store.results(1).unwrap();
    let port22: Vec<_> = results
        .iter()
        .filter(|r| r.endpoint.port == 22)
        .map(|r| (r.endpoint.proto, r.state))
        .collect();
    assert_eq!(
        port22,
        [
            (Protocol::Tcp, PortState::Open),
            (Protocol::Udp, PortState::OpenFiltered)
        ]
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let Err(e) = Store::open(&path) else {
        panic!("a newer schema opened");
    };
    assert!(e.to_string().contains("newer portolan"), "{e}");
}

#[test]
fn a_corrupt_service_is_an_error_not_a_silent_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.db");
    old_database(&path);
    Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE results SET service = '{\"name\":\"ssh\",\"method\":\"guess\",\"confidence\":1}' WHERE port = 22",
            [],
        )
        .unwrap();
    let store = Store::open(&path).unwrap();
    assert!(matches!(
        store.results(1),
        Err(StoreError::Corrupt {
            what: "service",
            ..
        })
    ));
}
