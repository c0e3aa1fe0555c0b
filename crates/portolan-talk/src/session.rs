//! The interactive session: stdin to the peer and the peer to stdout, both ways at
//! once, with the optional Telnet layer, CRLF line endings, scripted `--send` and
//! `--expect`, half-close at the end of input and the idle and quit timers.
//!
//! The byte transformations live in [`Transcoder`] (sans-IO); [`run`] is the thin
//! tokio layer that owns the stream, the timers and the injected input, output and
//! diagnostic streams. It never prints on its own.

use std::future::pending;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep_until, Instant};

use crate::display::{Display, Printer};
use crate::error::TalkError;
use crate::script::{Expecter, Script};
use crate::telnet::{NegotiationSniffer, TelnetDecoder, TelnetEncoder};

/// How typed newlines are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// As typed (usually LF).
    #[default]
    AsTyped,
    /// Each LF not already preceded by CR becomes CRLF (`--crlf`).
    Crlf,
}

/// Whether the Telnet protocol is spoken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TelnetMode {
    /// Bytes pass untouched; a server that negotiates is reported once.
    #[default]
    Off,
    /// Speak Telnet (`--telnet`): negotiate, hide IAC, escape 0xff, send CRLF.
    On,
}

/// What happens to our sending side when the input ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AfterInput {
    /// Half-close (TCP FIN, or TLS `close_notify`) and keep reading.
    #[default]
    HalfClose,
    /// Keep the sending side open (`--no-shutdown`).
    KeepOpen,
}

/// Everything that shapes a session once the stream is open.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Newline translation for what we send.
    pub line_ending: LineEnding,
    /// The Telnet layer.
    pub telnet: TelnetMode,
    /// What the end of input does.
    pub after_input: AfterInput,
    /// Stop this long after the input ended (`-q`).
    pub quit_after_input: Option<Duration>,
    /// Fail when nothing moves for this long (`-i`).
    pub idle_timeout: Option<Duration>,
    /// How received bytes are shown.
    pub display: Display,
    /// `--send` and `--expect`.
    pub script: Script,
}

/// How a session ended without an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The peer closed the connection.
    PeerClosed,
    /// The `-q` time after the end of input passed.
    QuitAfterInput,
    /// Every `--expect` pattern matched.
    ExpectationsMet,
    /// An `--expect` pattern did not match.
    ExpectationFailed {
        /// The pattern.
        pattern: String,
        /// Why: `timed out after 5s` or `the peer closed`.
        reason: String,
    },
}

/// The sans-IO byte transformations of a session.
#[derive(Debug, Clone)]
pub struct Transcoder {
    line_ending: LineEnding,
    last_sent_cr: bool,
    telnet: Option<(TelnetDecoder, TelnetEncoder)>,
    sniffer: NegotiationSniffer,
    printer: Printer,
}

/// What the transcoder made of received bytes.
#[derive(Debug, Default, Clone)]
pub struct Incoming {
    /// Data for the expecter (Telnet commands removed).
    pub data: Vec<u8>,
    /// Bytes for the output.
    pub output: Vec<u8>,
    /// Bytes to send back (Telnet negotiation replies).
    pub reply: Vec<u8>,
    /// The server opened with Telnet negotiation and Telnet is off.
    pub telnet_detected: bool,
}

impl Transcoder {
    /// A transcoder for these options.
    pub fn new(options: &SessionOptions) -> Self {
        Self {
            line_ending: options.line_ending,
            last_sent_cr: false,
            telnet: (options.telnet == TelnetMode::On)
                .then(|| (TelnetDecoder::new(), TelnetEncoder::new())),
            sniffer: NegotiationSniffer::new(),
            printer: Printer::new(options.display),
        }
    }

