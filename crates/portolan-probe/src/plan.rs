//! The sans-IO half of probing one port: how long to wait ([`Waits`]), what to try
//! and in which order ([`steps`]), and what the answers add up to ([`Verdict`]).
//!
//! The runner owns sockets and clocks; it asks [`steps`] for the plan, feeds each
//! [`Reply`] to [`Verdict::record`], stops when told, and turns the verdict into a
//! [`Service`] with [`Verdict::service`]. All of it is tested here without a network.

use std::time::Duration;

use portolan_engine::{HttpInfo, Method, Service, TlsInfo};

use crate::db::{Database, Payload, PayloadKind};
use crate::http::http_info;
use crate::matcher::{Exchange, Match, BANNER};

/// A match at least this confident ends the probing of a port.
pub const CONFIDENT: u8 = 8;
/// At most this many exchanges per port.
pub const MAX_STEPS: usize = 8;

/// What the user chose (or left to the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// At most this many bytes are read from each answer (`--banner-bytes`).
    pub banner_bytes: usize,
    /// A fixed wait instead of the RTT-derived one (`--identify-timeout`).
    pub fixed_wait: Option<Duration>,
    /// Payloads rarer than this are only sent to the ports they list.
    pub max_rarity: u8,
    /// Ports probed at the same time.
    pub concurrency: usize,
    /// Talk to the ports through this proxy (`scan --proxy`), as the scan did.
    pub proxy: Option<portolan_proxy::ProxyUrl>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            banner_bytes: 1024,
            fixed_wait: None,
            max_rarity: 5,
            concurrency: 256,
            proxy: None,
        }
    }
}

/// How long to wait at each point of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// For a server to speak first.
    pub banner: Duration,
    /// For the first byte of an answer to a payload (and for a connect or handshake).
    pub reply: Duration,
    /// For more bytes once an answer has started.
    pub idle: Duration,
    /// For the whole port, every exchange included.
    pub budget: Duration,
}

impl Waits {
    /// Waits derived from the scan's round-trip time to the port, or the user's
    /// fixed `--identify-timeout`: the banner and reply waits are 300 ms plus ten round
    /// trips (at most 3 s), the idle gap 100 ms plus two round trips (at most 1 s), the
    /// budget the banner wait plus four reply waits.
    pub fn new(rtt: Option<Duration>, fixed: Option<Duration>) -> Self {
        let rtt = rtt.unwrap_or(Duration::from_millis(50));
        let adaptive = (Duration::from_millis(300) + rtt * 10).min(Duration::from_secs(3));
        let wait = fixed.unwrap_or(adaptive);
        let idle = (Duration::from_millis(100) + rtt * 2)
            .min(Duration::from_secs(1))
            .min(wait);
        Waits {
            banner: wait,
            reply: wait,
            idle,
            budget: wait * 5,
        }
    }
}

/// One thing to try on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// Connect and listen.
    Banner,
    /// Connect and send a payload (for a TLS payload: handshake, then HTTP inside).
    Send(&'a Payload),
}

impl Step<'_> {
    /// The step's name: the payload's, or [`BANNER`].
    pub fn name(&self) -> &str {
        match self {
            Step::Banner => BANNER,
            Step::Send(p) => &p.name,
        }
    }
}

/// The plan for `port`: payloads that list the port, then listening for a banner, then
/// the other payloads no rarer than `max_rarity`, each group by rarity; at most
/// [`MAX_STEPS`].
pub fn steps(db: &Database, port: u16, max_rarity: u8) -> Vec<Step<'_>> {
    let mut hinted: Vec<&Payload> = db
        .payloads
        .iter()
        .filter(|p| p.ports.contains(&port))
        .collect();
    hinted.sort_by_key(|p| p.rarity);
    let mut others: Vec<&Payload> = db
        .payloads
        .iter()
        .filter(|p| !p.ports.contains(&port) && p.rarity <= max_rarity)
        .collect();
    others.sort_by_key(|p| p.rarity);
    let mut plan: Vec<Step<'_>> = hinted.into_iter().map(Step::Send).collect();
    plan.push(Step::Banner);
    plan.extend(others.into_iter().map(Step::Send));
    plan.truncate(MAX_STEPS);
    plan
}

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The server closed the connection.
    Closed,
    /// The server went quiet (or never spoke) before the wait ran out.
    Quiet,
    /// `--banner-bytes` were read.
    Full,
    /// The connection was reset or failed while reading.
    Reset,
    /// The connection (or TLS handshake) could not be made.
    NoConnection,
}

