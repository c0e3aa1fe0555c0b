//! From what was typed ([`ScanArgs`]) to what the engine needs ([`ScanConfig`]):
//! files read, names resolved, numbers checked, defaults filled in. Everything that
//! can be wrong with the user's request is found here, before a packet is sent.

use std::fs;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use portolan_engine::{Concurrency, Rate, Scanner, ScannerBuilder, Template, Timing};
use portolan_target::spec::{words, SystemResolver, TargetSetBuilder};
use portolan_target::{PortList, Scope, TargetSet};

use crate::args::ScanArgs;
use crate::exit::usage;

/// Sockets kept back from the open-file limit for output files and the like (the
/// `-sV` prober's connections are kept back on top of these).
const FD_RESERVE: u64 = 64;
/// The default ceiling of the congestion window.
const DEFAULT_MAX_IN_FLIGHT: usize = 5000;

/// Where the scan order comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    Random { seed: u64 },
    Sequential,
}

/// A validated scan request.
pub struct ScanConfig {
    pub targets: Arc<TargetSet>,
    pub ports: Arc<PortList>,
    pub order: OrderKind,
    pub engine: ScannerBuilder,
    pub ndjson: Option<PathBuf>,
    pub output: crate::formats::OutputArgs,
    pub open_only: bool,
    pub progress: bool,
    /// Print each progress snapshot on stderr (`--debug-timeline`).
    pub timeline: bool,
    /// `-sV`: how to identify services, when asked for.
    pub probe: Option<crate::probe::ProbeConfig>,
    /// Notes for the user about adjustments made (printed on stderr).
    pub notes: Vec<String>,
}

pub fn build(args: &ScanArgs, file_limit: u64) -> anyhow::Result<ScanConfig> {
    let mut notes = Vec::new();
    let ports = Arc::new(ports(args)?);
    let targets = Arc::new(targets(args)?);
    let timing = timing(args)?;
    let probe = crate::probe::config(args)?;
    // `-sV` probes hold one connection each, on top of the engine's.
    let prober = probe.as_ref().map_or(0, |p| p.settings.concurrency.max(1));
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
    let max_in_flight = NonZeroUsize::new(wanted.min(ceiling)).unwrap_or(NonZeroUsize::MIN);
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
    let engine = Scanner::builder()
        .timing(timing)
        .max_in_flight(Concurrency(max_in_flight))
        .max_host_concurrency(host_cap)
        .max_rate(rate);
    let order = if args.no_randomize {
        OrderKind::Sequential
    } else {
        OrderKind::Random {
            seed: args.seed.unwrap_or_else(random_seed),
        }
    };
    Ok(ScanConfig {
        targets,
        ports,
        order,
        engine,
        ndjson: args.ndjson.clone(),
        output: args.output.clone(),
        open_only: args.open,
        progress: !args.no_progress,
        timeline: args.debug_timeline,
        probe,
        notes,
    })
}

fn ports(args: &ScanArgs) -> anyhow::Result<PortList> {
    let list = match (&args.ports, args.top_ports, args.fast) {
        (Some(spec), _, _) => PortList::parse(spec).with_context(|| format!("-p {spec}"))?,
        (None, Some(n), _) => PortList::top(n)?,
        (None, None, true) => PortList::top(100)?,
        (None, None, false) => PortList::top(1000)?,
    };
    Ok(list)
}

fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {what} {}: {e}", path.display())))
}

fn targets(args: &ScanArgs) -> anyhow::Result<TargetSet> {
    let mut b = TargetSetBuilder::new().allow_large(args.large);
    for t in &args.targets {
        b = b.target(t)?;
    }
    for path in &args.input_list {
        let text = read(path, "target list")?;
        for w in words(&text) {
            b = b
                .target(w)
                .with_context(|| format!("in {}", path.display()))?;
        }
    }
    if args.targets.is_empty() && args.input_list.is_empty() {
        return Err(usage(
            "no targets given (try `portolan scan 127.0.0.1`, or `portolan demo`)",
        ));
    }
    for list in &args.exclude {
        for t in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            b = b.exclude(t)?;
        }
    }
    for path in &args.exclude_file {
        let text = read(path, "exclude file")?;
        for w in words(&text) {
            b = b
                .exclude(w)
                .with_context(|| format!("in {}", path.display()))?;
        }
    }
    if let Some(path) = &args.scope {
        let scope = Scope::parse(&read(path, "scope file")?)
            .with_context(|| format!("in scope file {}", path.display()))?;
        b = b.scope(Some(scope));
    }
    Ok(b.build(&SystemResolver)?)
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
    if let Some(s) = &args.initial_rtt_timeout {
        t.initial_timeout = duration(s, "--initial-rtt-timeout")?;
    }
    if let Some(s) = &args.min_rtt_timeout {
        t.min_timeout = duration(s, "--min-rtt-timeout")?;
    }
    if let Some(s) = &args.max_rtt_timeout {
        t.max_timeout = duration(s, "--max-rtt-timeout")?;
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

/// Parses `500ms`, `2s`, `1.5s`, `1m`; a unit is required.
pub fn duration(text: &str, flag: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| usage(format!("{flag} {text:?}: expected a time like 500ms or 2s")))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "" => {
            return Err(usage(format!(
                "{flag} {text:?}: give a unit, e.g. {text}ms or {text}s"
            )))
        }
        _ => {
            return Err(usage(format!(
                "{flag} {text:?}: unknown unit {unit:?} (use ms, s or m)"
            )))
        }
    };
    if !(secs.is_finite() && secs > 0.0 && secs < 86_400.0) {
        return Err(usage(format!(
            "{flag} {text:?}: must be above 0 and below a day"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(u64::from(std::process::id()));
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units() {
        assert_eq!(duration("500ms", "x").unwrap(), Duration::from_millis(500));
        assert_eq!(duration("1.5s", "x").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("1m", "x").unwrap(), Duration::from_mins(1));
        assert!(duration("500", "x").is_err());
        assert!(duration("0s", "x").is_err());
        assert!(duration("fast", "x").is_err());
        assert!(duration("5h", "x").is_err());
    }
}
