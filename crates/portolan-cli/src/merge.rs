//! `portolan merge`: the shards of one scan (`scan --shard I/N -oD FILE`, or their
//! history databases, `--db FILE`) into one scan, with proof that every (host,
//! port) pair was answered exactly once.
//!
//! Why NDJSON and the history, not the other formats: they are the ones that list
//! every answered pair (NDJSON has a line per pair unless `--open`, which the shard
//! header records and merge refuses; the history has an answered bitmap per host).
//! The host-by-host formats fold closed ports into counts, and a count cannot tell
//! which pair is missing.
//!
//! Two passes over the inputs, so memory stays bounded by one bit per pair of the
//! space (plus the outputs' own bounded state), never by the number of results:
//! 1. check: every header agrees (spec hash, N, seed); every result line's pair is
//!    in the space, belongs to the shard of its file and is set in the answered
//!    bitmap once (a second time is a duplicate, refused); a last line without its
//!    newline or that does not parse is a cut (a shard killed mid-write);
//! 2. write: the results again, into the outputs, after the missing pairs have
//!    been listed. A refused merge (exit 2) writes nothing.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::Context;
use portolan_engine::{PortResult, Sink, Summary};
use portolan_output::{RunInfo, ShardInfo};
use portolan_target::{PortList, Protocol, ScanOrder, SpecHash, TargetSet};
use serde::Deserialize;

use crate::args::MergeArgs;
use crate::exit::{usage, Outcome};
use crate::request::{self, MergeOutputs, OrderKind};
use crate::resume::Session;
use crate::sysenv::SystemEnv;
use portolan_store::Store;

/// The most pairs a merge keeps a bit for (256 MiB of bitmap).
const MAX_PAIRS: u128 = 1 << 31;
/// Missing ranges listed per shard before the rest is counted.
const LIST_PER_SHARD: usize = 12;

/// One line of a shard's NDJSON.
#[derive(Deserialize)]
#[serde(untagged)]
enum Line {
    Header {
        shard: ShardInfo,
    },
    Trailer {
        shard_end: End,
    },
    /// The hosts whose ICMP rate limit shaped a UDP scan.
    Limited {
        icmp_limited: Vec<Limit>,
    },
    Result(Box<PortResult>),
}

/// One host of a `{"icmp_limited":[...]}` line.
#[derive(Deserialize)]
struct Limit {
    addr: std::net::IpAddr,
    period_ms: u64,
}

#[derive(Deserialize)]
struct End {
    complete: bool,
}

/// Where an input's results come from.
enum Source {
    /// A shard's NDJSON file.
    Ndjson,
    /// A shard's history database: its latest run.
    History(i64),
}

/// What the check pass learnt of one input.
struct Input {
    path: PathBuf,
    source: Source,
    info: ShardInfo,
    /// The targets as given that a history input stored.
    targets: Option<Vec<String>>,
    /// The trailer's `complete`, `None` without a trailer (killed).
    ended: Option<bool>,
    cut: bool,
}

/// The pair space and which pairs were answered: one bit per pair.
pub struct Coverage {
    targets: std::sync::Arc<TargetSet>,
    ports: std::sync::Arc<PortList>,
    judge: ScanOrder,
    shards: u128,
    bits: Vec<u64>,
}

/// Why a pair cannot be counted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not in the scan's space.
    Foreign,
    /// In the space, but another shard owns it.
    WrongShard { owner: u64 },
    /// Already answered.
    Duplicate,
}

impl Coverage {
    pub fn new(order: ScanOrder, shards: u64) -> anyhow::Result<Self> {
        // The grid of hosts × ports, then the explicit endpoints (`HOST:PORT`).
        let pairs = order.total();
        if pairs > MAX_PAIRS {
            return Err(usage(format!(
                "the scan has {pairs} pairs; merge keeps one bit per pair and stops at {MAX_PAIRS}"
            )));
        }
        Ok(Coverage {
            targets: std::sync::Arc::new(order.targets().clone()),
            ports: std::sync::Arc::new(order.ports().clone()),
            judge: order,
            shards: u128::from(shards),
            bits: vec![0; (pairs as usize).div_ceil(64)],
        })
    }

    fn index(&self, r: &PortResult) -> Option<u128> {
        if r.endpoint.proto != Protocol::Tcp {
            return None;
        }
        self.judge.index_of(&r.endpoint)
    }

