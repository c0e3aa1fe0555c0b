//! The capture corpus (`corpus/`, issue 13) replayed through the matcher.
//!
//! For every endpoint of every `corpus/expect/NAME.toml`, the committed answers in
//! `corpus/captures/NAME/STATE-PORT-PROBE.bin` are fed to [`Verdict::record`] in the
//! order the runner would send them ([`steps`] for the port), cut to the runner's
//! `--banner-bytes`, ended as the capture saw them end (`STATE-PORT.ends`), and within
//! the runner's time budget; the service, product and version the verdict names must
//! be the ones the expect file names. No server is needed: `corpus/run capture`
//! re-records the bytes from real servers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use portolan_engine::TlsInfo;
use portolan_probe::{steps, Database, End, Next, PayloadKind, Reply, Settings, Step, Verdict};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    package: String,
    version: String,
    endpoint: Vec<Endpoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    state: String,
    port: u16,
    service: String,
    product: Option<String>,
    version: Option<String>,
    #[allow(
        dead_code,
        reason = "what nmap said is for the docs' table, not asserted"
    )]
    nmap: Option<String>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// How each exchange of an endpoint ended, from `STATE-PORT.ends`.
fn ends(prefix: &Path) -> HashMap<String, End> {
    let Ok(text) = fs::read_to_string(prefix.with_extension("ends")) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let probe = w.next()?.to_string();
            let end = match w.next()? {
                "closed" => End::Closed,
                "reset" => End::Reset,
                "full" => End::Full,
                "noconn" => End::NoConnection,
                _ => End::Quiet,
            };
            Some((probe, end))
        })
        .collect()
}

/// Whether `servers/NAME.sh` marks the endpoint `tls` and its captures were all
/// read inside TLS: the part B convention, whose captures have no `.ends` record.
/// Such an endpoint says nothing to plain bytes before the handshake, and after the
/// handshake the runner makes the rest of its plan inside TLS.
fn read_inside_tls(dir: &Path, state: &str, port: u16) -> bool {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let Ok(text) = fs::read_to_string(corpus().join(format!("servers/{name}.sh"))) else {
        return false;
    };
    let tls = text.lines().any(|l| {
        let w: Vec<&str> = l
            .trim_start_matches("ENDPOINTS=\"")
            .trim_end_matches('"')
            .split_whitespace()
            .collect();
        w.len() == 3 && w[0] == state && w[1] == port.to_string() && w[2] == "tls"
    });
    tls && !dir.join(format!("{state}-{port}.ends")).exists()
}

/// What the runner would conclude from the captures of one endpoint.
fn replay(db: &Database, dir: &Path, state: &str, port: u16) -> portolan_engine::Service {
    let settings = Settings::default();
    let prefix = dir.join(format!("{state}-{port}"));
    let ends = ends(&prefix);
    let inside_tls = read_inside_tls(dir, state, port);
    // After a handshake worked, the runner makes every exchange inside TLS.
    let mut tunnel = false;
    let mut verdict = Verdict::default();
    // The runner's budget is five reply waits; an exchange that hears nothing uses
    // one up, so the fifth silent one is cut by the deadline before it is recorded.
    let mut waits_used = 0;
    for step in steps(db, port, settings.max_rarity) {
        let name = step.name().to_string();
        let file = dir.join(format!("{state}-{port}-{name}.bin"));
        let is_tls = matches!(step, Step::Send(p) if p.kind == PayloadKind::Tls);
        let before_handshake = inside_tls && !tunnel && !is_tls;
        let mut received = if before_handshake {
            Vec::new()
        } else {
            fs::read(&file).unwrap_or_default()
        };
        // Without a record of how it ended: bytes end with a close, a TLS probe
        // with nothing inside had no handshake, anything else heard nothing. A TLS
        // server drops plain bytes and waits for a handshake when told nothing.
        let mut end = ends.get(&name).copied().unwrap_or(match step {
            _ if !received.is_empty() => End::Closed,
            Step::Send(_) if before_handshake => End::Closed,
            Step::Send(p) if p.kind == PayloadKind::Tls && !inside_tls => End::NoConnection,
            _ => End::Quiet,
        });
        if received.len() >= settings.banner_bytes {
            received.truncate(settings.banner_bytes);
            end = End::Full;
        }
        if received.is_empty() && end == End::Quiet {
            waits_used += 1;
            if waits_used >= 5 {
                break;
            }
        }
        let (sent, tls) = match step {
            Step::Banner => (Vec::new(), tunnel.then(TlsInfo::default)),
            Step::Send(p) if p.kind == PayloadKind::Tls => {
                let get = db.payload("http-get").map(|g| g.bytes.clone());
                let tls = (end != End::NoConnection).then(TlsInfo::default);
                (get.unwrap_or_default(), tls)
            }
            Step::Send(p) => (p.bytes.clone(), tunnel.then(TlsInfo::default)),
        };
        tunnel |= tls.is_some();
        let reply = Reply { received, end, tls };
        if verdict.record(db, &name, &sent, reply) == Next::Stop {
            break;
        }
    }
    verdict.service(port)
}

#[test]
fn every_corpus_endpoint_is_named_as_expected() {
    let db = Database::builtin().unwrap();
    let mut files: Vec<PathBuf> = fs::read_dir(corpus().join("expect"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus/expect/*.toml");
    let mut failures = Vec::new();
    let mut endpoints = 0;
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let expect: Expect = toml::from_str(&fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(!expect.package.is_empty() && !expect.version.is_empty());
        let dir = corpus().join("captures").join(name);
        for ep in &expect.endpoint {
            endpoints += 1;
            let prefix = format!("{}-{}", ep.state, ep.port);
            let captured = fs::read_dir(&dir).is_ok_and(|mut files| {
                files.any(|f| {
                    f.is_ok_and(|f| {
                        f.file_name()
                            .to_string_lossy()
                            .starts_with(&format!("{prefix}."))
                            || f.file_name()
                                .to_string_lossy()
                                .starts_with(&format!("{prefix}-"))
                    })
                })
            });
            if !captured {
                failures.push(format!("{name} {prefix}: no captures in captures/{name}/"));
                continue;
            }
            let s = replay(&db, &dir, &ep.state, ep.port);
            let got = (s.name.as_str(), s.product.as_deref(), s.version.as_deref());
            let want = (
                ep.service.as_str(),
                ep.product.as_deref(),
                ep.version.as_deref(),
            );
            if got != want {
                failures.push(format!(
                    "{name} {} {}: got {got:?}, expected {want:?}",
                    ep.state, ep.port
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {endpoints} endpoints differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_capture_belongs_to_an_expected_endpoint() {
    // A capture without an expect entry is a server nobody checks.
    let root = corpus().join("captures");
    let Ok(dirs) = fs::read_dir(&root) else {
        return;
    };
    for dir in dirs {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_str().unwrap().to_string();
        let expect = corpus().join("expect").join(format!("{name}.toml"));
        let text = fs::read_to_string(&expect)
            .unwrap_or_else(|_| panic!("captures/{name} has no expect/{name}.toml"));
        let expect: Expect = toml::from_str(&text).unwrap();
        for f in fs::read_dir(&dir).unwrap() {
            let file = f.unwrap().file_name().into_string().unwrap();
            let known = expect.endpoint.iter().any(|ep| {
                file.starts_with(&format!("{}-{}-", ep.state, ep.port))
                    || file == format!("{}-{}.ends", ep.state, ep.port)
            });
            assert!(
                known,
                "captures/{name}/{file}: no such endpoint in expect/{name}.toml"
            );
        }
    }
}
