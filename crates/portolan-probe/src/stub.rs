//! A fingerprint stub from a capture (`portolan fingerprint`): the bytes a server
//! answered, written as a `[[fingerprint]]` table of our TOML format that matches
//! them, for a user who meets a service the database does not name.
//!
//! The pattern is the capture escaped as a byte regex, anchored at the start, so it
//! matches those bytes and any answer that begins with them; the first run of digits
//! that looks like a version (`3.0.3`; not an IPv4 address nor `HTTP/1.1`) becomes the group
//! `([\d.]+)` and `version = "$1"`. What only a person can know (the service's and
//! the product's names) is left as `TODO` for them to fill. Everything is text built
//! from bytes, with no I/O: the stub is printable ASCII whatever the server sent.

use std::fmt::Write as _;
use std::ops::Range;

use crate::db::{Database, Payload, PayloadKind};
use crate::matcher::{Exchange, BANNER};

/// The placeholder for what the user must fill in.
pub const TODO: &str = "TODO";

/// The most bytes of a capture a stub's pattern covers.
pub const STUB_BYTES: usize = 4096;

/// What the capture answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StubProbe<'a> {
    /// A probe the database knows, by name (or [`BANNER`]).
    Known(&'a str),
    /// Bytes no known probe sends: the stub defines a probe of this name that sends
    /// them.
    New {
        /// The new probe's name.
        name: &'a str,
        /// What was sent.
        payload: &'a [u8],
    },
}

/// A capture to write a stub for.
#[derive(Debug, Clone, Copy)]
pub struct StubInput<'a> {
    /// What the server answered (only the first [`STUB_BYTES`] are used).
    pub received: &'a [u8],
    /// What it answered to.
    pub probe: StubProbe<'a>,
    /// The port it was captured on, when known.
    pub port: Option<u16>,
    /// Where the capture was written as a test fixture, to mention in the stub.
    pub fixture: Option<&'a str>,
}

/// A stub and what it extracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stub {
    /// The TOML text (printable ASCII and newlines only).
    pub toml: String,
    /// The pattern, as written in the TOML.
    pub pattern: String,
    /// The version the pattern's group takes from the capture, when it has one.
    pub version: Option<String>,
}

/// `bytes` as a regex (for the database's byte patterns: Unicode off) that matches
/// exactly these bytes: printable ASCII as itself (regex syntax escaped), `\r`, `\n`,
/// `\t`, and every other byte, `'` included (so the pattern fits a TOML literal
/// string), as `\xNN`.
pub fn regex_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\'' => out.push_str("\\x27"),
            b' '..=b'~' if regex_syntax::is_meta_character(char::from(b)) => {
                out.push('\\');
                out.push(char::from(b));
            }
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// `bytes` in the escapes of a probe's `payload` (`\r \n \t \\ \xNN`), fit for a
/// TOML literal string.
pub fn payload_escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\x27"),
            b' '..=b'~' => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

/// Protocol versions that come before a product's (`HTTP/1.1 200 OK ... Server:
/// Acme/2.3`, `SSH-2.0-Acme_1.2`): a run right after one of these is not taken.
const PROTOCOL_VERSIONS: &[&[u8]] = &[b"HTTP/", b"RTSP/", b"SIP/", b"SSH-"];

/// Where the first version-like run of `bytes` is: digits and dots with at least one
/// dot, starting and ending with a digit, not an IPv4 address (four numbers up to
/// 255) and not a protocol's version (`HTTP/1.1`, `SSH-2.0`).
pub fn version_run(bytes: &[u8]) -> Option<Range<usize>> {
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && (bytes[end].is_ascii_digit() || bytes[end] == b'.') {
            end += 1;
        }
        // The run ends with a digit; a trailing dot belongs to the text after it.
        let mut last = end;
        while last > start && bytes[last - 1] == b'.' {
            last -= 1;
        }
        let run = &bytes[start..last];
        let parts: Vec<&[u8]> = run.split(|b| *b == b'.').collect();
        let dotted = parts.len() >= 2 && parts.iter().all(|p| !p.is_empty());
        let ipv4 = parts.len() == 4
            && parts.iter().all(|p| {
                p.len() <= 3 && std::str::from_utf8(p).is_ok_and(|s| s.parse::<u8>().is_ok())
            });
        let protocol = PROTOCOL_VERSIONS
            .iter()
            .any(|p| bytes[..start].ends_with(p));
        if dotted && !ipv4 && !protocol {
            return Some(start..last);
        }
        i = end;
    }
    None
}

