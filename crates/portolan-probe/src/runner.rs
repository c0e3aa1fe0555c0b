//! The tokio half of probing one port: connect, send, read within bounds, and hand
//! each [`Reply`] to the sans-IO [`Verdict`].
//!
//! Guarantees, whatever the server does: at most `--banner-bytes` are read per
//! exchange (a flood is cut off and the connection dropped); each exchange ends when
//! the server closes, goes quiet for the idle gap, or after twice the reply wait (a
//! drip cannot hold it open); the whole port takes at most the [`Waits::budget`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use portolan_engine::{Endpoint, Service, TlsInfo};
use portolan_talk::tls::{CertSummary, ClientTls, Verification};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};

use crate::db::{Database, Payload, PayloadKind};
use crate::plan::{steps, End, Next, Reply, Settings, Step, Verdict, Waits};

/// Identifies the service behind an open port.
pub async fn identify(
    db: &Database,
    endpoint: &Endpoint,
    rtt: Option<Duration>,
    settings: &Settings,
) -> Service {
    let waits = Waits::new(rtt, settings.fixed_wait);
    let deadline = Instant::now() + waits.budget;
    let mut target = Target::new(endpoint, settings.banner_bytes.max(1), waits);
    target.proxy.clone_from(&settings.proxy);
    let mut verdict = Verdict::default();
    // After a handshake worked, every exchange is made inside TLS.
    let mut tunnel = false;
    for step in steps(db, endpoint.port, settings.max_rarity) {
        let (sent, exchange) = match step {
            Step::Banner => (Vec::new(), None),
            Step::Send(p) => (target.payload(p), Some(p)),
        };
        let Ok(reply) = timeout_at(deadline, target.exchange(exchange, &sent, tunnel)).await else {
            break;
        };
        tunnel |= reply.tls.is_some();
        if verdict.record(db, step.name(), &sent, reply) == Next::Stop {
            break;
        }
    }
    verdict.service(endpoint.port)
}

/// One exchange with a port, as identification makes it: connect, send `payload`
/// (`{host}` filled in; a TLS payload runs a handshake and sends an HTTP request
/// inside) or, for `None`, say nothing; read at most `limit` bytes within `waits`.
/// Returns what was sent and the reply.
pub async fn exchange(
    endpoint: &Endpoint,
    payload: Option<&Payload>,
    waits: Waits,
    limit: usize,
) -> (Vec<u8>, Reply) {
    let target = Target::new(endpoint, limit.max(1), waits);
    let sent = payload.map(|p| target.payload(p)).unwrap_or_default();
    let reply = match timeout(waits.budget, target.exchange(payload, &sent, false)).await {
        Ok(reply) => reply,
        Err(_) => Reply {
            received: Vec::new(),
            end: End::Quiet,
            tls: None,
        },
    };
    (sent, reply)
}

/// Where and how to talk to one port.
struct Target {
    addr: SocketAddr,
    /// The name for `Host:`, SNI and `{host}`.
    host: String,
    limit: usize,
    waits: Waits,
    http_get: Vec<u8>,
    /// Through a proxy, each exchange is a tunnel (the same handshake as the scan's).
    proxy: Option<portolan_proxy::ProxyUrl>,
}

impl Target {
    fn new(endpoint: &Endpoint, limit: usize, waits: Waits) -> Self {
        let host = match (&endpoint.name, endpoint.addr) {
            (Some(name), _) => name.to_string(),
            (None, IpAddr::V6(a)) => format!("[{a}]"),
            (None, IpAddr::V4(a)) => a.to_string(),
        };
        let http_get = fill(HTTP_GET, &host);
        Target {
            addr: SocketAddr::new(endpoint.addr, endpoint.port),
            host,
            limit,
            waits,
            http_get,
            proxy: None,
        }
    }

    fn payload(&self, probe: &Payload) -> Vec<u8> {
        match probe.kind {
            PayloadKind::Tcp => fill(&probe.bytes, &self.host),
            PayloadKind::Tls => self.http_get.clone(),
        }
    }

    async fn exchange(&self, probe: Option<&Payload>, sent: &[u8], tunnel: bool) -> Reply {
        let limit = self.waits.reply.max(Duration::from_secs(1));
        let connected = match &self.proxy {
            None => timeout(limit, TcpStream::connect(self.addr))
                .await
                .map(|r| r.map_err(drop)),
            Some(proxy) => {
                let options = portolan_talk::ConnectOptions {
                    timeout: Some(limit),
                    proxy: Some(proxy.clone()),
                    ..portolan_talk::ConnectOptions::default()
                };
                // A name the proxy resolves has only a stand-in address here
                // (portolan_proxy::RemoteNames): the proxy is given the name.
                let host = if portolan_proxy::is_stand_in(self.addr.ip()) {
                    self.host.clone()
                } else {
                    self.addr.ip().to_string()
                };
                let target = portolan_talk::Target::new(&host, self.addr.port());
                timeout(limit * 2, portolan_talk::open_tcp(&target, &options))
                    .await
                    .map(|r| r.map_err(drop))
            }
        };
        let Ok(Ok(mut tcp)) = connected else {
            return Reply {
                received: Vec::new(),
                end: End::NoConnection,
                tls: None,
            };
        };
        match (tunnel, probe.map(|p| p.kind)) {
            (true, _) | (false, Some(PayloadKind::Tls)) => self.tls_exchange(tcp, sent).await,
            (false, None) => {
                read_reply(&mut tcp, self.waits.banner, self.waits.idle, self.limit).await
            }
            (false, Some(PayloadKind::Tcp)) => self.send_and_read(&mut tcp, sent).await,
        }
    }