    /// Encodes input for the wire; returns (wire bytes, output bytes).
    pub fn outgoing(&mut self, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let crlf = self.line_ending == LineEnding::Crlf || self.telnet.is_some();
        let mut lines = Vec::with_capacity(input.len() + 8);
        for &b in input {
            if b == b'\n' && crlf && !self.last_sent_cr {
                lines.push(b'\r');
            }
            lines.push(b);
            self.last_sent_cr = b == b'\r';
        }
        let wire = match &mut self.telnet {
            Some((_, encoder)) => {
                let mut out = Vec::with_capacity(lines.len());
                encoder.encode(&lines, &mut out);
                out
            }
            None => lines,
        };
        let shown = self.printer.sent(&wire);
        (wire, shown)
    }

    /// Flushes held-back input at its end; returns (wire bytes, output bytes).
    pub fn finish_outgoing(&mut self) -> (Vec<u8>, Vec<u8>) {
        let mut wire = Vec::new();
        if let Some((_, encoder)) = &mut self.telnet {
            encoder.finish(&mut wire);
        }
        let shown = self.printer.sent(&wire);
        (wire, shown)
    }

    /// Decodes received bytes.
    pub fn incoming(&mut self, bytes: &[u8]) -> Incoming {
        let mut incoming = Incoming::default();
        if let Some((decoder, _)) = &mut self.telnet {
            decoder.receive(bytes, &mut incoming.data, &mut incoming.reply);
        } else {
            incoming.telnet_detected = self.sniffer.observe(bytes);
            incoming.data = bytes.to_vec();
        }
        incoming.output = self.printer.received(&incoming.data);
        incoming.reply_shown(&mut self.printer);
        incoming
    }

    /// Output held back at the end of the received stream.
    pub fn finish_incoming(&mut self) -> Vec<u8> {
        self.printer.finish()
    }
}

impl Incoming {
    fn reply_shown(&mut self, printer: &mut Printer) {
        if !self.reply.is_empty() {
            let shown = printer.sent(&self.reply);
            self.output.extend_from_slice(&shown);
        }
    }
}

/// The injected streams of a session.
pub struct SessionIo<'a> {
    /// What the user types (stdin).
    pub input: &'a mut (dyn AsyncRead + Unpin + Send),
    /// Where the peer's bytes go (stdout).
    pub output: &'a mut (dyn AsyncWrite + Unpin + Send),
    /// Where notes go (stderr).
    pub diag: &'a mut (dyn AsyncWrite + Unpin + Send),
}

const TELNET_NOTE: &[u8] =
    b"note: the server opened with Telnet option negotiation (IAC bytes); --telnet would answer it and hide it\n";

/// How long a Telnet server's negotiation must stay quiet before the half-close at
/// the end of input goes out, when no data came first.
pub const TELNET_SETTLE: Duration = Duration::from_millis(500);

/// What the error contexts of the peer's side are called (a failure there ends a
/// pending `--expect` as not met rather than as an error).
const READ_PEER: &str = "read from peer";
const SEND_PEER: &str = "send to peer";
const HALF_CLOSE: &str = "half-close";

/// Our sending side. In Telnet mode the half-close waits until the server's
/// negotiation has been answered: a reply sent after a FIN fails with "Broken pipe",
/// and a telnetd that reads EOF before its answers hangs up without a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteSide {
    Open,
    /// The input ended; the half-close goes out when data arrives or at the time
    /// given (pushed back while negotiation continues).
    Closing(Option<Instant>),
    Closed,
}

/// Timers and the sending side of the running session. A deadline too far off for
/// an `Instant` is `None`: it never comes (rather than a panic on overflow).
struct Clock {
    idle: Option<Duration>,
    last_activity: Instant,
    quit_at: Option<Instant>,
    expect_at: Option<Instant>,
    write: WriteSide,
    seen_data: bool,
}

