//! The fingerprint database: readable TOML files of payloads and patterns.
//!
//! Every file may hold `[[probe]]` tables (payloads: what to send; the file format
//! keeps its original key names) and `[[fingerprint]]` tables
//! (what an answer means). The built-in files under `fingerprints/` are compiled into
//! the binary with `include_str!`; `--fingerprints DIR` adds the `*.toml` files of a
//! directory, which are tried before the built-in ones. The patterns were written for
//! portolan from the products' own banners and protocol documents; nothing here is
//! read from or derived from nmap's `nmap-service-probes`.
//!
//! Patterns are byte regexes (the `regex` crate) compiled with Unicode off and `.`
//! matching any byte, so `\xff` is the byte 0xff and binary protocols are easy to
//! describe.
//!
//! ```toml
//! [[fingerprint]]
//! service = "ssh"
//! product = "OpenSSH"
//! pattern = '^SSH-([\d.]+)-OpenSSH_([\w.]+)'
//! version = "$2"
//! info = "protocol $1"
//! cpe = ["cpe:/a:openbsd:openssh:$2"]
//! ```

use std::fs;
use std::path::Path;

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::error::ProbeError;

/// The built-in files, in the order they are tried.
const BUILTIN: &[(&str, &str)] = &[
    ("probes.toml", include_str!("../fingerprints/probes.toml")),
    ("ssh.toml", include_str!("../fingerprints/ssh.toml")),
    ("http.toml", include_str!("../fingerprints/http.toml")),
    ("mail.toml", include_str!("../fingerprints/mail.toml")),
    ("ftp.toml", include_str!("../fingerprints/ftp.toml")),
    (
        "database.toml",
        include_str!("../fingerprints/database.toml"),
    ),
    ("misc.toml", include_str!("../fingerprints/misc.toml")),
    ("generic.toml", include_str!("../fingerprints/generic.toml")),
];

/// The largest compiled pattern accepted, so a user file cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// How a payload reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadKind {
    /// Send the payload on a plain TCP connection.
    Tcp,
    /// Run a TLS handshake, then look inside the tunnel.
    Tls,
}

/// One payload: what to send, and to which ports first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// Its name, which fingerprints refer to.
    pub name: String,
    /// Plain TCP or inside TLS.
    pub kind: PayloadKind,
    /// The bytes to send; `{host}` in the file is replaced by the target's name.
    pub bytes: Vec<u8>,
    /// 1 (try on every silent port) to 9 (only on the ports listed).
    pub rarity: u8,
    /// Ports where this payload is tried first.
    pub ports: Vec<u16>,
}

/// One pattern and what a match means.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    /// The service a match names (`ssh`, `http`).
    pub service: String,
    /// The product a match names, if the pattern is that precise.
    pub product: Option<String>,
    /// Byte pattern over the answer (compiled without Unicode; `.` matches newlines).
    pub pattern: Regex,
    /// Templates with `$1` / `${name}` references to the pattern's groups.
    pub version: Option<String>,
    /// Extra information template, like `version`.
    pub info: Option<String>,
    /// CPE name templates, like `version`.
    pub cpe: Vec<String>,
    /// 0 to 10: how sure a match is (default 10 with a product, 8 without).
    pub confidence: u8,
    /// Names of the payloads whose answers this applies to (`banner` = the server
    /// spoke first); empty means every answer (`probes = [...]` in the file).
    pub payloads: Vec<String>,
    /// The file it came from, for messages.
    pub file: String,
}

/// The compiled database.
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// Every payload, user files' first.
    pub payloads: Vec<Payload>,
    /// Every fingerprint, in the order they are tried (user files' first).
    pub fingerprints: Vec<Fingerprint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    #[serde(default)]
    probe: Vec<ProbeModel>,
    #[serde(default)]
    fingerprint: Vec<FingerprintModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeModel {
    name: String,
    #[serde(default = "tcp")]
    kind: PayloadKind,
    #[serde(default)]
    payload: String,
    rarity: u8,
    #[serde(default)]
    ports: Vec<u16>,
}