/// The probe of the database that sends `sent`, reading `{host}` in a payload as any
/// text; `None` when no probe does (and for an empty `sent`, which is the banner).
pub fn probe_for<'a>(db: &'a Database, sent: &[u8]) -> Option<&'a Payload> {
    if sent.is_empty() {
        return None;
    }
    db.payloads
        .iter()
        .filter(|p| p.kind == PayloadKind::Tcp)
        .find(|p| sends(&p.bytes, sent))
}

/// Whether `template` (with `{host}` holes) can have produced `sent`.
fn sends(template: &[u8], sent: &[u8]) -> bool {
    const HOLE: &[u8] = b"{host}";
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.windows(HOLE.len()).position(|w| w == HOLE) {
        parts.push(&rest[..i]);
        rest = &rest[i + HOLE.len()..];
    }
    if parts.is_empty() {
        return template == sent;
    }
    let Some(mut tail) = sent.strip_prefix(parts[0]) else {
        return false;
    };
    for part in &parts[1..] {
        match tail.windows(part.len().max(1)).position(|w| w == *part) {
            Some(i) if !part.is_empty() => tail = &tail[i + part.len()..],
            _ if part.is_empty() => {}
            _ => return false,
        }
    }
    tail.ends_with(rest)
}

/// The stub for `input`; `db` says what it already makes of the capture (a comment
/// for the user). `None` when the capture is empty: there is nothing to match.
pub fn stub(db: &Database, input: &StubInput<'_>) -> Option<Stub> {
    let received = &input.received[..input.received.len().min(STUB_BYTES)];
    if received.is_empty() {
        return None;
    }
    let (pattern, version) = match version_run(received) {
        Some(run) => (
            format!(
                "^{}([\\d.]+){}",
                regex_escape(&received[..run.start]),
                regex_escape(&received[run.end..])
            ),
            Some(String::from_utf8_lossy(&received[run]).into_owned()),
        ),
        None => (format!("^{}", regex_escape(received)), None),
    };
    let (StubProbe::Known(probe_name)
    | StubProbe::New {
        name: probe_name, ..
    }) = input.probe;
    let mut t = header(input, received, probe_name);
    if let StubProbe::New { name, payload } = input.probe {
        t.push_str("\n# What was sent, which no probe of the database sends.\n[[probe]]\n");
        let _ = writeln!(t, "name = '{name}'");
        let _ = writeln!(t, "payload = '{}'", payload_escape(payload));
        t.push_str("rarity = 9  # 1: tried on every silent port ... 9: only on `ports`\n");
        match input.port {
            Some(port) => {
                let _ = writeln!(t, "ports = [{port}]");
            }
            None => t.push_str("ports = []  # TODO: the ports to send it to first\n"),
        }
    }
    t.push_str("\n[[fingerprint]]\n");
    let _ = write!(
        t,
        "service = \"{TODO}\"  # the protocol: ftp, http, smtp ..."
    );
    let hints = hints(db, input.port, probe_name, received);
    if !hints.is_empty() {
        let _ = write!(t, "; {}", hints.join("; "));
    }
    t.push('\n');
    let _ = writeln!(
        t,
        "product = \"{TODO}\"  # the program, as its makers spell it"
    );
    let _ = writeln!(t, "pattern = '{pattern}'");
    if let Some(v) = &version {
        let _ = writeln!(t, "version = \"$1\"  # {v} in this capture");
    }
    t.push_str("# info = \"...\"\n# cpe = [\"cpe:/a:VENDOR:PRODUCT:$1\"]\n");
    let _ = writeln!(t, "probes = [\"{probe_name}\"]");
    Some(Stub {
        toml: t,
        pattern,
        version,
    })
}

