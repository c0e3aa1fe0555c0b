//! The scheduler's machine stepped by hand: explicit instants, no transport, one
//! decision checked at a time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use portolan_engine::{
    Answer, Endpoint, EngineError, Event, Hiccup, Machine, PortState, Protocol, Rate, Reason,
    Scanner, Started, TargetOrder, Timing, Transmit,
};
use portolan_engine::{HICCUP_LIMIT, PRESSURE_PAUSE};

/// The pairs, in this order.
struct List {
    pairs: Vec<Endpoint>,
    next: usize,
}

impl TargetOrder for List {
    fn next_endpoint(&mut self) -> Option<Endpoint> {
        let e = self.pairs.get(self.next).cloned();
        self.next += usize::from(e.is_some());
        e
    }
    fn total(&self) -> u128 {
        self.pairs.len() as u128
    }
    fn consumed(&self) -> u128 {
        self.next as u128
    }
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([198, 18, 0, last])
}

fn pairs(list: &[(u8, u16)]) -> List {
    List {
        pairs: list
            .iter()
            .map(|&(host, port)| Endpoint {
                addr: ip(host),
                port,
                name: None,
                proto: Protocol::Tcp,
            })
            .collect(),
        next: 0,
    }
}

fn ports(n: u16) -> List {
    pairs(&(1..=n).map(|p| (1, p)).collect::<Vec<_>>())
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(ip(1), port)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Starts the next probe; it goes in flight.
fn send(m: &mut Machine<List>, now: Instant) -> Transmit {
    let t = m.poll_transmit(now).expect("a probe to send");
    m.on_started(t.token, Started::InFlight, now).unwrap();
    t
}

#[test]
fn an_answer_becomes_one_result_with_its_round_trip() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    let t = m.poll_transmit(t0).unwrap();
    assert_eq!(t.addr, addr(1));
    assert_eq!(m.poll_transmit(t0), None, "one start at a time");
    m.on_started(t.token, Started::InFlight, t0).unwrap();
    assert_eq!(m.poll_transmit(t0), None, "the order is walked");
    assert!(!m.is_done());
    m.handle(Event::Answered(t.token, Answer::Connected), t0 + ms(3))
        .unwrap();
    m.handle(Event::Answered(t.token, Answer::Refused), t0 + ms(4))
        .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!(
        (r.state, r.reason, r.rtt, r.tries),
        (PortState::Open, Reason::SynAck, Some(ms(3)), 1)
    );
    assert_eq!(
        m.poll_result(),
        None,
        "a second event is not a second result"
    );
    assert!(m.is_done());
    let summary = m.finish(true, t0 + ms(3));
    assert_eq!(
        (summary.probes_sent, summary.elapsed, summary.results()),
        (1, ms(3), 1)
    );
}

#[test]
fn silence_is_retried_then_filtered_at_the_deadline() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    let first = send(&mut m, t0);
    let timeout = Timing::default().initial_timeout;
    assert_eq!(m.poll_timeout(), Some(t0 + timeout));
    m.handle_timeout(t0 + timeout.checked_sub(Duration::from_nanos(1)).unwrap());
    assert_eq!(m.poll_cancel(), None, "not yet");
    m.handle_timeout(t0 + timeout);
    assert_eq!(m.poll_cancel(), Some(first.token), "the socket is closed");
    assert_eq!(m.poll_result(), None, "one silence is not an answer");
    let t1 = t0 + timeout;
    let retry = send(&mut m, t1);
    assert_eq!(retry.addr, first.addr);
    assert_eq!(m.poll_transmit(t1), None, "the order is walked");
    assert_eq!(m.poll_timeout(), Some(t1 + timeout));
    m.handle_timeout(t1 + timeout);
    assert_eq!(m.poll_cancel(), Some(retry.token));
    let r = m.poll_result().unwrap();
    assert_eq!(
        (r.state, r.reason, r.rtt, r.tries),
        (PortState::Filtered, Reason::NoResponse, None, 2),
        "two tries on a path with no measured loss"
    );
    assert!(m.is_done());
    assert_eq!(m.finish(true, t1 + timeout).retries, 1);
}

#[test]
fn no_retries_means_one_try() {
    let t0 = Instant::now();
    let timing = Timing {
        max_retries: 0,
        ..Timing::default()
    };
    let mut m = Scanner::builder()
        .timing(timing)
        .build()
        .machine(ports(1), t0);
    send(&mut m, t0);
    m.handle_timeout(t0 + timing.initial_timeout);
    assert_eq!(m.poll_result().unwrap().tries, 1);
}

