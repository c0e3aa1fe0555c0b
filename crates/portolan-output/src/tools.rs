//! Checks of XML output with the tools nmap users have (`xmllint`, `xsltproc`),
//! shared by the unit tests here and usable from integration tests. A missing tool
//! goes through [`skip_or_fail`]: the check prints why and passes, except when the
//! environment variable `CI` is set, where it fails (CI installs every tool).

use std::path::Path;
use std::process::Command;

/// nmap's DTD, as Debian's `nmap-common` installs it.
pub const NMAP_DTD: &str = "/usr/share/nmap/nmap.dtd";
/// nmap's stylesheet.
pub const NMAP_XSL: &str = "/usr/share/nmap/nmap.xsl";

/// A check that cannot run here: printed and passed, or a failure when `CI` is set
/// (the same rule as `util::skip_or_fail` of the CLI tests).
pub fn skip_or_fail(reason: &str) {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "this check cannot run here, and CI is set so that is a failure: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// Whether `tool` runs; [`skip_or_fail`] otherwise.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().is_ok();
    if !ok {
        skip_or_fail(&format!("{tool} is not installed"));
    }
    ok
}

/// Validates `xml` against nmap's DTD (with `portolan` added to the `scanner`
/// enumeration, the one attribute value the DTD does not allow), checks that
/// the untouched DTD objects to nothing else, and renders it with nmap's stylesheet.
pub fn check_xml(xml: &str) {
    if !Path::new(NMAP_DTD).exists() {
        skip_or_fail(&format!(
            "{NMAP_DTD} is missing (Debian package nmap-common)"
        ));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = dir.path().join("scan.xml");
    std::fs::write(&doc, xml).expect("write xml");
    if have("xmllint") {
        let dtd = std::fs::read_to_string(NMAP_DTD).expect("read dtd");
        let widened = dtd.replacen("(nmap)", "(nmap|portolan)", 1);
        assert_ne!(dtd, widened, "the DTD's scanner enumeration moved");
        let dtd_path = dir.path().join("nmap.dtd");
        std::fs::write(&dtd_path, widened).expect("write dtd");
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--dtdvalid")
            .arg(&dtd_path)
            .arg(&doc)
            .output()
            .expect("xmllint");
        assert!(
            out.status.success(),
            "xmllint: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("xmllint")
            .args(["--noout", "--dtdvalid", NMAP_DTD])
            .arg(&doc)
            .output()
            .expect("xmllint");
        let errors = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<&str> = errors.lines().filter(|l| l.contains("error")).collect();
        assert!(
            complaints.iter().all(|l| l.contains("scanner")),
            "stock DTD: {errors}"
        );
    }
    if have("xsltproc") && Path::new(NMAP_XSL).exists() {
        let out = Command::new("xsltproc")
            .arg(NMAP_XSL)
            .arg(&doc)
            .output()
            .expect("xsltproc");
        assert!(
            out.status.success(),
            "xsltproc: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "xsltproc: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = String::from_utf8_lossy(&out.stdout);
        assert!(html.contains("<html"), "no HTML: {html}");
    }
}
