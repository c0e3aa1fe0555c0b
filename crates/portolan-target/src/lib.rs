//! What to scan, and in which order.
//!
//! This crate turns what a user typed into things the engine can walk:
//!
//! - port lists (`22,80,8000-8100`, `-`, top-N from our own ranking), checked once
//!   into a sorted, de-duplicated [`PortList`];
//! - target specifications (addresses, CIDR blocks, nmap-style octet ranges, host
//!   names), resolved by a [`TargetSetBuilder`] into the [`HostBlock`]s of a
//!   [`TargetSet`], with exclusions, the size guard ([`LARGE_HOSTS`]) and the
//!   [`Scope`] check, all applied before any packet;
//! - the scan order: [`ScanOrder`], a keyed permutation of every (host, port) pair,
//!   computed from an index, so memory stays constant however large the range;
//! - [`file`](mod@file): list files read within size and line caps, and [`file::quote`], the
//!   one way a message quotes user input (cut short when long);
//! - explicit endpoints (`HOST:PORT`, `[v6]:PORT`, `HOST:PORT/udp`, and the lines
//!   of masscan's and nmap's lists): [`EndpointSpec`], kept by the [`TargetSet`]
//!   beside its hosts and walked in the same keyed order;
//! - [`services`]: our own port names and ranking.
//! - `--shard I/N`: [`Shard`], the [`SpecHash`] that names a pair space and the seed
//!   derived from it ([`derived_seed`]).
//!
//! Nothing here does network I/O except name resolution, which goes through the
//! [`Resolver`] trait so tests can supply their own answers.
//!
//! The modules are private; this root is the crate's surface. `file` and `services`
//! stay modules of their own because their names read best qualified
//! (`file::quote`, `services::name(22)`).

#![warn(missing_docs)]

mod endpoint;
pub mod file;
mod order;
mod ports;
pub mod services;
mod shard;
mod spec;

pub use endpoint::{line_endpoints, EndpointError, EndpointSpec};
pub use order::{
    group_size, HostKey, Permutation, ScanOrder, GROUP_PAIRS, MAX_GROUP_HOSTS, MIN_GROUP_HOSTS,
};
/// An endpoint is part of the result model; re-exported so the scan order's items
/// need no second import.
pub use portolan_model::{Endpoint, Protocol};
pub use ports::{Port, PortList, PortSpecError};
pub use shard::{derived_seed, Shard, ShardError, SpecHash};
pub use spec::{
    words, HostBlock, Resolver, Scope, SpecError, SystemResolver, TargetSet, TargetSetBuilder,
    TargetSpec, LARGE_HOSTS,
};