    /// Counts `r` as answered by shard `shard` (1-based).
    pub fn answer(&mut self, r: &PortResult, shard: u64) -> Result<(), Refusal> {
        let idx = self.index(r).ok_or(Refusal::Foreign)?;
        let owner = self.judge.owner(idx, self.shards) as u64 + 1;
        if owner != shard {
            return Err(Refusal::WrongShard { owner });
        }
        let (word, bit) = ((idx / 64) as usize, idx % 64);
        if self.bits[word] & (1 << bit) != 0 {
            return Err(Refusal::Duplicate);
        }
        self.bits[word] |= 1 << bit;
        Ok(())
    }

    /// The pairs of the space (excluded hosts aside) that nobody answered, per
    /// owning shard (1-based), as compact lines `HOSTS × PORTS`: consecutive hosts
    /// missing the same ports share a line. At most `limit` lines per shard; the
    /// count of pairs is exact.
    pub fn missing(&self, limit: usize) -> Vec<ShardGap> {
        let nports = self.ports.len();
        let mut gaps: Vec<ShardGap> = (1..=self.shards as u64)
            .map(|shard| ShardGap {
                shard,
                pairs: 0,
                lines: Vec::new(),
                more: 0,
                open: None,
            })
            .collect();
        for host in 0..self.targets.hosts() {
            let Some((addr, _)) = self.targets.host_at(host) else {
                continue;
            };
            let mut per_shard: Vec<Vec<u16>> = vec![Vec::new(); gaps.len()];
            for (p, &port) in self.ports.as_slice().iter().enumerate() {
                let idx = host * nports as u128 + p as u128;
                if self.bits[(idx / 64) as usize] & (1 << (idx % 64)) == 0 {
                    let owner = self.judge.owner(idx, self.shards) as usize;
                    per_shard[owner].push(port);
                }
            }
            for (gap, ports) in gaps.iter_mut().zip(per_shard) {
                gap.add(addr, ports, limit);
            }
        }
        let grid = self.judge.grid();
        for (i, e) in self.targets.endpoints(Protocol::Tcp).iter().enumerate() {
            let idx = grid + i as u128;
            // An endpoint that is a pair of the grid was counted there.
            if self.judge.index_of(e) == Some(idx)
                && self.bits[(idx / 64) as usize] & (1 << (idx % 64)) == 0
            {
                let owner = self.judge.owner(idx, self.shards) as usize;
                gaps[owner].add(e.addr, vec![e.port], limit);
            }
        }
        for gap in &mut gaps {
            gap.close(limit);
        }
        gaps.retain(|g| g.pairs > 0);
        gaps
    }
}

/// The missing pairs one shard owned.
pub struct ShardGap {
    pub shard: u64,
    pub pairs: u64,
    pub lines: Vec<String>,
    /// Lines not listed.
    pub more: u64,
    /// The run being built: first and last host, and the ports they miss.
    open: Option<(std::net::IpAddr, std::net::IpAddr, Vec<u16>)>,
}

impl ShardGap {
    fn add(&mut self, addr: std::net::IpAddr, ports: Vec<u16>, limit: usize) {
        self.pairs += ports.len() as u64;
        match &mut self.open {
            Some((_, last, p)) if *p == ports && next_addr(*last) == Some(addr) => *last = addr,
            _ => {
                self.close(limit);
                if !ports.is_empty() {
                    self.open = Some((addr, addr, ports));
                }
            }
        }
    }

    fn close(&mut self, limit: usize) {
        let Some((first, last, ports)) = self.open.take() else {
            return;
        };
        if self.lines.len() >= limit {
            self.more += 1;
            return;
        }
        let hosts = if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        };
        let ports = PortList::from_ports(ports).map_or_else(String::new, |p| p.to_spec());
        self.lines.push(format!("{hosts} × {ports}"));
    }
}

fn next_addr(a: std::net::IpAddr) -> Option<std::net::IpAddr> {
    match a {
        std::net::IpAddr::V4(v) => u32::from(v)
            .checked_add(1)
            .map(|n| std::net::Ipv4Addr::from(n).into()),
        std::net::IpAddr::V6(v) => u128::from(v)
            .checked_add(1)
            .map(|n| std::net::Ipv6Addr::from(n).into()),
    }
}

