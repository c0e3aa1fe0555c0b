//! From what was typed to a validated [`ScanRequest`]: files read, names resolved,
//! numbers checked, outputs and the history database checked against each other,
//! defaults filled in. Every usage check of `portolan scan` lives here, in one
//! function, [`scan_request`], that touches the world only through [`Env`] (files,
//! the resolver, the open-file limit, the clock's seed), so that each check is a
//! unit test. Nothing is opened for writing and nothing is sent before it returns:
//! a refused request leaves every file as it was.
//!
//! `--resume` is checked here too: on the command line it allows only `--db` and
//! `--no-progress` (asked of clap's `value_source`, never of the raw argv), and the
//! stored arguments of the run are checked again as if typed.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use portolan_engine::{Concurrency, Rate, Scanner, ScannerBuilder, Template, Timing};
use portolan_probe::{Database, Settings};
use portolan_target::{derived_seed, PortList, Protocol, Scope, Shard, SpecHash, TargetSet};
use portolan_target::{words, Resolver, TargetSetBuilder};

use crate::args::Format;
use crate::args::{rewrite_habits, Cli, Command, ScanArgs, PATH_OPTIONS};
use crate::exit::{usage, UsageError};
use crate::probe::ProbeConfig;
use crate::scantype::{self, Plan, ScanKind};

/// Sockets kept back from the open-file limit for output files and the like (the
/// `-sV` prober's connections are kept back on top of these).
const FD_RESERVE: u64 = 64;
/// The default ceiling of the congestion window.
const DEFAULT_MAX_IN_FLIGHT: usize = 5000;
/// The most bytes `--banner-bytes` may ask for.
const MAX_BANNER_BYTES: usize = 1 << 20;
/// The options `--resume` may be given with (clap ids).
const RESUME_ALLOWS: &[&str] = &["resume", "db", "no_progress"];

/// Who a file is, whatever its spelling: two keys are equal exactly when two paths
/// name one file (a symlink, `./a.out` and `a.out`, a hard link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKey {
    /// An existing file: its device and inode.
    Inode { dev: u64, ino: u64 },
    /// A file still to be created: its canonical directory and name.
    New(PathBuf),
}

/// The world as the request sees it.
pub trait Env {
    /// The text of `path`, `-` meaning stdin.
    fn read_text(&self, path: &Path) -> io::Result<String>;
    /// Who `path` is, or why it cannot be written (checked without truncating it).
    fn output_key(&self, path: &Path) -> Result<FileKey, String>;
    /// `path` made absolute against the working directory.
    fn absolute(&self, path: &Path) -> PathBuf;
    /// The default history database, when there is a home for it.
    fn default_db(&self) -> Option<PathBuf>;
    /// The name resolver for host names.
    fn resolver(&self) -> &dyn Resolver;
    /// The open-file limit.
    fn file_limit(&self) -> u64;
    /// A seed for a random order when none was given.
    fn random_seed(&self) -> u64;
    /// The fingerprint database: the built-in one, after the files of `dir`.
    fn fingerprints(&self, dir: Option<&Path>) -> anyhow::Result<Database>;
}

/// What the user typed for `portolan scan`.
pub struct Typed<'a> {
    pub args: &'a ScanArgs,
    /// The clap ids of the options given on the command line.
    pub given: &'a [String],
    /// The words after `scan`, nmap habits rewritten.
    pub argv: &'a [OsString],
}

/// The clap ids of the options of `scan` (not their groups) that `matches` (of
/// `scan`) took from the command line.
pub fn given(matches: &ArgMatches) -> Vec<String> {
    let cmd = Cli::command();
    let Some(scan) = cmd.find_subcommand("scan") else {
        return Vec::new();
    };
    matches
        .ids()
        .filter(|id| scan.get_arguments().any(|a| a.get_id() == *id))
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_owned())
        .collect()
}

/// Which interrupted scan to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeWhich {
    Last,
    Id(i64),
}

/// A run of the history, as `--resume` needs it.
pub struct Stored {
    pub id: i64,
    pub argv: Vec<String>,
    pub seed: Option<u64>,
    /// The targets as given (`-iL` words included); `None` for older runs.
    pub target_specs: Option<Vec<String>>,
}

/// Where the scan is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum History {
    /// `--no-history`.
    Off,
    /// The default database: a convenience, the scan goes on without it.
    Default(Option<PathBuf>),
    /// `--db PATH`: failing to open it is an error.
    Named(PathBuf),
}

impl History {
    /// The database file, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            History::Off | History::Default(None) => None,
            History::Default(Some(p)) | History::Named(p) => Some(p),
        }
    }
}

/// Where the scan order comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Random { seed: u64 },
    Sequential,
}

/// `--shard I/N`, with the hash of the pair space it is a shard of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardPlan {
    pub shard: Shard,
    pub spec: SpecHash,
}

/// A report and where it goes (`-` is stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub path: PathBuf,
}

/// A validated scan request.
pub struct ScanRequest {
    /// The TCP scan, if TCP is scanned (`-sU` alone scans only UDP).
    pub kind: Option<ScanKind>,
    pub targets: Arc<TargetSet>,
    /// The TCP ports; when only UDP is scanned, the UDP ports (the list the
    /// history and the reports name the run by).
    pub ports: Arc<PortList>,
    /// The UDP ports, when UDP is scanned (`-sU`).
    pub udp: Option<Arc<PortList>>,
    pub order: OrderKind,
    /// `--shard`: which part of the order this run walks.
    pub shard: Option<ShardPlan>,
    pub engine: ScannerBuilder,
    /// Every file report, checked: creatable, distinct, not the database.
    pub outputs: Vec<Output>,
    pub history: History,
    /// The arguments to record in the history, output paths made absolute.
    pub record_argv: Vec<String>,
    /// The targets as typed, for the history's list.
    pub target_words: Vec<String>,
    pub open_only: bool,
    pub progress: bool,
    /// Print each progress snapshot on stderr (`--debug-timeline`).
    pub timeline: bool,
    /// `-sV`: how to identify services, when asked for.
    pub probe: Option<ProbeConfig>,
    /// Notes for the user about adjustments made (printed on stderr).
    pub notes: Vec<String>,
    /// `--proxy`: scan through this proxy.
    pub proxy: Option<ProxyConfig>,
    /// `--on-open`: the command to run per open port.
    pub on_open: Option<crate::on_open::OnOpenConfig>,
    /// `-sn` or `--discover`: find the hosts that are up first.
    pub discovery: Option<DiscoveryConfig>,
}

/// Host discovery as asked for (`-sn`, `--discover`, `--unprivileged`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// `-sn`: discovery only, no port scan.
    pub only: bool,
    /// Which pings: raw ones when the privilege is there, or never.
    pub mode: PingMode,
    /// Timeouts and retries, the port scan's (`-T`, `--max-retries`, ...).
    pub timing: portolan_engine::Timing,
}

/// Whether host discovery may use raw sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingMode {
    /// Raw ICMP (echo, timestamp) and neighbour discovery when `CAP_NET_RAW` is
    /// there, else the unprivileged pings.
    Auto,
    /// `--unprivileged`: ping sockets and TCP connects only.
    Unprivileged,
}

/// What the `-sX` letters ask for, and host discovery; `-sn` scans no port, and
/// has no port results for the history (of ports) to record.
fn plan(args: &ScanArgs) -> anyhow::Result<(Plan, Option<DiscoveryConfig>)> {
    let only = scantype::discovery_only(&args.scan_type).map_err(usage)?;
    let letters: &[String] = if only { &[] } else { &args.scan_type };
    let plan = scantype::resolve(letters).map_err(usage)?;
    Ok((plan, discovery(args, only)?))
}

/// The host discovery of a request, checked against what else was typed.
fn discovery(args: &ScanArgs, only: bool) -> anyhow::Result<Option<DiscoveryConfig>> {
    let d = &args.discovery;
    if !only && !d.discover {
        if d.unprivileged {
            return Err(usage(
                "--unprivileged is about host discovery: it goes with -sn or --discover",
            ));
        }
        return Ok(None);
    }
    let what = if only { "-sn" } else { "--discover" };
    if args.no_ping {
        return Err(usage(format!(
            "{what} pings the hosts first; -Pn says not to"
        )));
    }
    if only && d.discover {
        return Err(usage(
            "-sn is discovery alone, --discover is discovery before a port scan: give one",
        ));
    }
    if args.proxy.is_some() {
        return Err(usage(format!(
            "{what} cannot go through --proxy: a proxy cannot ping"
        )));
    }
    if args.shard.is_some() {
        return Err(usage(format!(
            "{what} cannot go with --shard: shards must scan the same pairs"
        )));
    }
    if only && args.identify {
        return Err(usage(
            "-sn scans no port, so -sV has nothing to identify; use --discover -sV",
        ));
    }
    Ok(Some(DiscoveryConfig {
        only,
        mode: if d.unprivileged {
            PingMode::Unprivileged
        } else {
            PingMode::Auto
        },
        timing: portolan_engine::Timing::default(),
    }))
}

/// A checked `--proxy`: its URL and the address it was found at.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub url: portolan_proxy::ProxyUrl,
    pub addr: std::net::SocketAddr,
    /// For a proxy that resolves names (`socks5h://`, `http://`): the scan's target
    /// names, left unresolved here, each with its stand-in address.
    pub names: Arc<portolan_proxy::RemoteNames>,
}

/// The resolver of a scan whose proxy resolves names: a name is never looked up
/// here, it gets its stand-in (see `portolan_proxy::RemoteNames`), and the proxy
/// transport sends the proxy the name.
struct LeftToTheProxy<'a>(&'a portolan_proxy::RemoteNames);

/// The resolver of the scan's target names: the proxy's stand-ins when it resolves
/// names, else the environment's.
fn target_resolver<'a>(proxy: Option<&'a ProxyConfig>, env: &'a dyn Env) -> Box<dyn Resolver + 'a> {
    match proxy.filter(|p| p.url.scheme.remote_names()) {
        Some(p) => Box::new(LeftToTheProxy(&p.names)),
        None => Box::new(EnvResolver(env)),
    }
}