#[test]
fn a_token_is_reused_only_once_its_cancel_was_polled() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(3), t0);
    let a = send(&mut m, t0);
    let t1 = t0 + Timing::default().initial_timeout;
    m.handle_timeout(t1);
    let b = send(&mut m, t1);
    assert_ne!(
        b.token, a.token,
        "the transport has not been told to forget it"
    );
    assert_eq!(m.poll_cancel(), Some(a.token));
    let c = send(&mut m, t1);
    assert_eq!(c.token, a.token, "now it may be reused");
}

#[test]
fn events_for_unknown_tokens_are_ignored() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    m.handle(Event::Answered(42, Answer::Connected), t0)
        .unwrap();
    m.handle(Event::Hiccup(7, Hiccup::FileLimit), t0).unwrap();
    assert_eq!(m.poll_result(), None);
    assert_eq!(m.in_flight(), 0);
}

#[test]
fn a_synchronous_answer_is_reported_once_and_frees_its_token() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(2), t0);
    let a = m.poll_transmit(t0).unwrap();
    m.on_started(a.token, Started::Answered(Answer::Refused), t0)
        .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!(
        (r.state, r.reason, r.rtt, r.tries),
        (
            PortState::Closed,
            Reason::ConnRefused,
            Some(Duration::ZERO),
            1
        )
    );
    assert_eq!(m.poll_result(), None);
    let b = m.poll_transmit(t0).unwrap();
    assert_eq!(b.token, a.token);
    assert_eq!(m.in_flight(), 0);
}

#[test]
fn a_stray_on_started_is_ignored() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    m.on_started(3, Started::Answered(Answer::Connected), t0)
        .unwrap();
    let t = m.poll_transmit(t0).unwrap();
    m.on_started(t.token + 1, Started::InFlight, t0).unwrap();
    assert_eq!(m.in_flight(), 0, "not the probe handed out");
    m.on_started(t.token, Started::InFlight, t0).unwrap();
    assert_eq!(m.in_flight(), 1);
    assert_eq!(m.poll_result(), None);
}

#[test]
fn a_self_connect_at_start_waits_for_the_next_turn_and_is_not_a_try() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(2), t0);
    let a = m.poll_transmit(t0).unwrap();
    m.on_started(a.token, Started::Hiccup(Hiccup::SelfConnect), t0)
        .unwrap();
    assert_eq!(m.poll_transmit(t0), None, "no more launches this turn");
    m.handle_timeout(t0);
    let again = send(&mut m, t0);
    assert_eq!(again.addr, a.addr, "put back first in line");
    m.handle(Event::Answered(again.token, Answer::Refused), t0 + ms(1))
        .unwrap();
    assert_eq!(m.poll_result().unwrap().tries, 1);
}

#[test]
fn a_self_connect_event_puts_the_probe_back_without_a_try() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    let a = send(&mut m, t0);
    m.handle(Event::Hiccup(a.token, Hiccup::SelfConnect), t0 + ms(1))
        .unwrap();
    assert_eq!(m.poll_result(), None);
    let b = send(&mut m, t0 + ms(1));
    assert_eq!(b.addr, a.addr);
    m.handle(Event::Answered(b.token, Answer::Connected), t0 + ms(2))
        .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!((r.state, r.tries), (PortState::Open, 1));
    assert_eq!(m.finish(true, t0 + ms(2)).probes_sent, 2);
}

#[test]
fn no_buffers_shrinks_the_window_and_pauses_launches() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(3), t0);
    send(&mut m, t0);
    let window = m.progress().window;
    let b = m.poll_transmit(t0).unwrap();
    m.on_started(b.token, Started::Hiccup(Hiccup::NoBuffers), t0)
        .unwrap();
    assert_eq!(m.progress().window, window * 2 / 3);
    m.handle_timeout(t0);
    assert_eq!(m.poll_timeout(), Some(t0 + PRESSURE_PAUSE));
    assert_eq!(
        m.poll_transmit(t0 + PRESSURE_PAUSE.checked_sub(ms(1)).unwrap()),
        None
    );
    let again = send(&mut m, t0 + PRESSURE_PAUSE);
    assert_eq!(again.addr, b.addr);
}

#[test]
fn no_local_port_pauses_too() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(3), t0);
    send(&mut m, t0);
    let b = m.poll_transmit(t0).unwrap();
    m.on_started(b.token, Started::Hiccup(Hiccup::NoLocalPort), t0)
        .unwrap();
    m.handle_timeout(t0 + ms(1));
    assert_eq!(m.poll_transmit(t0 + ms(1)), None);
    assert_eq!(send(&mut m, t0 + PRESSURE_PAUSE).addr, b.addr);
}

