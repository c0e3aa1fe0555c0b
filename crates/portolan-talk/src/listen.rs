//! `portolan listen`: accept a connection (or one after another) and run the same
//! session as `connect`, optionally as a TLS server.
//!
//! The listening address and, for TLS, the certificate's fingerprint are written to
//! the diagnostic stream first, so a test or a learner binding port 0 learns the port.
//! A TLS handshake must finish within the idle timeout, or
//! [`tls::DEFAULT_HANDSHAKE_TIMEOUT`] without one, so a client that never speaks TLS
//! cannot hold up `listen -k`.

use std::net::SocketAddr;

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::error::TalkError;
use crate::session::{self, SessionEnd, SessionIo, SessionOptions};
use crate::tls::{self, ServerCert};

/// How many connections are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Accepting {
    /// One connection, then stop.
    #[default]
    Once,
    /// One after another until interrupted (`-k`).
    KeepAccepting,
}

/// Everything `listen` needs, validated.
#[derive(Debug, Clone)]
pub struct ListenPlan {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// One connection or many.
    pub accepting: Accepting,
    /// TLS server settings, when `--tls`.
    pub tls: Option<ServerCert>,
    /// The session for each connection.
    pub session: SessionOptions,
}

async fn note(diag: &mut (dyn AsyncWrite + Unpin + Send), text: &str) -> Result<(), TalkError> {
    diag.write_all(text.as_bytes())
        .await
        .map_err(TalkError::io("write diagnostics"))?;
    diag.flush()
        .await
        .map_err(TalkError::io("write diagnostics"))
}

/// Listens and serves connections. With [`Accepting::Once`] the result is that of
/// the one session; with [`Accepting::KeepAccepting`] a failed session is noted and
/// the next connection accepted.
pub async fn listen(plan: &ListenPlan, io: SessionIo<'_>) -> Result<SessionEnd, TalkError> {
    let listener = TcpListener::bind(plan.bind)
        .await
        .map_err(|cause| TalkError::Bind {
            addr: plan.bind,
            cause,
        })?;
    let local = listener.local_addr().map_err(TalkError::io("listen"))?;
    let acceptor = plan.tls.as_ref().map(tls::acceptor).transpose()?;
    let handshake_limit = plan
        .session
        .idle_timeout
        .unwrap_or(tls::DEFAULT_HANDSHAKE_TIMEOUT);
    note(io.diag, &format!("listening on {local}\n")).await?;
    if let Some((_, summary)) = &acceptor {
        note(io.diag, &summary.lines()).await?;
    }
    loop {
        let (tcp, peer) = listener.accept().await.map_err(TalkError::io("accept"))?;
        note(io.diag, &format!("connection from {peer}\n")).await?;
        let each = SessionIo {
            input: &mut *io.input,
            output: &mut *io.output,
            diag: &mut *io.diag,
        };
        let result = match &acceptor {
            None => session::run(tcp, &plan.session, each).await,
            Some((acceptor, _)) => {
                let handshake = async {
                    acceptor
                        .accept(tcp)
                        .await
                        .map_err(|cause| TalkError::Handshake {
                            server: peer.to_string(),
                            cause,
                        })
                };
                match tls::within(handshake_limit, &peer.to_string(), handshake).await {
                    Ok(stream) => session::run(stream, &plan.session, each).await,
                    Err(error) => Err(error),
                }
            }
        };
        if plan.accepting == Accepting::Once {
            return result;
        }
        let outcome = match result {
            Ok(_) => format!("connection from {peer} closed\n"),
            Err(error) => format!("connection from {peer} failed: {error}\n"),
        };
        note(io.diag, &outcome).await?;
    }
}
