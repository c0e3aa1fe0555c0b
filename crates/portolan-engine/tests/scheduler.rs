//! The scheduler against the simulated network: exactness under loss, resource
//! exhaustion, caps, rates and cancellation, in virtual time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::cell::Cell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portolan_engine::sim::{Behavior, Local, SimNet};
use portolan_engine::{
    Concurrency, EngineError, Hiccup, PortResult, PortState, Progress, Rate, Reason, Scanner, Sink,
    Summary, Transport,
};
use portolan_engine::{HICCUP_LIMIT, OPEN_GROUPS, PRESSURE_PAUSE};
use portolan_target::{HostBlock, HostKey, TargetSet};
use portolan_target::{PortList, ScanOrder};

#[derive(Default)]
struct Collect {
    results: HashMap<(IpAddr, u16), PortResult>,
    duplicates: usize,
    stop_after: Option<(usize, Arc<AtomicBool>)>,
}

impl Sink for Collect {
    fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
        if self
            .results
            .insert((r.endpoint.addr, r.endpoint.port), r.clone())
            .is_some()
        {
            self.duplicates += 1;
        }
        if let Some((n, flag)) = &self.stop_after {
            if self.results.len() >= *n {
                flag.store(true, Ordering::Relaxed);
            }
        }
        Ok(())
    }
    fn progress(&mut self, p: &Progress) -> Result<(), portolan_engine::SinkError> {
        assert!(p.done <= p.total);
        Ok(())
    }
}

fn order(hosts: u128, ports: &str, seed: u64) -> ScanOrder {
    let set = TargetSet::from_blocks(vec![HostBlock::Range {
        start: "198.18.0.1".parse().unwrap(),
        count: hosts,
    }])
    .unwrap();
    ScanOrder::random(
        Arc::new(set),
        Arc::new(PortList::parse(ports).unwrap()),
        seed,
    )
}

/// The lab's main host: a few open ports, 1000-1999 dropped, 2000-2099 prohibited.
fn lab(addr: SocketAddr) -> Behavior {
    match addr.port() {
        21 | 22 | 80 | 443 | 6379 | 8080 | 65535 => Behavior::Open,
        1000..=1999 => Behavior::Dropped,
        2000..=2099 => Behavior::Unreachable(Reason::AdminProhibited),
        _ => Behavior::Closed,
    }
}

fn check_lab(sink: &Collect, summary: &Summary, ports: u16) -> usize {
    assert_eq!(sink.duplicates, 0, "a port was reported twice");
    assert_eq!(
        sink.results.len(),
        usize::from(ports),
        "every port reported once"
    );
    assert!(summary.complete);
    sink.results
        .values()
        .filter(|r| {
            let want = match lab(SocketAddr::new(r.endpoint.addr, r.endpoint.port)) {
                Behavior::Open => PortState::Open,
                Behavior::Closed => PortState::Closed,
                _ => PortState::Filtered,
            };
            r.state != want
        })
        .count()
}

fn scan(net: &mut SimNet, order: &mut ScanOrder, scanner: &Scanner) -> (Collect, Summary) {
    let mut sink = Collect::default();
    let summary = scanner.run(order, net, &mut sink).unwrap();
    (sink, summary)
}

#[test]
fn clean_path_is_exact_with_reasons() {
    let mut net = SimNet::new(Duration::from_micros(200), lab);
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-65535", 1),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 65535), 0);
    let reason = |p: u16| sink.results[&("198.18.0.1".parse().unwrap(), p)].reason;
    assert_eq!(reason(22), Reason::SynAck);
    assert_eq!(reason(23), Reason::ConnRefused);
    assert_eq!(reason(1500), Reason::NoResponse);
    assert_eq!(reason(2050), Reason::AdminProhibited);
    assert_eq!(summary.count(PortState::Open), 7);
    assert_eq!(summary.count(PortState::Filtered), 1100);
    assert!(
        net.sent.values().all(|&n| n <= 4),
        "no needless retries on a clean path"
    );
}