/// What one exchange produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The bytes read, at most the banner limit.
    pub received: Vec<u8>,
    /// How the exchange ended.
    pub end: End,
    /// For a TLS payload: the handshake's facts, when it completed.
    pub tls: Option<TlsInfo>,
}

/// Whether to go on probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try the next step of the plan.
    Continue,
    /// Enough is known, or the port stopped answering: stop.
    Stop,
}

/// What the exchanges with one port add up to.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    best: Option<(Match, Method, Vec<u8>)>,
    first_bytes: Option<Vec<u8>>,
    http: Option<HttpInfo>,
    tls: Option<TlsInfo>,
    closed_silently: u32,
    quiet: u32,
    failure: Option<End>,
}

impl Verdict {
    /// Adds one exchange; says whether another is worth making.
    ///
    /// Once a TLS handshake has worked (`reply.tls` is set), the runner makes the
    /// remaining exchanges inside TLS: a server that speaks a client-first protocol
    /// over TLS (LDAPS, MQTT or Redis over TLS) says nothing to `http-get` but
    /// answers its own payload, and AMQPS answers `http-get` only with a protocol
    /// header.
    pub fn record(&mut self, db: &Database, probe: &str, sent: &[u8], reply: Reply) -> Next {
        if reply.end == End::NoConnection && reply.tls.is_none() && reply.received.is_empty() {
            if probe == "tls" {
                return Next::Continue;
            }
            // A connect that fails after others worked (a lost SYN on a lossy path)
            // ends the probing but does not undo what was seen.
            if self.first_bytes.is_none() && self.quiet + self.closed_silently == 0 {
                self.failure = Some(End::NoConnection);
            }
            return Next::Stop;
        }
        // A handshake that worked is not a silent close: the service is there.
        if reply.received.is_empty() && reply.tls.is_none() {
            self.note_silence(reply.end);
        } else if self.http.is_none() {
            self.http = http_info(&reply.received);
        }
        let ex = Exchange {
            // The `tls` payload sends `http-get` inside the tunnel; a plain payload
            // sent inside it (see [`Verdict::record`]) keeps its own name.
            probe: if reply.tls.is_some() && is_tls_payload(db, probe) {
                "http-get"
            } else {
                probe
            },
            sent,
            received: &reply.received,
        };
        let found = db.identify(&ex);
        let over_tls = reply.tls.is_some();
        if over_tls {
            self.tls = reply.tls;
        }
        if self.first_bytes.is_none() && !reply.received.is_empty() {
            self.first_bytes = Some(reply.received.clone());
        }
        if let Some(mut m) = found {
            if over_tls {
                m.service = tunnelled(&m.service);
            }
            let method = if probe == BANNER {
                Method::Banner
            } else {
                Method::Probed
            };
            if self
                .best
                .as_ref()
                .is_none_or(|(b, _, _)| m.rank() > b.rank())
            {
                self.best = Some((m, method, reply.received));
            }
        }
        let confident = self
            .best
            .as_ref()
            .is_some_and(|(m, _, _)| m.confidence >= CONFIDENT);
        // A tunnel that has not named its service yet gets the rest of the plan
        // inside TLS.
        if confident || self.closed_silently >= 2 {
            Next::Stop
        } else {
            Next::Continue
        }
    }

    fn note_silence(&mut self, end: End) {
        match end {
            End::Closed | End::Reset => self.closed_silently += 1,
            _ => self.quiet += 1,
        }
    }

    /// The service to report for `port`.
    pub fn service(mut self, port: u16) -> Service {
        let mut s = match (self.best.take(), self.tls.is_some()) {
            (Some((m, method, bytes)), _) => from_match(m, method, bytes),
            (None, true) => bare("ssl/unknown", Method::Probed, 7),
            (None, false) => self.fallback(port),
        };
        if s.name == "unknown" || s.name.contains("http") || s.method == Method::Port {
            s.http = s.http.or(self.http);
        }
        s.tls = self.tls;
        s
    }

