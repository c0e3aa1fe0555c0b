//! UDP sessions: `connect -u HOST PORT` and `listen -u PORT`, like `nc -u`.
//!
//! UDP has no connection, so the session is datagrams: each line of input (or each
//! `--send` string) goes out as one datagram, and each datagram from the peer is
//! shown as it came (escaped for a terminal, or as a hex dump with `--hex`) and fed
//! to the `--expect` patterns. The socket is *connected* to the peer (at once for
//! `connect`, to the first sender for `listen`), so the kernel gives us only that
//! peer's datagrams and, through `ECONNREFUSED`, its ICMP port unreachable: the
//! session then ends with [`TalkError::PortUnreachable`], one line, exit 1.
//!
//! Nothing closes a UDP session from the far end, so it ends by time: after the input
//! ends, `-q TIME` (for `connect`, `-w TIME` when `-q` is not given) is how long
//! answers are still awaited; `-i TIME` ends a session where nothing moves; every
//! `--expect` matched ends it at once. A `listen` whose input ended waits for more
//! datagrams until one of those ends it (or Ctrl-C), as `nc -lu` does.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::UdpSocket;
use tokio::time::{sleep_until, Instant};

use crate::error::TalkError;
use crate::net::{resolve, SourceBind, Target};
use crate::script::Expecter;
use crate::session::{SessionEnd, SessionIo, SessionOptions, Transcoder};

/// The largest datagram read; a longer one is cut (UDP's own limit is 65507 bytes).
pub const MAX_DATAGRAM: usize = 65_536;

/// Which end of the exchange we are.
#[derive(Debug, Clone)]
pub enum UdpRole {
    /// `connect -u`: send to `target` from `source`.
    Connect {
        /// The peer.
        target: Target,
        /// The local address and port to send from.
        source: SourceBind,
    },
    /// `listen -u`: wait on `bind`; the first sender becomes the peer.
    Listen {
        /// The local address and port to wait on.
        bind: SocketAddr,
    },
}

/// A UDP session to run.
#[derive(Debug, Clone)]
pub struct UdpPlan {
    /// `connect` or `listen`.
    pub role: UdpRole,
    /// For `connect`, how long answers are awaited after the input ends when `-q`
    /// is not given (`-w`).
    pub wait: Duration,
    /// Line endings, display, `--send`/`--expect`, `-q` and `-i`.
    pub session: SessionOptions,
}

/// Runs a UDP session; see the module documentation for how it ends.
pub async fn udp(plan: &UdpPlan, io: SessionIo<'_>) -> Result<SessionEnd, TalkError> {
    let (socket, peer) = match &plan.role {
        UdpRole::Connect { target, source } => {
            let (socket, peer) = connected(target, *source).await?;
            (socket, Some(peer))
        }
        UdpRole::Listen { bind } => {
            let socket = UdpSocket::bind(bind)
                .await
                .map_err(|cause| TalkError::Bind { addr: *bind, cause })?;
            let local = socket
                .local_addr()
                .map_err(TalkError::io("read the bound address"))?;
            write_out(io.diag, format!("listening on {local} (UDP)\n").as_bytes()).await?;
            (socket, None)
        }
    };
    let after_input = match plan.role {
        UdpRole::Connect { .. } => Some(plan.session.quit_after_input.unwrap_or(plan.wait)),
        UdpRole::Listen { .. } => plan.session.quit_after_input,
    };
    Session {
        socket,
        peer,
        options: &plan.session,
        after_input,
        codec: Transcoder::new(&plan.session),
        expecter: Expecter::new(&plan.session.script.expects),
        queued: Vec::new(),
    }
    .run(io)
    .await
}

/// A socket connected to the first address of `target` that takes one.
async fn connected(
    target: &Target,
    source: SourceBind,
) -> Result<(UdpSocket, SocketAddr), TalkError> {
    let mut last = None;
    for addr in resolve(target).await? {
        let ip = source.ip.unwrap_or(if addr.is_ipv6() {
            Ipv6Addr::UNSPECIFIED.into()
        } else {
            Ipv4Addr::UNSPECIFIED.into()
        });
        let local = SocketAddr::new(ip, source.port.unwrap_or(0));
        let socket = match UdpSocket::bind(local).await {
            Ok(s) => s,
            Err(cause) => {
                last = Some(TalkError::Bind { addr: local, cause });
                continue;
            }
        };
        match socket.connect(addr).await {
            Ok(()) => return Ok((socket, addr)),
            Err(cause) => last = Some(TalkError::io("connect UDP socket")(cause)),
        }
    }
    Err(last.unwrap_or_else(|| TalkError::Resolve {
        host: target.host.clone(),
        cause: std::io::Error::other("no address"),
    }))
}