#[test]
fn lossy_wan_is_exact_every_seed() {
    for seed in 1..=5 {
        let mut net = SimNet::new(Duration::from_millis(40), lab).with_loss(0.01, seed);
        let start = net.now();
        let (sink, summary) = scan(
            &mut net,
            &mut order(1, "1-65535", seed),
            &Scanner::builder().build(),
        );
        let wrong = check_lab(&sink, &summary, 65535);
        assert!(wrong <= 1, "seed {seed}: {wrong} ports in the wrong state");
        let open = sink
            .results
            .values()
            .filter(|r| r.state == PortState::Open)
            .count();
        assert_eq!(open, 7, "seed {seed}: the open set must be exact");
        let took = net.elapsed(start);
        assert!(
            took < Duration::from_secs(5),
            "seed {seed}: took {took:?} of virtual time"
        );
    }
}

/// Tries sent to the dropped ports (1000-1999): how many got at most `n`.
fn dropped_with_at_most(net: &SimNet, n: u32) -> usize {
    (1000..=1999)
        .filter(|&p| net.sent.get(&lab_addr(p)).copied().unwrap_or(0) <= n)
        .count()
}

#[test]
fn an_early_burst_of_loss_does_not_inflate_the_later_budget() {
    // 30 % of the first 10,000 probes lost (slow start overrunning a link), then
    // a clean path: the ports that fall silent later are not given the burst's
    // budget, and the burst's own victims are still found.
    // Each send costs 10 µs (100k probes/s, the lab's pace), so the scan lasts many
    // timeouts as in the lab rather than fitting inside the first one.
    for seed in 1..=3 {
        let mut net = SimNet::new(Duration::from_millis(1), lab)
            .with_start_cost(Duration::from_micros(10))
            .with_loss(0.0, seed)
            .with_burst(0.3, 10_000);
        let (sink, summary) = scan(
            &mut net,
            &mut order(1, "1-65535", seed),
            &Scanner::builder().build(),
        );
        assert_eq!(check_lab(&sink, &summary, 65535), 0, "seed {seed}");
        // The run's whole share of retried answers (about 5 %) gave every one of
        // them 6 tries; counted as of its first try and decayed, the burst buys at most 4.
        let few = dropped_with_at_most(&net, 4);
        assert_eq!(
            few, 1000,
            "seed {seed}: only {few} of 1000 dropped ports got at most 4 tries"
        );
    }
}

#[test]
fn steady_loss_stays_exact_over_seeds() {
    // 1 % and 2 % each way, after the same early burst: the decayed estimate must
    // still give random loss enough tries.
    for (loss, seed) in [(0.01, 11), (0.01, 12), (0.02, 13), (0.02, 14), (0.02, 15)] {
        let mut net = SimNet::new(Duration::from_millis(40), lab)
            .with_loss(loss, seed)
            .with_burst(0.3, 5_000);
        let (sink, summary) = scan(
            &mut net,
            &mut order(1, "1-65535", seed),
            &Scanner::builder().build(),
        );
        let wrong = check_lab(&sink, &summary, 65535);
        assert!(wrong <= 1, "loss {loss} seed {seed}: {wrong} wrong");
        let open = sink
            .results
            .values()
            .filter(|r| r.state == PortState::Open)
            .count();
        assert_eq!(
            open, 7,
            "loss {loss} seed {seed}: the open set must be exact"
        );
    }
}

#[test]
fn file_limit_slows_but_loses_nothing() {
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_socket_limit(200);
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-65535", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 65535), 0);
    assert!(net.max_open <= 200);
}

#[test]
fn starved_scan_is_an_error_not_a_hang() {
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_socket_limit(0);
    let mut sink = Collect::default();
    let err = Scanner::builder()
        .build()
        .run(&mut order(1, "1-10", 3), &mut net, &mut sink)
        .unwrap_err();
    assert!(err.to_string().contains("ulimit"), "{err}");
}