    fn fallback(&self, port: u16) -> Service {
        if let Some(bytes) = &self.first_bytes {
            let guess = portolan_target::services::name(port);
            let mut s = match guess {
                Some(name) => bare(name, Method::Port, 1),
                None => bare("unknown", Method::Probed, 0),
            };
            s.banner = Some(bytes.clone());
            return s;
        }
        if self.failure.is_some() {
            let mut s = bare("unknown", Method::Probed, 0);
            s.info = Some("could not connect again".into());
            return s;
        }
        if self.closed_silently > 0 && self.quiet == 0 {
            let mut s = bare("tcpwrapped", Method::Probed, 6);
            s.info = Some("closed without a word".into());
            return s;
        }
        let mut s = bare("unknown", Method::Probed, 0);
        s.info = Some("silent".into());
        s
    }
}

fn bare(name: &str, method: Method, confidence: u8) -> Service {
    Service {
        name: name.to_string(),
        product: None,
        version: None,
        info: None,
        cpe: Vec::new(),
        method,
        confidence,
        soft: false,
        banner: None,
        tls: None,
        http: None,
    }
}

fn from_match(m: Match, method: Method, bytes: Vec<u8>) -> Service {
    Service {
        name: m.service,
        product: m.product,
        version: m.version,
        info: m.info,
        cpe: m.cpe,
        method,
        confidence: m.confidence,
        soft: m.soft,
        banner: Some(bytes),
        tls: None,
        http: None,
    }
}

fn is_tls_payload(db: &Database, name: &str) -> bool {
    db.payload(name).is_some_and(|p| p.kind == PayloadKind::Tls)
}

