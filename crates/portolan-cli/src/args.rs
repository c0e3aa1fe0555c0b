//! Every clap struct of the command, together: what the user typed, checked for
//! syntax only. Meaning is given elsewhere (the `request` module for `scan`, the
//! command modules for the others). This module imports only the leaves
//! [`crate::duration`] and [`crate::exit`].
//!
//! nmap and netcat habits are handled before clap sees the arguments
//! ([`rewrite_habits`]): the multi-letter short options (`-iL`, `-oX`, `-Pn`,
//! `-sV`) become their long forms, `-sX` scan types go to the one place that knows
//! them ([`crate::scantype`]), and habits portolan has no use for are refused with a
//! line that says what to use instead.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration;
use crate::exit::UsageError;

/// portolan: find what listens on a machine, see what it says, and talk to it.
#[derive(Debug, Parser)]
#[command(
    name = "portolan",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan hosts for open, closed and filtered TCP ports.
    Scan(Box<ScanArgs>),
    /// Start a small practice target on 127.0.0.1 inside this process and scan it.
    Demo(DemoArgs),
    /// Talk to the program behind a port: stdin to the socket, the socket to stdout.
    Connect(ConnectArgs),
    /// Wait for a connection on a port (127.0.0.1 unless --bind) and talk to it.
    Listen(ListenArgs),
    /// Send a minimal HTTP request and show the raw exchange.
    Http(HttpArgs),
    /// List past scans from the history database.
    History(HistoryArgs),
    /// Show a past scan again, in any output format.
    Show(ShowArgs),
    /// What changed between two scans (exit 0: none, 1: changed, 2: error).
    Diff(DiffArgs),
    /// Merge the shards of one scan (`scan --shard I/N -oD FILE`) into one scan,
    /// checking that every pair was answered exactly once.
    Merge(MergeArgs),
    /// Write a fingerprint stub (docs/probe.md) from a capture: a `connect --hex`
    /// output, raw bytes, or a live HOST PORT.
    Fingerprint(FingerprintArgs),
}

impl Cli {
    /// clap's parse of an argv whose habits are already rewritten ([`rewrite_habits`]).
    pub fn try_parse_from_argv(argv: Vec<OsString>) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(argv)
    }
}

/// `portolan scan`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Times: 2 (seconds), 2s, 1.5s, 500ms or 1m.\n\nScan types: -sT (TCP connects, the default), -sU (UDP, with payloads of each\nport's protocol), or both: -sT -sU; -sn finds which hosts are up, without a\nport scan.\n\nExamples:\n  portolan scan 198.18.0.1 -p-\n  portolan scan -sU --top-ports 100 198.18.0.1\n  portolan scan -sT -sU -p U:53,161,T:22,80 198.18.0.1\n  portolan scan 198.18.1.0/24 -p 22,80 --open\n  portolan scan -sn 198.18.0.0/22\n  portolan scan lab.example -p 1-1024 -oD results.ndjson"
)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "clap flags; the request turns them into enums"
)]
pub struct ScanArgs {
    /// Addresses, CIDR blocks (198.18.1.0/24), octet ranges (198.18.1.1-20) or host names.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Ports: 22,80,8000-8100; `-p-` for all 65535, `-p -1024` for 1 to 1024; with
    /// -sU, `U:53,161,T:22` gives ports per protocol (plain ports go to every one).
    #[arg(short = 'p', long = "ports", value_name = "SPEC", allow_hyphen_values = true, conflicts_with_all = ["top_ports", "fast"])]
    pub ports: Option<String>,

    /// The N most common ports of portolan's own rankings, TCP and UDP (default: 1000).
    #[arg(long = "top-ports", value_name = "N")]
    pub top_ports: Option<usize>,

    /// The 100 most common ports.
    #[arg(short = 'F', long = "fast", conflicts_with = "top_ports")]
    pub fast: bool,