#[test]
fn local_port_exhaustion_is_retried() {
    let mut net = SimNet::new(Duration::from_millis(1), lab);
    net.flaky_first = (20..=30)
        .map(|p| SocketAddr::new("198.18.0.1".parse().unwrap(), p))
        .collect();
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-100", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 100), 0);
    assert_eq!(
        sink.results[&("198.18.0.1".parse().unwrap(), 22)].tries,
        1,
        "a hiccup is not a try"
    );
}

#[test]
fn per_host_cap_and_global_cap_hold() {
    let mut net = SimNet::new(Duration::from_millis(5), |_| Behavior::Closed);
    let scanner = Scanner::builder()
        .max_host_concurrency(NonZeroUsize::new(1))
        .max_in_flight(Concurrency(NonZeroUsize::new(64).unwrap()))
        .build();
    let (sink, _) = scan(&mut net, &mut order(1, "1-500", 3), &scanner);
    assert_eq!(sink.results.len(), 500);
    assert_eq!(net.max_open, 1, "one host, cap 1");

    let mut net = SimNet::new(Duration::from_millis(5), |_| Behavior::Closed);
    let scanner = Scanner::builder()
        .max_host_concurrency(NonZeroUsize::new(3))
        .max_in_flight(Concurrency(NonZeroUsize::new(64).unwrap()))
        .build();
    let (sink, _) = scan(&mut net, &mut order(100, "1-50", 3), &scanner);
    assert_eq!(sink.results.len(), 5000);
    assert!(net.max_open <= 64 && net.max_open > 3);
}

#[test]
fn rate_limit_spaces_probes() {
    let mut net = SimNet::new(Duration::from_millis(1), |_| Behavior::Closed);
    let start = net.now();
    let scanner = Scanner::builder().max_rate(Rate::new(1000.0)).build();
    let (sink, summary) = scan(&mut net, &mut order(1, "1-2000", 3), &scanner);
    assert_eq!(sink.results.len(), 2000);
    let took = net.elapsed(start).as_secs_f64();
    assert!(
        (1.9..2.5).contains(&took),
        "2000 probes at 1000/s took {took}s"
    );
    assert_eq!(summary.probes_sent, 2000);
}

#[test]
fn dead_hosts_are_filtered_after_retries() {
    let mut net = SimNet::new(Duration::from_millis(1), |a| {
        if a.ip().to_string().ends_with(".2") {
            Behavior::Dropped
        } else {
            Behavior::Closed
        }
    });
    let (sink, _) = scan(
        &mut net,
        &mut order(4, "22,80", 3),
        &Scanner::builder().build(),
    );
    let dead: Vec<_> = sink
        .results
        .values()
        .filter(|r| r.state == PortState::Filtered)
        .collect();
    assert_eq!(dead.len(), 2);
    assert!(dead
        .iter()
        .all(|r| r.tries >= 2 && r.reason == Reason::NoResponse && r.rtt.is_none()));
}

#[test]
fn cancel_stops_and_reports_each_answer_once() {
    let flag = Arc::new(AtomicBool::new(false));
    let mut net = SimNet::new(Duration::from_millis(1), lab);
    let mut sink = Collect {
        stop_after: Some((1000, flag.clone())),
        ..Collect::default()
    };
    let scanner = Scanner::builder().cancel_flag(flag).build();
    let summary = scanner
        .run(&mut order(1, "1-65535", 3), &mut net, &mut sink)
        .unwrap();
    assert!(!summary.complete);
    assert!(sink.results.len() >= 1000 && sink.results.len() < 65535);
    assert_eq!(sink.duplicates, 0);
    assert_eq!(summary.results() as usize, sink.results.len());
}