#[test]
fn the_file_limit_lowers_the_socket_ceiling_for_good() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(10), t0);
    let first: Vec<_> = (0..3).map(|_| send(&mut m, t0)).collect();
    let d = m.poll_transmit(t0).unwrap();
    m.on_started(d.token, Started::Hiccup(Hiccup::FileLimit), t0)
        .unwrap();
    m.handle_timeout(t0);
    assert_eq!(m.poll_transmit(t0), None, "three sockets is the most");
    assert_eq!(m.progress().window, 3);
    m.handle(Event::Answered(first[0].token, Answer::Refused), t0 + ms(1))
        .unwrap();
    let again = send(&mut m, t0 + ms(1));
    assert_eq!(again.addr, d.addr, "the hiccuped pair goes first");
    assert_eq!(m.poll_transmit(t0 + ms(1)), None, "still three at most");
    m.handle(Event::Answered(first[1].token, Answer::Refused), t0 + ms(2))
        .unwrap();
    m.handle(Event::Answered(first[2].token, Answer::Refused), t0 + ms(2))
        .unwrap();
    m.handle_timeout(t0 + ms(2));
    for _ in 0..2 {
        send(&mut m, t0 + ms(2));
    }
    assert_eq!(m.poll_transmit(t0 + ms(2)), None);
    assert_eq!(m.in_flight(), 3);
}

#[test]
fn the_file_limit_with_nothing_in_flight_is_starvation() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(1), t0);
    let a = m.poll_transmit(t0).unwrap();
    let err = m
        .on_started(a.token, Started::Hiccup(Hiccup::FileLimit), t0)
        .unwrap_err();
    assert!(matches!(
        err,
        EngineError::Starved {
            hiccup: Hiccup::FileLimit
        }
    ));
}

#[test]
fn endless_hiccups_with_nothing_in_flight_end_in_starvation() {
    for hiccup in [Hiccup::NoBuffers, Hiccup::NoLocalPort, Hiccup::SelfConnect] {
        let t0 = Instant::now();
        let mut m = Scanner::builder().build().machine(ports(1), t0);
        let mut now = t0;
        let mut tries = 0;
        let err = loop {
            let t = m
                .poll_transmit(now)
                .unwrap_or_else(|| panic!("{hiccup:?}: stuck after {tries} hiccups"));
            tries += 1;
            if let Err(e) = m.on_started(t.token, Started::Hiccup(hiccup), now) {
                break e;
            }
            now += PRESSURE_PAUSE;
            m.handle_timeout(now);
        };
        assert!(matches!(err, EngineError::Starved { hiccup: h } if h == hiccup));
        assert_eq!(tries, HICCUP_LIMIT + 1, "{hiccup:?}");
    }
}

#[test]
fn a_probe_in_flight_resets_the_starvation_count() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(2), t0);
    let mut now = t0;
    for _ in 0..HICCUP_LIMIT {
        let t = m.poll_transmit(now).unwrap();
        m.on_started(t.token, Started::Hiccup(Hiccup::NoLocalPort), now)
            .unwrap();
        now += PRESSURE_PAUSE;
        m.handle_timeout(now);
    }
    let t = send(&mut m, now);
    m.handle(Event::Answered(t.token, Answer::Refused), now)
        .unwrap();
    for _ in 0..HICCUP_LIMIT {
        let t = m.poll_transmit(now).unwrap();
        m.on_started(t.token, Started::Hiccup(Hiccup::NoLocalPort), now)
            .unwrap();
        now += PRESSURE_PAUSE;
        m.handle_timeout(now);
    }
}

#[test]
fn the_first_round_trips_shorten_the_deadlines_in_flight() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(2), t0);
    let a = send(&mut m, t0);
    let b = send(&mut m, t0);
    assert_eq!(
        m.poll_timeout(),
        Some(t0 + Timing::default().initial_timeout)
    );
    m.handle(Event::Answered(a.token, Answer::Refused), t0 + ms(2))
        .unwrap();
    m.handle_timeout(t0 + ms(2));
    // srtt 2 ms: the timeout falls to its floor, and `b` is given it.
    let floor = Timing::default().min_timeout;
    assert_eq!(m.poll_timeout(), Some(t0 + floor));
    m.handle_timeout(t0 + floor);
    assert_eq!(m.poll_cancel(), Some(b.token));
}