    /// Leave these ports out of whatever -p, --top-ports or -F chose (same grammar as -p,
    /// `T:`/`U:` included).
    #[arg(
        long = "exclude-ports",
        value_name = "SPEC",
        allow_hyphen_values = true
    )]
    pub exclude_ports: Option<String>,

    /// Stop scanning a host once N of its ports are open (for sweeps); the pairs it
    /// leaves are counted as not scanned in the summary.
    #[arg(long = "max-open-per-host", value_name = "N")]
    pub max_open_per_host: Option<u32>,

    /// Run CMD for each open port, with the port's result as one JSON object on its
    /// stdin and `PORTOLAN_ADDR`, `PORTOLAN_PORT`, `PORTOLAN_PROTO` set; CMD is split into
    /// words like a shell would, but no shell runs it (see --on-open-shell).
    #[arg(long = "on-open", value_name = "CMD")]
    pub on_open: Option<String>,

    /// Run --on-open's CMD with `sh -c` (its pipes, redirections and variables);
    /// the result still arrives on stdin, never in the command line.
    #[arg(long = "on-open-shell", requires = "on_open")]
    pub on_open_shell: bool,

    /// At most N --on-open commands at once (default 4).
    #[arg(long = "on-open-concurrency", value_name = "N", requires = "on_open")]
    pub on_open_concurrency: Option<usize>,

    /// Kill an --on-open command that runs longer than this (default 30s).
    #[arg(long = "on-open-timeout", value_name = "TIME", requires = "on_open", value_parser = duration::positive)]
    pub on_open_timeout: Option<Duration>,

    /// Read targets from FILE (`-` for stdin; one or more per line, `#` comments); `-iL` also works.
    #[arg(long = "input-list", value_name = "FILE")]
    pub input_list: Vec<PathBuf>,

    /// Leave out these targets (comma-separated).
    #[arg(long, value_name = "LIST")]
    pub exclude: Vec<String>,

    /// Leave out the targets listed in FILE.
    #[arg(long = "exclude-file", value_name = "FILE")]
    pub exclude_file: Vec<PathBuf>,

    /// Refuse any target outside the CIDR blocks and addresses of FILE.
    #[arg(long, value_name = "FILE")]
    pub scope: Option<PathBuf>,

    /// Allow a single target larger than a /16 of IPv4 or a /112 of IPv6.
    #[arg(long)]
    pub large: bool,

    /// Seed of the random order, for a repeatable scan.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Scan only shard I of N (1 <= I <= N) of the (host, port) pairs; the N shards
    /// cover every pair exactly once. Without --seed, the seed is derived from the
    /// targets and ports, so shards started anywhere agree (docs/distributed.md).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<portolan_target::Shard>,

    /// Scan hosts and ports in order instead of a random order; `-r` also works.
    #[arg(long = "no-randomize")]
    pub no_randomize: bool,

    /// Timing template, 0 (paranoid) to 5 (insane); the default adapts and needs none.
    #[arg(short = 'T', value_name = "0-5", value_parser = clap::value_parser!(u8).range(0..=5))]
    pub template: Option<u8>,

    /// At most N probes per second.
    #[arg(long = "max-rate", value_name = "N")]
    pub max_rate: Option<f64>,

    /// At least N probes per second: sent even when the congestion window would
    /// wait (up to --concurrency in flight); not above --max-rate.
    #[arg(long = "min-rate", value_name = "N")]
    pub min_rate: Option<f64>,

    /// At most N probes in flight (default: adaptive, up to 5000 or the open-file limit).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// At most N probes in flight to one host.
    #[arg(long = "max-host-concurrency", value_name = "N")]
    pub max_host_concurrency: Option<usize>,

    /// Scan through a proxy: socks5://HOST:PORT (USER:PASS@HOST:PORT with credentials), socks5h://... or
    /// http://HOST:PORT (CONNECT); its replies are the ports' states (connect scan only).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,

    /// With --proxy: at most N connections to the proxy at once (default 32).
    #[arg(long = "proxy-concurrency", value_name = "N", requires = "proxy")]
    pub proxy_concurrency: Option<usize>,

    /// At most N retries of an unanswered probe (the engine uses fewer on a clean path).
    #[arg(long = "max-retries", value_name = "N")]
    pub max_retries: Option<u8>,

    /// Timeout before any round trip is measured (e.g. 500ms, 2s).
    #[arg(long = "initial-rtt-timeout", value_name = "TIME", value_parser = duration::positive)]
    pub initial_rtt_timeout: Option<Duration>,

    /// Never wait less than this for an answer.
    #[arg(long = "min-rtt-timeout", value_name = "TIME", value_parser = duration::positive)]
    pub min_rtt_timeout: Option<Duration>,

    /// Never wait more than this for an answer.
    #[arg(long = "max-rtt-timeout", value_name = "TIME", value_parser = duration::positive)]
    pub max_rtt_timeout: Option<Duration>,

    /// Write NDJSON (one object per port) to FILE, `-` for stdout; `-oD` also works.
    #[arg(long = "ndjson", value_name = "FILE")]
    pub ndjson: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub history: HistoryOptions,

    /// Show only open ports.
    #[arg(long)]
    pub open: bool,

    /// Never draw the progress bar.
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// Print the engine's state (window, in flight, timeout) every 100 ms on stderr.
    #[arg(long = "debug-timeline", hide = true)]
    pub debug_timeline: bool,

    /// Identify the service behind each open port (banner, payloads, TLS); `-sV` also works.
    // `--probe` was its name before "probe" meant only a connection attempt.
    #[arg(long = "identify", alias = "probe")]
    pub identify: bool,

    /// With --identify: read at most N bytes of each answer (default 1024).
    #[arg(long = "banner-bytes", value_name = "N", requires = "identify")]
    pub banner_bytes: Option<usize>,

    /// With --identify: wait this long for each answer (default: 300 ms + 10 round trips).
    #[arg(long = "identify-timeout", alias = "probe-timeout", value_name = "TIME", requires = "identify", value_parser = duration::positive)]
    pub identify_timeout: Option<Duration>,

    /// With --identify: also use the fingerprint files (*.toml) of DIR, tried first.
    #[arg(long = "fingerprints", value_name = "DIR", requires = "identify")]
    pub fingerprints: Option<PathBuf>,

    /// nmap's `-sX` scan types (`-sT`, ...), checked in [`crate::scantype`].
    #[arg(long = "scan-type", value_name = "LETTER", hide = true)]
    pub scan_type: Vec<String>,

    /// Accepted for nmap habits (`-Pn`): scanning every target without pinging it
    /// first is already the default (see --discover).
    #[arg(long = "no-ping", hide = true)]
    pub no_ping: bool,

    /// Accepted for nmap habits: every port's reason is always shown.
    #[arg(long = "reason", hide = true)]
    pub reason: bool,

    /// Accepted for nmap habits (`-n`): portolan never does reverse DNS.
    #[arg(short = 'n', hide = true)]
    pub no_dns: bool,

    /// Host discovery (`-sn` is a scan type; these are its options).
    #[command(flatten)]
    pub discovery: DiscoveryOptions,
}

