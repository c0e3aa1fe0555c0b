//! Talking to the program behind a port: the library behind `portolan connect`,
//! `portolan listen` and `portolan http`.
//!
//! The protocol logic is sans-IO and tested byte by byte: [`telnet`] (RFC 854 with
//! RFC 1143 negotiation), [`http`] (request, response head, body framing), the
//! [`Script`] of sends and expectations and the [`Display`] (terminal escaping and
//! hex dumps). A thin tokio layer ([`connect()`], [`listen()`], [`tls`], the session,
//! [`http::fetch`]) owns sockets and timers; `udp` runs datagram sessions (`connect -u`, `listen -u`,
//! [`udp()`]). The protocol modules `http`, `telnet` and
//! `tls` are public (their names read best qualified: `tls::connect`); the rest are
//! private and re-exported here. Nothing here prints, reads arguments or exits: output goes
//! to injected writers and outcomes are returned as values ([`SessionEnd`]) or errors
//! ([`TalkError`], with [`TalkError::is_usage`] telling usage errors apart).

#![warn(missing_docs)]

mod connect;
mod display;
mod error;
pub mod http;
mod listen;
mod net;
mod script;
mod session;
pub mod telnet;
pub mod tls;
mod udp;

pub use connect::{connect, ConnectPlan};
pub use display::{parse_hex_dump, Display, HexDump, HexDumpError};
pub use error::{ConnectFailure, TalkError, UsageError};
pub use listen::{listen, Accepting, ListenPlan};
pub use net::{connect as open_tcp, ConnectOptions, SourceBind, Target};
pub use script::{unescape, Expectation, Script};
pub use session::{AfterInput, LineEnding, SessionEnd, SessionIo, SessionOptions, TelnetMode};
pub use tls::{ClientTls, ServerCert, Verification};
pub use udp::{udp, UdpPlan, UdpRole};