impl Clock {
    fn half_close_at(&self) -> Option<Instant> {
        match self.write {
            WriteSide::Closing(at) => at,
            WriteSide::Open | WriteSide::Closed => None,
        }
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

async fn write_out(
    out: &mut (dyn AsyncWrite + Unpin + Send),
    bytes: &[u8],
) -> Result<(), TalkError> {
    if bytes.is_empty() {
        return Ok(());
    }
    out.write_all(bytes)
        .await
        .map_err(TalkError::io("write output"))?;
    out.flush().await.map_err(TalkError::io("write output"))
}

/// Runs a session over `stream` until the peer closes, the input ends and the quit
/// time passes, the expectations are settled, or an error. While an `--expect` is
/// pending, an idle timeout or a failure of the connection (a reset) ends it as not
/// met ([`SessionEnd::ExpectationFailed`]), not as an error.
pub async fn run<S>(
    stream: S,
    options: &SessionOptions,
    io: SessionIo<'_>,
) -> Result<SessionEnd, TalkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let script = &options.script;
    let mut expecter = Expecter::new(&script.expects);
    let now = Instant::now();
    let mut clock = Clock {
        idle: options.idle_timeout,
        last_activity: now,
        quit_at: None,
        expect_at: expecter
            .waiting_for()
            .and_then(|_| now.checked_add(script.timeout)),
        write: WriteSide::Open,
        seen_data: false,
    };
    let end = drive(stream, options, io, &mut expecter, &mut clock).await;
    match (end, expecter.waiting_for()) {
        (Err(error), Some(pattern)) if ends_at_peer(&error) => Ok(SessionEnd::ExpectationFailed {
            pattern: pattern.to_string(),
            reason: error.to_string(),
        }),
        (end, _) => end,
    }
}

/// Whether `error` came from the peer's side of the session (not our input or
/// output).
fn ends_at_peer(error: &TalkError) -> bool {
    match error {
        TalkError::Idle(_) => true,
        TalkError::Io { context, .. } => matches!(*context, READ_PEER | SEND_PEER | HALF_CLOSE),
        _ => false,
    }
}

async fn drive<S>(
    stream: S,
    options: &SessionOptions,
    io: SessionIo<'_>,
    expecter: &mut Expecter,
    clock: &mut Clock,
) -> Result<SessionEnd, TalkError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let mut codec = Transcoder::new(options);
    let script = &options.script;
    let mut input_open = script.reads_input();
    if !input_open {
        for send in &script.sends {
            let (wire, shown) = codec.outgoing(send);
            send_wire(&mut writer, &wire).await?;
            write_out(io.output, &shown).await?;
        }
        end_of_input(&mut codec, &mut writer, options, clock, io.output).await?;
    }
    let mut net_buf = vec![0u8; 16 * 1024];
    let mut in_buf = vec![0u8; 16 * 1024];
    loop {
        let idle_at = clock.idle.and_then(|d| clock.last_activity.checked_add(d));
        tokio::select! {
            read = reader.read(&mut net_buf) => {
                let n = match read {
                    // A TLS peer that closes without close_notify has still closed.
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
                    other => other.map_err(TalkError::io(READ_PEER))?,
                };
                if n == 0 {
                    write_out(io.output, &codec.finish_incoming()).await?;
                    return Ok(match expecter.waiting_for() {
                        Some(pattern) => SessionEnd::ExpectationFailed {
                            pattern: pattern.to_string(),
                            reason: "the peer closed first".into(),
                        },
                        None => SessionEnd::PeerClosed,
                    });
                }
                clock.last_activity = Instant::now();
                let incoming = codec.incoming(&net_buf[..n]);
                answer(&mut writer, &incoming, clock).await?;
                if incoming.telnet_detected {
                    write_out(io.diag, TELNET_NOTE).await?;
                }
                write_out(io.output, &incoming.output).await?;
                if expecter.feed(&incoming.data) > 0 {
                    if expecter.waiting_for().is_none() {
                        return Ok(SessionEnd::ExpectationsMet);
                    }
                    clock.expect_at = Instant::now().checked_add(script.timeout);
                }
            }
            read = io.input.read(&mut in_buf), if input_open => {
                let n = read.map_err(TalkError::io("read input"))?;
                clock.last_activity = Instant::now();
                if n == 0 {
                    input_open = false;
                    end_of_input(&mut codec, &mut writer, options, clock, io.output).await?;
                } else {
                    let (wire, shown) = codec.outgoing(&in_buf[..n]);
                    send_wire(&mut writer, &wire).await?;
                    write_out(io.output, &shown).await?;
                }
            }
            () = sleep_opt(idle_at) => {
                return Err(TalkError::Idle(clock.idle.unwrap_or_default()));
            }
            () = sleep_opt(clock.half_close_at()) => half_close(&mut writer, clock).await?,
            () = sleep_opt(clock.quit_at) => return Ok(SessionEnd::QuitAfterInput),
            () = sleep_opt(clock.expect_at) => {
                return Ok(SessionEnd::ExpectationFailed {
                    pattern: expecter.waiting_for().unwrap_or_default().to_string(),
                    reason: format!("nothing matched within {:?}", script.timeout),
                });
            }
        }
    }
}