/// The host discovery options of `portolan scan`.
#[derive(Debug, Clone, Default, Args)]
pub struct DiscoveryOptions {
    /// Find the hosts that are up first (ICMP echo and TCP pings; with raw sockets
    /// also ICMP timestamp, a raw SYN to 443, a raw ACK to 80 and ARP/neighbour
    /// discovery on Ethernet) and port-scan only those; the others
    /// are reported down. Off by default: every target is scanned as if up (nmap's
    /// -Pn), since many hosts drop pings. `-sn` finds hosts without a port scan.
    #[arg(long = "discover", help_heading = "Host discovery")]
    pub discover: bool,

    /// Discover hosts without raw sockets even when they are allowed: ICMP echo
    /// through ping sockets (where `net.ipv4.ping_group_range` allows) and TCP connects.
    #[arg(long = "unprivileged", help_heading = "Host discovery")]
    pub unprivileged: bool,
}

/// The history options of `portolan scan`.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryOptions {
    /// Do not record this scan in the history database.
    #[arg(long = "no-history")]
    pub no_history: bool,

    /// The history database (default: `$XDG_DATA_HOME/portolan/history.db`).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Continue an interrupted scan (the latest by default) with its targets and options.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "last")]
    pub resume: Option<String>,
}

/// The options of `scan` that name a file or directory, as typed (long forms): the
/// history records them as absolute paths, so that `--resume` from another
/// directory writes where the scan first wrote.
pub const PATH_OPTIONS: &[&str] = &[
    "--input-list",
    "--exclude-file",
    "--scope",
    "--ndjson",
    "--normal",
    "--xml",
    "--grepable",
    "--json",
    "--csv",
    "--all-formats",
    "--fingerprints",
];

