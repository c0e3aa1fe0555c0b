//! The output formats from real scans of listeners on 127.0.0.1: `-oA` and `--csv`
//! at once, XML checked with `xmllint` against nmap's DTD and rendered by
//! `xsltproc`, `ndiff` between two scans, the JSON document against its schema, and
//! documents closed properly when the scan is interrupted. Tests that need a tool
//! go through [`skip_or_fail`] when it is missing (Debian: nmap, ndiff,
//! libxml2-utils, xsltproc): skipped on a developer's machine, a failure in CI.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::util::{
    closed_port, have_tool, listener, portolan, portolan_std, skip_or_fail, spawn_ready,
};

const NMAP_DTD: &str = "/usr/share/nmap/nmap.dtd";
const NMAP_XSL: &str = "/usr/share/nmap/nmap.xsl";

/// Whether `tool` runs and `file` (if any) exists; if not, [`skip_or_fail`] says so.
fn have(tool: &str, file: Option<&str>) -> bool {
    if !have_tool(tool) {
        return false;
    }
    if let Some(f) = file.filter(|f| !Path::new(f).exists()) {
        skip_or_fail(&format!("{f} is missing (Debian package nmap-common)"));
        return false;
    }
    true
}

pub fn xmllint(doc: &Path) {
    if !have("xmllint", Some(NMAP_DTD)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dtd = std::fs::read_to_string(NMAP_DTD)
        .unwrap()
        .replacen("(nmap)", "(nmap|portolan)", 1);
    let dtd_path = dir.path().join("nmap.dtd");
    std::fs::write(&dtd_path, dtd).unwrap();
    let out = StdCommand::new("xmllint")
        .arg("--noout")
        .arg("--dtdvalid")
        .arg(&dtd_path)
        .arg(doc)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmllint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn schema_errors(doc: &Value) -> Vec<String> {
    let text = include_str!("../../../../docs/schema/scan-v1.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

#[test]
fn all_formats_at_once_from_a_real_scan() {
    let (_a, open) = listener();
    let closed = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("scan");
    let csv = dir.path().join("scan.csv");
    let ports = format!("{open},{closed}");
    portolan()
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-progress",
            "--no-history",
            "-oA",
        ])
        .arg(&base)
        .arg("--csv")
        .arg(&csv)
        .assert()
        .success();
    let read = |ext: &str| std::fs::read_to_string(dir.path().join(format!("scan.{ext}"))).unwrap();
    assert!(read("nmap").contains(&format!("{open}/tcp")) && !read("nmap").contains("\x1b["));
    assert!(
        read("gnmap").contains(&format!("{open}/open/tcp//")),
        "{}",
        read("gnmap")
    );
    assert!(read("gnmap").contains(&format!("{closed}/closed/tcp//")));
    let doc: Value = serde_json::from_str(&read("json")).unwrap();
    assert!(schema_errors(&doc).is_empty(), "{:?}", schema_errors(&doc));
    assert_eq!(doc["summary"]["complete"], true);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 3, "header and one row per port: {csv}");
    assert!(csv.contains(&format!("127.0.0.1,,{open},tcp,open,syn-ack,")));
    let xml = read("xml");
    assert!(xml.contains(&format!(
        "<port protocol=\"tcp\" portid=\"{open}\"><state state=\"open\" reason=\"syn-ack\""
    )));
    xmllint(&dir.path().join("scan.xml"));
    if have("xsltproc", Some(NMAP_XSL)) {
        let out = StdCommand::new("xsltproc")
            .arg(NMAP_XSL)
            .arg(dir.path().join("scan.xml"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "xsltproc: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{open}")));
    }
}

#[test]
fn ndiff_sees_a_port_that_opened() {
    if !have("ndiff", None) {
        return;
    }
    let (_a, stays) = listener();
    let later = closed_port();
    let dir = tempfile::tempdir().unwrap();
    let ports = format!("{stays},{later}");
    let scan = |name: &str| {
        portolan()
            .args([
                "scan",
                "127.0.0.1",
                "-p",
                &ports,
                "--no-progress",
                "--no-history",
                "-oX",
            ])
            .arg(dir.path().join(name))
            .assert()
            .success();
    };
    scan("before.xml");
    let _b = TcpListener::bind(("127.0.0.1", later)).expect("the released port is free again");
    scan("after.xml");
    let out = StdCommand::new("ndiff")
        .arg(dir.path().join("before.xml"))
        .arg(dir.path().join("after.xml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "ndiff finds a difference: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("+{later}/tcp")) && l.contains("open")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("-{later}/tcp")) && l.contains("closed")),
        "{text}"
    );
}

#[test]
fn interrupted_scan_still_closes_every_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = portolan_std();
    cmd.args([
        "scan",
        "127.0.0.1",
        "-p",
        "1-60000",
        "--max-rate",
        "2000",
        "--no-progress",
        "--no-history",
        "-oD",
        "-",
    ])
    .arg("-oX")
    .arg(dir.path().join("x.xml"))
    .arg("-oJ")
    .arg(dir.path().join("x.json"))
    .arg("-oG")
    .arg(dir.path().join("x.gnmap"));
    // Signalled once the scan has written its first result, never after a fixed sleep.
    let running = spawn_ready(cmd);
    running.signal("INT");
    let (code, _) = running.wait_collected();
    assert_eq!(code, Some(130));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("x.json")).unwrap()).unwrap();
    assert_eq!(doc["summary"]["complete"], false);
    assert!(schema_errors(&doc).is_empty());
    let xml = std::fs::read_to_string(dir.path().join("x.xml")).unwrap();
    assert!(xml.trim_end().ends_with("</nmaprun>") && xml.contains("exit=\"error\""));
    xmllint(&dir.path().join("x.xml"));
    assert!(std::fs::read_to_string(dir.path().join("x.gnmap"))
        .unwrap()
        .contains("# portolan interrupted at"));
}