fn tcp() -> PayloadKind {
    PayloadKind::Tcp
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FingerprintModel {
    service: String,
    product: Option<String>,
    pattern: String,
    version: Option<String>,
    info: Option<String>,
    #[serde(default)]
    cpe: Vec<String>,
    confidence: Option<u8>,
    #[serde(default)]
    probes: Vec<String>,
}

impl Database {
    /// The database compiled into the binary.
    pub fn builtin() -> Result<Self, ProbeError> {
        let mut db = Database::default();
        for (file, text) in BUILTIN {
            db.add_file(file, text)?;
        }
        Ok(db)
    }

    /// Adds every `*.toml` file of `dir` (sorted by name) before what is already here.
    pub fn prepend_dir(&mut self, dir: &Path) -> Result<(), ProbeError> {
        let read_err = |source| ProbeError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<_> = fs::read_dir(dir)
            .map_err(read_err)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let mut user = Database::default();
        for path in paths {
            let text = fs::read_to_string(&path).map_err(|source| ProbeError::Read {
                path: path.clone(),
                source,
            })?;
            user.add_file(&path.display().to_string(), &text)?;
        }
        user.payloads.append(&mut self.payloads);
        user.fingerprints.append(&mut self.fingerprints);
        *self = user;
        Ok(())
    }

    /// Parses one file and appends its payloads and fingerprints.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), ProbeError> {
        let model: FileModel = toml::from_str(text).map_err(|e| ProbeError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        for p in model.probe {
            let payload = portolan_talk::unescape(&p.payload).map_err(|e| ProbeError::Payload {
                file: file.to_string(),
                payload: p.name.clone(),
                message: e.to_string(),
            })?;
            self.payloads.push(Payload {
                name: p.name,
                kind: p.kind,
                bytes: payload,
                rarity: p.rarity.clamp(1, 9),
                ports: p.ports,
            });
        }
        for f in model.fingerprint {
            self.fingerprints.push(compile(file, f)?);
        }
        Ok(())
    }

    /// The payload called `name`.
    pub fn payload(&self, name: &str) -> Option<&Payload> {
        self.payloads.iter().find(|p| p.name == name)
    }
}

fn compile(file: &str, f: FingerprintModel) -> Result<Fingerprint, ProbeError> {
    let pattern = RegexBuilder::new(&f.pattern)
        .unicode(false)
        .dot_matches_new_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|source| ProbeError::Pattern {
            file: file.to_string(),
            service: f.service.clone(),
            product: f.product.clone().unwrap_or_default(),
            source: Box::new(source),
        })?;
    let confidence = f
        .confidence
        .unwrap_or(if f.product.is_some() { 10 } else { 8 })
        .min(10);
    Ok(Fingerprint {
        service: f.service,
        product: f.product,
        pattern,
        version: f.version,
        info: f.info,
        cpe: f.cpe,
        confidence,
        payloads: f.probes,
        file: file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_database_compiles() {
        let db = Database::builtin().unwrap();
        assert!(db.fingerprints.len() > 40, "{}", db.fingerprints.len());
        assert!(db.payload("http-get").is_some());
        assert!(db
            .payload("tls")
            .is_some_and(|p| p.kind == PayloadKind::Tls));
        for f in &db.fingerprints {
            for name in &f.payloads {
                assert!(
                    name == "banner" || db.payload(name).is_some(),
                    "{}: unknown payload {name}",
                    f.file
                );
            }
        }
    }

    #[test]
    fn bad_files_are_reported_with_their_name() {
        let mut db = Database::default();
        let err = db
            .add_file("x.toml", "[[fingerprint]]\nservice='a'\npattern='('\n")
            .unwrap_err();
        assert!(
            err.to_string().starts_with("x.toml: fingerprint a/"),
            "{err}"
        );
        let err = db
            .add_file("y.toml", "[[fingerprint]]\nservis='a'\n")
            .unwrap_err();
        assert!(err.to_string().starts_with("y.toml:"), "{err}");
        let err = db
            .add_file("z.toml", "[[probe]]\nname='p'\nrarity=1\npayload='\\q'\n")
            .unwrap_err();
        assert!(err.to_string().contains("payload p"), "{err}");
    }

    #[test]
    fn user_directory_comes_first() {
        let dir = std::env::temp_dir().join(format!("portolan-fp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("mine.toml"),
            "[[fingerprint]]\nservice='x'\nproduct='Mine'\npattern='^MINE'\n",
        )
        .unwrap();
        fs::write(dir.join("ignored.txt"), "not toml").unwrap();
        let mut db = Database::builtin().unwrap();
        let before = db.fingerprints.len();
        db.prepend_dir(&dir).unwrap();
        assert_eq!(db.fingerprints.len(), before + 1);
        assert_eq!(db.fingerprints[0].product.as_deref(), Some("Mine"));
        assert!(Database::default()
            .prepend_dir(&dir.join("missing"))
            .is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