/// `portolan demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also write the demo's results as NDJSON to FILE (`-` for stdout).
    #[arg(long = "ndjson", value_name = "FILE")]
    pub ndjson: Option<PathBuf>,
}

/// nmap-style multi-letter short options and their long equivalents.
const NMAP_STYLE: &[(&str, &str)] = &[
    ("-iL", "--input-list"),
    ("-oD", "--ndjson"),
    ("-oN", "--normal"),
    ("-oX", "--xml"),
    ("-oG", "--grepable"),
    ("-oJ", "--json"),
    ("-oA", "--all-formats"),
    ("-Pn", "--no-ping"),
    ("-sV", "--identify"),
];

/// Habits of nmap and netcat that portolan has no use for, and what to do instead.
const REFUSED: &[(&str, &str)] = &[
    ("-v", "portolan has no verbose mode: every port comes with its reason, and the progress bar shows the scan as it goes"),
    ("-vv", "portolan has no verbose mode: every port comes with its reason, and the progress bar shows the scan as it goes"),
    ("-d", "portolan has no debug mode; --debug-timeline prints the engine's state as it goes"),
    ("-6", "-6 is not needed: give IPv6 addresses (::1, 2001:db8::/120) or names, and portolan scans every address they have"),
    ("-4", "-4 is not needed: give IPv4 addresses, or names (each name is scanned at every address it has)"),
];

/// Rewrites nmap-style options to their long forms, and refuses the habits of
/// [`REFUSED`]. Words after `--` are left alone; so are the values of options, since
/// none of these words is a sensible one.
pub fn rewrite_habits(argv: Vec<OsString>) -> Result<Vec<OsString>, UsageError> {
    // `-r` and `-sX` mean something only to `scan` (`connect -s` is a source address).
    let scan = argv.get(1).is_some_and(|a| a == "scan");
    let mut out = Vec::with_capacity(argv.len());
    let mut after_dashes = false;
    for arg in argv {
        if after_dashes {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            after_dashes = true;
            out.push(arg);
            continue;
        }
        if let Some((_, long)) = NMAP_STYLE.iter().find(|(short, _)| arg == *short) {
            out.push(OsString::from(long));
            continue;
        }
        if let Some((word, why)) = REFUSED.iter().find(|(w, _)| arg == *w) {
            return Err(UsageError(format!("{word}: {why}")));
        }
        if scan && arg == "-r" {
            out.push(OsString::from("--no-randomize"));
            continue;
        }
        match arg.to_str().and_then(|a| a.strip_prefix("-s")) {
            Some(letters)
                if scan
                    && !letters.is_empty()
                    && letters.chars().all(|c| c.is_ascii_alphabetic()) =>
            {
                out.push(OsString::from("--scan-type"));
                out.push(OsString::from(letters));
            }
            _ => out.push(arg),
        }
    }
    Ok(out)
}

/// A port number from 1 to 65535.
/// `--shard I/N`, checked by the target crate's parser.
pub fn parse_shard(text: &str) -> Result<portolan_target::Shard, String> {
    text.parse()
        .map_err(|e: portolan_target::ShardError| e.to_string())
}

pub fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{text:?} is not a port from 1 to 65535")),
    }
}

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The table, without colour (`-oN`).
    Normal,
    /// nmap-compatible XML (`-oX`).
    Xml,
    /// nmap's grepable format (`-oG`).
    Grepable,
    /// One JSON document (`-oJ`), schema docs/schema/scan-v1.json.
    Json,
    /// One JSON object per port and line (`-oD`).
    Ndjson,
    /// One row per port.
    Csv,
}