#[test]
fn a_host_that_drops_everything_is_not_scanned_at_the_initial_pace() {
    let mut net = SimNet::new(Duration::from_millis(1), |_| Behavior::Dropped);
    let start = net.now();
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-20000", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(sink.results.len(), 20_000);
    assert!(sink
        .results
        .values()
        .all(|r| r.state == PortState::Filtered && r.tries >= 2));
    assert_eq!(summary.count(PortState::Filtered), 20_000);
    let took = net.elapsed(start);
    // At the initial window (256) and timeout (1 s) this would take about 4 minutes.
    assert!(
        took < Duration::from_secs(40),
        "took {took:?} of virtual time"
    );
}

fn lab_addr(port: u16) -> SocketAddr {
    SocketAddr::new("198.18.0.1".parse().unwrap(), port)
}

#[test]
fn self_connect_is_retried_without_counting_a_try() {
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_local(|a, n| {
        if a.port() == 22 && n == 0 {
            Local::FailsLater(Hiccup::SelfConnect)
        } else {
            Local::Wire
        }
    });
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-100", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 100), 0);
    let r = &sink.results[&("198.18.0.1".parse().unwrap(), 22)];
    assert_eq!((r.state, r.tries), (PortState::Open, 1));
    assert_eq!(net.sent[&lab_addr(22)], 2, "sent twice, one try");
    assert_eq!(net.hiccups, [(lab_addr(22), Hiccup::SelfConnect)]);
    assert_eq!(summary.retries, 0, "a hiccup is not a retry");
}

#[test]
fn every_hiccup_from_start_or_in_flight_is_retried_without_a_try() {
    let hiccups = [Hiccup::NoBuffers, Hiccup::NoLocalPort, Hiccup::SelfConnect];
    for hiccup in hiccups {
        for later in [false, true] {
            let local = if later {
                Local::FailsLater(hiccup)
            } else {
                Local::StartFails(hiccup)
            };
            let mut net = SimNet::new(Duration::from_millis(1), lab).with_local(move |a, n| {
                if (20..=30).contains(&a.port()) && n == 0 {
                    local
                } else {
                    Local::Wire
                }
            });
            let (sink, summary) = scan(
                &mut net,
                &mut order(1, "1-100", 3),
                &Scanner::builder().build(),
            );
            assert_eq!(check_lab(&sink, &summary, 100), 0, "{local:?}");
            assert_eq!(net.hiccups.len(), 11, "{local:?}");
            for port in 20..=30 {
                let r = &sink.results[&("198.18.0.1".parse().unwrap(), port)];
                assert_eq!(r.tries, 1, "{local:?}: port {port}");
                let sent = if later { 2 } else { 1 };
                assert_eq!(net.sent[&lab_addr(port)], sent, "{local:?}: port {port}");
            }
        }
    }
}

#[test]
fn synchronous_refusal_is_reported_once() {
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_local(|_, _| Local::AtOnce);
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-3000", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 3000), 0);
    let closed = sink
        .results
        .values()
        .filter(|r| r.state == PortState::Closed)
        .collect::<Vec<_>>();
    assert_eq!(closed.len(), 3000 - 1000 - 100 - 4);
    for r in closed {
        assert_eq!((r.rtt, r.tries), (Some(Duration::ZERO), 1));
        assert_eq!(
            net.sent[&SocketAddr::new(r.endpoint.addr, r.endpoint.port)],
            1
        );
    }
    let port = |p: u16| &sink.results[&("198.18.0.1".parse().unwrap(), p)];
    assert_eq!(
        (port(22).reason, port(22).rtt),
        (Reason::SynAck, Some(Duration::ZERO))
    );
    assert_eq!(port(2050).reason, Reason::AdminProhibited);
    assert_eq!(
        port(1500).reason,
        Reason::NoResponse,
        "silence is never at once"
    );
    assert_eq!(
        summary.probes_sent,
        net.sent.values().map(|&n| u64::from(n)).sum()
    );
}

