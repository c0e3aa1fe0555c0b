//! `portolan connect`, `listen` and `http`: the arguments (syntax only, clap) and the
//! step that turns them into the talk library's plans, runs them on a small tokio
//! runtime and maps the outcome to the exit code (3 when an `--expect` failed).

use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use portolan_talk::http::client::{BodyShown, HttpIo};
use portolan_talk::http::request::{check_method, parse_header_arg};
use portolan_talk::http::{HttpOptions, HttpUrl, HttpVersion, Redirects};
use portolan_talk::listen::{Accepting, ListenPlan};
use portolan_talk::tls::ServerCert;
use portolan_talk::{
    AfterInput, ClientTls, ConnectOptions, ConnectPlan, Display, Expectation, LineEnding, Script,
    SessionEnd, SessionIo, SessionOptions, SourceBind, TalkError, Target, TelnetMode, Verification,
};

use crate::exit::{usage, Outcome};

/// The longest time any SECS option accepts: one day. Longer ones are typos, and an
/// unbounded one would overflow the clock.
const MAX_SECS: f64 = 86_400.0;

fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=MAX_SECS).contains(&secs) {
        return Err(format!(
            "{text:?} is not a number of seconds from 0 to {MAX_SECS}"
        ));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is not a number of seconds from 0 to {MAX_SECS}"))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{text:?} is not a port from 1 to 65535")),
    }
}

/// The session options shared by `connect` and `listen`.
#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "clap flags; turned into enums in `session_options`"
)]
pub struct SessionArgs {
    /// Send each typed newline as CRLF (HTTP, SMTP and most text protocols want it).
    #[arg(short = 'C', long)]
    pub crlf: bool,
    /// Keep the sending side open when the input ends (no half-close).
    #[arg(long = "no-shutdown")]
    pub no_shutdown: bool,
    /// After the input ends, wait at most SECS for the peer to close.
    #[arg(short = 'q', long = "quit-after", value_name = "SECS", value_parser = parse_secs)]
    pub quit_after: Option<Duration>,
    /// Give up when nothing is sent or received for SECS (exit 1).
    #[arg(short = 'i', long = "idle-timeout", value_name = "SECS", value_parser = parse_secs)]
    pub idle_timeout: Option<Duration>,
    /// Speak Telnet: answer option negotiation, hide IAC sequences, escape 0xff.
    #[arg(long)]
    pub telnet: bool,
    /// Send STRING right after connecting (escapes: \r \n \t \0 \e \\ \xNN; repeatable).
    /// With --send, stdin is not read.
    #[arg(long, value_name = "STRING")]
    pub send: Vec<String>,
    /// Wait for REGEX in what the peer sends (repeatable, matched in order; ^ and $
    /// match at line boundaries). Exit 0 when all match, 3 when one does not.
    #[arg(long, value_name = "REGEX")]
    pub expect: Vec<String>,
    /// How long to wait for each --expect.
    #[arg(long = "expect-timeout", value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub expect_timeout: Duration,
    /// Show a hex dump of both directions (> sent, < received) instead of the data.
    #[arg(short = 'x', long)]
    pub hex: bool,
    /// Write the peer's bytes to a terminal unchanged (escape sequences are obeyed).
    #[arg(long)]
    pub raw: bool,
}

/// `portolan connect`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  portolan connect 198.18.0.1 25\n  portolan connect 198.18.0.1 6379 --send 'PING\\r\\n' --expect '^\\+PONG'\n  portolan connect --telnet 198.18.0.1 23\n  portolan connect --tls --insecure 198.18.0.1 443 -C"
)]
pub struct ConnectArgs {
    /// Host name, IPv4 or IPv6 address.
    pub host: String,
    /// TCP port.
    #[arg(value_parser = parse_port)]
    pub port: u16,
    /// Bind this source address before connecting.
    #[arg(short = 's', long = "source", value_name = "ADDR")]
    pub source: Option<IpAddr>,
    /// Bind this source port before connecting.
    #[arg(short = 'P', long = "source-port", value_name = "PORT", value_parser = parse_port)]
    pub source_port: Option<u16>,
    /// Connect timeout.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub wait: Duration,
    /// Use TLS; the certificate is verified against the system roots.
    #[arg(long)]
    pub tls: bool,
    /// TLS: the server name to send and verify (default: HOST).
    #[arg(long, value_name = "NAME", requires = "tls")]
    pub sni: Option<String>,
    /// TLS: offer this ALPN protocol (repeatable, e.g. http/1.1).
    #[arg(long, value_name = "PROTO", requires = "tls")]
    pub alpn: Vec<String>,
    /// TLS: accept any certificate (it is still described on stderr).
    #[arg(long, requires = "tls")]
    pub insecure: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// `portolan listen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  portolan listen 8000\n  portolan listen -k 8000 --bind 0.0.0.0\n  portolan listen --tls 8443"
)]
pub struct ListenArgs {
    /// TCP port (0: any free port; the chosen one is printed on stderr).
    pub port: u16,
    /// Listen on ADDR instead of 127.0.0.1 (e.g. 0.0.0.0 or ::).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<IpAddr>,
    /// Keep accepting connections, one after another.
    #[arg(short = 'k', long = "keep-open")]
    pub keep_open: bool,
    /// Use TLS, with a generated self-signed certificate unless --cert/--key are given.
    #[arg(long)]
    pub tls: bool,
    /// TLS: certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// TLS: private key (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "cert"])]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub session: SessionArgs,
}

/// `portolan http`.
#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "clap flags; turned into enums in `run_http`"
)]
#[command(
    after_help = "Examples:\n  portolan http http://198.18.0.1/\n  portolan http --follow http://198.18.0.1/\n  portolan http --insecure https://198.18.0.1/ --head"
)]
pub struct HttpArgs {
    /// `http://HOST[:PORT]/PATH` or `https://...`
    pub url: String,
    /// The request method.
    #[arg(
        short = 'X',
        long = "request",
        value_name = "METHOD",
        default_value = "GET"
    )]
    pub method: String,
    /// Add a header (repeatable): -H 'Accept: text/html'.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Show the response head only.
    #[arg(long)]
    pub head: bool,
    /// Follow redirects (at most 10, no loops).
    #[arg(short = 'L', long)]
    pub follow: bool,
    /// Send HTTP/1.0 instead of HTTP/1.1.
    #[arg(long = "http1.0")]
    pub http10: bool,
    /// Stop the whole exchange after SECS.
    #[arg(long = "max-time", value_name = "SECS", default_value = "30", value_parser = parse_secs)]
    pub max_time: Duration,
    /// Connect timeout.
    #[arg(short = 'w', long = "wait", value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub wait: Duration,
    /// https: accept any certificate (it is still described on stderr).
    #[arg(long)]
    pub insecure: bool,
    /// Write the response to a terminal unchanged (escape sequences are obeyed).
    #[arg(long)]
    pub raw: bool,
}

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
        .map_err(|e| usage(e.to_string()))?;
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

/// `portolan connect`.
pub fn run_connect(args: &ConnectArgs) -> anyhow::Result<Outcome> {
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
        target: Target::new(&args.host, args.port),
        options: ConnectOptions {
            source: SourceBind {
                ip: args.source,
                port: args.source_port,
            },
            timeout: Some(args.wait),
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