/// The environment's resolver, owned by a box.
struct EnvResolver<'a>(&'a dyn Env);

impl Resolver for EnvResolver<'_> {
    fn resolve(&self, name: &str) -> std::io::Result<Vec<std::net::IpAddr>> {
        self.0.resolver().resolve(name)
    }
}

impl Resolver for LeftToTheProxy<'_> {
    fn resolve(&self, name: &str) -> std::io::Result<Vec<std::net::IpAddr>> {
        self.0
            .stand_in(name)
            .map(|a| vec![a])
            .map_err(std::io::Error::other)
    }
}

/// Connections to one proxy at once when `--proxy-concurrency` is not given: a proxy
/// is one process shared by every probe (danted forks per client, tinyproxy has a
/// connection limit), so the default is modest; the engine's window adapts below it.
pub const DEFAULT_PROXY_CONCURRENCY: usize = 32;

/// The shortest timeout of a probe through a proxy, unless `--min-rtt-timeout` says.
pub const PROXY_MIN_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);

/// The proxy named by `--proxy`, its host resolved with `resolver`.
pub fn proxy_config(text: &str, resolver: &dyn Resolver) -> anyhow::Result<ProxyConfig> {
    let url: portolan_proxy::ProxyUrl = text.parse().map_err(|e| usage(format!("--proxy {e}")))?;
    let ip = match url.host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip,
        Err(_) => *resolver
            .resolve(&url.host)
            .map_err(|e| usage(format!("--proxy: cannot resolve {}: {e}", url.host)))?
            .first()
            .ok_or_else(|| usage(format!("--proxy: {} has no address", url.host)))?,
    };
    Ok(ProxyConfig {
        addr: std::net::SocketAddr::new(ip, url.port),
        url,
        names: Arc::default(),
    })
}

/// The `--resume` part of the request: which run, checked against what else was typed.
pub fn resume_wanted(typed: &Typed) -> anyhow::Result<Option<ResumeWhich>> {
    let Some(which) = &typed.args.history.resume else {
        return Ok(None);
    };
    if typed.args.history.no_history {
        return Err(usage(
            "--resume needs the history; it cannot go with --no-history",
        ));
    }
    if !typed.args.targets.is_empty() || !typed.args.input_list.is_empty() {
        return Err(usage(
            "--resume takes the targets of the scan it continues; give none",
        ));
    }
    if let Some(other) = typed
        .given
        .iter()
        .find(|id| !RESUME_ALLOWS.contains(&id.as_str()))
    {
        return Err(usage(format!(
            "--resume continues a scan with its own options; {} cannot be given with it (only --db and --no-progress)",
            flag_name(other)
        )));
    }
    if which == "last" {
        return Ok(Some(ResumeWhich::Last));
    }
    which
        .parse()
        .map(|id| Some(ResumeWhich::Id(id)))
        .map_err(|_| usage(format!("--resume {which:?}: expected a scan id")))
}

/// The option's name as the user knows it, from its clap id.
fn flag_name(id: &str) -> String {
    let cmd = Cli::command();
    let arg = cmd
        .find_subcommand("scan")
        .and_then(|scan| scan.get_arguments().find(|a| a.get_id() == id));
    match arg {
        Some(a) if a.get_long().is_some() => format!("--{}", a.get_long().unwrap_or(id)),
        Some(a) if a.get_short().is_some() => format!("-{}", a.get_short().unwrap_or('?')),
        _ => id.to_owned(),
    }
}

/// Parses the stored arguments of a run as `portolan scan` would.
fn stored_args(stored: &Stored) -> anyhow::Result<ScanArgs> {
    let mut argv: Vec<OsString> = vec!["portolan".into(), "scan".into()];
    argv.extend(stored.argv.iter().map(OsString::from));
    let argv = rewrite_habits(argv)?;
    let cli = Cli::try_parse_from_argv(argv)
        .with_context(|| format!("the stored arguments of scan {}", stored.id))?;
    match cli.command {
        Command::Scan(args) => Ok(*args),
        _ => Err(usage(format!(
            "scan {} was not recorded by `portolan scan`",
            stored.id
        ))),
    }
}

/// Where `portolan merge` writes: its own outputs and history, in place of the
/// shards'.
pub struct MergeOutputs<'a> {
    /// The targets as given that a shard's history stored (`-iL` files' words
    /// included): used instead of reading the files again, as `--resume` does.
    pub stored_targets: Option<&'a [String]>,
    pub output: &'a crate::args::OutputArgs,
    pub ndjson: Option<&'a Path>,
    pub open: bool,
    pub db: Option<&'a Path>,
}

/// The request of the whole scan that the shards recorded (`argv`, the words after
/// `scan`), checked as if typed, with `--shard` dropped and the outputs and history
/// of `merge` instead of the shards' own.
pub fn merge_request(
    argv: &[String],
    outs: &MergeOutputs,
    env: &dyn Env,
) -> anyhow::Result<ScanRequest> {
    // The shard's own choices, replaced by merge's: which shard, where it wrote.
    const DROP_WITH_VALUE: &[&str] = &[
        "--shard",
        "--ndjson",
        "-oD",
        "--normal",
        "-oN",
        "--xml",
        "-oX",
        "--grepable",
        "-oG",
        "--json",
        "-oJ",
        "--csv",
        "--all-formats",
        "-oA",
        "--db",
    ];
    const DROP: &[&str] = &["--no-history", "--open", "--no-progress"];
    let mut words: Vec<OsString> = Vec::with_capacity(argv.len());
    let mut skip = false;
    for w in argv {
        if std::mem::take(&mut skip) {
            continue;
        }
        let flag = w.split_once('=').map_or(w.as_str(), |(f, _)| f);
        if DROP_WITH_VALUE.contains(&w.as_str()) {
            skip = true;
        } else if !DROP.contains(&w.as_str()) && !DROP_WITH_VALUE.contains(&flag) {
            words.push(OsString::from(w));
        }
    }
    let mut full: Vec<OsString> = vec!["portolan".into(), "scan".into()];
    full.extend(words.iter().cloned());
    let cli = Cli::try_parse_from_argv(rewrite_habits(full)?).map_err(|e| {
        usage(format!(
            "the shards' recorded arguments do not parse: {}",
            e.kind()
        ))
    })?;
    let Command::Scan(mut args) = cli.command else {
        return Err(usage("the shards' recorded arguments are not a scan's"));
    };
    let stdin = Path::new("-");
    if args
        .input_list
        .iter()
        .chain(&args.exclude_file)
        .any(|p| p == stdin)
        || args.scope.as_deref() == Some(stdin)
    {
        return Err(usage(
            "the shards read targets from stdin (-iL -), which merge cannot read again: run the shards with a target file",
        ));
    }
    if let Some(specs) = outs.stored_targets {
        args.targets = specs.to_vec();
        args.input_list.clear();
    }
    args.output = outs.output.clone();
    args.ndjson = outs.ndjson.map(Path::to_path_buf);
    args.open = outs.open;
    args.history = crate::args::HistoryOptions {
        no_history: outs.db.is_none(),
        db: outs.db.map(Path::to_path_buf),
        resume: None,
    };
    args.no_progress = true;
    args.shard = None;
    let typed = Typed {
        args: &args,
        given: &[],
        argv: &words,
    };
    scan_request(&typed, None, env)
}

/// Checks a request and builds everything the scan needs. `stored` is the run that
/// `--resume` continues (its arguments replace the typed ones, but for `--db` and
/// `--no-progress`).
pub fn scan_request(
    typed: &Typed,
    stored: Option<&Stored>,
    env: &dyn Env,
) -> anyhow::Result<ScanRequest> {
    let resume = resume_wanted(typed)?;
    let mut resume_note = None;
    let (args, record_argv) = match (resume, stored) {
        (None, _) => (Cow::Borrowed(typed.args), record_argv(typed.argv, env)),
        (Some(_), None) => return Err(usage("--resume: the run to continue was not loaded")),
        (Some(_), Some(stored)) => {
            let mut args = stored_args(stored)?;
            if let Some(specs) = &stored.target_specs {
                resume_note = use_stored_targets(&mut args, specs, stored.id, env);
            }
            if let Some(rel) = relative_path(&stored.argv) {
                return Err(usage(format!(
                    "scan {} recorded the relative path {rel:?}, and portolan cannot tell which directory it meant; start the scan again",
                    stored.id
                )));
            }
            args.seed = stored.seed;
            args.no_randomize = stored.seed.is_none();
            args.history = typed.args.history.clone();
            args.history.resume = None;
            args.no_progress |= typed.args.no_progress;
            (Cow::Owned(args), stored.argv.clone())
        }
    };
    let args = args.as_ref();
    check_conflicts(args, resume.is_some())?;
    let (plan, discovery) = plan(args)?;
    let proxy = match &args.proxy {
        Some(text) => {
            if plan.udp || plan.tcp != Some(ScanKind::Connect) {
                return Err(usage(
                    "--proxy scans with the proxy's connections: it goes with the connect scan (-sT) only",
                ));
            }
            Some(proxy_config(text, env.resolver())?)
        }
        None => None,
    };
    let history = history(args, env, discovery.is_some_and(|d| d.only));
    let outputs = outputs(args, &history, env)?;
    let (tcp_ports, udp_ports) = ports(args, plan)?;
    let udp = udp_ports.map(Arc::new);
    let ports = match (tcp_ports, &udp) {
        (Some(tcp), _) => Arc::new(tcp),
        (None, Some(udp)) => udp.clone(),
        (None, None) => return Err(usage("no protocol to scan")),
    };
    let (targets, target_words) = targets(args, env, &*target_resolver(proxy.as_ref(), env))?;
    check_endpoint_protocols(&targets, plan, discovery.as_ref())?;
    let (ports, udp) = endpoint_ports(&targets, plan, ports, udp);
    let targets = Arc::new(targets);
    let timing = timing(args)?;
    let discovery = discovery.map(|d| DiscoveryConfig { timing, ..d });
    let mut probe = probe(args, env)?;
    if let (Some(p), Some(proxy)) = (probe.as_mut(), proxy.as_ref()) {
        // -sV talks to the open ports through the same proxy, as many at once as
        // the scan may have.
        p.settings.proxy = Some(proxy.url.clone());
        p.settings.concurrency = p
            .settings
            .concurrency
            .min(args.proxy_concurrency.unwrap_or(DEFAULT_PROXY_CONCURRENCY));
    }
    let mut notes: Vec<String> = resume_note.into_iter().collect();
    let engine = engine(args, timing, probe.as_ref(), env.file_limit(), &mut notes)?;
    let shard = args.shard.map(|shard| ShardPlan {
        shard,
        spec: SpecHash::of(&targets, &ports, Protocol::Tcp),
    });
    let order = if args.no_randomize {
        OrderKind::Sequential
    } else {
        // Shards started anywhere must agree on the order: without --seed, theirs
        // comes from the pair space itself.
        let seed = match (args.seed, shard) {
            (Some(seed), _) => seed,
            (None, Some(plan)) => derived_seed(plan.spec),
            (None, None) => env.random_seed(),
        };
        OrderKind::Random { seed }
    };
    Ok(ScanRequest {
        kind: plan.tcp,
        targets,
        ports,
        udp,
        order,
        shard,
        engine,
        outputs,
        history,
        record_argv,
        target_words,
        open_only: args.open,
        progress: !args.no_progress,
        timeline: args.debug_timeline,
        probe,
        notes,
        proxy,
        on_open: on_open(args)?,
        discovery,
    })
}