#[test]
fn synchronous_answers_respect_the_rate_limit() {
    let mut net = SimNet::new(Duration::from_millis(1), |_| Behavior::Closed)
        .with_local(|_, _| Local::AtOnce);
    let start = net.now();
    let scanner = Scanner::builder().max_rate(Rate::new(1000.0)).build();
    let (sink, summary) = scan(&mut net, &mut order(1, "1-2000", 3), &scanner);
    assert_eq!(sink.results.len(), 2000);
    assert_eq!(summary.probes_sent, 2000);
    let took = net.elapsed(start).as_secs_f64();
    assert!(
        (1.9..2.5).contains(&took),
        "2000 probes at 1000/s took {took}s"
    );
}

#[test]
fn no_buffers_pauses_launches() {
    let ports = 100;
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_local(|_, n| {
        if n == 0 {
            Local::StartFails(Hiccup::NoBuffers)
        } else {
            Local::Wire
        }
    });
    let start = net.now();
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, &format!("1-{ports}"), 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, ports), 0);
    assert!(sink.results.values().all(|r| r.tries == 1));
    let took = net.elapsed(start);
    assert!(
        took >= PRESSURE_PAUSE * u32::from(ports),
        "each of {ports} hiccups pauses launches; took {took:?}"
    );
}

#[test]
fn file_limit_lowers_the_ceiling_for_the_rest_of_the_scan() {
    // The tenth socket fails with EMFILE: nine is the most this machine can open.
    let starts = Cell::new(0u32);
    let mut net = SimNet::new(Duration::from_millis(1), lab).with_local(move |_, _| {
        starts.set(starts.get() + 1);
        if starts.get() == 10 {
            Local::StartFails(Hiccup::FileLimit)
        } else {
            Local::Wire
        }
    });
    let (sink, summary) = scan(
        &mut net,
        &mut order(1, "1-1000", 3),
        &Scanner::builder().build(),
    );
    assert_eq!(check_lab(&sink, &summary, 1000), 0);
    assert_eq!(net.hiccups.len(), 1, "the limit is not hit twice");
    assert_eq!(net.max_open, 9);
    assert_eq!(summary.max_in_flight, 9);
}

#[test]
fn endless_local_trouble_is_starvation_not_a_hang() {
    for hiccup in [Hiccup::NoBuffers, Hiccup::NoLocalPort, Hiccup::SelfConnect] {
        let mut net = SimNet::new(Duration::from_millis(1), lab)
            .with_local(move |_, _| Local::StartFails(hiccup));
        let start = net.now();
        let mut sink = Collect::default();
        let err = Scanner::builder()
            .build()
            .run(&mut order(1, "1-10", 3), &mut net, &mut sink)
            .unwrap_err();
        assert!(
            matches!(err, EngineError::Starved { hiccup: h } if h == hiccup),
            "{err}"
        );
        assert_eq!(net.hiccups.len(), HICCUP_LIMIT as usize + 1, "{hiccup:?}");
        assert!(sink.results.is_empty());
        assert_eq!(net.sent.len(), 0);
        let took = net.elapsed(start);
        assert!(took < Duration::from_mins(10), "{hiccup:?}: {took:?}");
    }
}

