//! Resolving a target and opening the TCP connection, with a connect timeout and an
//! optional source address and port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use portolan_proxy::{Destination, Handshake, Outcome, Progress, ProxyUrl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::error::{ConnectFailure, TalkError, UsageError};

/// A host (name, IPv4 or IPv6 address, brackets allowed) and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as the user wrote it, without IPv6 brackets.
    pub host: String,
    /// The TCP port.
    pub port: u16,
}

impl Target {
    /// A target; IPv6 brackets around `host` are removed.
    pub fn new(host: &str, port: u16) -> Self {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        Self {
            host: host.to_string(),
            port,
        }
    }
}

/// The local end to bind before connecting (`-s ADDR`, `-P PORT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceBind {
    /// The source address; any address of the target's family when `None`.
    pub ip: Option<IpAddr>,
    /// The source port; chosen by the kernel when `None`.
    pub port: Option<u16>,
}

/// How to open the connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// What to bind locally, if anything.
    pub source: SourceBind,
    /// Give up on one address after this long (through a proxy: on the proxy, and
    /// then on its handshake).
    pub timeout: Option<Duration>,
    /// Connect through this proxy (`--proxy`).
    pub proxy: Option<ProxyUrl>,
}

/// Resolves `target` into its addresses, in resolver order.
pub async fn resolve(target: &Target) -> Result<Vec<SocketAddr>, TalkError> {
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    let resolve_error = |cause| TalkError::Resolve {
        host: target.host.clone(),
        cause,
    };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(resolve_error)?
        .collect();
    if addrs.is_empty() {
        return Err(resolve_error(std::io::Error::other("no addresses")));
    }
    Ok(addrs)
}

/// Connects to the first address of `target` that answers. The error names the last
/// address tried, e.g. `connect 198.18.0.1:81: refused`.
pub async fn connect(target: &Target, options: &ConnectOptions) -> Result<TcpStream, TalkError> {
    if let Some(proxy) = &options.proxy {
        return through_proxy(target, proxy, options).await;
    }
    direct(target, options).await
}

async fn direct(target: &Target, options: &ConnectOptions) -> Result<TcpStream, TalkError> {
    let mut addrs = resolve(target).await?;
    if let Some(ip) = options.source.ip {
        addrs.retain(|a| a.is_ipv4() == ip.is_ipv4());
    }
    let mut last = None;
    for addr in addrs {
        match connect_one(addr, options).await {
            Ok(stream) => return Ok(stream),
            Err(error @ TalkError::Bind { .. }) => return Err(error),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| {
        TalkError::Usage(UsageError::Family {
            source_addr: SocketAddr::new(
                options.source.ip.unwrap_or(Ipv4Addr::UNSPECIFIED.into()),
                0,
            ),
            host: target.host.clone(),
        })
    }))
}

async fn connect_one(addr: SocketAddr, options: &ConnectOptions) -> Result<TcpStream, TalkError> {
    let failed = |reason| TalkError::Connect { addr, reason };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| failed(ConnectFailure::Other(e)))?;
    if options.source.ip.is_some() || options.source.port.is_some() {
        let any: IpAddr = if addr.is_ipv4() {
            Ipv4Addr::UNSPECIFIED.into()
        } else {
            Ipv6Addr::UNSPECIFIED.into()
        };
        let local = SocketAddr::new(
            options.source.ip.unwrap_or(any),
            options.source.port.unwrap_or(0),
        );
        let bind_error = |cause| TalkError::Bind { addr: local, cause };
        socket.set_reuseaddr(true).map_err(bind_error)?;
        socket.bind(local).map_err(bind_error)?;
    }
    let connecting = socket.connect(addr);
    let stream = match options.timeout {
        Some(limit) => tokio::time::timeout(limit, connecting)
            .await
            .map_err(|_| failed(ConnectFailure::TimedOut))?,
        None => connecting.await,
    }
    .map_err(|e| failed(e.into()))?;
    // Interactive traffic: send each typed line at once.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Opens a tunnel to `target` through `proxy`, with the sans-IO handshake of
/// `portolan-proxy`. The proxy's name is resolved here; the target's is sent to the
/// proxy for `socks5h://` and HTTP CONNECT, and resolved here for `socks5://`.
///
/// The proxy's reply is read one byte at a time: the handshake knows where the
/// reply ends, so no byte of the destination's is taken from the stream, and the
/// session gets a plain [`TcpStream`]. The reply is a few dozen bytes.
async fn through_proxy(
    target: &Target,
    proxy: &ProxyUrl,
    options: &ConnectOptions,
) -> Result<TcpStream, TalkError> {
    let shown = proxy.to_string();
    let fail = |cause: String| TalkError::Proxy {
        proxy: shown.clone(),
        cause,
    };
    let dest = match target.host.parse::<IpAddr>() {
        Ok(ip) => Destination::Addr(SocketAddr::new(ip, target.port)),
        Err(_) if proxy.scheme.remote_names() => Destination::Name {
            host: target.host.clone(),
            port: target.port,
        },
        Err(_) => Destination::Addr(resolve(target).await?[0]),
    };
    let mut handshake = Handshake::new(proxy, &dest).map_err(|e| fail(e.to_string()))?;
    let direct_options = ConnectOptions {
        proxy: None,
        ..options.clone()
    };
    let mut stream = direct(&Target::new(&proxy.host, proxy.port), &direct_options)
        .await
        .map_err(|e| match e {
            TalkError::Usage(_) => e,
            other => fail(other.to_string()),
        })?;
    let talk = async {
        let mut byte = [0u8; 1];
        loop {
            if !handshake.transmit().is_empty() {
                let out = handshake.transmit().to_vec();
                stream
                    .write_all(&out)
                    .await
                    .map_err(|e| fail(format!("sending to it failed: {e}")))?;
                handshake.sent(out.len());
            }
            let n = stream
                .read(&mut byte)
                .await
                .map_err(|e| fail(format!("reading from it failed: {e}")))?;
            let progress = if n == 0 {
                Progress::Done(handshake.closed().map_err(|e| fail(e.to_string()))?)
            } else {
                handshake
                    .receive(&byte[..n])
                    .map_err(|e| fail(e.to_string()))?
            };
            if let Progress::Done(outcome) = progress {
                return Ok::<Outcome, TalkError>(outcome);
            }
        }
    };
    let outcome = match options.timeout {
        Some(limit) => tokio::time::timeout(limit, talk)
            .await
            .map_err(|_| fail(format!("no answer within {limit:?}")))?,
        None => talk.await,
    }?;
    let reason = match outcome {
        Outcome::Connected => return Ok(stream),
        Outcome::Refused => "refused",
        Outcome::HostUnreachable => "host unreachable",
        Outcome::NetUnreachable => "network unreachable",
        Outcome::Denied => "not allowed by the proxy",
        Outcome::Failed => "the proxy could not connect",
    };
    let target = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    Err(TalkError::ThroughProxy {
        target,
        proxy: shown,
        reason,
    })
}
