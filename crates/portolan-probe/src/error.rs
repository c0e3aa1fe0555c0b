//! Errors of the probe library: only set-up can fail (a fingerprint file that does not
//! parse, a pattern that does not compile, a runtime that cannot start). What a server
//! does is never an error; it is part of the [`Service`](portolan_engine::Service).

use std::path::PathBuf;

use thiserror::Error;

/// Why the fingerprint database or the probe runner could not be set up.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// A fingerprint directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A fingerprint file is not valid TOML of the expected shape.
    #[error("{file}: {message}")]
    Toml { file: String, message: String },
    /// A fingerprint's pattern is not a valid regular expression.
    #[error("{file}: fingerprint {service}/{product}: {source}")]
    Pattern {
        file: String,
        service: String,
        product: String,
        source: Box<regex::Error>,
    },
    /// A probe's payload has a bad backslash escape.
    #[error("{file}: probe {probe}: {message}")]
    Payload {
        file: String,
        probe: String,
        message: String,
    },
    /// A UDP payload in `payloads/udp.toml` (or a user file) is not usable.
    #[error("{file}: UDP payload {payload}: {message}")]
    UdpPayload {
        file: String,
        payload: String,
        message: String,
    },
    /// The thread or runtime that runs probes could not be started.
    #[error("cannot start the probe runtime: {0}")]
    Runtime(std::io::Error),
}