/// Sends the Telnet replies to what just arrived, unless our side is closed already
/// (a late reply is dropped, never an error), and lets a pending half-close go once
/// data arrived (the negotiation is over) or wait longer while it goes on.
async fn answer<W: AsyncWrite + Unpin>(
    writer: &mut W,
    incoming: &Incoming,
    clock: &mut Clock,
) -> Result<(), TalkError> {
    clock.seen_data |= !incoming.data.is_empty();
    if clock.write != WriteSide::Closed && !incoming.reply.is_empty() {
        // Best effort: a peer that is gone shows up on the reading side.
        let _ = send_wire(writer, &incoming.reply).await;
    }
    if let WriteSide::Closing(_) = clock.write {
        if incoming.data.is_empty() {
            clock.write = WriteSide::Closing(Instant::now().checked_add(TELNET_SETTLE));
        } else {
            half_close(writer, clock).await?;
        }
    }
    Ok(())
}

async fn half_close<W: AsyncWrite + Unpin>(
    writer: &mut W,
    clock: &mut Clock,
) -> Result<(), TalkError> {
    clock.write = WriteSide::Closed;
    writer.shutdown().await.map_err(TalkError::io(HALF_CLOSE))
}

async fn send_wire<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) -> Result<(), TalkError> {
    if bytes.is_empty() {
        return Ok(());
    }
    writer
        .write_all(bytes)
        .await
        .map_err(TalkError::io(SEND_PEER))?;
    writer.flush().await.map_err(TalkError::io(SEND_PEER))
}

