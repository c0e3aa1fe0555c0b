//! What the user typed, checked for syntax only (clap). Meaning is given in
//! [`crate::config`]. nmap users' habits (`-iL`, `-oD`, `-Pn`, `-sT`) are rewritten
//! to long options before clap sees them, so the short forms work as expected.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    Connect(crate::talk::ConnectArgs),
    /// Wait for a connection on a port (127.0.0.1 unless --bind) and talk to it.
    Listen(crate::talk::ListenArgs),
    /// Send a minimal HTTP request and show the raw exchange.
    Http(crate::talk::HttpArgs),
    /// List past scans from the history database.
    History(crate::history::HistoryArgs),
    /// Show a past scan again, in any output format.
    Show(crate::history::ShowArgs),
    /// What changed between two scans (exit 1 when something did).
    Diff(crate::history::DiffArgs),
}

/// `portolan scan`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "Examples:\n  portolan scan 198.18.0.1 -p-\n  portolan scan 198.18.1.0/24 -p 22,80 --open\n  portolan scan lab.example -p 1-1024 -oD results.ndjson"
)]
pub struct ScanArgs {
    /// Addresses, CIDR blocks (198.18.1.0/24), octet ranges (198.18.1.1-20) or host names.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Ports: 22,80,8000-8100; `-p-` for all 65535.
    #[arg(short = 'p', long = "ports", value_name = "SPEC", conflicts_with_all = ["top_ports", "fast"])]
    pub ports: Option<String>,

    /// The N most common ports of portolan's own ranking (default: 1000).
    #[arg(long = "top-ports", value_name = "N")]
    pub top_ports: Option<usize>,

    /// The 100 most common ports.
    #[arg(short = 'F', long = "fast", conflicts_with = "top_ports")]
    pub fast: bool,

    /// Read targets from FILE (one or more per line, `#` comments); `-iL` also works.
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

    /// Scan hosts and ports in order instead of a random order.
    #[arg(long = "no-randomize")]
    pub no_randomize: bool,

    /// Timing template, 0 (paranoid) to 5 (insane); the default adapts and needs none.
    #[arg(short = 'T', value_name = "0-5", value_parser = clap::value_parser!(u8).range(0..=5))]
    pub template: Option<u8>,

    /// At most N probes per second.
    #[arg(long = "max-rate", value_name = "N")]
    pub max_rate: Option<f64>,

    /// At most N probes in flight (default: adaptive, up to 5000 or the open-file limit).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// At most N probes in flight to one host.
    #[arg(long = "max-host-concurrency", value_name = "N")]
    pub max_host_concurrency: Option<usize>,

    /// At most N retries of an unanswered probe (the engine uses fewer on a clean path).
    #[arg(long = "max-retries", value_name = "N")]
    pub max_retries: Option<u8>,

    /// Timeout before any round trip is measured (e.g. 500ms, 2s).
    #[arg(long = "initial-rtt-timeout", value_name = "TIME")]
    pub initial_rtt_timeout: Option<String>,

    /// Never wait less than this for an answer.
    #[arg(long = "min-rtt-timeout", value_name = "TIME")]
    pub min_rtt_timeout: Option<String>,

    /// Never wait more than this for an answer.
    #[arg(long = "max-rtt-timeout", value_name = "TIME")]
    pub max_rtt_timeout: Option<String>,

    /// Write NDJSON (one object per port) to FILE, `-` for stdout; `-oD` also works.
    #[arg(long = "ndjson", value_name = "FILE")]
    pub ndjson: Option<PathBuf>,

    #[command(flatten)]
    pub output: crate::formats::OutputArgs,

    /// Show only open ports.
    #[arg(long)]
    pub open: bool,

    /// Never draw the progress bar.
    #[arg(long = "no-progress")]
    pub no_progress: bool,

    /// Print the engine's state (window, in flight, timeout) every 100 ms on stderr.
    #[arg(long = "debug-timeline", hide = true)]
    pub debug_timeline: bool,

    /// Identify the service behind each open port (banner, probes, TLS); `-sV` also works.
    #[arg(long = "probe")]
    pub probe: bool,

    /// With --probe: read at most N bytes of each answer (default 1024).
    #[arg(long = "banner-bytes", value_name = "N", requires = "probe")]
    pub banner_bytes: Option<usize>,

    /// With --probe: wait this long for each answer (default: 300 ms + 10 round trips).
    #[arg(long = "probe-timeout", value_name = "TIME", requires = "probe")]
    pub probe_timeout: Option<String>,

    /// With --probe: also use the fingerprint files (*.toml) of DIR, tried first.
    #[arg(long = "fingerprints", value_name = "DIR", requires = "probe")]
    pub fingerprints: Option<PathBuf>,

    /// Accepted for nmap habits (`-Pn`): portolan never pings before scanning.
    #[arg(long = "no-ping", hide = true)]
    pub no_ping: bool,

    /// Accepted for nmap habits (`-sT`): the connect scan is the default.
    #[arg(long = "connect-scan", hide = true)]
    pub connect_scan: bool,

    /// Accepted for nmap habits (`-n`): portolan never does reverse DNS.
    #[arg(short = 'n', hide = true)]
    pub no_dns: bool,
}

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
    ("-sT", "--connect-scan"),
    ("-sV", "--probe"),
];

/// Rewrites nmap-style options (`-iL FILE`) to their long forms.
pub fn rewrite_nmap_style(argv: Vec<OsString>) -> Vec<OsString> {
    let mut after_dashes = false;
    argv.into_iter()
        .map(|arg| {
            if after_dashes {
                return arg;
            }
            if arg == "--" {
                after_dashes = true;
                return arg;
            }
            match NMAP_STYLE.iter().find(|(short, _)| arg == *short) {
                Some((_, long)) => OsString::from(long),
                None => arg,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> ScanArgs {
        let argv = args.iter().map(OsString::from).collect();
        match Cli::try_parse_from(rewrite_nmap_style(argv))
            .unwrap()
            .command
        {
            Command::Scan(a) => *a,
            _ => panic!("expected scan"),
        }
    }

    #[test]
    fn nmap_habits_work() {
        let a = parse(&[
            "portolan",
            "scan",
            "-Pn",
            "-sT",
            "-n",
            "-T4",
            "-p-",
            "-iL",
            "hosts.txt",
            "-oD",
            "-",
            "x",
        ]);
        assert_eq!(a.ports.as_deref(), Some("-"));
        assert_eq!(a.template, Some(4));
        assert_eq!(a.input_list, [PathBuf::from("hosts.txt")]);
        assert_eq!(a.ndjson, Some(PathBuf::from("-")));
        assert_eq!(a.targets, ["x"]);
    }
}