/// `--on-open` and its options, checked.
fn on_open(args: &ScanArgs) -> anyhow::Result<Option<crate::on_open::OnOpenConfig>> {
    use crate::on_open::{OnOpenCommand, OnOpenConfig, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT};
    let Some(text) = &args.on_open else {
        return Ok(None);
    };
    let concurrency = match args.on_open_concurrency {
        Some(0) => return Err(usage("--on-open-concurrency must be at least 1")),
        Some(n) => n,
        None => DEFAULT_CONCURRENCY,
    };
    Ok(Some(OnOpenConfig {
        command: OnOpenCommand::parse(text, args.on_open_shell)?,
        concurrency,
        timeout: args.on_open_timeout.unwrap_or(DEFAULT_TIMEOUT),
    }))
}

/// With endpoints alone (no host to cross with the list), the reports and the
/// history name the run by the endpoints' ports, not by a list never scanned.
fn endpoint_ports(
    targets: &TargetSet,
    plan: Plan,
    ports: Arc<PortList>,
    udp: Option<Arc<PortList>>,
) -> (Arc<PortList>, Option<Arc<PortList>>) {
    if targets.hosts() > 0 {
        return (ports, udp);
    }
    let only = |proto, list: Arc<PortList>| {
        let ps = targets.endpoints(proto).iter().map(|e| e.port).collect();
        PortList::from_ports(ps).map_or(list, Arc::new)
    };
    let udp = udp.map(|u| only(Protocol::Udp, u));
    let ports = match (plan.tcp, &udp) {
        (None, Some(u)) => u.clone(),
        _ => only(Protocol::Tcp, ports),
    };
    (ports, udp)
}

/// `HOST:PORT/udp` endpoints need a UDP scan and TCP ones a TCP scan, as `U:` and
/// `T:` ports do.
fn check_endpoint_protocols(
    targets: &TargetSet,
    plan: Plan,
    discovery: Option<&DiscoveryConfig>,
) -> anyhow::Result<()> {
    let first = |proto| targets.endpoints(proto).first().cloned();
    if let (Some(_), Some(e)) = (discovery, first(Protocol::Tcp).or(first(Protocol::Udp))) {
        return Err(usage(format!(
            "endpoint {}:{} is scanned as given: host discovery (-sn, --discover) pings hosts, not endpoints",
            e.addr, e.port
        )));
    }
    if let (false, Some(e)) = (plan.udp, first(Protocol::Udp)) {
        return Err(usage(format!(
            "endpoint {}:{}/udp needs a UDP scan; add -sU (with -sT to scan TCP too)",
            e.addr, e.port
        )));
    }
    if let (None, Some(e)) = (plan.tcp, first(Protocol::Tcp)) {
        return Err(usage(format!(
            "endpoint {}:{} is a TCP port; add -sT to -sU to scan both (or write it HOST:PORT/udp)",
            e.addr, e.port
        )));
    }
    Ok(())
}

impl ScanRequest {
    /// The TCP ports the history keeps answered bits for: the port list and the
    /// ports of the explicit TCP endpoints, so `--resume` skips an endpoint that
    /// was answered as it skips any other pair.
    pub fn answered_ports(&self) -> Arc<PortList> {
        let eps = self.targets.endpoints(Protocol::Tcp);
        if eps.is_empty() {
            return self.ports.clone();
        }
        let mut all = self.ports.as_slice().to_vec();
        all.extend(eps.iter().map(|e| e.port));
        Arc::new(PortList::from_ports(all).unwrap_or_else(|| (*self.ports).clone()))
    }

    /// The UDP ports the history keeps answered bits for (none without a UDP
    /// pass): the UDP list and the ports of the explicit UDP endpoints.
    pub fn answered_udp_ports(&self) -> Option<Arc<PortList>> {
        let udp = self.udp.as_ref()?;
        let eps = self.targets.endpoints(Protocol::Udp);
        if eps.is_empty() {
            return Some(udp.clone());
        }
        let mut all = udp.as_slice().to_vec();
        all.extend(eps.iter().map(|e| e.port));
        Some(Arc::new(
            PortList::from_ports(all).unwrap_or_else(|| (**udp).clone()),
        ))
    }
}

/// Options that cannot go together, said in the user's words.
fn check_conflicts(args: &ScanArgs, resuming: bool) -> anyhow::Result<()> {
    if args.no_randomize && args.seed.is_some() && !resuming {
        return Err(usage(
            "--seed cannot go with --no-randomize: a scan in order has no random order to seed",
        ));
    }
    if args.history.no_history && args.history.db.is_some() {
        return Err(usage(
            "--db cannot go with --no-history: one records the scan, the other says not to",
        ));
    }
    if let Some(db) = &args.history.db {
        // A typed path is not ours to create directories for (only the default one).
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(usage(format!(
                    "no directory {} for the history database --db {}: create it first",
                    dir.display(),
                    db.display()
                )));
            }
        }
    }
    Ok(())
}

/// The history asked for; none for `-sn` (`discovery_only`), which has no port
/// results for the history (of ports) to record.
fn history(args: &ScanArgs, env: &dyn Env, discovery_only: bool) -> History {
    let h = &args.history;
    if h.no_history || discovery_only {
        History::Off
    } else if let Some(db) = &h.db {
        History::Named(db.clone())
    } else {
        History::Default(env.default_db())
    }
}

/// The output files asked for, each checked creatable without touching it, none
/// named twice by any spelling, none the history database.
fn outputs(args: &ScanArgs, history: &History, env: &dyn Env) -> anyhow::Result<Vec<Output>> {
    let files: Vec<Output> = args
        .output
        .files(args.ndjson.as_deref())
        .into_iter()
        .map(|(format, path)| Output { format, path })
        .collect();
    if files.iter().filter(|o| o.path == Path::new("-")).count() > 1 {
        return Err(usage("only one output format can write to stdout (-)"));
    }
    let mut keys: Vec<(FileKey, &Path)> = Vec::new();
    for out in files.iter().filter(|o| o.path != Path::new("-")) {
        let key = env
            .output_key(&out.path)
            .map_err(|why| usage(format!("cannot write {}: {why}", out.path.display())))?;
        if let Some((_, first)) = keys.iter().find(|(k, _)| *k == key) {
            return Err(usage(format!(
                "two outputs name the same file: {} and {}",
                first.display(),
                out.path.display()
            )));
        }
        keys.push((key, &out.path));
    }
    if let Some(db) = history.path() {
        if let Ok(db_key) = env.output_key(db) {
            if let Some((_, out)) = keys.iter().find(|(k, _)| *k == db_key) {
                return Err(usage(format!(
                    "the output {} is the history database {}: it would be overwritten",
                    out.display(),
                    db.display()
                )));
            }
        }
    }
    Ok(files)
}

/// `argv` with the value of every path option made absolute, for the history.
fn record_argv(argv: &[OsString], env: &dyn Env) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut path_next = false;
    for word in argv.iter().map(|w| w.to_string_lossy().into_owned()) {
        if std::mem::take(&mut path_next) && word != "-" {
            out.push(
                env.absolute(Path::new(&word))
                    .to_string_lossy()
                    .into_owned(),
            );
            continue;
        }
        if PATH_OPTIONS.contains(&word.as_str()) {
            path_next = true;
        } else if let Some((flag, value)) = word.split_once('=') {
            if PATH_OPTIONS.contains(&flag) && value != "-" {
                let abs = env.absolute(Path::new(value));
                out.push(format!("{flag}={}", abs.to_string_lossy()));
                continue;
            }
        }
        out.push(word);
    }
    out
}

/// The first relative path among the path options of a stored argv.
fn relative_path(argv: &[String]) -> Option<&str> {
    let mut path_next = false;
    for word in argv {
        let long = word.as_str();
        let value = if std::mem::take(&mut path_next) {
            Some(long)
        } else if PATH_OPTIONS.contains(&long) || habit_path_option(long) {
            path_next = true;
            None
        } else {
            long.split_once('=')
                .filter(|(f, _)| PATH_OPTIONS.contains(f))
                .map(|(_, v)| v)
        };
        if let Some(v) = value.filter(|v| *v != "-" && Path::new(v).is_relative()) {
            return Some(v);
        }
    }
    None
}

/// Whether `word` is an nmap short form of a path option (`-oX`, `-iL`).
fn habit_path_option(word: &str) -> bool {
    ["-iL", "-oD", "-oN", "-oX", "-oG", "-oJ", "-oA"].contains(&word)
}

