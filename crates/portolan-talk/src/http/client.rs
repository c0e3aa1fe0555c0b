//! The `portolan http` client: send the minimal request, show it (`> `), show the raw
//! response head (`< `), say what a redirect means, then show the body, framed by
//! `Content-Length`, chunked encoding or the end of the connection.
//!
//! The whole exchange, redirects included, is cut at `max_time`; what arrived before
//! is already written.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::Duration;

use portolan_text::{escape_line, escape_terminal};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::body::{BodyDecoder, Framing};
use super::head::{HeadParser, ResponseHead};
use super::request::{HttpVersion, Request};
use super::url::{HttpUrl, Scheme};
use crate::display::{Display, Printer};
use crate::error::TalkError;
use crate::net::{self, ConnectOptions, Target};
use crate::tls::{self, ClientTls};

/// The most redirects followed.
pub const MAX_REDIRECTS: usize = 10;

/// Whether redirects are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Redirects {
    /// Show the redirect and stop.
    #[default]
    Show,
    /// Follow up to [`MAX_REDIRECTS`], refusing loops (`--follow`).
    Follow,
}

/// Whether the body is read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyShown {
    /// Show the body.
    #[default]
    Body,
    /// Stop after the head (`--head`).
    HeadOnly,
}

/// Everything `http` needs, validated.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// The method (`-X`), `GET` by default.
    pub method: String,
    /// Extra headers (`-H`).
    pub headers: Vec<(String, String)>,
    /// The request version.
    pub version: HttpVersion,
    /// Redirect handling.
    pub redirects: Redirects,
    /// Body handling.
    pub body: BodyShown,
    /// Cut the whole exchange after this long.
    pub max_time: Option<Duration>,
    /// Connect timeout and source.
    pub connect: ConnectOptions,
    /// TLS settings for `https://`.
    pub tls: ClientTls,
    /// [`Display::Escaped`] for a terminal, [`Display::Raw`] otherwise.
    pub display: Display,
}

/// The injected output streams of an exchange.
pub struct HttpIo<'a> {
    /// The transcript and the body (stdout).
    pub output: &'a mut (dyn AsyncWrite + Unpin + Send),
    /// TLS notes (stderr).
    pub diag: &'a mut (dyn AsyncWrite + Unpin + Send),
}

/// The final response of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOutcome {
    /// The URL that gave the final response.
    pub url: HttpUrl,
    /// Its status code.
    pub status: u16,
}

/// Fetches `url` as configured; see the module documentation.
pub async fn fetch(
    url: HttpUrl,
    options: &HttpOptions,
    mut io: HttpIo<'_>,
) -> Result<HttpOutcome, TalkError> {
    let chain = follow(url, options, &mut io);
    match options.max_time {
        Some(limit) => tokio::time::timeout(limit, chain)
            .await
            .map_err(|_| TalkError::MaxTime(limit))?,
        None => chain.await,
    }
}

async fn follow(
    mut url: HttpUrl,
    options: &HttpOptions,
    io: &mut HttpIo<'_>,
) -> Result<HttpOutcome, TalkError> {
    let mut visited = HashSet::new();
    let mut method = if options.method.is_empty() {
        "GET".to_string()
    } else {
        options.method.clone()
    };
    for hop in 0..=MAX_REDIRECTS {
        visited.insert(url.to_string());
        let head = exchange(&url, &method, options, io).await?;
        let location = head
            .header("location")
            .filter(|_| (300..400).contains(&head.status));
        let next = match (options.redirects, location) {
            (Redirects::Follow, Some(location)) => {
                url.join(location).map_err(|cause| TalkError::Location {
                    from: url_text(&url),
                    location: escape_line(location),
                    cause,
                })?
            }
            _ => {
                return Ok(HttpOutcome {
                    url,
                    status: head.status,
                })
            }
        };
        let refuse = |reason| TalkError::Redirect {
            from: url_text(&url),
            to: url_text(&next),
            reason,
        };
        if visited.contains(&next.to_string()) {
            return Err(refuse("a redirect loop"));
        }
        if hop == MAX_REDIRECTS {
            return Err(refuse("more than 10 redirects"));
        }
        if head.status == 303 {
            method = "GET".to_string();
        }
        write(io.output, b"\n").await?;
        url = next;
    }
    Err(TalkError::Redirect {
        from: url.to_string(),
        to: String::new(),
        reason: "more than 10 redirects",
    })
}

