//! Errors of the probe library: only set-up can fail (a fingerprint file that does not
//! parse, a pattern that does not compile, a runtime that cannot start). What a server
//! does is never an error; it is part of the [`Service`](portolan_engine::Service).

use std::path::PathBuf;

use thiserror::Error;

/// Why the fingerprint database or the identification runner could not be set up.
#[derive(Debug, Error)]
pub enum ProbeError {
    /// A fingerprint directory or file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A fingerprint file is not valid TOML of the expected shape.
    #[error("{file}: {message}")]
    Toml {
        /// The file's name.
        file: String,
        /// The TOML parser's explanation.
        message: String,
    },
    /// A fingerprint file says something wrong at a place: an unknown key, a
    /// pattern that does not compile, a template that refers to a group the pattern
    /// does not have, an unknown probe name...
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file's name.
        file: String,
        /// The line (from 1).
        line: usize,
        /// The column (from 1, in characters).
        column: usize,
        /// What is wrong, in one line.
        message: String,
    },
    /// A UDP payload in `payloads/udp.toml` (or a user file) is not usable.
    #[error("{file}: UDP payload {payload}: {message}")]
    UdpPayload {
        /// The file's name.
        file: String,
        /// The payload's name.
        payload: String,
        /// What is wrong with it.
        message: String,
    },
    /// The thread or runtime that runs identification could not be started.
    #[error("cannot start the identification runtime: {0}")]
    Runtime(std::io::Error),
}