#[test]
fn probes_unanswered_for_two_round_trips_leave_the_window() {
    let t0 = Instant::now();
    let timing = Timing {
        initial_window: 2,
        ..Timing::default()
    };
    let mut m = Scanner::builder()
        .timing(timing)
        .build()
        .machine(ports(9), t0);
    let a = send(&mut m, t0);
    send(&mut m, t0);
    assert_eq!(m.poll_transmit(t0), None, "window of two");
    m.handle(Event::Answered(a.token, Answer::Refused), t0 + ms(1))
        .unwrap();
    // The answer grew the window to three: two more go out.
    send(&mut m, t0 + ms(1));
    send(&mut m, t0 + ms(1));
    assert_eq!(m.poll_transmit(t0 + ms(2)), None);
    // srtt 1 ms: the probe sent at t0 is presumed lost after 2·srtt + 1 ms.
    send(&mut m, t0 + ms(3));
    assert_eq!(m.poll_transmit(t0 + ms(3)), None);
    assert_eq!(m.in_flight(), 4, "it keeps its socket");
}

#[test]
fn the_rate_limit_spaces_probes() {
    let t0 = Instant::now();
    let scanner = Scanner::builder().max_rate(Rate::new(1000.0)).build();
    let mut m = scanner.machine(ports(3), t0);
    send(&mut m, t0);
    assert_eq!(m.poll_transmit(t0), None);
    assert_eq!(m.poll_timeout(), Some(t0 + ms(1)));
    assert_eq!(m.poll_transmit(t0 + Duration::from_micros(999)), None);
    send(&mut m, t0 + ms(1));
}

#[test]
fn synchronous_answers_spend_the_rate_limit_too() {
    let t0 = Instant::now();
    let scanner = Scanner::builder().max_rate(Rate::new(1000.0)).build();
    let mut m = scanner.machine(ports(3), t0);
    let a = m.poll_transmit(t0).unwrap();
    m.on_started(a.token, Started::Answered(Answer::Refused), t0)
        .unwrap();
    assert_eq!(m.poll_transmit(t0), None, "that probe went out");
    assert_eq!(m.poll_timeout(), Some(t0 + ms(1)));
}

#[test]
fn a_pause_and_the_rate_limit_wait_for_each_other() {
    // Rate 100/s: the next token (10 ms) comes after the pause ends (6 ms).
    // Rate 1000/s: the token (1 ms) is there before the pause ends.
    for (rate, want) in [(100.0, ms(10)), (1000.0, ms(1) + PRESSURE_PAUSE)] {
        let t0 = Instant::now();
        let scanner = Scanner::builder().max_rate(Rate::new(rate)).build();
        let mut m = scanner.machine(ports(2), t0);
        let a = send(&mut m, t0);
        m.handle(Event::Hiccup(a.token, Hiccup::NoBuffers), t0 + ms(1))
            .unwrap();
        m.handle_timeout(t0 + ms(1));
        assert_eq!(m.poll_timeout(), Some(t0 + want), "rate {rate}");
        assert_eq!(send(&mut m, t0 + want).addr, a.addr);
    }
}

#[test]
fn the_host_cap_parks_pairs_until_their_host_frees_up() {
    let t0 = Instant::now();
    let scanner = Scanner::builder()
        .max_host_concurrency(NonZeroUsize::new(1))
        .build();
    let mut m = scanner.machine(pairs(&[(1, 22), (1, 80), (2, 22)]), t0);
    let a = send(&mut m, t0);
    let b = send(&mut m, t0);
    assert_eq!(
        (a.addr, b.addr),
        (addr(22), SocketAddr::new(ip(2), 22)),
        "the second pair of host 1 waits; host 2 does not"
    );
    assert_eq!(m.poll_transmit(t0), None);
    assert!(!m.is_done(), "a pair is parked");
    m.handle(Event::Answered(a.token, Answer::Refused), t0 + ms(1))
        .unwrap();
    assert_eq!(send(&mut m, t0 + ms(1)).addr, addr(80));
}

#[test]
fn abort_cancels_everything_in_flight_and_reports_nothing_more() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(5), t0);
    let a = send(&mut m, t0);
    let b = send(&mut m, t0);
    m.poll_transmit(t0).unwrap();
    m.abort();
    let mut cancelled: Vec<_> = std::iter::from_fn(|| m.poll_cancel()).collect();
    cancelled.sort_unstable();
    assert_eq!(cancelled, [a.token, b.token]);
    assert_eq!(m.in_flight(), 0);
    assert_eq!(m.poll_result(), None);
    let summary = m.finish(false, t0 + ms(1));
    assert!(!summary.complete);
    assert_eq!(summary.results(), 0);
}

#[test]
fn progress_counts_excluded_pairs_as_done() {
    struct Sparse(List);
    impl TargetOrder for Sparse {
        fn next_endpoint(&mut self) -> Option<Endpoint> {
            self.0.next_endpoint()
        }
        fn total(&self) -> u128 {
            self.0.total() * 2
        }
        fn consumed(&self) -> u128 {
            self.0.consumed() * 2
        }
    }
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(Sparse(ports(2)), t0);
    let t = m.poll_transmit(t0).unwrap();
    m.on_started(t.token, Started::Answered(Answer::Refused), t0)
        .unwrap();
    let p = m.progress();
    assert_eq!((p.done, p.total), (2, 4), "one answered, one excluded");
    assert_eq!(m.finish(false, t0).excluded, 1);
}