/// A URL for a message: it may come from a server's `Location`, so it is escaped.
fn url_text(url: &HttpUrl) -> String {
    escape_line(url.to_string().as_bytes())
}

async fn write(out: &mut (dyn AsyncWrite + Unpin + Send), bytes: &[u8]) -> Result<(), TalkError> {
    out.write_all(bytes)
        .await
        .map_err(TalkError::io("write output"))?;
    out.flush().await.map_err(TalkError::io("write output"))
}

async fn exchange(
    url: &HttpUrl,
    method: &str,
    options: &HttpOptions,
    io: &mut HttpIo<'_>,
) -> Result<ResponseHead, TalkError> {
    let tcp = net::connect(&Target::new(&url.host, url.port), &options.connect).await?;
    match url.scheme {
        Scheme::Http => talk(tcp, url, method, options, io).await,
        Scheme::Https => {
            let mut notes = String::new();
            let stream = tls::connect(tcp, &url.host, &options.tls, &mut notes).await;
            write(io.diag, notes.as_bytes()).await?;
            talk(stream?, url, method, options, io).await
        }
    }
}

/// Reads into `buf`, treating a TLS peer that closes without `close_notify` as a close.
async fn read_some<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
) -> Result<usize, TalkError> {
    match stream.read(buf).await {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        other => other.map_err(TalkError::io("read from server")),
    }
}

async fn talk<S>(
    mut stream: S,
    url: &HttpUrl,
    method: &str,
    options: &HttpOptions,
    io: &mut HttpIo<'_>,
) -> Result<ResponseHead, TalkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = Request::new(method, url, &options.headers, options.version);
    stream
        .write_all(&request.to_bytes())
        .await
        .map_err(TalkError::io("send request"))?;
    stream
        .flush()
        .await
        .map_err(TalkError::io("send request"))?;
    let mut shown = String::new();
    for line in request.lines() {
        let _ = writeln!(shown, "> {line}");
    }
    shown.push_str(">\n");
    write(io.output, shown.as_bytes()).await?;
    let mut buf = vec![0u8; 16 * 1024];
    let (head, rest) = read_head(&mut stream, &mut buf, url, options.display, io).await?;
    if options.body == BodyShown::Body {
        let framing = Framing::of(method, &head).map_err(|cause| TalkError::Body {
            url: url.to_string(),
            cause,
        })?;
        read_body(
            &mut stream,
            &mut buf,
            framing,
            &rest,
            url,
            options.display,
            io,
        )
        .await?;
    }
    Ok(head)
}

/// Reads response heads until a final (non-1xx, or 101) one; shows each.
async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    url: &HttpUrl,
    display: Display,
    io: &mut HttpIo<'_>,
) -> Result<(ResponseHead, Vec<u8>), TalkError> {
    let mut parser = HeadParser::new();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let input = if pending.is_empty() {
            let n = read_some(stream, buf).await?;
            if n == 0 {
                return Err(TalkError::Truncated(url.to_string()));
            }
            buf[..n].to_vec()
        } else {
            std::mem::take(&mut pending)
        };
        let parsed = parser.push(&input).map_err(|cause| TalkError::Head {
            url: url.to_string(),
            cause,
        })?;
        let Some((head, rest)) = parsed else { continue };
        write(io.output, show_head(&head, url, display).as_bytes()).await?;
        if (100..200).contains(&head.status) && head.status != 101 {
            parser = HeadParser::new();
            pending = rest;
            continue;
        }
        return Ok((head, rest));
    }
}