    async fn send_and_read<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        sent: &[u8],
    ) -> Reply {
        match timeout(self.waits.reply, stream.write_all(sent)).await {
            Ok(Ok(())) => read_reply(stream, self.waits.reply, self.waits.idle, self.limit).await,
            _ => read_reply(stream, Duration::ZERO, Duration::ZERO, self.limit).await,
        }
    }

    async fn tls_exchange(&self, tcp: TcpStream, sent: &[u8]) -> Reply {
        let sni = portolan_talk::tls::server_name(&ClientTls::default(), &self.host)
            .map_or_else(|_| self.addr.ip().to_string(), |_| self.host.clone());
        let config = ClientTls {
            verification: Verification::Insecure,
            sni: None,
            alpn: vec!["http/1.1".into()],
        };
        let mut diag = String::new();
        let handshake = portolan_talk::tls::connect(tcp, &sni, &config, &mut diag);
        let Ok(Ok(mut stream)) = timeout(self.waits.reply, handshake).await else {
            return Reply {
                received: Vec::new(),
                end: End::NoConnection,
                tls: None,
            };
        };
        let info = tls_info(stream.get_ref().1);
        let mut reply = self.send_and_read(&mut stream, sent).await;
        reply.tls = Some(info);
        reply
    }
}

/// The request of the `tls` probe, sent inside the tunnel.
const HTTP_GET: &[u8] =
    b"GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: portolan/0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n";

/// Replaces each `{host}` in `payload`.
fn fill(payload: &[u8], host: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len());
    let mut rest = payload;
    while let Some(i) = rest.windows(6).position(|w| w == b"{host}") {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(host.as_bytes());
        rest = &rest[i + 6..];
    }
    out.extend_from_slice(rest);
    out
}

/// Reads an answer: up to `limit` bytes; waits `first` for the first byte, then
/// `idle` between bytes, never longer than `first + first` in all.
async fn read_reply<S: AsyncRead + Unpin>(
    stream: &mut S,
    first: Duration,
    idle: Duration,
    limit: usize,
) -> Reply {
    let start = Instant::now();
    let hard = start + first * 2;
    let mut buf = vec![0; limit];
    let mut n = 0;
    let mut last = start;
    let end = loop {
        let until = if n == 0 {
            start + first
        } else {
            (last + idle).min(hard)
        };
        match timeout_at(until, stream.read(&mut buf[n..])).await {
            Err(_) => break End::Quiet,
            Ok(Ok(0)) => break End::Closed,
            Ok(Ok(k)) => {
                n += k;
                last = Instant::now();
                if n == limit {
                    break End::Full;
                }
            }
            Ok(Err(_)) => break End::Reset,
        }
    };
    buf.truncate(n);
    Reply {
        received: buf,
        end,
        tls: None,
    }
}

/// The facts of a completed handshake.
fn tls_info(session: &rustls_session::ClientConnection) -> TlsInfo {
    let mut info = TlsInfo {
        version: session
            .protocol_version()
            .map(|v| format!("{v:?}").replace('_', ".")),
        alpn: session.alpn_protocol().map(portolan_text::escape_line),
        ..TlsInfo::default()
    };
    if let Some(der) = session.peer_certificates().and_then(|c| c.first()) {
        let summary = CertSummary::of(der.as_ref());
        info.issuer = Some(summary.issuer);
        info.not_before = Some(summary.not_before);
        info.not_after = Some(summary.not_after);
        info.sha256 = Some(summary.sha256);
        if let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) {
            info.subject_cn = cert
                .subject()
                .iter_common_name()
                .next()
                .map(|cn| portolan_text::escape_line(cn.as_slice()));
            info.sans = sans(&cert);
        }
    }
    info
}

fn sans(cert: &x509_parser::certificate::X509Certificate<'_>) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(d) => Some(portolan_text::escape_line(d.as_bytes())),
            GeneralName::IPAddress(b) => ip_text(b),
            _ => None,
        })
        .collect()
}

fn ip_text(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|a| IpAddr::from(a).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|a| IpAddr::from(a).to_string()),
        _ => None,
    }
}

/// The session type of a `portolan-talk` TLS stream.
mod rustls_session {
    pub use tokio_rustls::rustls::ClientConnection;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_filled_in_everywhere() {
        assert_eq!(fill(b"a{host}b{host}", "x.test"), b"ax.testbx.test");
        assert_eq!(fill(b"{hos", "x"), b"{hos");
    }

    #[test]
    fn ip_sans_are_written_as_addresses() {
        assert_eq!(ip_text(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        assert_eq!(ip_text(&[0; 16]).as_deref(), Some("::"));
        assert_eq!(ip_text(&[1, 2]), None);
    }

    #[tokio::test]
    async fn a_reply_is_cut_at_the_limit() {
        let (mut a, mut b) = tokio::io::duplex(64);
        tokio::spawn(async move {
            let _ = b.write_all(&[b'A'; 50]).await;
            let _ = b.write_all(&[b'B'; 50]).await;
        });
        let r = read_reply(&mut a, Duration::from_secs(1), Duration::from_secs(1), 70).await;
        assert_eq!((r.received.len(), r.end), (70, End::Full));
    }

    #[tokio::test]
    async fn a_drip_ends_at_the_idle_gap() {
        let (mut a, mut b) = tokio::io::duplex(64);
        tokio::spawn(async move {
            loop {
                if b.write_all(b".").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        let r = read_reply(
            &mut a,
            Duration::from_secs(1),
            Duration::from_millis(100),
            1024,
        )
        .await;
        assert_eq!((r.received.as_slice(), r.end), (&b"."[..], End::Quiet));
    }
}
