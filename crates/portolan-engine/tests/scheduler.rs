//! The scheduler against the simulated network: exactness under loss, resource
//! exhaustion, caps, rates and cancellation, in virtual time.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use portolan_engine::sim::{Behavior, SimNet};
use portolan_engine::{
    Concurrency, PortResult, PortState, Progress, Rate, Reason, Scanner, Sink, Summary, Transport,
};
use portolan_target::spec::{HostBlock, TargetSet};
use portolan_target::{PortList, ScanOrder};

#[derive(Default)]
struct Collect {
    results: HashMap<(IpAddr, u16), PortResult>,
    duplicates: usize,
    stop_after: Option<(usize, Arc<AtomicBool>)>,
}

impl Sink for Collect {
    fn result(&mut self, r: &PortResult) -> Result<(), portolan_engine::scheduler::SinkError> {
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
    fn progress(&mut self, p: &Progress) -> Result<(), portolan_engine::scheduler::SinkError> {
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