/// `--max-open-per-host`: a host that answers every port is stopped at the cap,
/// its other pairs counted as not scanned (never lost silently: results plus
/// skipped pairs are the whole walk), while a normal host beside it is scanned
/// to the end; with loss, a per-host cap (parked pairs) and retries in the queue.
#[test]
fn max_open_per_host_stops_a_host_and_counts_what_it_skipped() {
    let wildcard: IpAddr = "198.18.0.1".parse().unwrap();
    for (seed, loss, host_cap) in [
        (1, 0.0, None),
        (2, 0.2, NonZeroUsize::new(4)),
        (3, 0.1, None),
    ] {
        let mut net = SimNet::new(Duration::from_millis(2), move |a: SocketAddr| {
            if a.ip() == wildcard || a.port() == 22 {
                Behavior::Open
            } else {
                Behavior::Closed
            }
        })
        .with_loss(loss, seed);
        let scanner = Scanner::builder()
            .max_open_per_host(std::num::NonZeroU32::new(10))
            .max_host_concurrency(host_cap)
            .build();
        let (sink, summary) = scan(&mut net, &mut order(2, "1-300", seed), &scanner);
        assert_eq!(sink.duplicates, 0);
        let open_on = |ip: IpAddr| {
            sink.results
                .iter()
                .filter(|((a, _), r)| *a == ip && r.state == PortState::Open)
                .count()
        };
        assert_eq!(open_on(wildcard), 10, "stopped at the cap (seed {seed})");
        let other: IpAddr = "198.18.0.2".parse().unwrap();
        assert_eq!(
            sink.results.keys().filter(|(a, _)| *a == other).count(),
            300,
            "the normal host is scanned whole"
        );
        assert_eq!(summary.capped.len(), 1);
        assert_eq!(summary.capped[0].0, wildcard);
        let on_wildcard = sink.results.keys().filter(|(a, _)| *a == wildcard).count() as u64;
        assert_eq!(
            on_wildcard + summary.capped[0].1,
            300,
            "every pair of the stopped host is a result or counted as not scanned"
        );
        assert_eq!(summary.not_scanned(), summary.capped[0].1);
        assert!(summary.complete);
    }
}

/// Checks what a report relies on to forget hosts: a group is done only after
/// every result of its hosts, no result follows, groups come in order, and results
/// never run more than [`OPEN_GROUPS`] groups ahead of the last one done.
struct GroupCheck {
    /// Results per host, for an unsharded walk.
    ports: Option<usize>,
    group_hosts: u128,
    seen: HashMap<IpAddr, usize>,
    done: Vec<HostKey>,
    groups_done: u128,
    results: usize,
}

fn host_index(addr: IpAddr) -> u128 {
    let IpAddr::V4(a) = addr else {
        panic!("v4 only")
    };
    u128::from(u32::from(a) - u32::from(std::net::Ipv4Addr::new(198, 18, 0, 1)))
}

impl Sink for GroupCheck {
    fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::SinkError> {
        let a = r.endpoint.addr;
        assert!(
            !self.done.iter().any(|(d, _)| *d == a),
            "a result for {a} after its group was done"
        );
        let g = host_index(a) / self.group_hosts;
        assert!(
            g < self.groups_done + OPEN_GROUPS,
            "group {g} walked with only {} done",
            self.groups_done
        );
        *self.seen.entry(a).or_default() += 1;
        self.results += 1;
        Ok(())
    }

    fn hosts_done(&mut self, hosts: &[HostKey]) -> Result<(), portolan_engine::SinkError> {
        for (a, _) in hosts {
            assert_eq!(host_index(*a) / self.group_hosts, self.groups_done);
            if let Some(ports) = self.ports {
                assert_eq!(self.seen.get(a), Some(&ports), "{a} done early");
            }
        }
        self.done.extend_from_slice(hosts);
        self.groups_done += 1;
        Ok(())
    }
}

