//! The connect-scan transport: non-blocking `connect()` on many sockets at once.
//!
//! Each probe is a fresh non-blocking TCP socket with a zero linger (closing it
//! sends a reset and leaves no `TIME_WAIT` behind), registered with mio for
//! writability. When the socket becomes writable, `SO_ERROR` says how the handshake
//! ended: nothing (connected), `ECONNREFUSED` (closed) or an ICMP-born error
//! (filtered). A socket that connected to itself (source port equal to the
//! destination port on a local address) is reported as a [`Hiccup`] and retried.

use std::io;
use std::net::{SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token as MioToken};
use socket2::{Domain, Protocol, Socket, Type};

use crate::result::Reason;
use crate::sys::{self, Classified};
use crate::transport::{Answer, Event, Hiccup, Started, Token, Transport};

/// Connect-scan transport over mio (epoll on Linux).
pub struct ConnectTransport {
    poll: Poll,
    events: Events,
    sockets: Vec<Option<TcpStream>>,
}

impl ConnectTransport {
    /// A transport with its own epoll instance.
    pub fn new() -> io::Result<Self> {
        Ok(ConnectTransport {
            poll: Poll::new()?,
            events: Events::with_capacity(4096),
            sockets: Vec::new(),
        })
    }

    pub(crate) fn open(addr: SocketAddr) -> io::Result<Socket> {
        let socket = Socket::new(
            Domain::for_address(addr),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_linger(Some(Duration::ZERO))?;
        sys::enable_icmp_detail(&socket, addr.is_ipv6());
        Ok(socket)
    }

    fn register(&mut self, token: Token, socket: Socket) -> Started {
        let mut stream = TcpStream::from_std(StdStream::from(socket));
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut stream, MioToken(token), Interest::WRITABLE)
        {
            return started_from_error(&e);
        }
        if self.sockets.len() <= token {
            self.sockets.resize_with(token + 1, || None);
        }
        self.sockets[token] = Some(stream);
        Started::InFlight
    }
}

/// Reads how the handshake of a writable socket ended; `None` if it has not.
pub(crate) fn outcome(stream: &TcpStream) -> Option<Result<Answer, Hiccup>> {
    match stream.take_error() {
        Ok(Some(e)) | Err(e) => return Some(from_error(stream, &e)),
        Ok(None) => {}
    }
    match stream.peer_addr() {
        Ok(peer) => {
            if stream.local_addr().is_ok_and(|local| local == peer) {
                Some(Err(Hiccup::SelfConnect))
            } else {
                Some(Ok(Answer::Connected))
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotConnected => None,
        Err(e) => Some(from_error(stream, &e)),
    }
}

fn from_error(stream: &TcpStream, e: &io::Error) -> Result<Answer, Hiccup> {
    match sys::classify(e.raw_os_error().unwrap_or(0)) {
        Classified::Answer(Answer::Unreachable(reason)) if reason != Reason::LocalError => {
            Ok(Answer::Unreachable(sys::icmp_reason(stream, reason)))
        }
        Classified::Answer(a) => Ok(a),
        Classified::Hiccup(h) => Err(h),
    }
}

pub(crate) fn started_from_error(e: &io::Error) -> Started {
    match sys::classify(e.raw_os_error().unwrap_or(0)) {
        Classified::Answer(a) => Started::Answered(a),
        Classified::Hiccup(h) => Started::Hiccup(h),
    }
}

impl Transport for ConnectTransport {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
        let socket = match Self::open(addr) {
            Ok(s) => s,
            Err(e) => return started_from_error(&e),
        };
        match socket.connect(&addr.into()) {
            Ok(()) => Started::Answered(Answer::Connected),
            Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {
                self.register(token, socket)
            }
            Err(e) => started_from_error(&e),
        }
    }

    fn cancel(&mut self, token: Token) {
        if let Some(slot) = self.sockets.get_mut(token) {
            // Dropping closes the socket; epoll forgets closed descriptors.
            *slot = None;
        }
    }

    fn wait(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()> {
        let mut timeout = Some(timeout);
        while let Some(full) = poll_batch(&mut self.poll, &mut self.events, timeout)? {
            self.collect(out);
            if !full {
                break;
            }
            timeout = Some(Duration::ZERO);
        }
        Ok(())
    }
}

impl ConnectTransport {
    fn collect(&mut self, out: &mut Vec<Event>) {
        for ev in &self.events {
            let token = ev.token().0;
            let Some(stream) = self.sockets.get(token).and_then(Option::as_ref) else {
                continue;
            };
            let Some(outcome) = outcome(stream) else {
                continue;
            };
            self.sockets[token] = None;
            out.push(match outcome {
                Ok(answer) => Event::Answered(token, answer),
                Err(hiccup) => Event::Hiccup(token, hiccup),
            });
        }
    }
}

/// One wait of a mio transport (connect, UDP): `None` when a signal interrupted it
/// (the scheduler just turns again), else whether the batch filled `events`; a full
/// batch may have left ready sockets behind, so the caller polls again at once.
pub(crate) fn poll_batch(
    poll: &mut Poll,
    events: &mut Events,
    timeout: Option<Duration>,
) -> io::Result<Option<bool>> {
    match poll.poll(events, timeout) {
        Ok(()) => Ok(Some(events.iter().count() >= events.capacity())),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn wait_for(t: &mut ConnectTransport, token: Token) -> Event {
        let mut events = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            t.wait(Duration::from_millis(50), &mut events).unwrap();
            if let Some(e) = events
                .iter()
                .find(|e| matches!(e, Event::Answered(k, _) | Event::Hiccup(k, _) if *k == token))
            {
                return *e;
            }
        }
        panic!("no event for token {token}");
    }

    #[test]
    fn open_and_closed_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap();
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let mut t = ConnectTransport::new().unwrap();
        for (token, addr, want) in [(0, open, Answer::Connected), (1, closed, Answer::Refused)] {
            match t.start(token, addr) {
                Started::InFlight => {
                    assert_eq!(wait_for(&mut t, token), Event::Answered(token, want));
                }
                Started::Answered(a) => assert_eq!(a, want),
                Started::Hiccup(h) => panic!("hiccup {h:?}"),
            }
        }
    }

    #[test]
    fn a_port_that_resets_after_the_handshake_is_open() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = socket2::Socket::from(conn);
                let _ = s.set_linger(Some(Duration::ZERO));
                drop(s);
            }
        });
        let mut t = ConnectTransport::new().unwrap();
        for token in 0..20 {
            let answer = match t.start(token, addr) {
                Started::InFlight => match wait_for(&mut t, token) {
                    Event::Answered(_, a) => a,
                    Event::Hiccup(_, h) => panic!("hiccup {h:?}"),
                },
                Started::Answered(a) => a,
                Started::Hiccup(h) => panic!("hiccup {h:?}"),
            };
            assert_eq!(answer, Answer::Connected, "try {token}");
        }
    }
}
