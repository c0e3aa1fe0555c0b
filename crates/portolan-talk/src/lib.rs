//! Talking to the program behind a port: the library behind `portolan connect`,
//! `portolan listen` and `portolan http`.
//!
//! The protocol logic is sans-IO and tested byte by byte: [`telnet`] (RFC 854 with
//! RFC 1143 negotiation), [`http`] (request, response head, body framing),
//! [`script`] (`--send`/`--expect`) and [`display`] (terminal escaping and hex dumps).
//! A thin tokio layer ([`net`], [`tls`], [`session`], [`listen`](mod@listen), [`http::client`])
//! owns sockets and timers. Nothing here prints, reads arguments or exits: output goes
//! to injected writers and outcomes are returned as values ([`SessionEnd`]) or errors
//! ([`TalkError`], with [`TalkError::is_usage`] telling usage errors apart).

#![warn(missing_docs)]

pub mod connect;
pub mod display;
pub mod error;
pub mod http;
pub mod listen;
pub mod net;
pub mod script;
pub mod session;
pub mod telnet;
pub mod tls;

pub use connect::{connect, ConnectPlan};
pub use display::Display;
pub use error::{ConnectFailure, TalkError, UsageError};
pub use listen::{listen, Accepting, ListenPlan};
pub use net::{ConnectOptions, SourceBind, Target};
pub use script::{unescape, Expectation, Script};
pub use session::{AfterInput, LineEnding, SessionEnd, SessionIo, SessionOptions, TelnetMode};
pub use tls::{ClientTls, ServerCert, Verification};