/// `portolan fingerprint`.
#[derive(Debug, Args)]
#[command(
    after_help = "Times: 2 (seconds), 2s, 1.5s, 500ms or 1m.\n\nExamples:\n  portolan connect 198.18.0.1 2121 --hex > ftp.hex; portolan fingerprint ftp.hex\n  portolan fingerprint --raw answer.bin --probe http-get\n  portolan fingerprint 198.18.0.1 2121 --fixture tests/fixtures --name acme-ftpd-1.2 -o acme.toml\n  portolan fingerprint 198.18.0.1 6379 --probe redis-ping --scope lab.txt\n\nThe stub loads with `scan -sV --fingerprints DIR`; fill in its TODOs first."
)]
pub struct FingerprintArgs {
    /// A capture: what `portolan connect --hex` wrote (`-` for stdin); with PORT, a
    /// host to capture from now.
    #[arg(value_name = "CAPTURE|HOST")]
    pub input: Option<String>,
    /// With HOST: the port to capture from.
    #[arg(value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,
    /// Read the capture from FILE as raw bytes (what the server sent, nothing more).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["input", "port"])]
    pub raw: Option<PathBuf>,
    /// What the capture answered: a probe of probes.toml or --fingerprints, or
    /// `banner` (nothing sent). Live, the probe to send (default: banner). For a
    /// `--hex` capture whose bytes no probe sends, the name of the probe the stub defines.
    #[arg(long, value_name = "NAME")]
    pub probe: Option<String>,
    /// Also load the fingerprint files of DIR (their probes can be sent and named).
    #[arg(long, value_name = "DIR")]
    pub fingerprints: Option<PathBuf>,
    /// Write the captured bytes as the test fixture DIR/NAME-PROBE.bin.
    #[arg(long, value_name = "DIR")]
    pub fixture: Option<PathBuf>,
    /// The fixture's name: program and version, as in acme-ftpd-1.2.
    #[arg(long, value_name = "NAME", default_value = "capture")]
    pub name: String,
    /// Write the stub to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Live: refuse a host outside the CIDR blocks and addresses of FILE.
    #[arg(long, value_name = "FILE")]
    pub scope: Option<PathBuf>,
    /// Live: how long to wait for the first byte; then reading stops after 200 ms
    /// without one, or at twice TIME.
    #[arg(short = 'w', long = "wait", value_name = "TIME", default_value = "5", value_parser = duration::positive)]
    pub wait: Duration,
    /// Live: read at most N bytes (1 to 65536).
    #[arg(long = "bytes", value_name = "N", default_value_t = 4096)]
    pub bytes: usize,
}

/// `portolan merge`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Inputs are the NDJSON files of `portolan scan --shard I/N -oD FILE` (without --open), \
or the shards' history databases (`--db FILE`, their latest scan): every pair a shard answered is \
listed, so coverage is proven pair by pair. The pair space is rebuilt \
from the arguments the shards recorded (target files read and names resolved again) and must hash \
to the shards' spec hash.\n\n\
Exit status: 0 every pair answered exactly once, outputs written; 1 pairs missing (listed on \
stderr with the shard that owned them; outputs written with \"complete\": false), or an input \
cut short; 2 bad usage, a pair answered twice, or inputs of different specs (nothing written).\n\n\
Example:\n  portolan merge shard-*.ndjson -oX merged.xml --db history.db"
)]
pub struct MergeArgs {
    /// The shards' NDJSON files or history databases.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Write NDJSON (one object per port) to FILE, `-` for stdout; `-oD` also works.
    #[arg(long = "ndjson", value_name = "FILE")]
    pub ndjson: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Show only open ports in the outputs.
    #[arg(long)]
    pub open: bool,

    /// Record the merged scan in this history database (then `diff` and `show` see it).
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// Output options of `portolan scan`.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Write the table, without colour, to FILE (`-` for stdout); `-oN` also works.
    #[arg(long = "normal", value_name = "FILE")]
    pub normal: Option<PathBuf>,

    /// Write nmap-compatible XML to FILE; `-oX` also works.
    #[arg(long = "xml", value_name = "FILE")]
    pub xml: Option<PathBuf>,

    /// Write nmap's grepable format to FILE; `-oG` also works.
    #[arg(long = "grepable", value_name = "FILE")]
    pub grepable: Option<PathBuf>,

    /// Write one JSON document to FILE; `-oJ` also works.
    #[arg(long = "json", value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write CSV, one row per port, to FILE.
    #[arg(long = "csv", value_name = "FILE")]
    pub csv: Option<PathBuf>,

    /// Write BASE.nmap, BASE.xml, BASE.gnmap and BASE.json; `-oA` also works.
    #[arg(long = "all-formats", value_name = "BASE")]
    pub all_formats: Option<PathBuf>,
}

/// `portolan history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The history database (default: `$XDG_DATA_HOME/portolan/history.db`).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// `portolan show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The scan to show (default: the latest).
    #[arg(value_name = "ID")]
    pub id: Option<i64>,
    /// The format to write.
    #[arg(short = 'o', long = "format", value_enum, default_value = "normal")]
    pub format: Format,
    /// Show only open ports.
    #[arg(long)]
    pub open: bool,
    /// The history database (default: `$XDG_DATA_HOME/portolan/history.db`).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,
}

