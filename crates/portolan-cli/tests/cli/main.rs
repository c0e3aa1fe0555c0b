//! The integration tests of the `portolan` binary, as one test binary with a module
//! per command (ripgrep's layout): one build, one set of helpers in [`util`].
//!
//! Every test runs the real binary against listeners it starts on 127.0.0.1, or in
//! a network namespace it makes (`lab`). A test that cannot run here calls
//! [`util::skip_or_fail`]: skipped with a printed reason on a developer's machine, a
//! failure when `CI` is set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod discover;
mod faults;
mod fingerprint;
mod formats;
mod history;
mod lab;
mod pipes;
mod probe;
mod props;
mod proxy;
mod regressions;
mod scan;
mod shard;
mod slurm;
mod syn;
mod talk;
mod talk_udp;
mod udp;
mod util;
