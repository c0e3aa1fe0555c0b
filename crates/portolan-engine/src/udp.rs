//! The UDP transport: one connected, non-blocking UDP socket per probe, unprivileged.
//!
//! [`Transport::start`] opens a socket, connects it to the target (which makes the
//! kernel deliver only that peer's datagrams and its ICMP errors to it), sends the
//! port's payload and waits for readability with mio. Then:
//!
//! - a datagram back: the port is open ([`Answer::Datagram`], `udp-response`);
//! - `ECONNREFUSED`: an ICMP port unreachable, the port is closed (`port-unreach`);
//! - any other ICMP-born error: filtered, with the reason read from the socket's error
//!   queue (`IP_RECVERR`/`IPV6_RECVERR`, see [`crate::sys::icmp_reason`]) so that an
//!   administrative prohibition is told from a host or network unreachable;
//! - nothing: the scheduler's timeout and retries decide (`no-response`, which the
//!   result model reads as `open|filtered` for UDP).
//!
//! What to send is not this crate's business: a [`PayloadSource`] (any
//! `FnMut(SocketAddr, u64) -> Vec<u8>`) is injected, so the engine does not depend on
//! the probe crate's payload table. A socket whose ephemeral port equals the target's
//! on a local address would read its own datagram as an answer; like the connect
//! transport, that is a [`Hiccup::SelfConnect`], retried.

use std::io;
use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token as MioToken};
use socket2::{Domain, Protocol, Socket, Type};

use crate::connect::poll_batch;
use crate::result::Reason;
use crate::sys::{self, Classified};
use crate::transport::{Answer, Event, Hiccup, Started, Token, Transport};

/// The most bytes of an answer read; a longer datagram is still an answer.
const RECV_BYTES: usize = 2048;

/// Chooses the datagram for each probe.
pub trait PayloadSource {
    /// The datagram to send to `addr`; `probe` counts the probes this transport has
    /// sent (0, 1, 2, ...), for transaction ids that differ per probe.
    fn datagram(&mut self, addr: SocketAddr, probe: u64) -> Vec<u8>;
}

impl<F: FnMut(SocketAddr, u64) -> Vec<u8>> PayloadSource for F {
    fn datagram(&mut self, addr: SocketAddr, probe: u64) -> Vec<u8> {
        self(addr, probe)
    }
}

/// UDP-scan transport over mio (epoll on Linux).
pub struct UdpTransport {
    poll: Poll,
    events: Events,
    sockets: Vec<Option<UdpSocket>>,
    payloads: Box<dyn PayloadSource + Send>,
    sent: u64,
    buf: Box<[u8; RECV_BYTES]>,
    /// Tokens of one poll's events, kept to reuse the allocation.
    ready: Vec<Token>,
}

impl UdpTransport {
    /// A transport that sends what `payloads` chooses for each target.
    pub fn new(payloads: impl PayloadSource + Send + 'static) -> io::Result<Self> {
        Ok(UdpTransport {
            poll: Poll::new()?,
            events: Events::with_capacity(4096),
            sockets: Vec::new(),
            payloads: Box::new(payloads),
            sent: 0,
            buf: Box::new([0; RECV_BYTES]),
            ready: Vec::new(),
        })
    }

    fn open(addr: SocketAddr) -> io::Result<Socket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::UDP),
        )?;
        sys::enable_icmp_detail(&socket, addr.is_ipv6());
        socket.connect(&addr.into())?;
        Ok(socket)
    }

    fn send(&mut self, token: Token, addr: SocketAddr) -> Result<Started, io::Error> {
        let socket = Self::open(addr)?;
        let local = socket.local_addr().ok().and_then(|a| a.as_socket());
        if local == Some(addr) {
            return Ok(Started::Hiccup(Hiccup::SelfConnect));
        }
        let payload = self.payloads.datagram(addr, self.sent);
        socket.send(&payload)?;
        self.sent += 1;
        let mut socket = UdpSocket::from_std(StdUdp::from(socket));
        self.poll
            .registry()
            .register(&mut socket, MioToken(token), Interest::READABLE)?;
        if self.sockets.len() <= token {
            self.sockets.resize_with(token + 1, || None);
        }
        self.sockets[token] = Some(socket);
        Ok(Started::InFlight)
    }

    /// What a readable socket says; `None` if it had nothing after all.
    fn outcome(&mut self, token: Token) -> Option<Result<Answer, Hiccup>> {
        let socket = self.sockets.get(token)?.as_ref()?;
        match socket.recv(&mut self.buf[..]) {
            Ok(_) => Some(Ok(Answer::Datagram)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
            Err(e) => Some(from_error(socket, &e)),
        }
    }
}

/// Maps a socket error of a UDP probe: `ECONNREFUSED` is the port-unreachable answer;
/// other ICMP-born errors are refined from the error queue.
fn from_error(socket: &UdpSocket, e: &io::Error) -> Result<Answer, Hiccup> {
    match sys::classify(e.raw_os_error().unwrap_or(0)) {
        Classified::Answer(Answer::Refused) => Ok(Answer::Unreachable(Reason::PortUnreach)),
        Classified::Answer(Answer::Unreachable(reason)) if reason != Reason::LocalError => {
            Ok(Answer::Unreachable(sys::icmp_reason(socket, reason)))
        }
        // ECONNRESET cannot come from a UDP socket; anything else local is an error.
        Classified::Answer(_) => Ok(Answer::Unreachable(Reason::LocalError)),
        Classified::Hiccup(h) => Err(h),
    }
}

fn started_from_error(e: &io::Error) -> Started {
    match sys::classify(e.raw_os_error().unwrap_or(0)) {
        Classified::Answer(Answer::Refused) => {
            Started::Answered(Answer::Unreachable(Reason::PortUnreach))
        }
        Classified::Answer(Answer::Connected | Answer::Datagram) => {
            Started::Answered(Answer::Unreachable(Reason::LocalError))
        }
        Classified::Answer(a) => Started::Answered(a),
        Classified::Hiccup(h) => Started::Hiccup(h),
    }
}

impl Transport for UdpTransport {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
        self.send(token, addr)
            .unwrap_or_else(|e| started_from_error(&e))
    }

    fn cancel(&mut self, token: Token) {
        if let Some(slot) = self.sockets.get_mut(token) {
            *slot = None;
        }
    }

    fn wait(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()> {
        let mut timeout = Some(timeout);
        while let Some(full) = poll_batch(&mut self.poll, &mut self.events, timeout)? {
            let mut ready = std::mem::take(&mut self.ready);
            ready.clear();
            ready.extend(self.events.iter().map(|e| e.token().0));
            for &token in &ready {
                let Some(outcome) = self.outcome(token) else {
                    continue;
                };
                self.sockets[token] = None;
                out.push(match outcome {
                    Ok(answer) => Event::Answered(token, answer),
                    Err(hiccup) => Event::Hiccup(token, hiccup),
                });
            }
            self.ready = ready;
            if !full {
                break;
            }
            timeout = Some(Duration::ZERO);
        }
        Ok(())
    }
}
