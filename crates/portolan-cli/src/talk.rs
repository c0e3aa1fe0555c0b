//! `portolan connect`, `listen` and `http`: the arguments (syntax only, clap) and the
//! step that turns them into the talk library's plans, runs them on a small tokio
//! runtime and maps the outcome to the exit code (3 when an `--expect` failed).

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::Context;
use portolan_talk::http::{check_method, parse_header_arg};
use portolan_talk::http::{BodyShown, HttpIo};
use portolan_talk::http::{HttpOptions, HttpUrl, HttpVersion, Redirects};
use portolan_talk::ServerCert;
use portolan_talk::{Accepting, ListenPlan};
use portolan_talk::{
    AfterInput, ClientTls, ConnectOptions, ConnectPlan, Display, Expectation, LineEnding, Script,
    SessionEnd, SessionIo, SessionOptions, SourceBind, TalkError, Target, TelnetMode, UdpPlan,
    UdpRole, Verification,
};

use crate::args::{ConnectArgs, HttpArgs, ListenArgs, SessionArgs};
use crate::exit::{usage, Outcome};

fn display(hex: bool, raw: bool) -> Display {
    if hex {
        Display::Hex
    } else if raw || !std::io::stdout().is_terminal() {
        Display::Raw
    } else {
        Display::Escaped
    }
}

fn session_options(args: &SessionArgs) -> anyhow::Result<SessionOptions> {
    let sends = args
        .send
        .iter()
        .map(|s| portolan_talk::unescape(s))
        .collect::<Result<_, _>>()
        .map_err(|e| usage(e.to_string()))?;
    let expects = args
        .expect
        .iter()
        .map(|p| Expectation::new(p))
        .collect::<Result<_, _>>()
        .map_err(|e| usage(format!("--expect: {e}")))?;
    Ok(SessionOptions {
        line_ending: if args.crlf {
            LineEnding::Crlf
        } else {
            LineEnding::AsTyped
        },
        telnet: if args.telnet {
            TelnetMode::On
        } else {
            TelnetMode::Off
        },
        after_input: if args.no_shutdown {
            AfterInput::KeepOpen
        } else {
            AfterInput::HalfClose
        },
        quit_after_input: args.quit_after,
        idle_timeout: args.idle_timeout,
        display: display(args.hex, args.raw),
        script: Script {
            sends,
            expects,
            timeout: args.expect_timeout,
        },
    })
}

/// Runs `future` on a fresh runtime. The runtime is shut down without waiting for
/// the blocking stdin reader, which may be stuck in a read that will never return.
fn block_on<F: std::future::Future>(future: F) -> anyhow::Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let output = runtime.block_on(future);
    runtime.shutdown_background();
    Ok(output)
}

/// Maps a talk error into the CLI's error kinds: usage errors exit 2, the rest 1.
fn talk_error(error: TalkError) -> anyhow::Error {
    if error.is_usage() {
        usage(error.to_string())
    } else {
        anyhow::Error::new(error)
    }
}

fn session_outcome(end: Result<SessionEnd, TalkError>) -> anyhow::Result<Outcome> {
    match end.map_err(talk_error)? {
        SessionEnd::ExpectationFailed { pattern, reason } => {
            eprintln!("portolan: expectation not met: /{pattern}/: {reason}");
            Ok(Outcome::ExpectationFailed)
        }
        SessionEnd::PeerClosed | SessionEnd::QuitAfterInput | SessionEnd::ExpectationsMet => {
            Ok(Outcome::Done)
        }
    }
}

/// The host and port of `connect`: `HOST PORT`, `HOST:PORT` or `[IPV6]:PORT` (as
/// netcat and ssh users type them); brackets are dropped from `[IPV6]`.
fn host_port(host: &str, port: Option<u16>) -> anyhow::Result<(String, u16)> {
    let unbracket = |h: &str| {
        h.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(h)
            .to_owned()
    };
    if let Some(port) = port {
        return Ok((unbracket(host), port));
    }
    let split = if host.starts_with('[') {
        host.rsplit_once("]:").map(|(h, p)| (&h[1..], p))
    } else if host.matches(':').count() == 1 {
        host.split_once(':')
    } else {
        None
    };
    let Some((h, p)) = split.filter(|(h, _)| !h.is_empty()) else {
        return Err(usage(format!(
            "connect {host}: give the port, as `portolan connect {host} PORT` or HOST:PORT ([IPV6]:PORT for IPv6)"
        )));
    };
    let port = crate::args::parse_port(p).map_err(|e| usage(format!("connect {host}: {e}")))?;
    Ok((h.to_owned(), port))
}

/// Runs a UDP session (`connect -u`, `listen -u`) on stdin and stdout.
fn run_udp(plan: &UdpPlan) -> anyhow::Result<Outcome> {
    let end = block_on(async {
        let (mut input, mut output, mut diag) =
            (tokio::io::stdin(), tokio::io::stdout(), tokio::io::stderr());
        let io = SessionIo {
            input: &mut input,
            output: &mut output,
            diag: &mut diag,
        };
        portolan_talk::udp(plan, io).await
    })?;
    session_outcome(end)
}