/// The `< ` lines of a head, escaped for a terminal if asked, and the redirect note.
fn show_head(head: &ResponseHead, url: &HttpUrl, display: Display) -> String {
    let mut shown = String::new();
    let body = head.raw.strip_suffix(b"\n").unwrap_or(&head.raw);
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = match display {
            Display::Raw => String::from_utf8_lossy(line).into_owned(),
            Display::Escaped | Display::Hex => escape_terminal(line),
        };
        shown.push_str(if text.is_empty() { "<\n" } else { "< " });
        if !text.is_empty() {
            shown.push_str(&text);
            shown.push('\n');
        }
    }
    if (300..400).contains(&head.status) {
        let reason = escape_line(head.reason.as_bytes());
        let meaning = super::redirect_meaning(head.status);
        let status = head.status;
        let _ = match head.header("location").map(|l| (l, url.join(l))) {
            Some((_, Ok(to))) => writeln!(
                shown,
                "* {status} {reason} -> {} ({meaning})",
                url_text(&to)
            ),
            Some((raw, Err(why))) => writeln!(
                shown,
                "* {status} {reason} -> {} ({meaning}; not followed: {why})",
                escape_line(raw)
            ),
            None => writeln!(shown, "* {status} {reason} without a Location ({meaning})"),
        };
    }
    shown
}

async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut [u8],
    framing: Framing,
    rest: &[u8],
    url: &HttpUrl,
    display: Display,
    io: &mut HttpIo<'_>,
) -> Result<(), TalkError> {
    let mut decoder = BodyDecoder::new(framing);
    let mut printer = Printer::new(if display == Display::Raw {
        Display::Raw
    } else {
        Display::Escaped
    });
    let mut input = rest.to_vec();
    loop {
        let mut body = Vec::new();
        decoder
            .push(&input, &mut body)
            .map_err(|cause| TalkError::Body {
                url: url.to_string(),
                cause,
            })?;
        write(io.output, &printer.received(&body)).await?;
        if decoder.is_done() {
            break;
        }
        let n = read_some(stream, buf).await?;
        if n == 0 {
            write(io.output, &printer.finish()).await?;
            if framing != Framing::UntilClose {
                return Err(TalkError::BodyCut(url.to_string()));
            }
            return Ok(());
        }
        input = buf[..n].to_vec();
    }
    write(io.output, &printer.finish()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_head_and_redirect_meaning() {
        let raw =
            b"HTTP/1.1 302 Moved Temporarily\r\nLocation: http://lab.portolan.test/fi_FI/\r\n\r\n";
        let (head, _) = HeadParser::new().push(raw).unwrap().unwrap();
        let url = HttpUrl::parse("http://198.18.0.1/").unwrap();
        let shown = show_head(&head, &url, Display::Escaped);
        assert_eq!(
            shown,
            "< HTTP/1.1 302 Moved Temporarily\n< Location: http://lab.portolan.test/fi_FI/\n<\n\
             * 302 Moved Temporarily -> http://lab.portolan.test/fi_FI/ (moved temporarily; ask the new address this time)\n"
        );
    }

    #[test]
    fn escapes_hostile_head_for_terminal() {
        let raw = b"HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\r\n\r\n";
        let (head, _) = HeadParser::new().push(raw).unwrap().unwrap();
        let url = HttpUrl::parse("http://h/").unwrap();
        assert!(show_head(&head, &url, Display::Escaped).contains("X-Evil: \\x1b[2J"));
        assert!(show_head(&head, &url, Display::Raw).contains("X-Evil: \x1b[2J"));
    }

    /// Regression (issue 9, item 16): another scheme was joined as a relative path,
    /// and a Location that is not UTF-8 was reported as missing.
    #[test]
    fn unfollowable_locations_are_shown_escaped_with_the_reason() {
        let url = HttpUrl::parse("http://h/").unwrap();
        let raw = b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n\r\n";
        let (head, _) = HeadParser::new().push(raw).unwrap().unwrap();
        let shown = show_head(&head, &url, Display::Raw);
        assert!(
            shown.contains("* 302 Found -> file:///etc/passwd (moved temporarily; ask the new address this time; not followed: the scheme \"file\" is not followed"),
            "{shown}"
        );
        let raw = b"HTTP/1.1 301 Moved\r\nLocation: /a\xff\x1b[2J\r\n\r\n";
        let (head, _) = HeadParser::new().push(raw).unwrap().unwrap();
        let shown = show_head(&head, &url, Display::Raw);
        assert!(
            shown.contains("* 301 Moved -> /a\\xff\\x1b[2J (moved permanently; use the new address from now on; not followed: the Location is not valid UTF-8)"),
            "{shown}"
        );
    }
}