/// `portolan diff`.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when nothing changed, 1 when something did, 2 on any error\n(no such scan, not a database, cannot write), as ndiff does."
)]
pub struct DiffArgs {
    /// The older scan (default: the scan before NEW of the same targets).
    #[arg(value_name = "OLD")]
    pub old: Option<i64>,
    /// The newer scan (default: the latest scan of OLD's targets, or the latest scan).
    #[arg(value_name = "NEW")]
    pub new: Option<i64>,
    /// Write the changes as JSON to FILE (`-` for stdout); `-oJ` also works.
    #[arg(long = "json", value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The history database (default: `$XDG_DATA_HOME/portolan/history.db`).
    #[arg(long = "db", value_name = "PATH")]
    pub db: Option<PathBuf>,
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
    /// After the input ends, wait at most TIME (0: close at once) for the peer to close.
    #[arg(short = 'q', long = "quit-after", value_name = "TIME", value_parser = duration::zero_or_more)]
    pub quit_after: Option<Duration>,
    /// Give up when nothing is sent or received for TIME (exit 1).
    #[arg(short = 'i', long = "idle-timeout", value_name = "TIME", value_parser = duration::positive)]
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
    #[arg(long = "expect-timeout", value_name = "TIME", default_value = "10", value_parser = duration::positive)]
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
    after_help = "Times: 2 (seconds), 2s, 1.5s, 500ms or 1m.\n\nExamples:\n  portolan connect 198.18.0.1 25\n  portolan connect 198.18.0.1 6379 --send 'PING\\r\\n' --expect '^\\+PONG'\n  portolan connect --telnet 198.18.0.1 23\n  portolan connect --tls --insecure 198.18.0.1 443 -C\n  portolan connect -u 198.18.0.1 7 --send 'hello\\n' --expect hello"
)]
pub struct ConnectArgs {
    /// Host name, IPv4 or IPv6 address; `HOST:PORT` and `[IPV6]:PORT` also work.
    pub host: String,
    /// Port (may be given with the host instead).
    #[arg(value_parser = parse_port)]
    pub port: Option<u16>,
    /// UDP: each input line (or --send) is one datagram; an ICMP port unreachable
    /// ends the session (exit 1). -w is how long answers are awaited after the input.
    #[arg(short = 'u', long = "udp", conflicts_with_all = ["tls", "telnet", "no_shutdown"])]
    pub udp: bool,
    /// Bind this source address before connecting.
    #[arg(short = 's', long = "source", value_name = "ADDR")]
    pub source: Option<IpAddr>,
    /// Bind this source port before connecting.
    #[arg(short = 'P', long = "source-port", value_name = "PORT", value_parser = parse_port)]
    pub source_port: Option<u16>,
    /// Connect timeout.
    #[arg(short = 'w', long = "wait", value_name = "TIME", default_value = "10", value_parser = duration::positive)]
    pub wait: Duration,

    /// Connect through a proxy: socks5://HOST:PORT (USER:PASS@HOST:PORT with credentials), socks5h://... (names
    /// resolved by the proxy) or http://HOST:PORT (CONNECT).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
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
    after_help = "Times: 2 (seconds), 2s, 1.5s, 500ms or 1m.\n\nExamples:\n  portolan listen 8000\n  portolan listen -k 8000 --bind 0.0.0.0\n  portolan listen --tls 8443\n  portolan listen -u 5353"
)]
pub struct ListenArgs {
    /// Port (0: any free port; the chosen one is printed on stderr).
    pub port: u16,
    /// UDP: show datagrams as they come; the first sender is the peer that input
    /// lines go to.
    #[arg(short = 'u', long = "udp", conflicts_with_all = ["tls", "keep_open", "telnet", "no_shutdown"])]
    pub udp: bool,
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
    after_help = "Times: 2 (seconds), 2s, 1.5s, 500ms or 1m.\n\nExamples:\n  portolan http http://198.18.0.1/\n  portolan http --follow http://198.18.0.1/\n  portolan http --insecure https://198.18.0.1/ --head"
)]
pub struct HttpArgs {
    /// `http://HOST[:PORT]/PATH` or `https://...`
    pub url: String,
    /// Connect through a proxy: socks5://HOST:PORT (USER:PASS@HOST:PORT with credentials), socks5h://... (names
    /// resolved by the proxy) or http://HOST:PORT (a CONNECT tunnel, for http:// too).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
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
    /// Stop the whole exchange after TIME.
    #[arg(long = "max-time", value_name = "TIME", default_value = "30", value_parser = duration::positive)]
    pub max_time: Duration,
    /// Connect timeout.
    #[arg(short = 'w', long = "wait", value_name = "TIME", default_value = "10", value_parser = duration::positive)]
    pub wait: Duration,
    /// https: accept any certificate (it is still described on stderr).
    #[arg(long)]
    pub insecure: bool,
    /// Write the response to a terminal unchanged (escape sequences are obeyed).
    #[arg(long)]
    pub raw: bool,
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use clap::CommandFactory;