/// `--proxy`, checked.
fn proxy(text: Option<&str>) -> anyhow::Result<Option<portolan_proxy::ProxyUrl>> {
    text.map(|t| t.parse().map_err(|e| usage(format!("--proxy {e}"))))
        .transpose()
}

/// `portolan connect`.
pub fn run_connect(args: &ConnectArgs) -> anyhow::Result<Outcome> {
    let (host, port) = host_port(&args.host, args.port)?;
    if args.udp && args.proxy.is_some() {
        return Err(usage(
            "--proxy carries TCP only (SOCKS5 CONNECT, HTTP CONNECT); it cannot go with -u",
        ));
    }
    if args.udp {
        return run_udp(&UdpPlan {
            role: UdpRole::Connect {
                target: Target::new(&host, port),
                source: SourceBind {
                    ip: args.source,
                    port: args.source_port,
                },
            },
            wait: args.wait,
            session: session_options(&args.session)?,
        });
    }
    let tls = args.tls.then(|| ClientTls {
        verification: if args.insecure {
            Verification::Insecure
        } else {
            Verification::SystemRoots
        },
        sni: args.sni.clone(),
        alpn: args.alpn.clone(),
    });
    let plan = ConnectPlan {
        target: Target::new(&host, port),
        options: ConnectOptions {
            source: SourceBind {
                ip: args.source,
                port: args.source_port,
            },
            timeout: Some(args.wait),
            proxy: proxy(args.proxy.as_deref())?,
        },
        tls,
        session: session_options(&args.session)?,
    };
    let end = block_on(async {
        let (mut input, mut output, mut diag) =
            (tokio::io::stdin(), tokio::io::stdout(), tokio::io::stderr());
        let io = SessionIo {
            input: &mut input,
            output: &mut output,
            diag: &mut diag,
        };
        portolan_talk::connect(&plan, io).await
    })?;
    session_outcome(end)
}

/// `portolan listen`.
pub fn run_listen(args: &ListenArgs) -> anyhow::Result<Outcome> {
    if args.udp {
        return run_udp(&UdpPlan {
            role: UdpRole::Listen {
                bind: SocketAddr::new(
                    args.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                    args.port,
                ),
            },
            wait: std::time::Duration::ZERO,
            session: session_options(&args.session)?,
        });
    }
    let tls = args.tls.then(|| match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => ServerCert::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => ServerCert::SelfSigned,
    });
    let plan = ListenPlan {
        bind: SocketAddr::new(
            args.bind.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            args.port,
        ),
        accepting: if args.keep_open {
            Accepting::KeepAccepting
        } else {
            Accepting::Once
        },
        tls,
        session: session_options(&args.session)?,
    };
    let end = block_on(async {
        let (mut input, mut output, mut diag) =
            (tokio::io::stdin(), tokio::io::stdout(), tokio::io::stderr());
        let io = SessionIo {
            input: &mut input,
            output: &mut output,
            diag: &mut diag,
        };
        portolan_talk::listen(&plan, io).await
    })?;
    session_outcome(end)
}

/// `portolan http`.
pub fn run_http(args: &HttpArgs) -> anyhow::Result<Outcome> {
    let url = HttpUrl::parse(&args.url).map_err(|e| usage(e.to_string()))?;
    check_method(&args.method).map_err(|e| usage(e.to_string()))?;
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header_arg(h))
        .collect::<Result<_, _>>()
        .map_err(|e| usage(e.to_string()))?;
    let options = HttpOptions {
        method: args.method.clone(),
        headers,
        version: if args.http10 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        },
        redirects: if args.follow {
            Redirects::Follow
        } else {
            Redirects::Show
        },
        body: if args.head {
            BodyShown::HeadOnly
        } else {
            BodyShown::Body
        },
        max_time: Some(args.max_time),
        connect: ConnectOptions {
            source: SourceBind::default(),
            timeout: Some(args.wait),
            proxy: proxy(args.proxy.as_deref())?,
        },
        tls: ClientTls {
            verification: if args.insecure {
                Verification::Insecure
            } else {
                Verification::SystemRoots
            },
            ..ClientTls::default()
        },
        display: display(false, args.raw),
    };
    block_on(async {
        let (mut output, mut diag) = (tokio::io::stdout(), tokio::io::stderr());
        let io = HttpIo {
            output: &mut output,
            diag: &mut diag,
        };
        portolan_talk::http::fetch(url, &options, io).await
    })?
    .map_err(talk_error)?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn host_and_port_in_every_spelling() {
        assert_eq!(host_port("h", Some(25)).unwrap(), ("h".into(), 25));
        assert_eq!(host_port("h:25", None).unwrap(), ("h".into(), 25));
        assert_eq!(host_port("[::1]:25", None).unwrap(), ("::1".into(), 25));
        assert_eq!(host_port("[::1]", Some(25)).unwrap(), ("::1".into(), 25));
    }

    #[test]
    fn a_missing_port_says_how_to_give_it() {
        for bad in ["h", "::1", "[::1]", ":25"] {
            let e = host_port(bad, None).unwrap_err().to_string();
            assert!(e.contains("give the port"), "{bad}: {e}");
        }
        let e = host_port("h:0", None).unwrap_err().to_string();
        assert!(e.contains("not a port"), "{e}");
    }
}
