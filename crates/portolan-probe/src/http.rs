//! What an HTTP response says about the server: status, `Server`, `Location` and the
//! page's `<title>`. Sans-IO: bytes in (as much of the response as was read), an
//! [`HttpInfo`] out. The head is parsed by `portolan-talk`'s bounded parser.

use portolan_engine::HttpInfo;
use portolan_talk::http::HeadParser;
use regex::bytes::Regex;
use std::sync::OnceLock;

use crate::matcher::printable;

/// The HTTP facts in `bytes`, when they start with a well-formed response head.
/// A head cut short by `--banner-bytes` still yields the status line.
pub fn http_info(bytes: &[u8]) -> Option<HttpInfo> {
    if !bytes.starts_with(b"HTTP/") {
        return None;
    }
    let mut parser = HeadParser::new();
    match parser.push(bytes) {
        Ok(Some((head, body))) => Some(HttpInfo {
            status: Some(head.status),
            server: head.header("server").and_then(printable),
            location: head.header("location").and_then(printable),
            title: title(&body),
        }),
        _ => status_only(bytes),
    }
}

fn status_only(bytes: &[u8]) -> Option<HttpInfo> {
    let code = bytes.split(|&b| b == b' ').nth(1)?;
    let status = std::str::from_utf8(code).ok()?.trim().parse().ok()?;
    Some(HttpInfo {
        status: Some(status),
        ..HttpInfo::default()
    })
}

fn title(body: &[u8]) -> Option<String> {
    static TITLE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = TITLE
        .get_or_init(|| Regex::new(r"(?is-u)<title[^>]*>(.*?)</title").ok())
        .as_ref()?;
    let text = re.captures(body)?.get(1)?.as_bytes();
    let words: Vec<&[u8]> = text
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
        .collect();
    printable(&words.join(&b' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_and_server() {
        let info = http_info(
            b"HTTP/1.1 302 Moved Temporarily\r\nServer: AkamaiGHost\r\nLocation: http://lab.portolan.test/fi_FI/\r\n\r\n",
        )
        .unwrap();
        assert_eq!(info.status, Some(302));
        assert_eq!(info.server.as_deref(), Some("AkamaiGHost"));
        assert_eq!(
            info.location.as_deref(),
            Some("http://lab.portolan.test/fi_FI/")
        );
        assert_eq!(info.title, None);
    }

    #[test]
    fn title_is_found_and_tidied() {
        let info = http_info(b"HTTP/1.0 200 OK\r\n\r\n<html><HEAD><Title lang=en>\n  Portolan\x1b[2J\r\n lab </title>").unwrap();
        assert_eq!(info.title.as_deref(), Some("Portolan\\x1b[2J lab"));
    }

    /// Regression (issue 9, item 17): `Server`, `Location` and the title dropped ESC,
    /// BEL and bidi controls (`Evil]0;SRVTITLE[31mSrv`) instead of showing them.
    #[test]
    fn hostile_server_location_and_title_are_escaped() {
        let info = http_info(
            b"HTTP/1.1 301 Moved\r\nServer: Evil\x1b]0;SRVTITLE\x07\x1b[31mSrv\r\nLocation: /a\xe2\x80\xaeb\xff\r\n\r\n<title>\\x1b\x1b</title>",
        )
        .unwrap();
        assert_eq!(
            info.server.as_deref(),
            Some("Evil\\x1b]0;SRVTITLE\\x07\\x1b[31mSrv")
        );
        assert_eq!(info.location.as_deref(), Some("/a\\u{202e}b\\xff"));
        assert_eq!(info.title.as_deref(), Some("\\\\x1b\\x1b"));
    }

    #[test]
    fn truncated_head_keeps_the_status() {
        let info = http_info(b"HTTP/1.1 404 Not Found\r\nServer: ngi").unwrap();
        assert_eq!(info.status, Some(404));
        assert_eq!(info.server, None);
        assert_eq!(http_info(b"SSH-2.0-x\r\n"), None);
        assert_eq!(http_info(b"HTTP/1.1 abc"), None);
    }
}