// The ICMP pacer (see `icmp_limit` and docs/udp.md) in the machine: a UDP host whose
// port unreachables come at a slow, regular pace is rate limited, so a silence there
// is not an answer until a try was sent when the host's modelled bucket held a token.

/// UDP ports 1..=n of host 1.
fn udp_ports(n: u16) -> List {
    let mut list = ports(n);
    for e in &mut list.pairs {
        e.proto = Protocol::Udp;
    }
    list
}

/// Deadlines far away, so only the steps below decide anything.
fn slow(max_retries: u8) -> Timing {
    Timing {
        initial_timeout: Duration::from_secs(10),
        min_timeout: Duration::from_secs(10),
        max_timeout: Duration::from_secs(10),
        max_retries,
        ..Timing::default()
    }
}

/// Every 100 ms three new ports are tried and one earlier port answers port
/// unreachable, five times: a limiter with a 100 ms period. Returns the tokens
/// still in flight, in send order.
fn limit_host(m: &mut Machine<List>, t0: Instant) -> Vec<Transmit> {
    let mut sent: Vec<Vec<Transmit>> = Vec::new();
    for k in 0..=5u32 {
        let now = t0 + ms(100) * k;
        if k >= 1 {
            let t = sent[k as usize - 1].remove(0);
            m.handle(
                Event::Answered(t.token, Answer::Unreachable(Reason::PortUnreach)),
                now,
            )
            .unwrap();
            let r = m.poll_result().unwrap();
            assert_eq!(r.state, PortState::Closed);
        }
        sent.push((0..3).map(|_| send(m, now)).collect());
    }
    sent.into_iter().flatten().collect()
}

#[test]
fn a_silence_on_a_rate_limited_host_is_not_a_try_until_a_paced_one() {
    let t0 = Instant::now();
    let mut m = Scanner::builder()
        .timing(slow(0))
        .build()
        .machine(udp_ports(18), t0);
    let left = limit_host(&mut m, t0);
    assert_eq!(left.len(), 13);
    assert_eq!(m.poll_transmit(t0 + ms(500)), None, "the order is walked");
    // The later ports answer (open), so only the first step's two silences are left.
    for t in &left[2..] {
        m.handle(Event::Answered(t.token, Answer::Datagram), t0 + ms(600))
            .unwrap();
        assert_eq!(m.poll_result().unwrap().state, PortState::Open);
    }

    // The two silent ports of the first step time out: not `no-response` although
    // no retry is allowed, since their answers may have been rate limited.
    let t10 = t0 + Duration::from_secs(10);
    m.handle_timeout(t10);
    assert_eq!(m.poll_cancel(), Some(left[0].token));
    assert_eq!(m.poll_cancel(), Some(left[1].token));
    assert_eq!(m.poll_result(), None, "a suspect silence is not a result");
    // One goes at once (the modelled token is back), the other one period later.
    let first = send(&mut m, t10);
    assert_eq!(first.addr, left[0].addr);
    assert_eq!(m.poll_transmit(t10), None, "one token, one probe");
    // Step through the machine's wake-ups (stale deadlines of answered probes
    // included) until it has a probe: the next token, one period and a margin on.
    let (due, second) = loop {
        let due = m.poll_timeout().expect("a held retry wants a wake-up");
        m.handle_timeout(due);
        if let Some(t) = m.poll_transmit(due) {
            m.on_started(t.token, Started::InFlight, due).unwrap();
            break (due, t);
        }
    };
    assert!(
        due >= t10 + ms(100) && due <= t10 + ms(120),
        "one period (100 ms) and a margin: {:?}",
        due - t10
    );
    assert_eq!(second.addr, left[1].addr);

    // The paced try of a closed port is answered: closed, however late.
    m.handle(
        Event::Answered(second.token, Answer::Unreachable(Reason::PortUnreach)),
        due + ms(5),
    )
    .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!(
        (r.state, r.reason),
        (PortState::Closed, Reason::PortUnreach)
    );

    // The paced try that stays silent is trusted: open|filtered, one try counted.
    m.handle_timeout(t10 + Duration::from_secs(10));
    let r = m.poll_result().unwrap();
    assert_eq!(r.endpoint.port, first.addr.port());
    assert_eq!(
        (r.state, r.reason, r.tries),
        (PortState::OpenFiltered, Reason::NoResponse, 1)
    );
    let summary = m.finish(false, t10);
    assert_eq!(summary.icmp_limited.len(), 1);
    let (host, period) = summary.icmp_limited[0];
    assert_eq!(host, ip(1));
    assert_eq!(period, ms(100));
}

