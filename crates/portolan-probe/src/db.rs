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
use toml::Spanned;

use crate::check;
use crate::error::ProbeError;
use crate::matcher::BANNER;

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
    (
        "directory.toml",
        include_str!("../fingerprints/directory.toml"),
    ),
    (
        "messaging.toml",
        include_str!("../fingerprints/messaging.toml"),
    ),
    (
        "monitoring.toml",
        include_str!("../fingerprints/monitoring.toml"),
    ),
    ("media.toml", include_str!("../fingerprints/media.toml")),
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
    /// Templates with `$1` / `${name}` references to the pattern's groups, or a fixed
    /// text (an inferred version such as `9.6 or later`).
    pub version: Option<String>,
    /// Extra information template, like `version`.
    pub info: Option<String>,
    /// CPE name templates, like `version`.
    pub cpe: Vec<String>,
    /// 0 to 10: how sure a match is (default 10 with a product, 8 without).
    pub confidence: u8,
    /// A soft fingerprint names the service and not the product: `soft = true`, the
    /// default for a fingerprint without `product`.
    pub soft: bool,
    /// Names of the payloads whose answers this applies to (`banner` = the server
    /// spoke first); empty means every answer (`probes = [...]` in the file).
    pub payloads: Vec<String>,
    /// The file it came from, for messages.
    pub file: String,
    /// The line of its `pattern` in that file.
    pub line: usize,
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
    name: Spanned<String>,
    #[serde(default = "tcp")]
    kind: Spanned<PayloadKind>,
    payload: Option<Spanned<String>>,
    rarity: Spanned<u8>,
    #[serde(default)]
    ports: Vec<Spanned<u16>>,
}

fn tcp() -> Spanned<PayloadKind> {
    Spanned::new(0..0, PayloadKind::Tcp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FingerprintModel {
    service: Spanned<String>,
    product: Option<Spanned<String>>,
    pattern: Spanned<String>,
    version: Option<Spanned<String>>,
    info: Option<Spanned<String>>,
    #[serde(default)]
    cpe: Vec<Spanned<String>>,
    confidence: Option<Spanned<u8>>,
    soft: Option<Spanned<bool>>,
    #[serde(default)]
    probes: Vec<Spanned<String>>,
}

/// One file being read: its name and text, for the places of errors.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    fn error(&self, at: usize, message: impl Into<String>) -> ProbeError {
        self.error_at(check::place(self.text, at), message)
    }

    fn error_at(&self, place: check::Place, message: impl Into<String>) -> ProbeError {
        ProbeError::Invalid {
            file: self.file.to_string(),
            line: place.line,
            column: place.column,
            message: message.into(),
        }
    }

    /// An error at byte `at` of the string value `value`.
    fn error_in(&self, value: &Spanned<String>, at: usize, message: String) -> ProbeError {
        let place = check::place_in_value(self.text, &value.span(), value.get_ref(), at);
        self.error_at(place, message)
    }
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
    /// A file's fingerprints may use the probes already here, the probes of an
    /// earlier file of `dir` and their own file's; a probe name may be defined once.
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
        // The user's files are read with the payloads already known, so that they can
        // use them and cannot define them again.
        let known = self.payloads.len();
        let mut user = Database {
            payloads: self.payloads.clone(),
            fingerprints: Vec::new(),
        };
        for path in paths {
            let text = fs::read_to_string(&path).map_err(|source| ProbeError::Read {
                path: path.clone(),
                source,
            })?;
            user.add_file(&path.display().to_string(), &text)?;
        }
        let mut payloads = user.payloads.split_off(known);
        payloads.append(&mut self.payloads);
        user.fingerprints.append(&mut self.fingerprints);
        *self = Database {
            payloads,
            fingerprints: user.fingerprints,
        };
        Ok(())
    }

    /// Parses one file, checks it and appends its payloads and fingerprints. Its
    /// fingerprints may use the payloads already here and its own.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), ProbeError> {
        self.add_file_with(file, text, &[BANNER])
    }

    /// [`Database::add_file`] where the fingerprints may also name the pseudo-probes
    /// `pseudo` (the UDP fields).
    pub(crate) fn add_file_with(
        &mut self,
        file: &str,
        text: &str,
        pseudo: &[&str],
    ) -> Result<(), ProbeError> {
        let src = Source { file, text };
        let model: FileModel = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            src.error(at, check::one_line(e.message()))
        })?;
        let mut payloads = Vec::with_capacity(model.probe.len());
        for p in model.probe {
            let payload = payload(&src, p)?;
            if self
                .payloads
                .iter()
                .chain(&payloads)
                .any(|q: &Payload| q.name == payload.0.name)
            {
                let message = format!("probe `{}` is defined twice", payload.0.name);
                return Err(src.error(payload.1, message));
            }
            payloads.push(payload.0);
        }
        self.payloads.append(&mut payloads);
        let mut fingerprints = Vec::with_capacity(model.fingerprint.len());
        for f in model.fingerprint {
            for name in &f.probes {
                if !pseudo.contains(&name.get_ref().as_str())
                    && self.payload(name.get_ref()).is_none()
                {
                    let message = format!(
                        "unknown probe `{}` (a probe's name, or `{BANNER}`)",
                        portolan_text::escape_line(name.get_ref().as_bytes())
                    );
                    return Err(src.error(name.span().start, message));
                }
            }
            fingerprints.push(compile(&src, f)?);
        }
        self.fingerprints.append(&mut fingerprints);
        Ok(())
    }

    /// The payload called `name`.
    pub fn payload(&self, name: &str) -> Option<&Payload> {
        self.payloads.iter().find(|p| p.name == name)
    }
}