/// The TCP and UDP port lists of the plan (`None` for a protocol not scanned).
/// `-p` takes nmap's prefixes: `T:` and `U:` select the protocol of the ports that
/// follow, and ports before any prefix are scanned with every protocol selected;
/// `--top-ports`, `-F` and the default take each protocol's own ranking.
fn ports(args: &ScanArgs, plan: Plan) -> anyhow::Result<(Option<PortList>, Option<PortList>)> {
    let (tcp, udp) = chosen_ports(args, plan)?;
    let Some(spec) = &args.exclude_ports else {
        return Ok((tcp, udp));
    };
    // The same grammar as -p: plain ports leave every protocol, T:/U: one.
    let split =
        split_protocols(spec).map_err(|e| usage(e.0.replacen("-p ", "--exclude-ports ", 1)))?;
    let quoted = portolan_target::file::quote(spec);
    let drop = |list: Option<PortList>, parts: Vec<&str>, what: &str| -> anyhow::Result<_> {
        let Some(list) = list else { return Ok(None) };
        if parts.is_empty() {
            return Ok(Some(list));
        }
        let excluded = PortList::parse(&parts.join(","))
            .with_context(|| format!("--exclude-ports {quoted}"))?;
        list.without(&excluded).map(Some).ok_or_else(|| {
            usage(format!(
                "--exclude-ports {quoted} leaves no {what} port to scan"
            ))
        })
    };
    Ok((drop(tcp, split.tcp, "TCP")?, drop(udp, split.udp, "UDP")?))
}

/// The port lists as -p, --top-ports or -F chose them, before `--exclude-ports`.
fn chosen_ports(
    args: &ScanArgs,
    plan: Plan,
) -> anyhow::Result<(Option<PortList>, Option<PortList>)> {
    let tcp = plan.tcp.is_some();
    let Some(spec) = &args.ports else {
        let n = match (args.top_ports, args.fast) {
            (Some(n), _) => n,
            (None, true) => 100,
            (None, false) => 1000,
        };
        let t = if tcp { Some(PortList::top(n)?) } else { None };
        let u = if plan.udp {
            Some(PortList::top_udp(n)?)
        } else {
            None
        };
        return Ok((t, u));
    };
    let Split {
        tcp: t,
        udp: u,
        prefixed_tcp,
        prefixed_udp,
    } = split_protocols(spec)?;
    // The spec as typed may hold anything: it is quoted the one way.
    let spec = portolan_target::file::quote(spec);
    let pick = |parts: Vec<&str>, wanted: bool, what: &str, letter: &str| {
        if !wanted {
            return Ok(None);
        }
        if parts.is_empty() {
            return Err(usage(format!(
                "-p {spec}: no {what} ports, but {letter} asks for a {what} scan; add {} ports, e.g. -p {}80",
                what,
                if what == "UDP" { "U:53," } else { "T:" }
            )));
        }
        PortList::parse(&parts.join(","))
            .map(Some)
            .with_context(|| format!("-p {spec}"))
    };
    if !plan.udp && prefixed_udp {
        return Err(usage(format!(
            "-p {spec}: UDP ports (U:) need a UDP scan; add -sU (with -sT to scan TCP too)"
        )));
    }
    if !tcp && prefixed_tcp {
        return Err(usage(format!(
            "-p {spec}: TCP ports (T:) need a TCP scan; add -sT to -sU to scan both"
        )));
    }
    Ok((
        pick(t, tcp, "TCP", "-sT")?,
        pick(u, plan.udp, "UDP", "-sU")?,
    ))
}

/// A `-p` spec split by protocol.
struct Split<'a> {
    tcp: Vec<&'a str>,
    udp: Vec<&'a str>,
    /// A `T:` prefix was given.
    prefixed_tcp: bool,
    /// A `U:` prefix was given.
    prefixed_udp: bool,
}

/// Splits a `-p` spec into its TCP and UDP parts: a `T:` or `U:` prefix holds
/// until the next one; parts before any prefix go to both. `S:` (SCTP) is refused.
fn split_protocols(spec: &str) -> Result<Split<'_>, UsageError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Both,
        Tcp,
        Udp,
    }
    let (mut tcp, mut udp) = (Vec::new(), Vec::new());
    let (mut prefixed_tcp, mut prefixed_udp) = (false, false);
    let mut mode = Mode::Both;
    for part in spec.split(',') {
        let trimmed = part.trim();
        let body = match trimmed.get(..2).map(str::to_ascii_uppercase).as_deref() {
            Some("T:") => {
                mode = Mode::Tcp;
                prefixed_tcp = true;
                &trimmed[2..]
            }
            Some("U:") => {
                mode = Mode::Udp;
                prefixed_udp = true;
                &trimmed[2..]
            }
            Some("S:") => {
                return Err(UsageError(format!(
                    "-p {}: SCTP ports (S:) are not available; portolan scans TCP (T:) and UDP (U:) ports",
                    portolan_target::file::quote(spec)
                )))
            }
            _ => trimmed,
        };
        if matches!(mode, Mode::Both | Mode::Tcp) {
            tcp.push(body);
        }
        if matches!(mode, Mode::Both | Mode::Udp) {
            udp.push(body);
        }
    }
    Ok(Split {
        tcp,
        udp,
        prefixed_tcp,
        prefixed_udp,
    })
}

