//! HTTP/1.x for `portolan http`: URLs, the request, the response head, body framing
//! and the client that shows the raw exchange.
//!
//! Everything except the client ([`fetch`]) is sans-IO: the parsers are fed bytes and never touch
//! a socket, so they are tested byte by byte and with generated input. Parsing is done
//! here rather than by an HTTP client crate because showing exactly what went over the
//! wire is the point of the command.

mod body;
mod client;
mod head;
mod request;
mod url;

pub use body::{BodyDecoder, BodyError, Framing};
pub use client::{fetch, BodyShown, HttpIo, HttpOptions, HttpOutcome, Redirects, MAX_REDIRECTS};
pub use head::{HeadError, HeadParser, ResponseHead, MAX_HEADERS, MAX_HEAD_BYTES, QUOTED_CHARS};
pub use request::{check_method, parse_header_arg, HttpVersion, Request};
pub use url::{HttpUrl, LocationError, Scheme};

/// What a status code means, in a few words, for the line printed after a 3xx head.
pub fn redirect_meaning(status: u16) -> &'static str {
    match status {
        301 => "moved permanently; use the new address from now on",
        302 | 307 => "moved temporarily; ask the new address this time",
        303 => "see other; fetch the new address with GET",
        308 => "moved permanently; repeat the same request there",
        300 => "multiple choices",
        304 => "not modified; your cached copy is current",
        _ => "redirection",
    }
}