/// Reads `path` line by line: `f` gets each complete line that parses; the return
/// says whether the file ended cut (a last line without its newline, or one that
/// does not parse). A line that does not parse before the last is an error.
fn read_lines(
    path: &Path,
    mut f: impl FnMut(Line, usize) -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    let file =
        File::open(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(512);
    let mut number = 0;
    let mut pending_bad: Option<usize> = None;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            return Ok(pending_bad.is_some());
        }
        number += 1;
        if let Some(bad) = pending_bad {
            return Err(usage(format!(
                "{}: line {bad} is not a portolan NDJSON line",
                path.display()
            )));
        }
        if buf.last() != Some(&b'\n') {
            return Ok(true);
        }
        match serde_json::from_slice::<Line>(&buf) {
            Ok(line) => f(line, number)?,
            Err(_) => pending_bad = Some(number),
        }
    }
}

/// `portolan merge`.
pub fn run(args: &MergeArgs) -> anyhow::Result<Outcome> {
    let clock = Instant::now();
    let env = SystemEnv {
        file_limit: portolan_engine::raise_file_limit(),
    };
    let mut inputs = Vec::new();
    for path in &args.inputs {
        inputs.push(header(path, &env)?);
    }
    refuse_overwriting_inputs(args)?;
    agree(&inputs)?;
    let first = inputs[0].info.clone();
    let outs = MergeOutputs {
        stored_targets: inputs[0].targets.as_deref(),
        output: &args.output,
        ndjson: args.ndjson.as_deref(),
        open: args.open,
        db: args.db.as_deref(),
    };
    let cfg = request::merge_request(&first.argv, &outs, &env)?;
    let spec = SpecHash::of(&cfg.targets, &cfg.ports, Protocol::Tcp);
    if spec.to_string() != first.spec {
        return Err(usage(format!(
            "the shards' arguments now give spec {spec}, not their {}: a target file changed or a name resolves differently here",
            first.spec
        )));
    }
    let order = match (cfg.order, first.seed) {
        (OrderKind::Sequential, _) | (_, None) => {
            ScanOrder::sequential(cfg.targets.clone(), cfg.ports.clone())
        }
        (OrderKind::Random { .. }, Some(seed)) => {
            ScanOrder::random(cfg.targets.clone(), cfg.ports.clone(), seed)
        }
    };
    let mut cover = Coverage::new(order, first.count)?;
    // Pass 1: check.
    for input in &mut inputs {
        check(input, &mut cover)?;
    }
    let gaps = cover.missing(LIST_PER_SHARD);
    tell(&inputs, &gaps);
    // Pass 2: write.
    let complete = gaps.is_empty() && inputs.iter().all(|i| !i.cut);
    write(&cfg, &inputs, complete, clock)?;
    Ok(if complete {
        Outcome::Done
    } else {
        Outcome::Incomplete
    })
}

/// The inputs are shards of one scan (spec, N and seed), each given once.
fn agree(inputs: &[Input]) -> anyhow::Result<()> {
    let first = &inputs[0];
    let f = &first.info;
    for input in &inputs[1..] {
        let i = &input.info;
        if i.spec != f.spec || i.count != f.count || i.seed != f.seed {
            return Err(usage(format!(
                "{} is shard {}/{} of spec {} (seed {}), but {} is shard {}/{} of spec {} (seed {}): they are not shards of one scan",
                input.path.display(), i.index, i.count, i.spec, seed_text(i.seed),
                first.path.display(), f.index, f.count, f.spec, seed_text(f.seed)
            )));
        }
    }
    for (n, a) in inputs.iter().enumerate() {
        if let Some(b) = inputs[..n].iter().find(|b| b.info.index == a.info.index) {
            return Err(usage(format!(
                "{} and {} are both shard {}/{}: give each shard once",
                b.path.display(),
                a.path.display(),
                a.info.index,
                a.info.count
            )));
        }
    }
    Ok(())
}

/// Pass 1 over one input: every result counted in `cover`; how the input ended.
fn check(input: &mut Input, cover: &mut Coverage) -> anyhow::Result<()> {
    let (shard, count) = (input.info.index, input.info.count);
    let path = input.path.clone();
    let refuse = |r: &PortResult, why: Refusal, at: &str| {
        let pair = format!("{}:{}", r.endpoint.addr, r.endpoint.port);
        let name = path.display();
        usage(match why {
            Refusal::Foreign => {
                format!("{name}{at}: {pair} is not in the scan's targets and ports")
            }
            Refusal::WrongShard { owner } => {
                format!("{name}{at}: {pair} belongs to shard {owner}/{count}, not {shard}")
            }
            Refusal::Duplicate => format!(
                "{name}{at}: {pair} was answered twice (a shard given twice, or a file edited by hand)"
            ),
        })
    };
    if let Source::History(id) = input.source {
        return replay(&path, id, |r| {
            cover.answer(r, shard).map_err(|why| refuse(r, why, ""))
        });
    }
    let mut ended = None;
    input.cut = read_lines(&path, |line, number| {
        match line {
            Line::Header { shard: h } if number == 1 && h == input.info => {}
            Line::Header { .. } => {
                return Err(usage(format!(
                    "{}: line {number}: a second shard header",
                    path.display()
                )))
            }
            Line::Trailer { shard_end } => ended = Some(shard_end.complete),
            Line::Limited { .. } => {}
            Line::Result(r) => cover
                .answer(&r, shard)
                .map_err(|why| refuse(&r, why, &format!(": line {number}")))?,
        }
        Ok(())
    })?;
    input.ended = ended;
    Ok(())
}

