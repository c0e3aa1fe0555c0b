//! What to scan, and in which order.
//!
//! This crate turns what a user typed into things the engine can walk:
//!
//! - [`ports`]: port lists (`22,80,8000-8100`, `-`, top-N from our own ranking),
//!   checked once into a sorted, de-duplicated [`PortList`].
//! - [`spec`]: target specifications (addresses, CIDR blocks, nmap-style octet
//!   ranges, host names) and their resolution into [`HostBlock`]s, with exclusions,
//!   the `--large` guard and the `--scope` check, all applied before any packet.
//! - [`file`]: list files read within size and line caps, and [`file::quote`], the
//!   one way a message quotes user input (cut short when long).
//! - [`order`]: the scan order: a keyed permutation of every (host, port) pair,
//!   computed from an index, so memory stays constant however large the range.
//!
//! Nothing here does network I/O except name resolution, which goes through the
//! [`spec::Resolver`] trait so tests can supply their own answers.

#![warn(missing_docs)]

pub mod file;
pub mod order;
pub mod ports;
pub mod services;
pub mod spec;

pub use order::ScanOrder;
/// An endpoint is part of the result model; re-exported so the scan order's items
/// need no second import.
pub use portolan_model::{Endpoint, Protocol};
pub use ports::{PortList, PortSpecError};
pub use spec::{HostBlock, Scope, SpecError, TargetSet};
