//! `portolan connect`: open a TCP (and optionally TLS) connection and run a session.

use tokio::io::AsyncWriteExt;

use crate::error::TalkError;
use crate::net::{self, ConnectOptions, Target};
use crate::session::{self, SessionEnd, SessionIo, SessionOptions};
use crate::tls::{self, ClientTls};

/// Everything `connect` needs, validated.
#[derive(Debug, Clone)]
pub struct ConnectPlan {
    /// Where to connect.
    pub target: Target,
    /// Source binding and connect timeout.
    pub options: ConnectOptions,
    /// TLS settings, when `--tls`.
    pub tls: Option<ClientTls>,
    /// The session once connected.
    pub session: SessionOptions,
}

/// Connects and runs the session. A refused or timed-out connect is an error naming
/// the address (`connect 198.18.0.1:81: refused`). The TLS handshake gets the connect
/// timeout (or [`tls::DEFAULT_HANDSHAKE_TIMEOUT`]) on top of the connect itself.
pub async fn connect(plan: &ConnectPlan, io: SessionIo<'_>) -> Result<SessionEnd, TalkError> {
    let tcp = net::connect(&plan.target, &plan.options).await?;
    match &plan.tls {
        None => session::run(tcp, &plan.session, io).await,
        Some(settings) => {
            let mut notes = String::new();
            let limit = plan
                .options
                .timeout
                .unwrap_or(tls::DEFAULT_HANDSHAKE_TIMEOUT);
            let host = &plan.target.host;
            let handshake =
                tls::within(limit, host, tls::connect(tcp, host, settings, &mut notes)).await;
            io.diag
                .write_all(notes.as_bytes())
                .await
                .map_err(TalkError::io("write diagnostics"))?;
            session::run(handshake?, &plan.session, io).await
        }
    }
}
