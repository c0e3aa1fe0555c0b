//! Resolving a target and opening the TCP connection, with a connect timeout and an
//! optional source address and port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

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
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions {
    /// What to bind locally, if anything.
    pub source: SourceBind,
    /// Give up on one address after this long.
    pub timeout: Option<Duration>,
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
pub async fn connect(target: &Target, options: ConnectOptions) -> Result<TcpStream, TalkError> {
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

async fn connect_one(addr: SocketAddr, options: ConnectOptions) -> Result<TcpStream, TalkError> {
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