    use super::*;
    use crate::exit::clap_line;

    fn argv(words: &[&str]) -> Vec<OsString> {
        let mut v: Vec<OsString> = vec!["portolan".into()];
        v.extend(words.iter().map(OsString::from));
        v
    }

    fn parse(words: &[&str]) -> Result<Command, String> {
        let v = rewrite_habits(argv(words)).map_err(|e| e.0)?;
        Cli::try_parse_from_argv(v)
            .map(|c| c.command)
            .map_err(|e| clap_line(&e.render().to_string()))
    }

    fn scan(words: &[&str]) -> ScanArgs {
        let mut all = vec!["scan"];
        all.extend_from_slice(words);
        match parse(&all) {
            Ok(Command::Scan(a)) => *a,
            other => panic!("{other:?}"),
        }
    }

    fn help(sub: &str) -> String {
        let mut cmd = Cli::command();
        cmd.build();
        let sub = cmd.find_subcommand_mut(sub).expect("a subcommand");
        sub.render_long_help().to_string()
    }

    #[test]
    fn diff_help_documents_the_exit_codes() {
        insta::assert_snapshot!(help("diff"));
    }

    #[test]
    fn connect_help_shows_the_time_grammar() {
        insta::assert_snapshot!(help("connect"));
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn nmap_habits_work() {
        let a = scan(&[
            "-Pn",
            "-sT",
            "-n",
            "-T4",
            "-p-",
            "-iL",
            "hosts.txt",
            "-oD",
            "-",
            "-r",
            "x",
        ]);
        assert_eq!(a.ports.as_deref(), Some("-"));
        assert_eq!(a.template, Some(4));
        assert_eq!(a.input_list, [PathBuf::from("hosts.txt")]);
        assert_eq!(a.ndjson, Some(PathBuf::from("-")));
        assert_eq!(a.scan_type, ["T"]);
        assert!(a.no_randomize && a.no_ping && a.no_dns);
        assert_eq!(a.targets, ["x"]);
    }

    #[test]
    fn a_port_range_may_start_with_a_dash() {
        assert_eq!(scan(&["x", "-p", "-80"]).ports.as_deref(), Some("-80"));
    }

    #[test]
    fn words_after_dashes_are_not_rewritten() {
        let v = rewrite_habits(argv(&["scan", "--", "-sS", "-v"])).map_err(|e| e.0);
        assert_eq!(v, Ok(argv(&["scan", "--", "-sS", "-v"])));
    }

    #[test]
    fn scan_letters_go_to_scan_type_and_connect_source_is_left_alone() {
        let v = rewrite_habits(argv(&["scan", "-sS", "-sV"])).map_err(|e| e.0);
        assert_eq!(v, Ok(argv(&["scan", "--scan-type", "S", "--identify"])));
        for words in [
            &["connect", "-s", "127.0.0.2", "h"][..],
            &["connect", "-sfoo", "h"],
            &["connect", "-r"],
        ] {
            let v = rewrite_habits(argv(words)).map_err(|e| e.0);
            assert_eq!(v, Ok(argv(words)));
        }
    }

    #[test]
    fn times_use_one_grammar_in_every_command() {
        let Ok(Command::Connect(c)) =
            parse(&["connect", "-w", "2s", "-i", "500ms", "-q", "0", "h", "1"])
        else {
            panic!("connect refused");
        };
        assert_eq!(c.wait, Duration::from_secs(2));
        assert_eq!(c.session.idle_timeout, Some(Duration::from_millis(500)));
        assert_eq!(c.session.quit_after, Some(Duration::ZERO));
        let Ok(Command::Http(h)) = parse(&["http", "--max-time", "1m", "-w", "3", "http://h/"])
        else {
            panic!("http refused");
        };
        assert_eq!(
            (h.max_time, h.wait),
            (Duration::from_mins(1), Duration::from_secs(3))
        );
        assert!(parse(&["listen", "--expect-timeout", "250ms", "0"]).is_ok());
        assert!(parse(&["scan", "x", "--max-rtt-timeout", "2"]).is_ok());
    }

    #[test]
    fn zero_is_refused_where_it_means_nothing() {
        for words in [
            &["connect", "-w", "0", "h", "1"][..],
            &["connect", "-i", "0s", "h", "1"],
            &["connect", "--expect-timeout", "0", "h", "1"],
            &["http", "--max-time", "0", "http://h/"],
            &["listen", "-i", "0ms", "0"],
        ] {
            let e = parse(words).map(|_| ()).unwrap_err();
            assert!(e.contains("zero"), "{words:?}: {e}");
        }
    }

    #[test]
    fn missing_arguments_are_named() {
        let e = parse(&["http"]).map(|_| ()).unwrap_err();
        assert!(e.contains("<URL>"), "{e}");
        let e = parse(&["listen"]).map(|_| ()).unwrap_err();
        assert!(e.contains("<PORT>"), "{e}");
        let e = parse(&["scan", "x", "--banner-bytes", "5"])
            .map(|_| ())
            .unwrap_err();
        assert!(e.contains("--identify"), "{e}");
    }

    #[test]
    fn typos_get_suggestions() {
        let e = parse(&["scan", "--opne"]).map(|_| ()).unwrap_err();
        assert!(e.contains("'--open'"), "{e}");
        let e = parse(&["conect"]).map(|_| ()).unwrap_err();
        assert!(e.contains("'connect'"), "{e}");
    }

    #[test]
    fn allowed_values_are_listed() {
        let e = parse(&["show", "-o", "yaml"]).map(|_| ()).unwrap_err();
        assert!(e.contains("possible values") && e.contains("ndjson"), "{e}");
    }

    #[test]
    fn habits_without_a_use_say_what_to_do() {
        for (word, hint) in [
            ("-v", "verbose"),
            ("-6", "IPv6"),
            ("-4", "IPv4"),
            ("-d", "--debug-timeline"),
        ] {
            let e = parse(&["scan", word, "x"]).map(|_| ()).unwrap_err();
            assert!(e.starts_with(word) && e.contains(hint), "{word}: {e}");
        }
    }

    #[test]
    fn resume_is_not_an_output_option() {
        let a = scan(&["--resume", "--db", "h.db"]);
        assert_eq!(a.history.resume.as_deref(), Some("last"));
        assert_eq!(a.history.db, Some(PathBuf::from("h.db")));
    }

    /// Every option of `scan` that names a file is recorded absolute on resume.
    #[test]
    fn every_path_option_is_known() {
        let cmd = Cli::command();
        let scan = cmd.find_subcommand("scan").expect("scan");
        let paths: BTreeSet<String> = scan
            .get_arguments()
            .filter(|a| {
                a.get_value_names().is_some_and(|n| {
                    n.iter()
                        .any(|n| ["FILE", "BASE", "DIR"].contains(&n.as_str()))
                })
            })
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        let known: BTreeSet<String> = PATH_OPTIONS.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(paths, known);
    }

    /// The first cycle through `m`, depth first.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            return Some(path[i..].to_vec());
        }
        path.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }

    /// No module imports a module that imports it back (`main` imports them all).
    #[test]
    fn the_modules_import_each_other_without_cycles() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("")
                .to_owned();
            if name == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let uses = code
                .match_indices("crate::")
                .map(|(i, _)| {
                    code[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .filter(|m| *m != name)
                .collect();
            graph.insert(name, uses);
        }
        assert!(graph.len() > 10, "{graph:?}");
        for m in graph.keys() {
            assert_eq!(visit(m, &graph, &mut Vec::new()), None, "a cycle");
        }
    }
}
