//! `portolan fingerprint`: a fingerprint stub from a capture, so that a user who
//! meets a service the database does not name can add it in minutes (docs/probe.md).
//!
//! The capture is what `connect --hex` wrote (both directions, so the probe is
//! recognised from the bytes sent), raw bytes (`--raw`), or a live exchange with
//! HOST PORT made the way `scan -sV` makes it (the named probe, or nothing for a
//! banner; bounded in time and bytes; `--scope` refuses a host outside it). The stub
//! itself is written by `portolan_probe::stub`, sans-IO; this module reads, checks,
//! talks and writes files. Nothing the server sent reaches the terminal unescaped.

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portolan_engine::{Endpoint, Protocol};
use portolan_probe::{Database, End, StubInput, StubProbe, Waits, BANNER, STUB_BYTES};

use crate::args::FingerprintArgs;
use crate::exit::{usage, Outcome};

/// The most bytes read from a capture file.
const MAX_CAPTURE: u64 = 1 << 20;

/// `portolan fingerprint`.
pub fn run(args: &FingerprintArgs) -> anyhow::Result<Outcome> {
    if !(1..=65_536).contains(&args.bytes) {
        return Err(usage(format!("--bytes {}: from 1 to 65536", args.bytes)));
    }
    if args.name.is_empty()
        || !args
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        || args.name.starts_with('.')
    {
        return Err(usage(format!(
            "--name {}: letters, digits, `.`, `_` and `-` only (it names a file)",
            shown(&args.name)
        )));
    }
    let mut db = Database::builtin()?;
    if let Some(dir) = &args.fingerprints {
        db.prepend_dir(dir)
            .map_err(|e| usage(format!("--fingerprints: {e}")))?;
    }
    let capture = match (&args.raw, &args.input, args.port) {
        (Some(path), _, _) => raw_capture(&db, path, args.probe.as_deref())?,
        (None, Some(host), Some(port)) => live_capture(&db, host, port, args)?,
        (None, Some(path), None) => hex_capture(&db, path, args.probe.as_deref())?,
        (None, None, _) => {
            return Err(usage(
                "give a capture (`connect --hex` output, or --raw FILE) or HOST PORT",
            ))
        }
    };
    if capture.received.is_empty() {
        return Err(usage(
            "the capture holds nothing the server sent: there is nothing to fingerprint",
        ));
    }
    let probe = match &capture.probe {
        Probe::Known(name) => StubProbe::Known(name),
        Probe::New { name, payload } => StubProbe::New { name, payload },
    };
    let probe_name = match &capture.probe {
        Probe::Known(name) | Probe::New { name, .. } => name.as_str(),
    };
    let fixture = args
        .fixture
        .as_deref()
        .map(|dir| dir.join(format!("{}-{probe_name}.bin", args.name)));
    let fixture_text = fixture.as_deref().map(|p| p.display().to_string());
    let Some(stub) = portolan_probe::stub(
        &db,
        &StubInput {
            received: &capture.received,
            probe,
            port: capture.port,
            fixture: fixture_text.as_deref(),
        },
    ) else {
        return Err(usage("the capture is empty"));
    };
    if let Some(path) = &fixture {
        write_fixture(path, &capture.received)?;
    }
    if let Some(path) = &args.output {
        fs::write(path, &stub.toml)
            .with_context(|| format!("cannot write {}", shown(&path.display().to_string())))?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(stub.toml.as_bytes())
            .and_then(|()| out.flush())
            .context("cannot write the stub")?;
    }
    eprintln!(
        "{}",
        note(&db, &capture, probe_name, &stub, fixture_text.as_deref())
    );
    Ok(Outcome::Done)
}

/// The line on stderr: what the stub covers, and what the database (with the user's
/// files) names the capture.
fn note(
    db: &Database,
    capture: &Capture,
    probe: &str,
    stub: &portolan_probe::Stub,
    fixture: Option<&str>,
) -> String {
    let mut note = format!(
        "portolan: a stub for {} bytes answered to `{probe}`",
        capture.received.len().min(STUB_BYTES)
    );
    if capture.received.len() > STUB_BYTES {
        let _ = write!(
            note,
            " (the first {STUB_BYTES} of {})",
            capture.received.len()
        );
    }
    if let Some(v) = &stub.version {
        let _ = write!(note, ", version {} as $1", shown(v));
    }
    if let Some(f) = fixture {
        let _ = write!(note, ", fixture {}", shown(f));
    }
    let says = db.identify(&portolan_probe::Exchange {
        probe,
        sent: b"",
        received: &capture.received,
    });
    match says {
        Some(m) => {
            let words: Vec<&str> = [
                Some(m.service.as_str()),
                m.product.as_deref(),
                m.version.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            let soft = if m.soft { ", a soft match" } else { "" };
            let _ = write!(
                note,
                "; the database names it {}{soft}",
                shown(&words.join(" "))
            );
        }
        None => note.push_str("; nothing in the database names it"),
    }
    note
}

/// What the capture answered.
enum Probe {
    Known(String),
    New { name: String, payload: Vec<u8> },
}

struct Capture {
    received: Vec<u8>,
    probe: Probe,
    port: Option<u16>,
}

/// Text from the user or the network, safe for one terminal line.
fn shown(text: &str) -> String {
    portolan_text::escape_line(text.as_bytes())
}

/// `--probe NAME` when the database knows it (or it is the banner).
fn known_probe(db: &Database, name: &str) -> anyhow::Result<String> {
    if name == BANNER || db.payload(name).is_some() {
        return Ok(name.to_string());
    }
    let names: Vec<&str> = std::iter::once(BANNER)
        .chain(db.payloads.iter().map(|p| p.name.as_str()))
        .collect();
    Err(usage(format!(
        "--probe {}: no such probe (known: {})",
        shown(name),
        names.join(", ")
    )))
}

fn read_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let name = shown(&path.display().to_string());
    let result = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_CAPTURE)
            .read_to_end(&mut bytes)
    } else {
        fs::File::open(path).and_then(|f| f.take(MAX_CAPTURE).read_to_end(&mut bytes))
    };
    result.map_err(|e| usage(format!("cannot read {name}: {e}")))?;
    Ok(bytes)
}