struct Session<'a> {
    socket: UdpSocket,
    /// The peer, once known (a `listen` learns it from the first datagram).
    peer: Option<SocketAddr>,
    options: &'a SessionOptions,
    after_input: Option<Duration>,
    codec: Transcoder,
    expecter: Expecter,
    /// Datagrams waiting for a `listen`'s peer.
    queued: Vec<Vec<u8>>,
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn write_out(
    out: &mut (dyn AsyncWrite + Unpin + Send),
    bytes: &[u8],
) -> Result<(), TalkError> {
    if bytes.is_empty() {
        return Ok(());
    }
    out.write_all(bytes)
        .await
        .map_err(TalkError::io("write output"))?;
    out.flush().await.map_err(TalkError::io("write output"))
}

impl Session<'_> {
    async fn run(mut self, io: SessionIo<'_>) -> Result<SessionEnd, TalkError> {
        let script = &self.options.script;
        let mut input = BufReader::new(io.input);
        let output = io.output;
        let mut input_open = script.reads_input();
        let mut last_activity = Instant::now();
        let mut expect_at = self
            .expecter
            .waiting_for()
            .and_then(|_| last_activity.checked_add(script.timeout));
        let mut quit_at = None;
        if !input_open {
            for send in &script.sends {
                self.send(send, output).await?;
            }
            quit_at = self.after_input.and_then(|d| last_activity.checked_add(d));
        }
        let mut line = Vec::new();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let idle_at = self
                .options
                .idle_timeout
                .and_then(|d| last_activity.checked_add(d));
            tokio::select! {
                got = self.socket.recv_from(&mut buf) => {
                    let (n, from) = got.map_err(|e| self.peer_error(e, "read from peer"))?;
                    if self.peer.is_none() {
                        self.socket.connect(from).await.map_err(TalkError::io("connect UDP socket"))?;
                        self.peer = Some(from);
                        for datagram in std::mem::take(&mut self.queued) {
                            self.send_wire(&datagram).await?;
                        }
                    }
                    last_activity = Instant::now();
                    let incoming = self.codec.incoming(&buf[..n]);
                    write_out(output, &incoming.output).await?;
                    if self.expecter.feed(&incoming.data) > 0 {
                        if self.expecter.waiting_for().is_none() {
                            write_out(output, &self.codec.finish_incoming()).await?;
                            return Ok(SessionEnd::ExpectationsMet);
                        }
                        expect_at = last_activity.checked_add(script.timeout);
                    }
                }
                read = input.read_until(b'\n', &mut line), if input_open => {
                    let n = read.map_err(TalkError::io("read input"))?;
                    if n == 0 || !line.ends_with(b"\n") {
                        if !line.is_empty() {
                            let datagram = std::mem::take(&mut line);
                            self.send(&datagram, output).await?;
                        }
                        input_open = false;
                        last_activity = Instant::now();
                        quit_at = self.after_input.and_then(|d| last_activity.checked_add(d));
                        continue;
                    }
                    let datagram = std::mem::take(&mut line);
                    self.send(&datagram, output).await?;
                    last_activity = Instant::now();
                }
                () = sleep_opt(idle_at) => {
                    let idle = self.options.idle_timeout.unwrap_or_default();
                    return match self.expecter.waiting_for() {
                        Some(pattern) => Ok(SessionEnd::ExpectationFailed {
                            pattern: pattern.to_string(),
                            reason: TalkError::Idle(idle).to_string(),
                        }),
                        None => Err(TalkError::Idle(idle)),
                    };
                }
                () = sleep_opt(expect_at) => {
                    let pattern = self.expecter.waiting_for().unwrap_or_default().to_string();
                    return Ok(SessionEnd::ExpectationFailed {
                        pattern,
                        reason: format!("timed out after {:?}", script.timeout),
                    });
                }
                () = sleep_opt(quit_at.filter(|_| self.expecter.waiting_for().is_none())) => {
                    write_out(output, &self.codec.finish_incoming()).await?;
                    return Ok(SessionEnd::QuitAfterInput);
                }
            }
        }
    }

    /// Sends one datagram of input (line endings as asked), or queues it until a
    /// `listen` knows its peer.
    async fn send(
        &mut self,
        input: &[u8],
        output: &mut (dyn AsyncWrite + Unpin + Send),
    ) -> Result<(), TalkError> {
        let (wire, shown) = self.codec.outgoing(input);
        write_out(output, &shown).await?;
        if self.peer.is_none() {
            self.queued.push(wire);
            return Ok(());
        }
        self.send_wire(&wire).await
    }

    async fn send_wire(&self, wire: &[u8]) -> Result<(), TalkError> {
        self.socket
            .send(wire)
            .await
            .map(drop)
            .map_err(|e| self.peer_error(e, "send to peer"))
    }

    /// An ICMP port unreachable (`ECONNREFUSED` on the connected socket) is said as
    /// such; other errors keep the kernel's words.
    fn peer_error(&self, cause: std::io::Error, context: &'static str) -> TalkError {
        match (cause.kind(), self.peer) {
            (std::io::ErrorKind::ConnectionRefused, Some(peer)) => TalkError::PortUnreachable(peer),
            _ => TalkError::Io { context, cause },
        }
    }
}
