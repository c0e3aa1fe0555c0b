//! Host discovery against the simulated network: up on the first answer of any
//! kind, down after the retries, unreachables, loss and hiccups, in virtual time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use portolan_engine::sim::{Behavior, Local, SimNet};
use portolan_engine::{
    Discoverer, EngineError, Hiccup, HostResult, HostSink, HostState, HostSummary, PingMethod,
    Reason, Template, Timing,
};

#[derive(Default)]
struct Hosts {
    seen: HashMap<IpAddr, HostResult>,
    duplicates: usize,
}

impl HostSink for Hosts {
    fn host(&mut self, r: &HostResult) -> Result<(), portolan_engine::SinkError> {
        if self.seen.insert(r.addr, r.clone()).is_some() {
            self.duplicates += 1;
        }
        Ok(())
    }
}

const METHODS: &[PingMethod] = &[
    PingMethod::Echo,
    PingMethod::Connect(80),
    PingMethod::Connect(443),
];

fn host(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0xc612_0000 + i))
}

fn hosts(n: u32) -> impl Iterator<Item = (IpAddr, Option<Arc<str>>)> {
    (0..n).map(|i| (host(i), None))
}

fn run(net: &mut SimNet, n: u32, timing: Timing) -> (Hosts, HostSummary) {
    let mut sink = Hosts::default();
    let summary = Discoverer::new(timing, 256)
        .run(hosts(n), u128::from(n), METHODS, net, &mut sink)
        .unwrap();
    assert_eq!(sink.duplicates, 0, "a host was reported twice");
    assert_eq!(sink.seen.len(), n as usize, "every host is reported");
    (sink, summary)
}

/// Hosts 0..4: echo only, reset only on 443, accepts 80, silent, unreachable.
fn mixed(addr: SocketAddr) -> Behavior {
    let i = match addr.ip() {
        IpAddr::V4(v4) => u32::from(v4) & 0xff,
        IpAddr::V6(_) => 99,
    };
    match (i % 5, addr.port()) {
        (0, 0) | (2, 80) => Behavior::Open,
        (1, 443) => Behavior::Closed,
        (4, _) => Behavior::Unreachable(Reason::HostUnreach),
        _ => Behavior::Dropped,
    }
}

#[test]
fn first_answer_of_any_kind_decides_up_and_silence_down() {
    let mut net = SimNet::new(Duration::from_millis(20), mixed);
    let (sink, summary) = run(&mut net, 50, Timing::default());
    for (addr, r) in &sink.seen {
        let i = match addr {
            IpAddr::V4(v4) => u32::from(*v4) & 0xff,
            IpAddr::V6(_) => unreachable!(),
        };
        let want = match i % 5 {
            0 => Reason::EchoReply,
            1 => Reason::ConnRefused,
            2 => Reason::SynAck,
            3 => Reason::NoResponse,
            _ => Reason::HostUnreach,
        };
        assert_eq!(r.reason, want, "{addr}");
        assert_eq!(r.is_up(), i % 5 < 3, "{addr}");
        if r.is_up() {
            assert_eq!(r.rtt, Some(Duration::from_millis(20)));
            assert_eq!(r.tries, 1);
        }
    }
    assert_eq!((summary.up, summary.down), (30, 20));
    assert!(summary.complete);
}

#[test]
fn a_silent_host_is_retried_with_every_method_then_down() {
    let mut net = SimNet::new(Duration::from_millis(10), |_| Behavior::Dropped);
    let timing = Timing {
        max_retries: 3,
        ..Timing::default()
    };
    let (sink, summary) = run(&mut net, 4, timing);
    for r in sink.seen.values() {
        assert_eq!(r.state, HostState::Down);
        assert_eq!(r.reason, Reason::NoResponse);
        assert!(r.tries >= 2 && r.tries <= 4, "tries {}", r.tries);
        // Each round sent every method once.
        for m in [0, 80, 443] {
            let sent = net.sent[&SocketAddr::new(r.addr, m)];
            assert_eq!(sent, u32::from(r.tries), "port {m}");
        }
    }
    assert_eq!(summary.pings, 4 * 3 * u64::from(sink.seen[&host(0)].tries));
    // Nothing answered: the initial timeout per round (1 s at -T3).
    assert!(summary.elapsed >= Duration::from_secs(2));
}

#[test]
fn an_up_host_cancels_its_other_pings() {
    let mut net = SimNet::new(Duration::from_millis(10), |a| {
        if a.port() == 0 {
            Behavior::Open
        } else {
            Behavior::Dropped
        }
    });
    let (sink, summary) = run(&mut net, 3, Timing::default());
    assert!(sink.seen.values().all(|r| r.reason == Reason::EchoReply));
    // One round each: the silent TCP pings were cancelled, never retried.
    assert_eq!(summary.pings, 9);
    assert!(summary.elapsed < Duration::from_millis(50));
    // The sockets of the cancelled pings are all closed.
    let mut pongs = Vec::new();
    portolan_engine::Pinger::wait(&mut net, Duration::from_secs(5), &mut pongs).unwrap();
    assert!(pongs.is_empty());
}