#[test]
fn held_retries_keep_the_run_going() {
    let t0 = Instant::now();
    let mut m = Scanner::builder()
        .timing(slow(0))
        .build()
        .machine(udp_ports(18), t0);
    let left = limit_host(&mut m, t0);
    for t in &left[2..] {
        m.handle(Event::Answered(t.token, Answer::Datagram), t0 + ms(600))
            .unwrap();
    }
    let t10 = t0 + Duration::from_secs(10);
    m.handle_timeout(t10);
    while m.poll_cancel().is_some() {}
    let first = send(&mut m, t10);
    m.handle(Event::Answered(first.token, Answer::Datagram), t10 + ms(1))
        .unwrap();
    assert_eq!(m.poll_transmit(t10 + ms(1)), None);
    assert_eq!(m.in_flight(), 0);
    assert!(!m.is_done(), "a held retry is not a result");
    assert!(
        m.poll_timeout().is_some(),
        "its wake-up is the next thing to wait for"
    );
}

#[test]
fn a_host_still_being_judged_is_trusted_after_a_quiet_span() {
    let t0 = Instant::now();
    let mut m = Scanner::builder()
        .timing(slow(0))
        .build()
        .machine(udp_ports(2), t0);
    let closed = send(&mut m, t0);
    let silent = send(&mut m, t0);
    m.handle(
        Event::Answered(closed.token, Answer::Unreachable(Reason::PortUnreach)),
        t0 + ms(100),
    )
    .unwrap();
    assert_eq!(m.poll_result().unwrap().state, PortState::Closed);

    // One port unreachable says nothing about a limit yet: the silence is retried
    // without counting, and at once (the host is not known to be limited).
    let t10 = t0 + Duration::from_secs(10);
    m.handle_timeout(t10);
    assert_eq!(m.poll_cancel(), Some(silent.token));
    assert_eq!(m.poll_result(), None);
    let retry = send(&mut m, t10);
    assert_eq!(retry.addr, silent.addr);

    // Probed and quiet for far longer than any limiter's period: trusted.
    m.handle_timeout(t10 + Duration::from_secs(10));
    let r = m.poll_result().unwrap();
    assert_eq!(
        (r.state, r.reason, r.tries),
        (PortState::OpenFiltered, Reason::NoResponse, 1)
    );
    assert_eq!(m.poll_transmit(t10 + Duration::from_secs(10)), None);
    assert!(m.is_done());
    assert!(m.finish(true, t10).icmp_limited.is_empty());
}

#[test]
fn tcp_silence_is_never_held() {
    // A TCP host never sends port unreachable, so the pacer does not know it: the
    // same steps as above end in `filtered/no-response` at the first deadline.
    let t0 = Instant::now();
    let mut m = Scanner::builder()
        .timing(slow(0))
        .build()
        .machine(ports(1), t0);
    send(&mut m, t0);
    m.handle_timeout(t0 + Duration::from_secs(10));
    let r = m.poll_result().unwrap();
    assert_eq!((r.state, r.tries), (PortState::Filtered, 1));
    assert_eq!(m.poll_transmit(t0 + Duration::from_secs(10)), None);
    assert!(m.is_done());
}

#[test]
fn reaching_max_open_per_host_cancels_the_hosts_probes_in_flight() {
    let t0 = Instant::now();
    let list = pairs(&[(1, 1), (1, 2), (2, 1), (1, 3), (1, 4), (2, 2), (1, 5)]);
    let mut m = Scanner::builder()
        .max_open_per_host(std::num::NonZeroU32::new(1))
        .build()
        .machine(list, t0);
    let sent: Vec<Transmit> = (0..4).map(|_| send(&mut m, t0)).collect();
    assert_eq!(sent[0].addr, addr(1));
    m.handle(
        Event::Answered(sent[0].token, Answer::Connected),
        t0 + ms(1),
    )
    .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!((r.endpoint.port, r.state), (1, PortState::Open));
    // Host 1's other probes in flight (ports 2 and 3) are cancelled, not answered.
    let mut cancelled = Vec::new();
    while let Some(token) = m.poll_cancel() {
        cancelled.push(token);
    }
    assert_eq!(cancelled, [sent[1].token, sent[3].token]);
    m.handle(
        Event::Answered(sent[1].token, Answer::Connected),
        t0 + ms(2),
    )
    .unwrap();
    assert_eq!(m.poll_result(), None, "a cancelled probe reports nothing");
    // Host 2 goes on; host 1's later pairs (4, 5) are never sent.
    m.handle(Event::Answered(sent[2].token, Answer::Refused), t0 + ms(2))
        .unwrap();
    let t = send(&mut m, t0 + ms(2));
    assert_eq!(t.addr, SocketAddr::new(ip(2), 2));
    assert_eq!(m.poll_transmit(t0 + ms(2)), None);
    m.handle(Event::Answered(t.token, Answer::Refused), t0 + ms(3))
        .unwrap();
    assert!(m.is_done());
    assert_eq!(m.progress().done, 7, "skipped pairs count as done");
    let summary = m.finish(true, t0 + ms(3));
    assert_eq!(
        summary.capped,
        [(ip(1), 4)],
        "ports 2 to 5 of host 1 not scanned"
    );
    assert_eq!(summary.results(), 3);
}