/// A checked payload, and where its name is.
fn payload(src: &Source<'_>, p: ProbeModel) -> Result<(Payload, usize), ProbeError> {
    let name = p.name.get_ref();
    let at = p.name.span().start;
    if name.is_empty() || name == BANNER || !name.bytes().all(|b| b.is_ascii_graphic()) {
        let message = format!(
            "`{}` cannot name a probe (printable, no spaces, not `{BANNER}`)",
            portolan_text::escape_line(name.as_bytes())
        );
        return Err(src.error(at, message));
    }
    let rarity = *p.rarity.get_ref();
    if !(1..=9).contains(&rarity) {
        let message = format!("rarity {rarity}: from 1 (try everywhere) to 9 (only on `ports`)");
        return Err(src.error(p.rarity.span().start, message));
    }
    if let Some(port) = p.ports.iter().find(|p| *p.get_ref() == 0) {
        return Err(src.error(port.span().start, "port 0 cannot be probed"));
    }
    let kind = *p.kind.get_ref();
    let bytes = match (kind, &p.payload) {
        (PayloadKind::Tls, Some(text)) => {
            let message = "a `tls` probe sends its own request (http-get inside the tunnel): leave `payload` out".to_string();
            return Err(src.error(text.span().start, message));
        }
        (PayloadKind::Tls, None) => Vec::new(),
        (PayloadKind::Tcp, None) => {
            let message = format!("probe `{name}` needs a `payload` (the bytes to send)");
            return Err(src.error(at, message));
        }
        (PayloadKind::Tcp, Some(text)) => {
            let bytes = portolan_talk::unescape(text.get_ref())
                .map_err(|e| src.error(text.span().start, format!("payload: {e}")))?;
            if bytes.is_empty() {
                let message = "an empty payload sends nothing: that is the `banner`".to_string();
                return Err(src.error(text.span().start, message));
            }
            bytes
        }
    };
    let payload = Payload {
        name: p.name.into_inner(),
        kind,
        bytes,
        rarity,
        ports: p.ports.into_iter().map(Spanned::into_inner).collect(),
    };
    Ok((payload, at))
}