fn raw_capture(db: &Database, path: &Path, probe: Option<&str>) -> anyhow::Result<Capture> {
    let probe = known_probe(db, probe.unwrap_or(BANNER))?;
    Ok(Capture {
        received: read_file(path)?,
        probe: Probe::Known(probe),
        port: None,
    })
}

fn hex_capture(db: &Database, path: &str, probe: Option<&str>) -> anyhow::Result<Capture> {
    let bytes = read_file(Path::new(path))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        usage(format!(
            "{}: not the text of `connect --hex` (for raw bytes, use --raw FILE)",
            shown(path)
        ))
    })?;
    let dump = portolan_talk::parse_hex_dump(&text).map_err(|e| {
        usage(format!(
            "{}: {e} (for raw bytes, use --raw FILE)",
            shown(path)
        ))
    })?;
    let probe = match probe {
        Some(name) if name == BANNER || db.payload(name).is_some() => {
            Probe::Known(name.to_string())
        }
        _ if dump.sent.is_empty() => Probe::Known(known_probe(db, probe.unwrap_or(BANNER))?),
        Some(name) => {
            check_probe_name(name)?;
            Probe::New {
                name: name.to_string(),
                payload: dump.sent,
            }
        }
        None => match portolan_probe::probe_for(db, &dump.sent) {
            Some(p) => Probe::Known(p.name.clone()),
            None => Probe::New {
                name: portolan_probe::new_probe_name(db),
                payload: dump.sent,
            },
        },
    };
    Ok(Capture {
        received: dump.received,
        probe,
        port: None,
    })
}

fn check_probe_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(usage(format!(
            "--probe {}: a new probe's name takes letters, digits, `.`, `_` and `-`",
            shown(name)
        )));
    }
    Ok(())
}

fn live_capture(
    db: &Database,
    host: &str,
    port: u16,
    args: &FingerprintArgs,
) -> anyhow::Result<Capture> {
    let probe = known_probe(db, args.probe.as_deref().unwrap_or(BANNER))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let addr = resolve(host, port)?;
    if let Some(path) = &args.scope {
        let text = fs::read_to_string(path).map_err(|e| {
            usage(format!(
                "cannot read scope file {}: {e}",
                shown(&path.display().to_string())
            ))
        })?;
        let scope = portolan_target::Scope::parse(&text).map_err(|e| {
            usage(format!(
                "in scope file {}: {e}",
                shown(&path.display().to_string())
            ))
        })?;
        if !scope.contains(addr) {
            return Err(usage(format!(
                "{} ({addr}) is outside the scope file {}",
                shown(host),
                shown(&path.display().to_string())
            )));
        }
    }
    let endpoint = Endpoint {
        addr,
        name: (host.parse::<IpAddr>().is_err()).then(|| Arc::from(host)),
        port,
        proto: Protocol::Tcp,
    };
    let waits = Waits {
        banner: args.wait,
        reply: args.wait,
        idle: Duration::from_millis(200).min(args.wait),
        budget: args.wait * 3 + Duration::from_secs(1),
    };
    let payload = db.payload(&probe);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let (_sent, reply) = runtime.block_on(portolan_probe::exchange(
        &endpoint, payload, waits, args.bytes,
    ));
    if reply.received.is_empty() {
        let why = match reply.end {
            End::NoConnection => "cannot connect (or the TLS handshake failed)",
            End::Closed => "the server closed the connection without a word",
            End::Reset => "the connection was reset",
            End::Quiet | End::Full => {
                "the server said nothing in time (try --wait or another --probe)"
            }
        };
        anyhow::bail!("{}:{port} to `{probe}`: {why}", shown(host));
    }
    // Inside TLS the answer is to the request sent in the tunnel.
    let probe = if payload.is_some_and(|p| p.kind == portolan_probe::PayloadKind::Tls) {
        "http-get".to_string()
    } else {
        probe
    };
    Ok(Capture {
        received: reply.received,
        probe: Probe::Known(probe),
        port: Some(port),
    })
}

fn resolve(host: &str, port: u16) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| usage(format!("cannot resolve {}: {e}", shown(host))))?;
    addrs
        .next()
        .map(|a: SocketAddr| a.ip())
        .ok_or_else(|| usage(format!("{} has no address", shown(host))))
}

fn write_fixture(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    let name = shown(&path.display().to_string());
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", shown(&dir.display().to_string())))?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                usage(format!(
                    "{name} exists: choose another --name, or remove it"
                ))
            } else {
                anyhow::anyhow!("cannot write {name}: {e}")
            }
        })?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {name}"))
}