#[test]
fn min_rate_sends_past_a_full_window() {
    let t0 = Instant::now();
    let timing = Timing {
        initial_window: 2,
        ..Timing::default()
    };
    let scanner = |floor: Option<Rate>| {
        Scanner::builder()
            .timing(timing)
            .min_rate(floor)
            .build()
            .machine(ports(100), t0)
    };
    // Without a floor, a full window waits for an answer or a timeout.
    let mut m = scanner(None);
    send(&mut m, t0);
    send(&mut m, t0);
    assert!(m.poll_transmit(t0 + ms(10)).is_none());
    assert_eq!(m.poll_timeout(), Some(t0 + timing.initial_timeout));
    // With one of 1000/s, one probe more goes every millisecond, window or not.
    let mut m = scanner(Rate::new(1000.0));
    send(&mut m, t0);
    send(&mut m, t0);
    assert!(
        m.poll_transmit(t0).is_none(),
        "the floor's one token was spent"
    );
    assert_eq!(m.poll_timeout(), Some(t0 + ms(1)));
    send(&mut m, t0 + ms(1));
    assert!(m.poll_transmit(t0 + ms(1)).is_none());
    let mut sent = 3;
    let mut now = t0 + ms(1);
    while now < t0 + ms(100) {
        now += Duration::from_micros(250);
        while let Some(t) = m.poll_transmit(now) {
            m.on_started(t.token, Started::InFlight, now).unwrap();
            sent += 1;
        }
    }
    // 99 ms at 1000/s: 99 more (the bucket holds ten at most, none is owed).
    assert!((99..=102).contains(&sent), "{sent} probes in 100 ms");
}

/// Karn's rule: the answer to a retried probe may be the late answer of its first
/// try, so its round trip from the retry is no sample (it made `-sS` on the lab's
/// WAN judge every later round trip as queueing and pin its window at the floor).
#[test]
fn a_retried_probe_answered_gives_no_round_trip_sample() {
    let t0 = Instant::now();
    let initial = Timing::default().initial_timeout;
    let mut m = Scanner::builder().build().machine(ports(2), t0);
    let first = send(&mut m, t0);
    m.handle_timeout(t0 + initial);
    while m.poll_cancel().is_some() {}
    let retry = send(&mut m, t0 + initial);
    assert_eq!(retry.addr, first.addr, "the retry goes first");
    m.handle(
        Event::Answered(retry.token, Answer::Refused),
        t0 + initial + ms(1),
    )
    .unwrap();
    let r = m.poll_result().unwrap();
    assert_eq!((r.tries, r.state), (2, PortState::Closed));
    assert_eq!(m.progress().timeout, initial, "no sample was taken");
    // A first try's answer is a sample.
    let other = send(&mut m, t0 + initial + ms(2));
    m.handle(
        Event::Answered(other.token, Answer::Refused),
        t0 + initial + ms(3),
    )
    .unwrap();
    assert!(m.progress().timeout < initial);
}

/// What [`drive`] saw: each port's send times and result, from `t0`.
struct Run {
    sends: std::collections::BTreeMap<u16, Vec<Duration>>,
    results: std::collections::BTreeMap<u16, (PortState, u8, Duration)>,
}