/// The name of a service found inside TLS (`http` → `https`, else `ssl/name`).
pub fn tunnelled(service: &str) -> String {
    match service {
        "http" => "https".into(),
        "imap" => "imaps".into(),
        "pop3" => "pop3s".into(),
        "smtp" => "smtps".into(),
        "ftp" => "ftps".into(),
        "telnet" => "telnets".into(),
        other => format!("ssl/{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Database {
        Database::builtin().unwrap()
    }

    fn reply(bytes: &[u8], end: End) -> Reply {
        Reply {
            received: bytes.to_vec(),
            end,
            tls: None,
        }
    }

    #[test]
    fn waits_adapt_to_rtt_and_yield_to_the_user() {
        let lan = Waits::new(Some(Duration::from_micros(200)), None);
        assert_eq!(lan.banner, Duration::from_millis(302));
        assert_eq!(lan.idle, Duration::from_micros(100_400));
        let far = Waits::new(Some(Duration::from_millis(400)), None);
        assert_eq!(far.reply, Duration::from_secs(3));
        let fixed = Waits::new(
            Some(Duration::from_millis(400)),
            Some(Duration::from_millis(50)),
        );
        assert_eq!(
            (fixed.reply, fixed.idle, fixed.budget),
            (
                Duration::from_millis(50),
                Duration::from_millis(50),
                Duration::from_millis(250)
            )
        );
    }

    #[test]
    fn hinted_probes_come_before_the_banner() {
        let db = db();
        let names = |port| {
            steps(&db, port, 5)
                .iter()
                .map(|s| s.name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(443)[..3], ["tls", "banner", "http-get"]);
        assert_eq!(names(6379)[..2], ["redis-ping", "banner"]);
        assert_eq!(names(22)[..3], ["banner", "http-get", "tls"]);
        assert!(names(22).len() <= MAX_STEPS);
        assert!(!names(22).contains(&"sip-options".to_string()));
        assert!(names(5060).contains(&"sip-options".to_string()));
    }

    #[test]
    fn a_banner_match_stops_and_is_reported() {
        let db = db();
        let mut v = Verdict::default();
        let next = v.record(
            &db,
            BANNER,
            b"",
            reply(b"220 (vsFTPd 3.0.3)\r\n", End::Quiet),
        );
        assert_eq!(next, Next::Stop);
        let s = v.service(21);
        assert_eq!(
            (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
            ("ftp", Some("vsftpd"), Some("3.0.3"))
        );
        assert_eq!(s.method, Method::Banner);
        assert_eq!(s.banner.as_deref(), Some(&b"220 (vsFTPd 3.0.3)\r\n"[..]));
    }

    /// Issue 13: a known service whose product no fingerprint names is a soft match,
    /// not the `ftp?` of a port guess.
    #[test]
    fn a_soft_match_is_reported_as_such_and_not_as_a_port_guess() {
        let db = db();
        let mut v = Verdict::default();
        v.record(
            &db,
            BANNER,
            b"",
            reply(b"220 Unnamed FTP server ready.\r\n", End::Quiet),
        );
        let s = v.service(2121);
        assert_eq!(
            (s.name.as_str(), s.method, s.soft, s.product),
            ("ftp", Method::Banner, true, None)
        );
        let mut v = Verdict::default();
        v.record(&db, BANNER, b"", reply(b"\x00garbage", End::Quiet));
        let s = v.service(21);
        assert_eq!(
            (s.name.as_str(), s.method, s.soft),
            ("ftp", Method::Port, false)
        );
    }

    #[test]
    fn silence_is_unknown_and_closing_is_tcpwrapped() {
        let db = db();
        let mut v = Verdict::default();
        assert_eq!(
            v.record(&db, BANNER, b"", reply(b"", End::Quiet)),
            Next::Continue
        );
        assert_eq!(
            v.record(&db, "http-get", b"GET", reply(b"", End::Quiet)),
            Next::Continue
        );
        let s = v.service(9999);
        assert_eq!(
            (s.name.as_str(), s.info.as_deref()),
            ("unknown", Some("silent"))
        );
        let mut v = Verdict::default();
        v.record(&db, BANNER, b"", reply(b"", End::Reset));
        assert_eq!(
            v.record(&db, "http-get", b"GET", reply(b"", End::Closed)),
            Next::Stop
        );
        assert_eq!(v.service(31340).name, "tcpwrapped");
    }

    #[test]
    fn unmatched_bytes_give_a_port_guess_with_the_banner() {
        let db = db();
        let mut v = Verdict::default();
        v.record(&db, BANNER, b"", reply(b"\x00garbage", End::Quiet));
        let s = v.service(80);
        assert_eq!(
            (s.name.as_str(), s.method, s.confidence),
            ("http", Method::Port, 1)
        );
        assert_eq!(s.banner.as_deref(), Some(&b"\x00garbage"[..]));
        let mut v = Verdict::default();
        v.record(&db, BANNER, b"", reply(b"....", End::Full));
        assert_eq!(v.service(31339).name, "unknown");
    }

    #[test]
    fn tls_renames_the_inner_service_and_keeps_the_certificate() {
        let db = db();
        let mut v = Verdict::default();
        let tls = TlsInfo {
            version: Some("TLSv1.3".into()),
            ..TlsInfo::default()
        };
        let r = Reply {
            received: b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\n\r\n<title>x</title>".to_vec(),
            end: End::Closed,
            tls: Some(tls),
        };
        assert_eq!(v.record(&db, "tls", b"GET", r), Next::Stop);
        let s = v.service(443);
        assert_eq!(
            (s.name.as_str(), s.product.as_deref()),
            ("https", Some("nginx"))
        );
        assert_eq!(s.tls.unwrap().version.as_deref(), Some("TLSv1.3"));
        assert_eq!(s.http.unwrap().title.as_deref(), Some("x"));
    }

    #[test]
    fn a_silent_tunnel_goes_on_inside_tls() {
        let db = db();
        let tls = || Some(TlsInfo::default());
        let mut v = Verdict::default();
        let silent = Reply {
            received: Vec::new(),
            end: End::Quiet,
            tls: tls(),
        };
        assert_eq!(v.record(&db, "tls", b"GET", silent), Next::Continue);
        let pong = Reply {
            received: b"+PONG\r\n".to_vec(),
            end: End::Quiet,
            tls: tls(),
        };
        assert_eq!(v.record(&db, "redis-ping", b"PING", pong), Next::Stop);
        let s = v.service(6390);
        assert_eq!(
            (s.name.as_str(), s.product.as_deref()),
            ("ssl/redis", Some("Redis key-value store"))
        );
    }

    #[test]
    fn a_failed_handshake_is_not_the_end_but_a_failed_connect_is() {
        let db = db();
        let mut v = Verdict::default();
        assert_eq!(
            v.record(&db, "tls", b"", reply(b"", End::NoConnection)),
            Next::Continue
        );
        assert_eq!(
            v.record(&db, BANNER, b"", reply(b"", End::NoConnection)),
            Next::Stop
        );
        assert_eq!(
            v.service(1).info.as_deref(),
            Some("could not connect again")
        );
        let mut v = Verdict::default();
        v.record(&db, BANNER, b"", reply(b"", End::Quiet));
        let lost = v.record(&db, "http-get", b"", reply(b"", End::NoConnection));
        assert_eq!(lost, Next::Stop);
        assert_eq!(v.service(1).info.as_deref(), Some("silent"));
    }
}