/// Says on stderr how each unfinished input ended and which pairs are missing.
fn tell(inputs: &[Input], gaps: &[ShardGap]) {
    for input in inputs {
        let name = input.path.display();
        let shard = format!("shard {}/{}", input.info.index, input.info.count);
        let db = matches!(input.source, Source::History(_));
        let why = match (input.cut, input.ended, db) {
            (true, _, _) => "is cut short: its last line is incomplete (killed mid-write?)",
            (false, None, false) => "has no end line: the shard was killed before it finished",
            (false, None, true) => "records an unfinished scan: the shard was killed",
            (false, Some(false), _) => "was interrupted",
            (false, Some(true), _) => continue,
        };
        eprintln!("portolan: {name} ({shard}) {why}; resume that shard");
    }
    let given: Vec<u64> = inputs.iter().map(|i| i.info.index).collect();
    for gap in gaps {
        let absent = if given.contains(&gap.shard) {
            ""
        } else {
            ", no input"
        };
        eprintln!(
            "portolan: missing {} pairs of shard {}/{}{absent}:",
            gap.pairs, gap.shard, inputs[0].info.count
        );
        for line in &gap.lines {
            eprintln!("  {line}");
        }
        if gap.more > 0 {
            eprintln!("  ... and {} more ranges", gap.more);
        }
    }
}

/// An output (or the history) that is one of the inputs would destroy it before
/// the second pass reads it.
fn refuse_overwriting_inputs(args: &MergeArgs) -> anyhow::Result<()> {
    let inputs: Vec<PathBuf> = args
        .inputs
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let outputs = args
        .output
        .files(args.ndjson.as_deref())
        .into_iter()
        .map(|(_, p)| p)
        .chain(args.db.clone());
    for out in outputs {
        if let Ok(c) = std::fs::canonicalize(&out) {
            if inputs.contains(&c) {
                return Err(usage(format!(
                    "{} is an input: merge would overwrite it",
                    out.display()
                )));
            }
        }
    }
    Ok(())
}

fn seed_text(seed: Option<u64>) -> String {
    seed.map_or_else(|| "none".into(), |s| s.to_string())
}