/// The input ended: flush, half-close unless told otherwise or expectations are
/// pending (a half-close could make the peer hang up before answering), and start
/// the quit timer. In Telnet mode, before any data came, the half-close waits for
/// the negotiation (see [`WriteSide`]).
async fn end_of_input<W: AsyncWrite + Unpin>(
    codec: &mut Transcoder,
    writer: &mut W,
    options: &SessionOptions,
    clock: &mut Clock,
    output: &mut (dyn AsyncWrite + Unpin + Send),
) -> Result<(), TalkError> {
    let (wire, shown) = codec.finish_outgoing();
    send_wire(writer, &wire).await?;
    write_out(output, &shown).await?;
    if !options.script.expects.is_empty() {
        return Ok(());
    }
    if options.after_input == AfterInput::HalfClose {
        if options.telnet == TelnetMode::On && !clock.seen_data {
            clock.write = WriteSide::Closing(Instant::now().checked_add(TELNET_SETTLE));
        } else {
            half_close(writer, clock).await?;
        }
    }
    clock.quit_at = options
        .quit_after_input
        .and_then(|d| Instant::now().checked_add(d));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_translation_is_idempotent_across_reads() {
        let options = SessionOptions {
            line_ending: LineEnding::Crlf,
            ..SessionOptions::default()
        };
        let mut t = Transcoder::new(&options);
        assert_eq!(t.outgoing(b"a\nb\r").0, b"a\r\nb\r");
        assert_eq!(t.outgoing(b"\nc\n").0, b"\nc\r\n");
    }

    #[test]
    fn telnet_mode_escapes_and_answers() {
        let options = SessionOptions {
            telnet: TelnetMode::On,
            ..SessionOptions::default()
        };
        let mut t = Transcoder::new(&options);
        assert_eq!(t.outgoing(b"\xff\n").0, b"\xff\xff\r\n");
        let got = t.incoming(b"\xff\xfd\x18login: ");
        assert_eq!(got.output, b"login: ");
        assert_eq!(got.reply, b"\xff\xfc\x18");
        assert!(!got.telnet_detected);
    }

    #[test]
    fn without_telnet_bytes_pass_and_negotiation_is_noted() {
        let mut t = Transcoder::new(&SessionOptions::default());
        assert_eq!(t.outgoing(b"\xff\n").0, b"\xff\n");
        let got = t.incoming(b"\xff\xfd\x18");
        assert_eq!(got.output, b"\xff\xfd\x18");
        assert!(got.telnet_detected && got.reply.is_empty());
    }

    /// Runs a Telnet session with stdin at EOF against `peer`, which gets the other
    /// end of an in-memory stream.
    async fn telnet_session<F, Fut>(peer: F) -> (Result<SessionEnd, TalkError>, Vec<u8>)
    where
        F: FnOnce(tokio::io::DuplexStream) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (ours, theirs) = tokio::io::duplex(4096);
        let server = tokio::spawn(peer(theirs));
        let options = SessionOptions {
            telnet: TelnetMode::On,
            ..SessionOptions::default()
        };
        let (mut input, mut output, mut diag) = (tokio::io::empty(), Vec::new(), Vec::new());
        let io = SessionIo {
            input: &mut input,
            output: &mut output,
            diag: &mut diag,
        };
        let end = run(ours, &options, io).await;
        server.await.unwrap();
        (end, output)
    }

    /// Regression (issue 9, item 11): with stdin at EOF the half-close went out before
    /// the negotiation replies, so the telnetd never sent its prompt.
    #[tokio::test]
    async fn telnet_half_close_waits_for_the_negotiation() {
        let (end, output) = telnet_session(|mut peer| async move {
            peer.write_all(b"\xff\xfd\x18\xff\xfb\x01").await.unwrap();
            let mut answers = [0; 6];
            peer.read_exact(&mut answers).await.unwrap();
            assert_eq!(answers, *b"\xff\xfc\x18\xff\xfe\x01");
            peer.write_all(b"login: ").await.unwrap();
            let mut rest = Vec::new();
            peer.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
        })
        .await;
        assert_eq!(end.unwrap(), SessionEnd::PeerClosed);
        assert_eq!(output, b"login: ");
    }

    /// Regression (issue 9, item 11): a negotiation that comes after the half-close
    /// made the reply fail ("Broken pipe"); it is dropped instead.
    #[tokio::test]
    async fn a_late_negotiation_is_not_answered_and_not_an_error() {
        let (end, output) = telnet_session(|mut peer| async move {
            let mut rest = Vec::new();
            // The quiet server: the half-close comes after TELNET_SETTLE.
            peer.read_to_end(&mut rest).await.unwrap();
            peer.write_all(b"\xff\xfd\x18bye").await.unwrap();
        })
        .await;
        assert_eq!(end.unwrap(), SessionEnd::PeerClosed);
        assert_eq!(output, b"bye");
    }

    /// Regression (issue 9, item 11): an idle timeout before the pattern matched was
    /// an error (exit 1), not an expectation that failed (exit 3).
    #[tokio::test]
    async fn an_idle_timeout_fails_the_pending_expectation() {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        theirs.write_all(b"+OK\r\n").await.unwrap();
        let options = SessionOptions {
            idle_timeout: Some(Duration::from_millis(50)),
            script: Script {
                sends: vec![b"x".to_vec()],
                expects: vec![crate::script::Expectation::new("^-ERR").unwrap()],
                timeout: Duration::from_secs(10),
            },
            ..SessionOptions::default()
        };
        let (mut input, mut output, mut diag) = (tokio::io::empty(), Vec::new(), Vec::new());
        let io = SessionIo {
            input: &mut input,
            output: &mut output,
            diag: &mut diag,
        };
        let end = run(ours, &options, io).await.unwrap();
        assert!(
            matches!(&end, SessionEnd::ExpectationFailed { pattern, reason } if pattern == "^-ERR" && reason.starts_with("idle")),
            "{end:?}"
        );
        drop(theirs);
    }
}