/// Reads a file of targets, scope or exclusions; `-` is stdin. A UTF-8 byte-order
/// mark (Windows editors write one) is dropped.
fn read(env: &dyn Env, path: &Path, what: &str) -> anyhow::Result<String> {
    let text = env
        .read_text(path)
        .map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// A target word as the target parser wants it: `[::1]` unbracketed; an address
/// with a zone (`fe80::1%eth0`) refused, since the engine has no zone to give.
fn target_word(word: &str) -> Result<&str, UsageError> {
    let w = word.trim();
    let w = w
        .strip_prefix('[')
        .and_then(|w| w.strip_suffix(']'))
        .unwrap_or(w);
    if let Some((_, zone)) = w.split_once('%') {
        return Err(UsageError(format!(
            "{word}: addresses with a zone (%{zone}) are not supported yet; scan the host at a global or loopback address instead (e.g. ::1)"
        )));
    }
    Ok(w)
}

/// The targets as given: those typed, then the words of each `-iL` file.
fn target_specs(args: &ScanArgs, env: &dyn Env) -> anyhow::Result<Vec<String>> {
    let mut specs = args.targets.clone();
    for path in &args.input_list {
        specs.extend(list_words(&read(env, path, "target list")?).map(|(_, w)| w));
    }
    Ok(specs)
}

/// The words of a target list with their line numbers (from 1). A line in
/// masscan's list or nmap's grepable format gives its open endpoints
/// (`ADDR:PORT/PROTO`, see `portolan_target::line_endpoints`); any other line is
/// read word by word, `#` to the end of the line being a comment.
fn list_words(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    text.lines().enumerate().flat_map(|(i, line)| {
        let words: Vec<String> = match portolan_target::line_endpoints(line) {
            Some(endpoints) => endpoints,
            None => words(line).map(str::to_owned).collect(),
        };
        words.into_iter().map(move |w| (i + 1, w))
    })
}

/// How a message names a target list: `stdin` for `-`.
fn list_name(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

/// `--resume` scans the targets run `id` stored, not its `-iL` files as they are
/// now; returns a note when the files changed or are gone.
fn use_stored_targets(
    args: &mut ScanArgs,
    specs: &[String],
    id: i64,
    env: &dyn Env,
) -> Option<String> {
    let note = (!args.input_list.is_empty()
        && target_specs(args, env).ok().as_deref() != Some(specs))
    .then(|| {
        let files: Vec<String> = args
            .input_list
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        format!(
            "{} changed or gone since scan {id} began: resuming with the {} targets it stored",
            files.join(", "),
            specs.len()
        )
    });
    args.targets = specs.to_vec();
    args.input_list.clear();
    note
}

/// The target set, and the targets as given (typed, then the words of `-iL` files)
/// for the history.
/// The targets as typed and read, names resolved with `resolver`.
fn targets(
    args: &ScanArgs,
    env: &dyn Env,
    resolver: &dyn Resolver,
) -> anyhow::Result<(TargetSet, Vec<String>)> {
    let mut specs = args.targets.clone();
    if args.targets.is_empty() && args.input_list.is_empty() {
        return Err(usage(
            "no targets given (try `portolan scan 127.0.0.1`, or `portolan demo`)",
        ));
    }
    if args
        .input_list
        .iter()
        .filter(|p| *p == Path::new("-"))
        .count()
        > 1
    {
        return Err(usage("-iL - reads stdin, which can be read only once"));
    }
    let mut b = TargetSetBuilder::new().allow_large(args.large);
    for t in &args.targets {
        b = b.target(target_word(t)?)?;
    }
    for path in &args.input_list {
        let text = read(env, path, "target list")?;
        for (n, w) in list_words(&text) {
            let at = || format!("{}, line {n}", list_name(path));
            b = b
                .target(target_word(&w).map_err(|e| usage(format!("{}: {}", at(), e.0)))?)
                .with_context(at)?;
            specs.push(w);
        }
    }
    for list in &args.exclude {
        for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            b = b.exclude(target_word(t)?)?;
        }
    }
    for path in &args.exclude_file {
        let text = read(env, path, "exclude file")?;
        for w in words(&text) {
            b = b
                .exclude(target_word(w)?)
                .with_context(|| format!("in {}", path.display()))?;
        }
    }
    if let Some(path) = &args.scope {
        let scope = Scope::parse(&read(env, path, "scope file")?)
            .with_context(|| format!("in scope file {}", path.display()))?;
        b = b.scope(Some(scope));
    }
    Ok((b.build(resolver)?, specs))
}

fn timing(args: &ScanArgs) -> anyhow::Result<Timing> {
    let mut t = args
        .template
        .and_then(Template::from_level)
        .unwrap_or(Template::Normal)
        .timing();
    if let Some(n) = args.max_retries {
        t.max_retries = n;
    }
    if let Some(d) = args.initial_rtt_timeout {
        t.initial_timeout = d;
    }
    if args.proxy.is_some() {
        // A proxy's answer includes its own work (a fork or thread, its connect):
        // its time jitters by milliseconds where loopback's does not, and a timeout
        // fit to the fastest answers retries the rest and buries the proxy.
        t.min_timeout = t.min_timeout.max(PROXY_MIN_TIMEOUT);
        t.max_timeout = t.max_timeout.max(PROXY_MIN_TIMEOUT);
    }
    if let Some(d) = args.min_rtt_timeout {
        t.min_timeout = d;
    }
    if let Some(d) = args.max_rtt_timeout {
        t.max_timeout = d;
    }
    if t.min_timeout > t.max_timeout {
        return Err(usage(format!(
            "--min-rtt-timeout ({:?}) is above --max-rtt-timeout ({:?})",
            t.min_timeout, t.max_timeout
        )));
    }
    t.initial_timeout = t.initial_timeout.clamp(t.min_timeout, t.max_timeout);
    Ok(t)
}

fn probe(args: &ScanArgs, env: &dyn Env) -> anyhow::Result<Option<ProbeConfig>> {
    if !args.identify {
        return Ok(None);
    }
    let mut settings = Settings::default();
    if let Some(n) = args.banner_bytes {
        if n == 0 || n > MAX_BANNER_BYTES {
            return Err(usage(format!(
                "--banner-bytes must be 1 to {MAX_BANNER_BYTES}, not {n}"
            )));
        }
        settings.banner_bytes = n;
    }
    if let Some(t) = args.identify_timeout {
        settings.fixed_wait = Some(t);
    }
    let db = env.fingerprints(args.fingerprints.as_deref())?;
    Ok(Some(ProbeConfig {
        db: Arc::new(db),
        settings,
    }))
}

fn engine(
    args: &ScanArgs,
    timing: Timing,
    probe: Option<&ProbeConfig>,
    file_limit: u64,
    notes: &mut Vec<String>,
) -> anyhow::Result<ScannerBuilder> {
    // `-sV` probes hold one connection each, on top of the engine's.
    let prober = probe.map_or(0, |p| p.settings.concurrency.max(1));
    let reserve = FD_RESERVE.saturating_add(u64::try_from(prober).unwrap_or(u64::MAX));
    let ceiling = usize::try_from(file_limit.saturating_sub(reserve).max(1)).unwrap_or(usize::MAX);
    let wanted = match args.concurrency {
        Some(0) => return Err(usage("--concurrency must be at least 1")),
        Some(n) => n,
        None => DEFAULT_MAX_IN_FLIGHT,
    };
    if wanted > ceiling && args.concurrency.is_some() {
        notes.push(format!(
            "--concurrency {wanted} lowered to {ceiling}: the open-file limit is {file_limit}"
        ));
    }
    let proxy_cap = match (args.proxy.as_ref(), args.proxy_concurrency) {
        (_, Some(0)) => return Err(usage("--proxy-concurrency must be at least 1")),
        (Some(_), n) => n.unwrap_or(DEFAULT_PROXY_CONCURRENCY),
        (None, _) => usize::MAX,
    };
    let max_in_flight =
        NonZeroUsize::new(wanted.min(ceiling).min(proxy_cap)).unwrap_or(NonZeroUsize::MIN);
    let host_cap = match args.max_host_concurrency {
        Some(0) => return Err(usage("--max-host-concurrency must be at least 1")),
        Some(n) => NonZeroUsize::new(n),
        None => None,
    };
    let rate = match args.max_rate {
        Some(r) => Some(
            Rate::new(r)
                .ok_or_else(|| usage(format!("--max-rate must be a positive number, not {r}")))?,
        ),
        None => None,
    };
    let open_cap = match args.max_open_per_host {
        Some(0) => return Err(usage("--max-open-per-host must be at least 1")),
        n => n.and_then(std::num::NonZeroU32::new),
    };
    let min_rate = match args.min_rate {
        Some(r) => Some(
            Rate::new(r)
                .ok_or_else(|| usage(format!("--min-rate must be a positive number, not {r}")))?,
        ),
        None => None,
    };
    if let (Some(min), Some(max)) = (min_rate, rate) {
        if min.get() > max.get() {
            return Err(usage(format!(
                "--min-rate {} is above --max-rate {}",
                min.get(),
                max.get()
            )));
        }
    }
    Ok(Scanner::builder()
        .timing(timing)
        .max_in_flight(Concurrency(max_in_flight))
        .max_host_concurrency(host_cap)
        .max_rate(rate)
        .max_open_per_host(open_cap)
        .min_rate(min_rate))
}

#[cfg(test)]
mod tests {
    //! The flag tests: each runs the real clap parse and [`scan_request`] against
    //! a fake world, in-process.
    use std::collections::HashMap;
    use std::time::Duration;

    use clap::FromArgMatches;

    use super::*;
    use crate::exit::{error_line, is_usage};

    /// Files by normalised name: a symlink table, existing files (inode = index),
    /// and the directories that exist.
    struct FakeEnv {
        texts: HashMap<&'static str, &'static str>,
        links: HashMap<&'static str, &'static str>,
        existing: Vec<&'static str>,
        dirs: Vec<&'static str>,
        file_limit: u64,
    }

    impl FakeEnv {
        fn new() -> Self {
            FakeEnv {
                texts: HashMap::from([
                    ("hosts.txt", "198.18.0.1 198.18.0.2 # lab\n"),
                    ("bom.txt", "\u{feff}198.18.0.9\n"),
                    ("-", "198.18.0.7\n"),
                    ("scope.txt", "198.18.0.0/24\n"),
                ]),
                links: HashMap::from([("link.db", "h.db")]),
                existing: vec!["h.db", "old.xml", "out"],
                dirs: vec!["", "out", "/abs"],
                file_limit: 100_000,
            }
        }

        fn normal(path: &Path) -> String {
            let parts: Vec<String> = path
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            parts.join("/").replace("//", "/")
        }
    }

    impl Env for FakeEnv {
        fn read_text(&self, path: &Path) -> io::Result<String> {
            self.texts
                .get(Self::normal(path).as_str())
                .map(|t| (*t).to_owned())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }

        fn output_key(&self, path: &Path) -> Result<FileKey, String> {
            let name = Self::normal(path);
            let name = self
                .links
                .get(name.as_str())
                .map_or(name.clone(), |t| (*t).to_owned());
            if self.dirs.contains(&name.as_str()) {
                return Err("it is a directory".into());
            }
            if let Some(i) = self.existing.iter().position(|e| *e == name) {
                return Ok(FileKey::Inode {
                    dev: 1,
                    ino: i as u64,
                });
            }
            let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
            if self.dirs.contains(&dir) {
                Ok(FileKey::New(PathBuf::from(&name)))
            } else {
                Err(format!("directory {dir}: No such file or directory"))
            }
        }

        fn absolute(&self, path: &Path) -> PathBuf {
            Path::new("/work/dir").join(path)
        }

        fn default_db(&self) -> Option<PathBuf> {
            Some(PathBuf::from("/home/u/.local/share/portolan/history.db"))
        }

        fn resolver(&self) -> &dyn Resolver {
            self
        }

        fn file_limit(&self) -> u64 {
            self.file_limit
        }

        fn random_seed(&self) -> u64 {
            42
        }

        fn fingerprints(&self, _dir: Option<&Path>) -> anyhow::Result<Database> {
            Ok(Database::builtin()?)
        }
    }

    impl Resolver for FakeEnv {
        fn resolve(&self, name: &str) -> io::Result<Vec<std::net::IpAddr>> {
            match name {
                "lab.test" => Ok(vec!["198.18.0.1".parse().map_err(io::Error::other)?]),
                _ => Err(io::Error::from(io::ErrorKind::NotFound)),
            }
        }
    }

    fn request_in(
        words: &[&str],
        stored: Option<&Stored>,
        env: &FakeEnv,
    ) -> anyhow::Result<ScanRequest> {
        let mut argv: Vec<OsString> = vec!["portolan".into(), "scan".into()];
        argv.extend(words.iter().map(OsString::from));
        let argv = rewrite_habits(argv)?;
        let matches = Cli::command().try_get_matches_from(argv.clone())?;
        let Command::Scan(args) = Cli::from_arg_matches(&matches)?.command else {
            anyhow::bail!("not a scan");
        };
        let sub = matches
            .subcommand_matches("scan")
            .ok_or_else(|| anyhow::anyhow!("no scan matches"))?;
        let given = given(sub);
        let typed = Typed {
            args: &args,
            given: &given,
            argv: &argv[2..],
        };
        scan_request(&typed, stored, env)
    }

    fn request(words: &[&str]) -> ScanRequest {
        match request_in(words, None, &FakeEnv::new()) {
            Ok(r) => r,
            Err(e) => panic!("{words:?} refused: {}", error_line(&e)),
        }
    }

    /// The one line a refused request prints; the refusal must be a usage error.
    fn refused(words: &[&str]) -> String {
        refused_in(words, None, &FakeEnv::new())
    }

    fn refused_in(words: &[&str], stored: Option<&Stored>, env: &FakeEnv) -> String {
        let Err(e) = request_in(words, stored, env) else {
            panic!("{words:?} was accepted");
        };
        assert!(
            is_usage(&e) || e.is::<clap::Error>(),
            "{words:?}: not a usage error: {e:#}"
        );
        error_line(&e)
    }

    fn ports(r: &ScanRequest) -> Vec<u16> {
        r.ports.as_slice().to_vec()
    }

    // --- shards

    #[test]
    fn a_shard_without_seed_derives_it_from_the_pair_space() {
        let r = request(&["198.18.0.0/24", "-p", "22,80", "--shard", "2/4"]);
        let plan = r.shard.expect("a shard plan");
        assert_eq!((plan.shard.index(), plan.shard.count()), (2, 4));
        assert_eq!(plan.spec, SpecHash::of(&r.targets, &r.ports, Protocol::Tcp));
        assert_eq!(
            r.order,
            OrderKind::Random {
                seed: derived_seed(plan.spec)
            }
        );
        // Another shard, the same targets spelt otherwise, other timing: same seed.
        let other = request(&[
            "198.18.0.128/25",
            "198.18.0.0/25",
            "-p",
            "80,22",
            "--shard",
            "4/4",
            "--max-rate",
            "10",
        ]);
        assert_eq!(other.order, r.order);
        // Other ports: another space, another seed.
        let ports = request(&["198.18.0.0/24", "-p", "22,81", "--shard", "2/4"]);
        assert_ne!(ports.order, r.order);
        assert_ne!(ports.shard.unwrap().spec, plan.spec);
    }

    #[test]
    fn a_shard_keeps_a_given_seed_or_no_randomize() {
        let r = request(&["198.18.0.1", "-p", "1-9", "--shard", "1/2", "--seed", "5"]);
        assert_eq!(r.order, OrderKind::Random { seed: 5 });
        let r = request(&["198.18.0.1", "-p", "1-9", "--shard", "1/2", "-r"]);
        assert_eq!(r.order, OrderKind::Sequential);
        assert!(r.shard.is_some());
        assert!(request(&["198.18.0.1"]).shard.is_none());
    }

    #[test]
    fn merge_takes_the_shards_space_and_its_own_outputs() {
        let recorded: Vec<String> = [
            "198.18.0.0/24",
            "-p",
            "22,80",
            "--shard",
            "3/4",
            "--ndjson",
            "/r/s3.ndjson",
            "-oX=/r/s3.xml",
            "--db",
            "/r/s3.db",
            "--open",
            "--max-rate",
            "100",
        ]
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
        let output = crate::args::OutputArgs {
            json: Some(PathBuf::from("out/m.json")),
            ..Default::default()
        };
        let outs = MergeOutputs {
            stored_targets: None,
            output: &output,
            ndjson: None,
            open: false,
            db: None,
        };
        let r = merge_request(&recorded, &outs, &FakeEnv::new()).unwrap();
        assert!(r.shard.is_none());
        assert_eq!(r.targets.hosts(), 256);
        assert_eq!(ports(&r), [22, 80]);
        assert_eq!(
            r.outputs,
            [Output {
                format: Format::Json,
                path: PathBuf::from("out/m.json")
            }]
        );
        assert_eq!(r.history, History::Off);
        assert!(!r.open_only);
        assert_eq!(
            r.record_argv,
            ["198.18.0.0/24", "-p", "22,80", "--max-rate", "100"]
        );
        let from_stdin: Vec<String> = ["-iL", "-", "-p", "22", "--shard", "1/2"]
            .iter()
            .map(|w| (*w).to_owned())
            .collect();
        let Err(e) = merge_request(&from_stdin, &outs, &FakeEnv::new()) else {
            panic!("targets from stdin accepted");
        };
        assert!(is_usage(&e) && error_line(&e).contains("stdin"), "{e:#}");
    }

    #[test]
    fn bad_shards_are_refused() {
        for bad in ["0/4", "5/4", "1/0", "two/4", "1-4", ""] {
            let line = refused(&["198.18.0.1", "--shard", bad]);
            assert!(line.contains("--shard"), "{bad}: {line}");
        }
    }

    // --- targets

    #[test]
    fn a_plain_scan_has_the_top_1000_ports_and_a_random_order() {
        let r = request(&["198.18.0.1"]);
        assert_eq!(r.ports.len(), 1000);
        assert_eq!(r.order, OrderKind::Random { seed: 42 });
        assert_eq!(r.targets.hosts(), 1);
        assert!(r.outputs.is_empty() && r.probe.is_none() && r.progress);
    }

    #[test]
    fn no_target_is_refused_with_an_example() {
        assert!(refused(&["-p", "80"]).contains("portolan scan 127.0.0.1"));
    }

    #[test]
    fn names_are_resolved_through_the_resolver() {
        assert_eq!(request(&["lab.test"]).targets.hosts(), 1);
        refused(&["nowhere.test"]);
    }

    #[test]
    fn bracketed_ipv6_is_accepted() {
        assert_eq!(request(&["[::1]", "-p", "22"]).targets.hosts(), 1);
        assert_eq!(request(&["::1", "--exclude", "[::2]"]).targets.hosts(), 1);
    }

    #[test]
    fn a_zone_index_is_refused_with_what_to_do() {
        let e = refused(&["fe80::1%lo"]);
        assert!(e.contains("%lo") && e.contains("::1"), "{e}");
    }

    #[test]
    fn a_target_file_with_a_byte_order_mark_is_read() {
        assert_eq!(request(&["-iL", "bom.txt"]).targets.hosts(), 1);
        assert_eq!(request(&["-iL", "hosts.txt"]).targets.hosts(), 2);
    }

    #[test]
    fn dash_il_dash_reads_stdin_once() {
        assert_eq!(request(&["-iL", "-"]).targets.hosts(), 1);
        assert!(refused(&["-iL", "-", "-iL", "-"]).contains("stdin"));
    }

    #[test]
    fn a_missing_target_file_is_named() {
        assert!(refused(&["-iL", "nope.txt"]).contains("nope.txt"));
    }

    #[test]
    fn large_targets_need_large() {
        assert!(refused(&["10.0.0.0/8", "-p", "80"]).contains("--large"));
        assert_eq!(
            request(&["10.0.0.0/8", "-p", "80", "--large"])
                .targets
                .hosts(),
            1 << 24
        );
    }

    #[test]
    fn the_scope_file_is_enforced() {
        request(&["198.18.0.5", "--scope", "scope.txt"]);
        assert!(refused(&["198.19.0.5", "--scope", "scope.txt"]).contains("scope"));
    }

    // --- ports

    #[test]
    fn open_ended_port_ranges() {
        assert_eq!(request(&["::1", "-p", "-80"]).ports.len(), 80);
        assert_eq!(request(&["::1", "-p-"]).ports.len(), 65535);
        assert_eq!(request(&["::1", "-p", "65530-"]).ports.len(), 6);
    }

    #[test]
    fn tcp_prefixes_are_dropped() {
        assert_eq!(ports(&request(&["::1", "-p", "T:80,443"])), [80, 443]);
    }

    #[test]
    fn udp_ports_need_su_and_sctp_is_refused() {
        let e = refused(&["::1", "-p", "T:80,U:53"]);
        assert!(e.contains("U:") && e.contains("-sU"), "{e}");
        assert!(refused(&["::1", "-p", "S:80"]).contains("SCTP"));
        let e = refused(&["::1", "-sU", "-p", "T:80,U:53"]);
        assert!(e.contains("T:") && e.contains("-sT"), "{e}");
        let e = refused(&["::1", "-sU", "-sT", "-p", "T:80"]);
        assert!(e.contains("no UDP ports"), "{e}");
    }

    #[test]
    fn ports_per_protocol() {
        let r = request(&["::1", "-sT", "-sU", "-p", "U:53,161,T:22,80"]);
        assert_eq!(r.kind, Some(ScanKind::Connect));
        assert_eq!(ports(&r), [22, 80]);
        assert_eq!(r.udp.as_ref().unwrap().as_slice(), [53, 161]);
        // A plain list applies to every protocol selected.
        let r = request(&["::1", "-sT", "-sU", "-p", "53,123"]);
        assert_eq!(ports(&r), [53, 123]);
        assert_eq!(r.udp.as_ref().unwrap().as_slice(), [53, 123]);
        // Before any prefix: both; lower-case prefixes too.
        let r = request(&["::1", "-sU", "-sT", "-p", "7,u:53"]);
        assert_eq!(ports(&r), [7]);
        assert_eq!(r.udp.as_ref().unwrap().as_slice(), [7, 53]);
        // -sU alone: the UDP ports name the run; no TCP scan.
        let r = request(&["::1", "-sU", "-p", "U:53"]);
        assert_eq!((r.kind, ports(&r)), (None, vec![53]));
    }

    #[test]
    fn top_ports_takes_each_protocols_own_ranking() {
        let r = request(&["::1", "-sU", "-sT", "--top-ports", "5"]);
        assert_eq!(ports(&r), [21, 22, 25, 80, 443]);
        assert_eq!(r.udp.as_ref().unwrap().as_slice(), [53, 67, 123, 137, 161]);
        assert_eq!(request(&["::1", "-sU"]).udp.unwrap().len(), 1000);
        assert_eq!(request(&["::1", "-sU", "-F"]).udp.unwrap().len(), 100);
    }

    #[test]
    fn bad_port_specs_are_usage_errors() {
        refused(&["::1", "-p", "0"]);
        refused(&["::1", "-p", "80-22"]);
        refused(&["::1", "-p", "70000"]);
        refused(&["::1", "--top-ports", "0"]);
    }

    #[test]
    fn exclude_ports_leaves_ports_out_of_any_choice() {
        let r = request(&["::1", "-p", "20-25", "--exclude-ports", "22,24"]);
        assert_eq!(ports(&r), [20, 21, 23, 25]);
        let r = request(&["::1", "--top-ports", "5", "--exclude-ports", "22"]);
        assert_eq!(ports(&r), [21, 25, 80, 443]);
        assert_eq!(
            request(&["::1", "-F", "--exclude-ports", "80"]).ports.len(),
            99
        );
        assert_eq!(
            request(&["::1", "-p-", "--exclude-ports", "1-1024"])
                .ports
                .len(),
            65535 - 1024
        );
        // T: and U: prefixes, as in -p.
        let r = request(&[
            "::1",
            "-sT",
            "-sU",
            "-p",
            "53,80",
            "--exclude-ports",
            "T:53,U:80",
        ]);
        assert_eq!(ports(&r), [80]);
        assert_eq!(r.udp.as_ref().unwrap().as_slice(), &[53]);
    }

    #[test]
    fn excluding_every_port_is_a_usage_error() {
        let e = refused(&["::1", "-p", "22", "--exclude-ports", "1-100"]);
        assert!(e.contains("leaves no TCP port"), "{e}");
        let e = refused(&["::1", "-p", "22", "--exclude-ports", "x"]);
        assert!(e.contains("--exclude-ports"), "{e}");
    }

    #[test]
    fn exclude_ports_changes_the_pair_space() {
        let a = request(&["198.18.0.0/24", "-p", "22,80", "--shard", "1/2"]);
        let b = request(&[
            "198.18.0.0/24",
            "-p",
            "22,80",
            "--exclude-ports",
            "80",
            "--shard",
            "1/2",
        ]);
        assert_ne!(a.shard.unwrap().spec, b.shard.unwrap().spec);
    }

    #[test]
    fn fast_means_100_ports() {
        assert_eq!(request(&["::1", "-F"]).ports.len(), 100);
        refused(&["::1", "-F", "-p", "80"]);
    }

    // --- scan types and habits

    #[test]
    fn st_is_the_connect_scan() {
        assert_eq!(request(&["::1", "-sT"]).kind, Some(ScanKind::Connect));
        assert!(request(&["::1", "-sT"]).udp.is_none());
    }

    #[test]
    fn sn_is_discovery_alone_and_discover_is_discovery_before_the_scan() {
        let sn = request(&["::1", "-sn"]);
        let d = sn.discovery.expect("-sn asks for discovery");
        assert!(d.only && d.mode == PingMode::Auto);
        assert!(matches!(sn.history, History::Off), "-sn is not recorded");
        let d = request(&["::1", "--discover", "--unprivileged"])
            .discovery
            .unwrap();
        assert!(!d.only && d.mode == PingMode::Unprivileged);
        assert!(
            request(&["::1"]).discovery.is_none(),
            "-Pn stays the default"
        );
        assert!(refused(&["::1", "-sn", "-sT"]).contains("--discover"));
        assert!(refused(&["::1", "-sn", "-Pn"]).contains("-Pn"));
        assert!(refused(&["::1", "--discover", "-Pn"]).contains("-Pn"));
        assert!(refused(&["::1", "-sn", "--discover"]).contains("give one"));
        assert!(refused(&["::1", "-sn", "-sV"]).contains("--discover -sV"));
        assert!(refused(&["::1", "--unprivileged"]).contains("-sn or --discover"));
        assert!(refused(&["::1", "--discover", "--shard", "1/2"]).contains("--shard"));
        assert!(refused(&["[::1]:80", "--discover"]).contains("endpoint"));
    }

    #[test]
    fn unavailable_scan_types_say_what_to_use() {
        assert!(refused(&["::1", "-sC"]).contains("-sV"));
        assert!(refused(&["::1", "-sZ"]).contains("-sZ"));
    }

    #[test]
    fn ss_asks_for_the_syn_scan() {
        // Whether the privilege is there is checked when the scan starts.
        assert_eq!(request(&["::1", "-sS"]).kind, Some(ScanKind::Syn));
        assert_eq!(request(&["::1"]).kind, Some(ScanKind::Connect));
    }

    #[test]
    fn sv_turns_on_the_probe_stage() {
        assert!(request(&["::1", "-sV"]).probe.is_some());
        assert!(request(&["::1", "-sT", "-sV"]).probe.is_some());
    }

    #[test]
    fn nmap_habits_that_mean_nothing_here_are_accepted() {
        request(&["::1", "-Pn", "-n", "--reason", "-T4"]);
    }

    #[test]
    fn dash_r_scans_in_order() {
        assert_eq!(request(&["::1", "-r"]).order, OrderKind::Sequential);
    }

    #[test]
    fn verbose_and_address_family_flags_say_what_to_do() {
        assert!(refused(&["::1", "-v"]).contains("verbose"));
        assert!(refused(&["::1", "-vv"]).contains("verbose"));
        assert!(refused(&["::1", "-6"]).contains("IPv6 addresses"));
    }

    #[test]
    fn timing_templates_are_0_to_5() {
        request(&["::1", "-T0"]);
        assert!(refused(&["::1", "-T6"]).contains("0..=5"));
    }

    // --- order

    #[test]
    fn seed_and_no_randomize_cannot_go_together() {
        let e = refused(&["::1", "--no-randomize", "--seed", "5"]);
        assert!(e.contains("--seed") && e.contains("--no-randomize"), "{e}");
    }

    #[test]
    fn a_seed_is_kept() {
        assert_eq!(
            request(&["::1", "--seed", "5"]).order,
            OrderKind::Random { seed: 5 }
        );
    }

    // --- history

    #[test]
    fn db_and_no_history_cannot_go_together() {
        let e = refused(&["::1", "--no-history", "--db", "x.db"]);
        assert!(e.contains("--db") && e.contains("--no-history"), "{e}");
    }

    #[test]
    fn the_history_is_chosen() {
        assert_eq!(request(&["::1", "--no-history"]).history, History::Off);
        assert_eq!(
            request(&["::1", "--db", "x.db"]).history,
            History::Named("x.db".into())
        );
        assert!(matches!(
            request(&["::1"]).history,
            History::Default(Some(_))
        ));
    }

    // --- outputs

    #[test]
    fn an_output_that_is_the_database_is_refused() {
        for out in ["h.db", "./h.db", "link.db"] {
            let e = refused(&["::1", "--db", "h.db", "-oN", out]);
            assert!(e.contains("history database"), "{out}: {e}");
        }
        let e = refused(&["::1", "--db", "new.db", "-oX", "./new.db"]);
        assert!(e.contains("history database"), "{e}");
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused() {
        let e = refused(&["::1", "-oX", "a.out", "-oJ", "./a.out"]);
        assert!(e.contains("same file"), "{e}");
        refused(&["::1", "-oX", "old.xml", "-oD", "./old.xml"]);
        refused(&["::1", "-oX", "base.xml", "-oA", "base"]);
    }

    #[test]
    fn two_outputs_on_stdout_are_refused() {
        assert!(refused(&["::1", "-oX", "-", "-oJ", "-"]).contains("stdout"));
    }

    #[test]
    fn an_output_in_a_missing_directory_is_refused_before_any_is_opened() {
        let e = refused(&["::1", "-oJ", "x.json", "-oX", "/nonexistent/x"]);
        assert!(e.contains("/nonexistent/x"), "{e}");
        assert!(refused(&["::1", "-oA", "nodir/base"]).contains("nodir/base.nmap"));
    }

    #[test]
    fn a_directory_is_not_an_output() {
        assert!(refused(&["::1", "-oX", "out"]).contains("directory"));
    }

    #[test]
    fn all_formats_writes_four_files() {
        let r = request(&["::1", "-oA", "out/scan", "-oD", "-"]);
        assert_eq!(r.outputs.len(), 5);
    }

    #[test]
    fn recorded_paths_are_absolute() {
        let r = request(&[
            "::1",
            "-oX",
            "cw.xml",
            "--json=out/x.json",
            "-oD",
            "-",
            "-p",
            "80",
        ]);
        assert_eq!(
            r.record_argv,
            [
                "::1",
                "--xml",
                "/work/dir/cw.xml",
                "--json=/work/dir/out/x.json",
                "--ndjson",
                "-",
                "-p",
                "80"
            ]
        );
    }

    // --- times

    #[test]
    fn times_take_the_one_grammar() {
        let t = timing(&stub_args(&[
            "::1",
            "--max-rtt-timeout",
            "2",
            "--min-rtt-timeout",
            "500ms",
            "--initial-rtt-timeout",
            "1.5s",
        ]));
        let t = t.map_err(|e| error_line(&e)).expect("accepted");
        assert_eq!(t.max_timeout, Duration::from_secs(2));
        assert_eq!(t.min_timeout, Duration::from_millis(500));
        assert_eq!(t.initial_timeout, Duration::from_millis(1500));
        let r = request(&["::1", "-sV", "--identify-timeout", "1m"]);
        let probe = r.probe.map(|p| p.settings.fixed_wait);
        assert_eq!(probe, Some(Some(Duration::from_mins(1))));
        // The names from before the vocabulary (stored runs and scripts use them).
        let r = request(&["::1", "--probe", "--probe-timeout", "2s"]);
        let probe = r.probe.map(|p| p.settings.fixed_wait);
        assert_eq!(probe, Some(Some(Duration::from_secs(2))));
    }

    #[test]
    fn zero_times_are_refused() {
        assert!(refused(&["::1", "--max-rtt-timeout", "0"]).contains("zero"));
        assert!(refused(&["::1", "-sV", "--identify-timeout", "0ms"]).contains("zero"));
    }

    #[test]
    fn min_above_max_is_refused() {
        let e = refused(&["::1", "--min-rtt-timeout", "2s", "--max-rtt-timeout", "1s"]);
        assert!(e.contains("--min-rtt-timeout"), "{e}");
    }

    #[test]
    fn the_initial_timeout_is_clamped() {
        assert_eq!(
            timing(&stub_args(&[
                "::1",
                "--initial-rtt-timeout",
                "9s",
                "--max-rtt-timeout",
                "1s"
            ]))
            .map(|t| t.initial_timeout)
            .ok(),
            Some(Duration::from_secs(1))
        );
    }

    fn stub_args(words: &[&str]) -> ScanArgs {
        let mut argv: Vec<OsString> = vec!["portolan".into(), "scan".into()];
        argv.extend(words.iter().map(OsString::from));
        match Cli::try_parse_from_argv(argv).map(|c| c.command) {
            Ok(Command::Scan(a)) => *a,
            other => panic!("{other:?}"),
        }
    }

    // --- numbers

    #[test]
    fn concurrency_must_be_positive() {
        assert!(refused(&["::1", "--concurrency", "0"]).contains("at least 1"));
        assert!(refused(&["::1", "--max-host-concurrency", "0"]).contains("at least 1"));
    }

    #[test]
    fn concurrency_above_the_file_limit_is_lowered_with_a_note() {
        let env = FakeEnv {
            file_limit: 1024,
            ..FakeEnv::new()
        };
        let r = request_in(&["::1", "--concurrency", "5000"], None, &env);
        let notes = r.map(|r| r.notes).unwrap_or_default();
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("lowered to 960"), "{notes:?}");
    }

    // --- proxies

    #[test]
    fn a_proxy_is_parsed_and_its_name_resolved() {
        let r = request(&["::1", "--proxy", "socks5h://u:p@lab.test:1080"]);
        let p = r.proxy.unwrap();
        assert_eq!(p.addr, "198.18.0.1:1080".parse().unwrap());
        assert_eq!(p.url.scheme, portolan_proxy::Scheme::Socks5h);
        let r = request(&[
            "::1",
            "--proxy",
            "http://[::1]:3128",
            "--proxy-concurrency",
            "4",
        ]);
        assert_eq!(r.proxy.unwrap().addr, "[::1]:3128".parse().unwrap());
        assert!(request(&["::1"]).proxy.is_none());
    }

    #[test]
    fn names_are_left_to_a_proxy_that_resolves_them() {
        use portolan_engine::TargetOrder;
        let first = |words: &[&str]| {
            let r = request(words);
            let mut order = portolan_target::ScanOrder::sequential(r.targets.clone(), r.ports);
            let e = order.next_endpoint().unwrap();
            (
                e.addr.to_string(),
                e.name.as_deref().map(str::to_owned),
                r.proxy,
            )
        };
        // socks5h:// and http://: not looked up here (nowhere.test does not resolve
        // here at all), a stand-in in 0.0.0.0/8 that the transport turns back into
        // the name.
        for proxy in ["socks5h://127.0.0.1:1080", "http://127.0.0.1:3128"] {
            let (addr, name, p) = first(&["nowhere.test", "-p", "80", "--proxy", proxy]);
            assert_eq!(
                (addr.as_str(), name.as_deref()),
                ("0.0.0.1", Some("nowhere.test"))
            );
            let table = p.unwrap().names.table();
            assert_eq!(table[&"0.0.0.1".parse().unwrap()], "nowhere.test");
        }
        // socks5://: resolved here, as without a proxy.
        let (addr, name, p) = first(&["lab.test", "-p", "80", "--proxy", "socks5://127.0.0.1:1"]);
        assert_eq!(
            (addr.as_str(), name.as_deref()),
            ("198.18.0.1", Some("lab.test"))
        );
        assert!(p.unwrap().names.table().is_empty());
        refused(&["nowhere.test", "--proxy", "socks5://127.0.0.1:1"]);
    }

    #[test]
    fn bad_proxies_and_their_conflicts_are_refused() {
        for (words, want) in [
            (&["--proxy", "socks4://h:1"][..], "a proxy is socks5://"),
            (
                &["--proxy", "socks5://nowhere.test:1"][..],
                "cannot resolve nowhere.test",
            ),
            (&["--proxy", "socks5://h:0"][..], "port is not a number"),
            (
                &["--proxy", "socks5://[::1]:1", "-sS"][..],
                "connect scan (-sT) only",
            ),
            (
                &["--proxy", "socks5://[::1]:1", "--proxy-concurrency", "0"][..],
                "at least 1",
            ),
        ] {
            let mut all = vec!["::1"];
            all.extend_from_slice(words);
            let line = refused(&all);
            assert!(line.contains(want), "{words:?}: {line}");
        }
        // --proxy-concurrency means nothing without a proxy.
        assert!(request_in(&["::1", "--proxy-concurrency", "4"], None, &FakeEnv::new()).is_err());
    }

    #[test]
    fn max_rate_must_be_positive() {
        for bad in ["0", "-1", "NaN", "inf"] {
            refused(&["::1", &format!("--max-rate={bad}")]);
        }
        request(&["::1", "--max-rate", "0.5"]);
    }

    #[test]
    fn min_rate_is_positive_and_not_above_max_rate() {
        for bad in ["0", "-1", "NaN", "inf"] {
            refused(&["::1", &format!("--min-rate={bad}")]);
        }
        let line = refused(&["::1", "--min-rate", "200", "--max-rate", "100"]);
        assert!(
            line.contains("--min-rate 200 is above --max-rate 100"),
            "{line}"
        );
        request(&["::1", "--min-rate", "100", "--max-rate", "100"]);
        request(&["::1", "--min-rate", "5000"]);
    }

    #[test]
    fn banner_bytes_are_bounded_and_need_sv() {
        assert!(refused(&["::1", "-sV", "--banner-bytes", "0"]).contains("1 to"));
        assert!(refused(&["::1", "-sV", "--banner-bytes", "2000000"]).contains("1 to"));
        assert!(refused(&["::1", "--banner-bytes", "5"]).contains("--identify"));
    }

    // --- resume

    fn stored(argv: &[&str], seed: Option<u64>) -> Stored {
        Stored {
            id: 7,
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            seed,
            target_specs: None,
        }
    }

    #[test]
    fn regression_resume_takes_the_stored_targets_not_the_file() {
        // The run's target file is gone; the run stored its one target.
        let s = Stored {
            target_specs: Some(vec!["198.18.0.5".to_owned()]),
            ..stored(&["-iL", "/gone/hosts.txt", "-p", "80"], Some(3))
        };
        let env = FakeEnv::new();
        let r = request_in(&["--resume", "--db", "h.db"], Some(&s), &env).unwrap();
        assert_eq!(r.target_words, ["198.18.0.5"]);
        assert_eq!(r.targets.hosts(), 1);
        assert_eq!(
            r.notes,
            ["/gone/hosts.txt changed or gone since scan 7 began: resuming with the 1 targets it stored"]
        );
    }

    #[test]
    fn regression_target_words_include_the_target_files() {
        let r = request(&["198.18.0.9", "-iL", "hosts.txt"]);
        assert_eq!(r.target_words, ["198.18.0.9", "198.18.0.1", "198.18.0.2"]);
    }

    #[test]
    fn resume_allows_only_db_and_no_progress() {
        let s = stored(&["198.18.0.1", "-p", "80"], Some(3));
        let env = FakeEnv::new();
        let r = request_in(
            &["--resume", "--db", "h.db", "--no-progress"],
            Some(&s),
            &env,
        );
        assert!(r.is_ok());
        for (extra, named) in [
            (&["-p", "80"][..], "--ports"),
            (&["--open"][..], "--open"),
            (&["-oX", "x.xml"][..], "--xml"),
            (&["-sV"][..], "--identify"),
            (&["-T4"][..], "-T"),
        ] {
            let mut words = vec!["--resume"];
            words.extend_from_slice(extra);
            let e = refused_in(&words, Some(&s), &env);
            assert!(
                e.contains(named) && e.contains("only --db"),
                "{extra:?}: {e}"
            );
        }
    }

    #[test]
    fn resume_takes_no_targets_and_needs_the_history() {
        assert!(refused(&["::1", "--resume"]).contains("give none"));
        assert!(refused(&["--resume", "--no-history"]).contains("--no-history"));
    }

    #[test]
    fn resume_names_a_run() {
        let typed = |w: &[&str]| {
            let args = stub_args(w);
            let given = vec!["resume".to_owned()];
            let argv = Vec::new();
            resume_wanted(&Typed {
                args: &args,
                given: &given,
                argv: &argv,
            })
            .ok()
            .flatten()
        };
        assert_eq!(typed(&["--resume"]), Some(ResumeWhich::Last));
        assert_eq!(typed(&["--resume", "12"]), Some(ResumeWhich::Id(12)));
        assert!(refused(&["--resume", "abc"]).contains("scan id"));
    }

    #[test]
    fn resume_scans_with_the_stored_arguments_and_seed() {
        let s = stored(
            &["198.18.0.1", "-p", "22,80", "--xml", "/abs/x.xml"],
            Some(9),
        );
        let r = request_in(&["--resume", "--db", "h.db"], Some(&s), &FakeEnv::new());
        let r = r.map_err(|e| error_line(&e)).expect("resumes");
        assert_eq!(ports(&r), [22, 80]);
        assert_eq!(r.order, OrderKind::Random { seed: 9 });
        assert_eq!(r.history, History::Named("h.db".into()));
        assert_eq!(r.outputs[0].path, Path::new("/abs/x.xml"));
        assert_eq!(r.record_argv, s.argv);
    }

    #[test]
    fn resume_refuses_a_run_recorded_with_relative_paths() {
        let s = stored(&["198.18.0.1", "-oX", "cw.xml"], Some(9));
        let e = refused_in(&["--resume"], Some(&s), &FakeEnv::new());
        assert!(e.contains("cw.xml") && e.contains("scan 7"), "{e}");
    }

    #[test]
    fn resume_checks_the_stored_outputs_against_the_database() {
        let s = stored(&["198.18.0.1", "--normal", "/abs/h.db"], Some(9));
        let e = refused_in(
            &["--resume", "--db", "/abs/h.db"],
            Some(&s),
            &FakeEnv::new(),
        );
        assert!(e.contains("history database"), "{e}");
    }

    // --- any argument vector

    /// Words a user (or a fuzzer) might type, flags and values mixed.
    const WORDS: &[&str] = &[
        "::1",
        "[::1]",
        "fe80::1%lo",
        "198.18.0.1",
        "10.0.0.0/8",
        "lab.test",
        "nowhere.test",
        "-p",
        "-p-",
        "-80",
        "80",
        "0",
        "T:80",
        "U:53",
        "-F",
        "--top-ports",
        "--large",
        "-sS",
        "-sT",
        "-sU",
        "-sV",
        "-sn",
        "-v",
        "-r",
        "-6",
        "-T9",
        "-T3",
        "-Pn",
        "-n",
        "-oX",
        "-oA",
        "-oD",
        "-oN",
        "-",
        "x.xml",
        "h.db",
        "./h.db",
        "link.db",
        "out",
        "nodir/x",
        "-iL",
        "hosts.txt",
        "bom.txt",
        "--resume",
        "--db",
        "--no-history",
        "--seed",
        "5",
        "--no-randomize",
        "--max-rtt-timeout",
        "2s",
        "0ms",
        "1h",
        "--concurrency",
        "--max-rate",
        "NaN",
        "--banner-bytes",
        "--scope",
        "scope.txt",
        "--exclude",
        "--",
        "--reason",
        "--open",
        "\u{feff}",
    ];

    proptest::proptest! {
        /// Whatever is typed, the request either is built or is refused as bad
        /// usage (exit 2): it never panics and never fails as if at run time.
        #[test]
        fn any_words_give_a_request_or_a_usage_error(
            picks in proptest::collection::vec(0..WORDS.len(), 0..8)
        ) {
            let words: Vec<&str> = picks.iter().map(|&i| WORDS[i]).collect();
            if let Err(e) = request_in(&words, None, &FakeEnv::new()) {
                proptest::prop_assert!(
                    is_usage(&e) || e.is::<clap::Error>(),
                    "{words:?}: {e:#}"
                );
            }
        }
    }
}
