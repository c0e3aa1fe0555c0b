//! portolan's result model: the plain types every other crate speaks.
//!
//! A scan produces one [`PortResult`] per [`Endpoint`] (address, port, [`Protocol`]);
//! its [`PortState`] is never chosen, it follows from the [`Reason`] and the protocol
//! ([`Reason::state`]), so a result cannot say "open" with a reason that means closed.
//! The service-probe stage adds a [`Service`] (with [`TlsInfo`] and [`HttpInfo`]) to
//! open ports; the engine never sets one. Host discovery yields one [`HostResult`]
//! per host, its [`HostState`] derived from its reason in the same way
//! ([`Reason::host_state`]).
//!
//! Why a crate of its own: the engine yields these types, the printers write them,
//! the history stores and reads them back, and the probe stage fills them in. Keeping
//! them here, with their one serde form, means a new field or variant is added in one
//! place and reaches every JSON format and the history database (see CONTRIBUTING.md,
//! "How to add a result field").
//!
//! # Names
//! Every enum has one name per variant (`syn-ack`, `open|filtered`, `tcp`), used by
//! `as_str`, `Display`, `FromStr` and serde alike. They come from one table per enum,
//! whose `as_str` is an exhaustive `match`: a variant added to an enum does not compile
//! until it has a name, and then it parses and serialises too.
//!
//! # The serde form
//! A [`PortResult`] serialises to the flat object of the NDJSON lines and the JSON
//! document (`docs/formats.md`, `docs/schema/scan-v1.json`):
//! `{"addr":"198.18.0.1","port":22,"proto":"tcp","state":"open","reason":"syn-ack","rtt_ms":0.41,"tries":1}`,
//! with `hostname` when the target was a name and `service` when one was identified.
//! A banner is bytes in memory and terminal-safe text on the wire (see
//! [`Service::banner`]). Reading a result back checks that its state follows from its
//! reason. Escaping C1 and bidi characters in JSON strings is the JSON writer's job
//! (`portolan_output::wire`), not the model's.
//!
//! ```
//! use portolan_model::{Endpoint, PortResult, PortState, Protocol, Reason};
//!
//! let endpoint = Endpoint {
//!     addr: "198.18.0.1".parse().unwrap(),
//!     name: None,
//!     port: 161,
//!     proto: Protocol::Udp,
//! };
//! let r = PortResult::new(endpoint, Reason::NoResponse, None, 2);
//! assert_eq!(r.state, PortState::OpenFiltered);
//! assert_eq!(
//!     serde_json::to_string(&r).unwrap(),
//!     r#"{"addr":"198.18.0.1","port":161,"proto":"udp","state":"open|filtered","reason":"no-response","tries":2}"#
//! );
//! assert_eq!("port-unreach".parse::<Reason>(), Ok(Reason::PortUnreach));
//! ```

#![warn(missing_docs)]

mod host;
mod names;
mod port;
mod service;

pub use host::{HostResult, HostState};
pub use names::ParseError;
pub use port::{Endpoint, PortResult, PortState, Protocol, Reason};
pub use service::{HttpInfo, Method, Service, TlsInfo};