/// Steps `m` every 100 µs until it is done, answering the `n`th try (from 1) of
/// `port` after `answer(port, n)`, or never. With `late`, an answer that arrives
/// after its try was cancelled answers the pair's current try, as raw SYN's
/// matching does; without, it is lost with the try's socket.
fn drive(
    m: &mut Machine<List>,
    t0: Instant,
    late: bool,
    answer: impl Fn(u16, usize) -> Option<Duration>,
) -> Run {
    use std::collections::{BTreeMap, HashMap};
    m.keep_late_answers(late);
    let mut run = Run {
        sends: BTreeMap::new(),
        results: BTreeMap::new(),
    };
    // token -> port of the try in flight under it
    let mut live: HashMap<usize, u16> = HashMap::new();
    let mut pending: Vec<(Instant, usize, u16)> = Vec::new();
    let mut now = t0;
    for _ in 0..100_000 {
        while let Some(t) = m.poll_transmit(now) {
            let port = t.addr.port();
            let tries = run.sends.entry(port).or_default();
            tries.push(now - t0);
            if let Some(after) = answer(port, tries.len()) {
                pending.push((now + after, t.token, port));
            }
            live.insert(t.token, port);
            m.on_started(t.token, Started::InFlight, now).unwrap();
        }
        now += Duration::from_micros(100);
        let (due, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|p| p.0 <= now);
        pending = later;
        for (_, token, port) in due {
            let target = if late {
                live.iter().find(|(_, p)| **p == port).map(|(t, _)| *t)
            } else {
                (live.get(&token) == Some(&port)).then_some(token)
            };
            if let Some(token) = target {
                live.remove(&token);
                m.handle(Event::Answered(token, Answer::Refused), now)
                    .unwrap();
            }
        }
        m.handle_timeout(now);
        while let Some(token) = m.poll_cancel() {
            live.remove(&token);
            pending.retain(|p| late || p.1 != token);
        }
        while let Some(r) = m.poll_result() {
            run.results
                .insert(r.endpoint.port, (r.state, r.tries, now - t0));
        }
        if m.is_done() {
            return run;
        }
    }
    panic!("the run did not end");
}

/// At the tail of a scan (the walk is over, nothing waits to be sent) a probe
/// presumed lost is tried again at once instead of at its deadline; the try that
/// the budget makes the last still waits out its whole timeout.
#[test]
fn at_the_tail_a_probe_presumed_lost_is_tried_again_at_once() {
    for late in [false, true] {
        let t0 = Instant::now();
        let mut m = Scanner::builder().build().machine(ports(3), t0);
        let run = drive(&mut m, t0, late, |port, _| (port != 3).then_some(ms(1)));
        let floor = Timing::default().min_timeout;
        let tries = &run.sends[&3];
        assert_eq!(tries.len(), 2, "two tries on a clean path");
        // srtt 1 ms: presumed lost after 2·srtt + 1 ms, not after the timeout.
        assert!(tries[1] <= ms(4), "the retry went at {:?}", tries[1]);
        let (state, n, at) = run.results[&3];
        assert_eq!((state, n), (PortState::Filtered, 2));
        assert!(at >= tries[1] + floor, "the last try waited its timeout");
        assert!(at <= tries[1] + floor + ms(1), "and no longer: {at:?}");
    }
}

/// A late answer to a try cut short at the tail is still the port's answer where
/// the transport keeps late answers, and it is no sign of loss.
#[test]
fn a_late_answer_at_the_tail_still_decides_the_port() {
    let t0 = Instant::now();
    let mut m = Scanner::builder().build().machine(ports(3), t0);
    // Port 3 answers every try, but after 20 ms: slower than 2·srtt + 1 ms.
    let run = drive(&mut m, t0, true, |port, _| {
        Some(if port == 3 { ms(20) } else { ms(1) })
    });
    assert!(run.sends[&3].len() >= 2, "its first try was cut short");
    let (state, _, at) = run.results[&3];
    assert_eq!(state, PortState::Closed);
    assert!(at <= ms(21), "decided by the first try's answer: {at:?}");
}

/// With late answers and a budget of more than two tries (a lossy path), the
/// tries after the first overdue one go `TAIL_SPACING` apart, not a timeout
/// apart, and the last one waits out its whole timeout.
#[test]
fn with_late_answers_the_tail_spends_the_budget_closely_spaced() {
    let t0 = Instant::now();
    let mut m = Scanner::builder()
        .max_rate(Rate::new(1000.0))
        .build()
        .machine(ports(300), t0);
    // Ports 1-30 lose their first try (a tenth of the early answers need a
    // retry: a lossy path); port 300 never answers.
    let run = drive(&mut m, t0, true, |port, n| match port {
        300 => None,
        1..=30 if n == 1 => None,
        _ => Some(ms(1)),
    });
    let tries = &run.sends[&300];
    assert!(tries.len() > 2, "a lossy path buys more tries: {tries:?}");
    let gaps: Vec<Duration> = tries
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect();
    assert!(gaps[0] <= ms(4), "the first retry once overdue: {gaps:?}");
    for gap in &gaps[1..] {
        assert!(*gap <= portolan_engine::TAIL_SPACING + ms(1), "{gaps:?}");
    }
    let (state, n, at) = run.results[&300];
    assert_eq!((state, usize::from(n)), (PortState::Filtered, tries.len()));
    assert!(at >= *tries.last().unwrap() + Timing::default().min_timeout);
}