/// What `path` says of itself: the header of a shard's NDJSON, or the shard a
/// history database's latest run was.
fn header(path: &Path, env: &SystemEnv) -> anyhow::Result<Input> {
    let mut magic = [0u8; 16];
    let is_db = File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"SQLite format 3\0";
    if is_db {
        return history_header(path, env);
    }
    let file =
        File::open(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let mut line = Vec::new();
    // A header is small; a first line past 1 MiB is not one.
    BufReader::new(file)
        .take(1 << 20)
        .read_until(b'\n', &mut line)
        .with_context(|| format!("reading {}", path.display()))?;
    let not_shard = || {
        usage(format!(
            "{} is not a shard's NDJSON (its first line is no shard header): merge reads `portolan scan --shard I/N -oD FILE`",
            path.display()
        ))
    };
    let Ok(Line::Header { shard }) = serde_json::from_slice::<Line>(&line) else {
        if line.starts_with(b"{\"format\":\"portolan-scan\"") {
            return Err(usage(format!(
                "{} is a JSON document (-oJ), which folds closed ports into counts, so it cannot prove which pairs were answered: merge the shards' NDJSON (-oD) or history (--db)",
                path.display()
            )));
        }
        return Err(not_shard());
    };
    if !shard.all_ports {
        return Err(usage(format!(
            "{} was written with --open, so closed ports are missing from it and coverage cannot be proven; run the shard without --open",
            path.display()
        )));
    }
    Ok(Input {
        path: path.to_owned(),
        source: Source::Ndjson,
        info: shard,
        targets: None,
        ended: None,
        cut: false,
    })
}

/// A shard's history database (`scan --shard I/N --db FILE`): its latest run, whose
/// recorded arguments give the shard and, rebuilt, the spec hash. Its closed ports
/// come back from the answered bitmaps, so coverage is proven as for NDJSON.
fn history_header(path: &Path, env: &SystemEnv) -> anyhow::Result<Input> {
    let store = Store::open(path)?;
    let not_shard = |why: &str| {
        usage(format!(
            "{}: {why}: merge reads the history of `portolan scan --shard I/N --db FILE`",
            path.display()
        ))
    };
    let id = store
        .latest()?
        .ok_or_else(|| not_shard("no scan recorded"))?;
    let run = store.run(id)?;
    let shard = shard_of(&run.argv).ok_or_else(|| not_shard("its latest scan is not a shard"))?;
    if !run.resumable {
        return Err(not_shard(
            "its latest scan was too large to record every answered pair",
        ));
    }
    let targets = store.target_specs(id)?;
    let outs = MergeOutputs {
        stored_targets: targets.as_deref(),
        output: &crate::args::OutputArgs::default(),
        ndjson: None,
        open: false,
        db: None,
    };
    let cfg = request::merge_request(&run.argv, &outs, env)?;
    let spec = SpecHash::of(&cfg.targets, &cfg.ports, Protocol::Tcp);
    if let Some(recorded) = store.spec(id)? {
        if recorded != spec.to_string() {
            return Err(usage(format!(
                "{}: the shard recorded spec {recorded}, but its stored arguments now give {spec}: a name resolves differently here",
                path.display()
            )));
        }
    }
    Ok(Input {
        path: path.to_owned(),
        source: Source::History(id),
        info: ShardInfo {
            index: shard.index(),
            count: shard.count(),
            seed: run.seed,
            spec: spec.to_string(),
            argv: run.argv.clone(),
            all_ports: true,
        },
        targets,
        ended: run.ended.map(|_| run.complete),
        cut: false,
    })
}

/// The `--shard` of recorded arguments.
fn shard_of(argv: &[String]) -> Option<portolan_target::Shard> {
    let mut words = argv.iter();
    while let Some(w) = words.next() {
        if w == "--shard" {
            return words.next()?.parse().ok();
        }
        if let Some(v) = w.strip_prefix("--shard=") {
            return v.parse().ok();
        }
    }
    None
}

/// Calls `f` with every result of a history input.
fn replay(
    path: &Path,
    id: i64,
    mut f: impl FnMut(&PortResult) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let store = Store::open(path)?;
    let run = store.run(id)?;
    store.replay(&run, |r: &PortResult| f(r))?;
    Ok(())
}

/// Pass 2: every result of every input into the outputs (and the history).
fn write(
    cfg: &request::ScanRequest,
    inputs: &[Input],
    complete: bool,
    clock: Instant,
) -> anyhow::Result<()> {
    let mut session = Session::load(None, &crate::args::HistoryOptions::default())?;
    session.open_history(cfg);
    let mut sink = crate::reports::reports(cfg, 0)?;
    let info = RunInfo {
        command_line: format!(
            "portolan merge of: portolan scan {}",
            cfg.record_argv.join(" ")
        ),
        started: SystemTime::now(),
        ports: cfg.ports.to_spec(),
        hosts: cfg.targets.hosts(),
        shard: None,
    };
    sink.start(&info)?;
    session.attach(cfg, &info, &mut sink)?;
    let mut summary = Summary::default();
    for input in inputs {
        let mut one = |r: &PortResult| -> anyhow::Result<()> {
            *summary.counts.entry((r.state, r.reason)).or_default() += 1;
            sink.result(r).map_err(|e| anyhow::anyhow!(e))
        };
        match input.source {
            Source::History(id) => replay(&input.path, id, one)?,
            Source::Ndjson => {
                let mut limited = Vec::new();
                read_lines(&input.path, |line, _| match line {
                    Line::Result(r) => one(&r),
                    Line::Limited { icmp_limited } => {
                        limited.extend(icmp_limited);
                        Ok(())
                    }
                    _ => Ok(()),
                })?;
                // Each shard's verdict carries over to the merged scan.
                summary.icmp_limited.extend(
                    limited
                        .into_iter()
                        .map(|l| (l.addr, std::time::Duration::from_millis(l.period_ms))),
                );
            }
        }
    }
    summary.icmp_limited.sort();
    summary.icmp_limited.dedup_by_key(|(addr, _)| *addr);
    summary.complete = complete;
    summary.elapsed = clock.elapsed();
    sink.finish(&summary)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use portolan_engine::{Endpoint, Reason};
    use portolan_target::{SystemResolver, TargetSetBuilder};

    use super::*;

    fn order(words: &[&str], ports: &str, seed: u64) -> ScanOrder {
        let mut b = TargetSetBuilder::new();
        for w in words {
            b = b.target(w).unwrap();
        }
        let targets = Arc::new(b.build(&SystemResolver).unwrap());
        ScanOrder::random(targets, Arc::new(PortList::parse(ports).unwrap()), seed)
    }

    fn result(e: &Endpoint) -> PortResult {
        PortResult::new(e.clone(), Reason::ConnRefused, None, 1)
    }

    #[test]
    fn every_pair_once_leaves_nothing_missing() {
        let walk = order(&["10.0.0.0/28"], "1-5", 3);
        let mut cover = Coverage::new(walk.clone(), 3).unwrap();
        for k in 0..3u64 {
            for e in walk.clone().shard(u128::from(k), 3) {
                assert_eq!(cover.answer(&result(&e), k + 1), Ok(()));
            }
        }
        assert!(cover.missing(10).is_empty());
        let any = walk.clone().next().unwrap();
        let owner = walk.owner(
            walk.targets().index_of(any.addr, None).unwrap() * 5 + u128::from(any.port - 1),
            3,
        ) as u64
            + 1;
        assert_eq!(cover.answer(&result(&any), owner), Err(Refusal::Duplicate));
        let other = owner % 3 + 1;
        assert_eq!(
            cover.answer(&result(&any), other),
            Err(Refusal::WrongShard { owner })
        );
        let mut foreign = any.clone();
        foreign.port = 6;
        assert_eq!(cover.answer(&result(&foreign), 1), Err(Refusal::Foreign));
        foreign = any;
        foreign.addr = "10.0.1.1".parse().unwrap();
        assert_eq!(cover.answer(&result(&foreign), 1), Err(Refusal::Foreign));
    }

    #[test]
    fn a_missing_shard_is_listed_compactly_by_host_ranges() {
        // One shard of one: a dead shard misses everything, one line.
        let walk = order(&["10.0.0.0/24"], "22,80-81", 9);
        let cover = Coverage::new(walk.clone(), 1).unwrap();
        let gaps = cover.missing(10);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].pairs, 256 * 3);
        assert_eq!(gaps[0].lines, vec!["10.0.0.0-10.0.0.255 × 22,80-81"]);
        // Half the hosts answered: two runs of hosts, the gap between them.
        let mut cover = Coverage::new(walk.clone(), 1).unwrap();
        for e in walk.filter(|e| {
            (100..200).contains(
                &(u32::from(match e.addr {
                    std::net::IpAddr::V4(a) => a,
                    std::net::IpAddr::V6(_) => unreachable!(),
                }) & 0xff),
            )
        }) {
            cover.answer(&result(&e), 1).unwrap();
        }
        let gaps = cover.missing(1);
        assert_eq!(gaps[0].pairs, 156 * 3);
        assert_eq!(gaps[0].lines, vec!["10.0.0.0-10.0.0.99 × 22,80-81"]);
        assert_eq!(gaps[0].more, 1);
    }

    #[test]
    fn recorded_shard_arguments() {
        let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shard_of(&words(&["10.0.0.1", "--shard", "2/4"])).map(|s| s.to_string()),
            Some("2/4".into())
        );
        assert_eq!(
            shard_of(&words(&["--shard=3/8", "-p", "1"])).map(|s| s.to_string()),
            Some("3/8".into())
        );
        assert!(shard_of(&words(&["10.0.0.1", "-p", "1"])).is_none());
    }

    #[test]
    fn the_icmp_rate_limit_line_of_a_shard_is_read_as_such() {
        let line = br#"{"icmp_limited":[{"addr":"198.18.0.1","period_ms":1000}]}"#;
        let Ok(Line::Limited { icmp_limited }) = serde_json::from_slice::<Line>(line) else {
            panic!("not read as the ICMP rate limit line");
        };
        assert_eq!(icmp_limited.len(), 1);
        assert_eq!(icmp_limited[0].addr.to_string(), "198.18.0.1");
        assert_eq!(icmp_limited[0].period_ms, 1000);
    }
}