#[test]
fn an_unreachable_on_every_method_ends_the_host_without_retries() {
    let mut net = SimNet::new(Duration::from_millis(10), |_| {
        Behavior::Unreachable(Reason::NetUnreach)
    });
    let (sink, summary) = run(&mut net, 5, Timing::default());
    assert!(sink
        .seen
        .values()
        .all(|r| r.reason == Reason::NetUnreach && r.tries == 1 && !r.is_up()));
    assert!(summary.elapsed < Duration::from_millis(50));
}

#[test]
fn retries_find_hosts_under_loss() {
    // 20 % loss each way: a single round misses many hosts, the retries find them.
    let mut net = SimNet::new(Duration::from_millis(5), |a| {
        if a.port() == 443 {
            Behavior::Closed
        } else {
            Behavior::Dropped
        }
    })
    .with_loss(0.2, 7);
    let timing = Template::Aggressive.timing();
    let (sink, summary) = run(&mut net, 200, timing);
    let up = sink.seen.values().filter(|r| r.is_up()).count();
    assert_eq!(up, 200, "{summary:?}");
    assert!(sink.seen.values().any(|r| r.tries > 1));
}

#[test]
fn synchronous_refusals_and_hiccups_are_handled() {
    // Every first send of port 80 hiccups (EMFILE); the refusal on 443 comes from
    // `send` itself, as loopback does.
    let mut net = SimNet::new(Duration::from_millis(5), |a| {
        if a.port() == 443 {
            Behavior::Closed
        } else {
            Behavior::Dropped
        }
    })
    .with_local(|a, n| match (a.port(), n) {
        (80, 0) => Local::StartFails(Hiccup::NoBuffers),
        (443, _) => Local::AtOnce,
        _ => Local::Wire,
    });
    let (sink, _) = run(&mut net, 10, Timing::default());
    assert!(sink
        .seen
        .values()
        .all(|r| r.reason == Reason::ConnRefused && r.rtt == Some(Duration::ZERO)));
    assert!(net.hiccups.iter().all(|(a, _)| a.port() == 80));
}

#[test]
fn endless_hiccups_with_nothing_in_flight_stop_the_run() {
    let mut net = SimNet::new(Duration::from_millis(5), |_| Behavior::Dropped)
        .with_local(|_, _| Local::StartFails(Hiccup::FileLimit));
    let err = Discoverer::new(Timing::default(), 16)
        .run(hosts(3), 3, METHODS, &mut net, &mut Hosts::default())
        .unwrap_err();
    assert!(matches!(err, EngineError::Starved { .. }), "{err}");
}

#[test]
fn a_window_of_hosts_bounds_the_pings_in_flight() {
    let mut net = SimNet::new(Duration::from_millis(5), |_| Behavior::Dropped);
    let timing = Timing {
        max_retries: 1,
        initial_window: 8,
        ..Timing::default()
    };
    let mut sink = Hosts::default();
    Discoverer::new(timing, 8)
        .run(hosts(40), 40, METHODS, &mut net, &mut sink)
        .unwrap();
    assert_eq!(sink.seen.len(), 40);
    assert!(net.max_open <= 8 * METHODS.len(), "{}", net.max_open);
}

#[test]
fn measured_round_trips_shorten_the_first_rounds_deadlines() {
    // Hosts 0 and 1 answer echo in 10 ms; 2 and 3 are silent. All four leave in the
    // first round with the initial timeout (1 s at -T3): once the first answers
    // measure 10 ms, the silent hosts' rounds follow the measured timeout.
    let mut net = SimNet::new(Duration::from_millis(10), |a: SocketAddr| {
        match (
            u32::from(match a.ip() {
                IpAddr::V4(v4) => v4,
                IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
            }) & 0xff,
            a.port(),
        ) {
            (0 | 1, 0) => Behavior::Open,
            _ => Behavior::Dropped,
        }
    });
    let timing = Timing {
        max_retries: 1,
        ..Timing::default()
    };
    let (sink, summary) = run(&mut net, 4, timing);
    assert_eq!(sink.seen[&host(0)].state, HostState::Up);
    assert_eq!(sink.seen[&host(1)].state, HostState::Up);
    for i in [2, 3] {
        let r = &sink.seen[&host(i)];
        assert_eq!((r.state, r.reason), (HostState::Down, Reason::NoResponse));
    }
    assert!(
        summary.elapsed < Duration::from_millis(400),
        "the silent hosts waited out the initial timeout: {:?}",
        summary.elapsed
    );
    // Not a shortcut: the silent hosts still had their time (the measured timeout
    // is at least -T3's 50 ms floor).
    assert!(
        summary.elapsed >= Duration::from_millis(50),
        "{:?}",
        summary.elapsed
    );
}
