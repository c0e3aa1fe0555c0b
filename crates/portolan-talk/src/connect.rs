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
/// the address (`connect 198.18.0.1:81: refused`).
pub async fn connect(plan: &ConnectPlan, io: SessionIo<'_>) -> Result<SessionEnd, TalkError> {
    let tcp = net::connect(&plan.target, plan.options).await?;
    match &plan.tls {
        None => session::run(tcp, &plan.session, io).await,
        Some(settings) => {
            let mut notes = String::new();
            let handshake = tls::connect(tcp, &plan.target.host, settings, &mut notes).await;
            io.diag
                .write_all(notes.as_bytes())
                .await
                .map_err(TalkError::io("write diagnostics"))?;
            session::run(handshake?, &plan.session, io).await
        }
    }
}
