//! A fixed result set for the format tests, with hostile bytes in every field that
//! comes from outside (host name, banner, product, HTTP title).

use std::time::{Duration, UNIX_EPOCH};

use portolan_engine::{
    Endpoint, HttpInfo, Method, PortResult, Protocol, Reason, Service, Summary, TlsInfo,
};

use crate::RunInfo;

/// 2024-05-01 12:00:00 UTC.
const STARTED: u64 = 1_714_564_800;

pub const HOSTILE_NAME: &str = "lab.test\u{1b}[2J<&>\"'\u{202e}\u{fffe}";

pub fn info() -> RunInfo {
    RunInfo {
        command_line: "portolan scan lab.test 198.18.0.2 -p 1-100,443,2000-2002 --seed 7".into(),
        started: UNIX_EPOCH + Duration::from_secs(STARTED),
        ports: "1-100,443,2000-2002".into(),
        hosts: 2,
        shard: None,
    }
}

fn at(addr: &str, name: Option<&str>, port: u16, reason: Reason) -> PortResult {
    let endpoint = Endpoint {
        addr: addr.parse().unwrap_or([0, 0, 0, 0].into()),
        port,
        name: name.map(Into::into),
        proto: Protocol::Tcp,
    };
    let rtt = (reason != Reason::NoResponse).then_some(Duration::from_micros(410));
    PortResult::new(endpoint, reason, rtt, 1)
}

pub fn ssh() -> Service {
    Service {
        name: "ssh".into(),
        product: Some("OpenSSH".into()),
        version: Some("9.2p1 Debian".into()),
        info: Some("protocol 2.0".into()),
        cpe: vec!["cpe:/a:openbsd:openssh:9.2p1".into()],
        method: Method::Banner,
        confidence: 10,
        soft: false,
        banner: Some(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".to_vec()),
        tls: None,
        http: None,
    }
}

fn hostile_http() -> Service {
    Service {
        name: "http".into(),
        product: Some("=HYPERLINK(\"http://x\")".into()),
        version: Some("1/2,3".into()),
        info: None,
        cpe: Vec::new(),
        method: Method::Probed,
        confidence: 8,
        soft: false,
        banner: Some(b"HTTP/1.0 200 OK\r\n\x1b[2J\x00\x9b</x>]]>&\xff".to_vec()),
        tls: Some(TlsInfo {
            version: Some("TLSv1.3".into()),
            subject_cn: Some("@evil\u{85}".into()),
            ..TlsInfo::default()
        }),
        http: Some(HttpInfo {
            status: Some(200),
            server: Some("-cmd\u{1b}]0;SRVTITLE\u{7}\u{1b}[31mSrv".into()),
            location: Some("/x\u{200e}\u{1b}[2J".into()),
            title: Some("<script>alert(1)</script>\u{202e}\u{7}\u{200f}\u{61c}\u{7f}".into()),
        }),
    }
}

/// The results, in the (random-looking) order a scan would give them.
pub fn results() -> Vec<PortResult> {
    let name = Some(HOSTILE_NAME);
    let mut out = Vec::new();
    out.push(at("198.18.0.2", None, 25, Reason::AdminProhibited));
    for port in (1..=100).rev() {
        let reason = if matches!(port, 22 | 80) {
            Reason::SynAck
        } else {
            Reason::ConnRefused
        };
        let mut r = at("198.18.0.1", name, port, reason);
        r.service = match port {
            22 => Some(Box::new(ssh())),
            80 => Some(Box::new(hostile_http())),
            _ => None,
        };
        out.push(r);
    }
    out.push(at("198.18.0.1", name, 443, Reason::SynAck));
    out.push(at("198.18.0.2", None, 23, Reason::ConnRefused));
    for port in 2000..=2002 {
        out.push(at("198.18.0.1", name, port, Reason::NoResponse));
    }
    out
}

pub fn summary(results: &[PortResult]) -> Summary {
    let mut s = Summary {
        complete: true,
        elapsed: Duration::from_millis(780),
        ..Summary::default()
    };
    for r in results {
        *s.counts.entry((r.state, r.reason)).or_default() += 1;
        s.probes_sent += u64::from(r.tries);
    }
    s
}

/// Runs a report over the fixture and returns what it wrote.
pub fn render<R: crate::Report>(report: R, take: impl FnOnce(R) -> Vec<u8>) -> String {
    render_with(report, take, |_| {})
}

/// [`render`] with a summary that says two hosts' ICMP rate limits shaped the scan.
pub fn render_limited<R: crate::Report>(report: R, take: impl FnOnce(R) -> Vec<u8>) -> String {
    render_with(report, take, |s| {
        s.icmp_limited = vec![
            ("198.18.0.1".parse().unwrap(), Duration::from_secs(1)),
            ("2001:db8::1".parse().unwrap(), Duration::from_millis(250)),
        ];
    })
}

fn render_with<R: crate::Report>(
    mut report: R,
    take: impl FnOnce(R) -> Vec<u8>,
    shape: impl FnOnce(&mut Summary),
) -> String {
    let results = results();
    report.start(&info()).unwrap();
    for r in &results {
        report.result(r).unwrap();
    }
    let mut summary = summary(&results);
    shape(&mut summary);
    report.finish(&summary).unwrap();
    String::from_utf8(take(report)).unwrap()
}