/// The stub's opening comment: where the bytes came from and what to do next.
fn header(input: &StubInput<'_>, received: &[u8], probe_name: &str) -> String {
    let mut t = String::new();
    let _ =
        writeln!(
        t,
        "# A fingerprint stub written by `portolan fingerprint` from {} bytes answered to `{}`{}.",
        received.len(),
        probe_name,
        input.port.map(|p| format!(" on port {p}")).unwrap_or_default()
    );
    let first_line = received.split(|b| *b == b'\n').next().unwrap_or(received);
    let shown = &first_line[..first_line.len().min(100)];
    let cut = if shown.len() < first_line.len() {
        "..."
    } else {
        ""
    };
    let _ = writeln!(t, "# They begin: {}{cut}", payload_escape(shown));
    if let Some(fixture) = input.fixture {
        let _ = writeln!(
            t,
            "# The capture is the test fixture {}",
            payload_escape(fixture.as_bytes())
        );
    }
    t.push_str(
        "#\n# 1. Fill in the TODOs (a soft fingerprint, naming only the service, leaves `product` out).\n\
         # 2. Cut the pattern down to what names the product: dates, host names and counters\n\
         #    change from one answer to the next. Keep the `^`.\n\
         # 3. Put it in a directory DIR and check it: `portolan fingerprint --fingerprints DIR`\n\
         #    on the same capture says what the database names it; then\n\
         #    `portolan scan -sV --fingerprints DIR HOST -p PORT`.\n",
    );
    t
}

/// What the database and the port number suggest the service is.
fn hints(db: &Database, port: Option<u16>, probe: &str, received: &[u8]) -> Vec<String> {
    let mut hints = Vec::new();
    let says = db.identify(&Exchange {
        probe,
        sent: b"",
        received,
    });
    if let Some(m) = says {
        let kind = if m.soft { "soft match" } else { "match" };
        hints.push(format!(
            "the database says {} ({kind})",
            payload_escape(m.service.as_bytes())
        ));
    }
    if let Some(port) = port {
        if let Some(name) = portolan_target::services::name(port) {
            hints.push(format!("port {port} is registered as {name}"));
        }
    }
    hints
}