#[test]
fn host_groups_are_done_in_order_after_every_result_of_theirs() {
    for (seed, shard) in [(1, None), (2, Some((1, 3))), (3, Some((0, 2)))] {
        // Every seventh host drops everything: its group waits out the retries.
        let mut net = SimNet::new(Duration::from_millis(2), |a| {
            if host_index(a.ip()) % 7 == 3 {
                Behavior::Dropped
            } else {
                lab(a)
            }
        })
        .with_loss(0.02, seed);
        let mut walk = order(300, "21,22,23", seed).host_groups(16);
        if let Some((k, n)) = shard {
            walk = walk.shard(k, n);
        }
        let pairs = walk.total();
        let mut sink = GroupCheck {
            ports: shard.is_none().then_some(3),
            group_hosts: 16,
            seen: HashMap::new(),
            done: Vec::new(),
            groups_done: 0,
            results: 0,
        };
        let scanner = Scanner::builder()
            .max_in_flight(Concurrency(NonZeroUsize::new(200).unwrap()))
            .build();
        let summary = scanner.run(&mut walk, &mut net, &mut sink).unwrap();
        assert!(summary.complete);
        assert_eq!(sink.results as u128, pairs);
        assert_eq!(sink.groups_done, 300u128.div_ceil(16), "every group done");
        // Unsharded, every host once; a shard names every host of its groups too.
        assert_eq!(sink.done.len(), 300);
        if shard.is_none() {
            assert!(sink.seen.values().all(|&n| n == 3));
        }
    }
}

/// Regression: answers given at once by `start` (an unreachable route) never wait
/// for the window, so one launch loop could take a whole sweep without a progress
/// call (the history commits on those: it buffered a /12 whole) or a look at the
/// cancel flag.
#[test]
fn a_sweep_answered_at_once_still_hears_progress_and_cancel() {
    struct Stop(Arc<AtomicBool>, usize);
    impl Sink for Stop {
        fn result(&mut self, _: &PortResult) -> Result<(), portolan_engine::SinkError> {
            self.1 += 1;
            if self.1 == 5000 {
                self.0.store(true, Ordering::Relaxed);
            }
            Ok(())
        }
    }
    struct Ticks(usize, usize);
    impl Sink for Ticks {
        fn result(&mut self, _: &PortResult) -> Result<(), portolan_engine::SinkError> {
            self.0 += 1;
            Ok(())
        }
        fn progress(&mut self, _: &Progress) -> Result<(), portolan_engine::SinkError> {
            self.1 += 1;
            Ok(())
        }
    }
    let net = || {
        SimNet::new(Duration::from_millis(1), |_| Behavior::Closed)
            .with_local(|_, _| Local::AtOnce)
            .with_start_cost(Duration::from_micros(20))
    };
    // 20,000 probes of 20 us each: 0.4 s, four progress periods.
    let mut sink = Ticks(0, 0);
    let summary = Scanner::builder()
        .build()
        .run(&mut order(1, "1-20000", 3), &mut net(), &mut sink)
        .unwrap();
    assert!(summary.complete);
    assert_eq!(sink.0, 20_000);
    assert!(sink.1 >= 4, "{} progress calls", sink.1);
    // The cancel flag is seen within the loop too.
    let flag = Arc::new(AtomicBool::new(false));
    let mut sink = Stop(flag.clone(), 0);
    let summary = Scanner::builder()
        .cancel_flag(flag)
        .build()
        .run(&mut order(1, "1-20000", 3), &mut net(), &mut sink)
        .unwrap();
    assert!(!summary.complete);
    assert!(sink.1 < 20_000, "stopped after {} results", sink.1);
}

/// Pairs dropped by `--max-open-per-host` are decided too: their groups are done
/// (and the walk, gated on done groups, does not wait for them forever).
#[test]
fn host_groups_end_when_the_open_cap_drops_pairs() {
    let mut net = SimNet::new(Duration::from_millis(2), |_| Behavior::Open);
    let mut sink = GroupCheck {
        ports: None,
        group_hosts: 4,
        seen: HashMap::new(),
        done: Vec::new(),
        groups_done: 0,
        results: 0,
    };
    let scanner = Scanner::builder()
        .max_open_per_host(std::num::NonZeroU32::new(3))
        .build();
    let mut walk = order(40, "1-50", 5).host_groups(4);
    let summary = scanner.run(&mut walk, &mut net, &mut sink).unwrap();
    assert!(summary.complete);
    assert_eq!(sink.groups_done, 10);
    assert_eq!(sink.done.len(), 40);
    assert_eq!(summary.capped.len(), 40);
}