fn compile(src: &Source<'_>, f: FingerprintModel) -> Result<Fingerprint, ProbeError> {
    let service = f.service.get_ref();
    if service.is_empty() || !service.bytes().all(|b| b.is_ascii_graphic()) {
        let message = format!(
            "service `{}`: a short name without spaces (ftp, http, ssl/imap)",
            portolan_text::escape_line(service.as_bytes())
        );
        return Err(src.error(f.service.span().start, message));
    }
    let text = f.pattern.get_ref();
    if text.is_empty() {
        let message = "the pattern is empty: it would match every answer".to_string();
        return Err(src.error(f.pattern.span().start, message));
    }
    let pattern = RegexBuilder::new(text)
        .unicode(false)
        .dot_matches_new_line(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| match check::regex_syntax_error(text) {
            Some((at, why)) => src.error_in(&f.pattern, at, format!("pattern: {why}")),
            None => src.error_in(
                &f.pattern,
                0,
                format!("pattern: {}", check::one_line(&e.to_string())),
            ),
        })?;
    if pattern.is_match(b"") {
        let message = "the pattern matches zero bytes, so it names nothing: give it bytes to match"
            .to_string();
        return Err(src.error(f.pattern.span().start, message));
    }
    let names: Vec<&str> = pattern.capture_names().flatten().collect();
    let templates = f
        .product
        .iter()
        .map(|t| ("product", t))
        .chain(f.version.iter().map(|t| ("version", t)))
        .chain(f.info.iter().map(|t| ("info", t)))
        .chain(f.cpe.iter().map(|t| ("cpe", t)));
    for (key, template) in templates {
        if template.get_ref().trim().is_empty() {
            let message = format!("{key} is empty: leave the key out instead");
            return Err(src.error(template.span().start, message));
        }
        for r in check::group_refs(template.get_ref()) {
            if let Some(why) = check::bad_ref(&r, pattern.captures_len(), &names) {
                return Err(src.error_in(template, r.at, format!("{key}: {why}")));
            }
        }
    }
    for cpe in &f.cpe {
        let c = cpe.get_ref();
        if !(c.starts_with("cpe:/") || c.starts_with("cpe:2.3:")) || c.contains(char::is_whitespace)
        {
            let message = format!(
                "cpe `{}`: a CPE name starts with `cpe:/` and has no spaces (leave an inferred version out of it)",
                portolan_text::escape_line(c.as_bytes())
            );
            return Err(src.error(cpe.span().start, message));
        }
    }
    let soft = match (&f.soft, &f.product) {
        (Some(soft), Some(_)) if *soft.get_ref() => {
            let message = "a soft fingerprint names no product: leave `product` out".to_string();
            return Err(src.error(soft.span().start, message));
        }
        (Some(soft), _) => *soft.get_ref(),
        (None, product) => product.is_none(),
    };
    let confidence = match &f.confidence {
        Some(c) if *c.get_ref() > 10 => {
            let message = format!("confidence {}: from 0 to 10", c.get_ref());
            return Err(src.error(c.span().start, message));
        }
        Some(c) => *c.get_ref(),
        None if f.product.is_some() => 10,
        None => 8,
    };
    let line = check::place(src.text, f.pattern.span().start).line;
    let value = |t: Option<Spanned<String>>| t.map(Spanned::into_inner);
    Ok(Fingerprint {
        service: f.service.into_inner(),
        product: value(f.product),
        pattern,
        version: value(f.version),
        info: value(f.info),
        cpe: f.cpe.into_iter().map(Spanned::into_inner).collect(),
        confidence,
        soft,
        payloads: f.probes.into_iter().map(Spanned::into_inner).collect(),
        file: src.file.to_string(),
        line,
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

    /// The one-line error of loading `text` after the built-in database.
    fn refused(text: &str) -> String {
        let mut db = Database::builtin().unwrap();
        let err = db.add_file("x.toml", text).unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
        err
    }

    const FP: &str = "[[fingerprint]]\nservice = 'x'\n";

    #[test]
    fn unknown_keys_and_bad_toml_have_a_line_and_column() {
        let err = refused(&format!("{FP}pattern = '^x'\nservis = 'a'\n"));
        assert!(
            err.starts_with("x.toml:4:1: unknown field `servis`"),
            "{err}"
        );
        let err = refused("[[fingerprint]\n");
        assert!(err.starts_with("x.toml:1:"), "{err}");
        let err = refused(&format!("{FP}pattern = '^x'\nconfidence = 300\n"));
        assert!(err.starts_with("x.toml:4:14:"), "{err}");
    }

    #[test]
    fn a_bad_regex_is_shown_where_it_is_wrong_with_the_regex_crate_words() {
        let err = refused(&format!("{FP}pattern = '^ab(cd'\n"));
        assert_eq!(err, "x.toml:3:15: pattern: unclosed group");
        let err = refused(&format!("{FP}pattern = '^a{{2,1}}'\n"));
        assert!(
            err.starts_with("x.toml:3:14: pattern: invalid repetition"),
            "{err}"
        );
        // Escaped in a basic string: the column is the value's.
        let err = refused(&format!("{FP}pattern = \"\\\\p{{Nope}}\"\n"));
        assert!(err.starts_with("x.toml:3:11: pattern: "), "{err}");
    }

    #[test]
    fn templates_may_only_use_the_patterns_groups() {
        let err = refused(&format!(
            "{FP}pattern = '^X ([\\d.]+) (\\w+)'\nversion = '$1 $3'\n"
        ));
        assert_eq!(
            err,
            "x.toml:4:15: version: `$3` but the pattern has 2 groups"
        );
        let err = refused(&format!(
            "{FP}pattern = '^X (?P<v>[\\d.]+)'\ninfo = 'v${{w}}'\n"
        ));
        assert!(err.starts_with("x.toml:4:10: info: `${w}`"), "{err}");
        let err = refused(&format!(
            "{FP}pattern = '^X (\\d)'\ncpe = ['cpe:/a:x:x:$1or']\n"
        ));
        assert!(err.contains("write `${1}or`"), "{err}");
        let err = refused(&format!("{FP}product = 'X $1'\npattern = '^X'\n"));
        assert!(
            err.contains("product: `$1` but the pattern has 0 groups"),
            "{err}"
        );
        let err = refused(&format!("{FP}pattern = '^X'\ncpe = ['x y']\n"));
        assert!(err.starts_with("x.toml:4:8: cpe `x y`"), "{err}");
    }

    #[test]
    fn empty_patterns_and_fields_are_refused() {
        let err = refused(&format!("{FP}pattern = ''\n"));
        assert!(
            err.starts_with("x.toml:3:11: the pattern is empty"),
            "{err}"
        );
        let err = refused(&format!("{FP}pattern = '(?:abc)?'\n"));
        assert!(err.contains("matches zero bytes"), "{err}");
        let err = refused("[[fingerprint]]\nservice = ''\npattern = 'a'\n");
        assert!(err.starts_with("x.toml:2:11: service"), "{err}");
        let err = refused(&format!("{FP}pattern = 'a'\nversion = ' '\n"));
        assert!(err.contains("version is empty"), "{err}");
    }

    #[test]
    fn probe_names_must_be_known_and_defined_once() {
        let err = refused(&format!("{FP}pattern = 'a'\nprobes = ['banner', 'nope']\n"));
        assert_eq!(
            err,
            "x.toml:4:21: unknown probe `nope` (a probe's name, or `banner`)"
        );
        let err = refused("[[probe]]\nname = 'http-get'\npayload = 'x'\nrarity = 1\n");
        assert_eq!(err, "x.toml:2:8: probe `http-get` is defined twice");
        let err = refused("[[probe]]\nname = 'p'\npayload = 'x'\nrarity = 1\n[[probe]]\nname = 'p'\npayload = 'y'\nrarity = 1\n");
        assert!(
            err.starts_with("x.toml:6:8: probe `p` is defined twice"),
            "{err}"
        );
        // A file's own probes are known to its fingerprints.
        let mut db = Database::builtin().unwrap();
        db.add_file(
            "ok.toml",
            "[[probe]]\nname = 'hello'\npayload = 'HELLO\\r\\n'\nrarity = 9\n[[fingerprint]]\nservice = 'x'\npattern = '^HI'\nprobes = ['hello']\n",
        )
        .unwrap();
    }

    #[test]
    fn bad_probes_are_refused() {
        let probe = |rest: &str| refused(&format!("[[probe]]\nname = 'p'\n{rest}"));
        assert!(probe("payload = 'x'\nrarity = 0\n").contains("rarity 0"));
        assert!(probe("payload = '\\q'\nrarity = 1\n").starts_with("x.toml:3:11: payload:"));
        assert!(probe("rarity = 1\n").contains("needs a `payload`"));
        assert!(probe("payload = ''\nrarity = 1\n").contains("empty payload"));
        assert!(probe("kind = 'tls'\npayload = 'x'\nrarity = 1\n").contains("leave `payload` out"));
        assert!(
            probe("payload = 'x'\nrarity = 1\nports = [1, 0]\n").starts_with("x.toml:5:13: port 0")
        );
        let err = refused("[[probe]]\nname = 'banner'\npayload = 'x'\nrarity = 1\n");
        assert!(err.contains("cannot name a probe"), "{err}");
    }

    #[test]
    fn soft_is_the_default_without_a_product_and_needs_none() {
        let mut db = Database::default();
        db.add_file(
            "s.toml",
            "[[fingerprint]]\nservice = 'a'\npattern = 'a'\n\
             [[fingerprint]]\nservice = 'b'\npattern = 'b'\nsoft = false\n\
             [[fingerprint]]\nservice = 'c'\nproduct = 'C'\npattern = 'c'\n",
        )
        .unwrap();
        let soft: Vec<_> = db
            .fingerprints
            .iter()
            .map(|f| (f.soft, f.confidence))
            .collect();
        assert_eq!(soft, [(true, 8), (false, 8), (false, 10)]);
        assert_eq!(db.fingerprints[2].line, 11);
        let err =
            refused("[[fingerprint]]\nservice = 'c'\nproduct = 'C'\npattern = 'c'\nsoft = true\n");
        assert!(
            err.starts_with("x.toml:5:8: a soft fingerprint names no product"),
            "{err}"
        );
        let err = refused(&format!("{FP}pattern = 'a'\nconfidence = 11\n"));
        assert!(err.contains("confidence 11"), "{err}");
    }

    /// The example of docs/probe.md loads and means what the page says.
    #[test]
    fn the_documented_example_loads() {
        let page = include_str!("../../../docs/probe.md");
        let section = &page[page.find("## Fingerprint files").unwrap()..];
        let start = section.find("```toml\n").unwrap() + 8;
        let example = &section[start..start + section[start..].find("```").unwrap()];
        let mut db = Database::builtin().unwrap();
        db.add_file("probe.md", example).unwrap();
        let m = db
            .identify(&crate::matcher::Exchange {
                probe: BANNER,
                sent: b"",
                received: b"220 Acme FTPd 4.5 (beta)\r\n",
            })
            .unwrap();
        assert_eq!(
            (
                m.product.as_deref(),
                m.version.as_deref(),
                m.info.as_deref()
            ),
            (Some("Acme FTPd"), Some("4.5"), Some("beta"))
        );
        assert_eq!(m.cpe, ["cpe:/a:acme:ftpd:4.5"]);
        assert_eq!(db.payload("acme-hello").unwrap().bytes, b"HELLO\r\n");
    }

    #[test]
    fn user_files_are_checked_with_their_path() {
        let dir = std::env::temp_dir().join(format!("portolan-fp-bad-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("a.toml"),
            "[[probe]]\nname = 'mine'\npayload = 'X'\nrarity = 9\n",
        )
        .unwrap();
        fs::write(
            dir.join("b.toml"),
            "[[fingerprint]]\nservice = 'x'\npattern = '^Y'\nprobes = ['mine']\n",
        )
        .unwrap();
        let mut db = Database::builtin().unwrap();
        db.prepend_dir(&dir).unwrap();
        assert_eq!(db.payloads[0].name, "mine");
        assert_eq!(db.payload("mine").unwrap().bytes, b"X");
        assert_eq!(db.fingerprints[0].payloads, ["mine"]);
        fs::write(
            dir.join("c.toml"),
            "[[fingerprint]]\nservice = 'x'\npattern = '('\n",
        )
        .unwrap();
        let err = Database::builtin().unwrap().prepend_dir(&dir).unwrap_err();
        let want = format!(
            "{}:3:12: pattern: unclosed group",
            dir.join("c.toml").display()
        );
        assert_eq!(err.to_string(), want);
        fs::remove_dir_all(&dir).unwrap();
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