/// A name for a probe the stub defines that the database does not have yet.
pub fn new_probe_name(db: &Database) -> String {
    let mut name = "my-probe".to_string();
    let mut n = 1;
    while db.payload(&name).is_some() || name == BANNER {
        n += 1;
        name = format!("my-probe-{n}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::bytes::RegexBuilder;

    fn compile(pattern: &str) -> regex::bytes::Regex {
        RegexBuilder::new(pattern)
            .unicode(false)
            .dot_matches_new_line(true)
            .build()
            .unwrap()
    }

    #[test]
    fn versions_are_found_and_addresses_are_not() {
        let run = |b: &[u8]| version_run(b).map(|r| String::from_utf8_lossy(&b[r]).into_owned());
        assert_eq!(run(b"220 (vsFTPd 3.0.3)\r\n").as_deref(), Some("3.0.3"));
        assert_eq!(
            run(b"220 127.0.0.1 FTP 1.3.8.\r\n").as_deref(),
            Some("1.3.8")
        );
        assert_eq!(run(b"SSH-2.0-OpenSSH_9.2p1").as_deref(), Some("9.2"));
        assert_eq!(
            run(b"HTTP/1.1 200 OK\r\nServer: Acme/2.3.4\r\n").as_deref(),
            Some("2.3.4")
        );
        assert_eq!(run(b"RTSP/1.0 200 OK\r\n"), None);
        assert_eq!(run(b"port 8080 ready."), None);
        assert_eq!(run(b"10.0.17763.1").as_deref(), Some("10.0.17763.1"));
        assert_eq!(run(b"1..2"), None);
    }

    #[test]
    fn known_probes_are_recognised_with_any_host() {
        let db = Database::builtin().unwrap();
        let get = b"GET / HTTP/1.1\r\nHost: 127.0.0.9\r\nUser-Agent: portolan/0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n";
        assert_eq!(probe_for(&db, get).unwrap().name, "http-get");
        assert_eq!(
            probe_for(&db, b"PING\r\nINFO server\r\n").unwrap().name,
            "redis-ping"
        );
        assert!(probe_for(&db, b"HELLO\r\n").is_none());
        assert!(probe_for(&db, b"").is_none());
    }

    #[test]
    fn a_stub_loads_and_names_its_capture() {
        let mut db = Database::builtin().unwrap();
        let capture = b"220 (Acme 'FTP' [1.2.3]) \x1b[2J\xff ready.\r\n";
        let stub = stub(
            &db,
            &StubInput {
                received: capture,
                probe: StubProbe::Known(BANNER),
                port: Some(21),
                fixture: Some("acme-banner.bin"),
            },
        )
        .unwrap();
        assert!(
            stub.toml
                .bytes()
                .all(|b| b == b'\n' || (b' '..=b'~').contains(&b)),
            "{}",
            stub.toml
        );
        assert!(
            stub.toml.contains("the database says ftp (soft match)"),
            "{}",
            stub.toml
        );
        assert!(
            stub.toml.contains("port 21 is registered as ftp"),
            "{}",
            stub.toml
        );
        assert_eq!(stub.version.as_deref(), Some("1.2.3"));
        db.add_file("stub.toml", &stub.toml).unwrap();
        let m = db
            .identify(&Exchange {
                probe: BANNER,
                sent: b"",
                received: capture,
            })
            .unwrap();
        assert_eq!(
            (
                m.service.as_str(),
                m.product.as_deref(),
                m.version.as_deref()
            ),
            (TODO, Some(TODO), Some("1.2.3"))
        );
    }

    #[test]
    fn a_stub_for_new_bytes_defines_its_probe() {
        let mut db = Database::builtin().unwrap();
        let name = new_probe_name(&db);
        let stub = stub(
            &db,
            &StubInput {
                received: b"HI \\there\x00",
                probe: StubProbe::New {
                    name: &name,
                    payload: b"HELLO 'x' \\ \x01\r\n",
                },
                port: None,
                fixture: None,
            },
        )
        .unwrap();
        db.add_file("stub.toml", &stub.toml).unwrap();
        assert_eq!(db.payload(&name).unwrap().bytes, b"HELLO 'x' \\ \x01\r\n");
        let m = db
            .identify(&Exchange {
                probe: &name,
                sent: b"",
                received: b"HI \\there\x00",
            })
            .unwrap();
        assert_eq!(m.service, TODO);
        assert_eq!(m.version, None);
    }

    #[test]
    fn nothing_captured_is_no_stub() {
        let db = Database::default();
        let input = StubInput {
            received: b"",
            probe: StubProbe::Known(BANNER),
            port: None,
            fixture: None,
        };
        assert_eq!(stub(&db, &input), None);
    }

    proptest! {
        #[test]
        fn the_escaped_pattern_matches_its_own_bytes(bytes in proptest::collection::vec(any::<u8>(), 1..300)) {
            let exact = compile(&format!("^{}\\z", regex_escape(&bytes)));
            prop_assert!(exact.is_match(&bytes));
            let db = Database::default();
            let input = StubInput { received: &bytes, probe: StubProbe::Known(BANNER), port: None, fixture: None };
            let stub = stub(&db, &input).unwrap();
            let caps = compile(&stub.pattern).captures(&bytes);
            prop_assert!(caps.is_some(), "{}", stub.pattern);
            let group = caps.unwrap().get(1).map(|g| String::from_utf8_lossy(g.as_bytes()).into_owned());
            prop_assert_eq!(group, stub.version.clone());
            let mut db = Database::default();
            prop_assert!(db.add_file("stub.toml", &stub.toml).is_ok(), "{}", stub.toml);
        }

        #[test]
        fn versions_in_text_are_taken_whole(
            head in "[a-z (_/-]{0,12}",
            version in "[0-9]{1,4}(\\.[0-9]{1,4}){1,2}",
            tail in "[a-zA-Z )._/-]{0,12}",
        ) {
            let bytes = format!("{head}{version}{tail}");
            let db = Database::default();
            let input = StubInput { received: bytes.as_bytes(), probe: StubProbe::Known(BANNER), port: None, fixture: None };
            let stub = stub(&db, &input).unwrap();
            prop_assert_eq!(stub.version.as_deref(), Some(version.as_str()));
        }
    }
}
