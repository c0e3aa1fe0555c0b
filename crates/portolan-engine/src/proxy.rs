//! The proxy transport: each probe asks a SOCKS5 or HTTP CONNECT proxy to connect.
//!
//! Why its own transport: through a proxy the local `connect()` always succeeds (it
//! reaches the proxy), which is why proxychains-style scans show every port open.
//! The truth is in the proxy's reply, so each probe is a non-blocking connection to
//! the proxy that runs the sans-IO handshake of `portolan-proxy` and reports the
//! reply as an [`Answer::Proxy`] with a `proxy-*` reason (state follows from it:
//! connected open, refused closed, the rest filtered).
//!
//! A proxy that fails itself (refuses our connection, rejects the credentials,
//! speaks something else, hangs up mid-handshake) is not a port's state: it is
//! returned from [`Transport::wait`] as an error, which ends the scan at once with
//! one message instead of thousands of filtered ports.
//!
//! Names the proxy resolves (`socks5h://`, HTTP CONNECT) reach the scan as stand-in
//! addresses (see `portolan_proxy::RemoteNames`); [`ProxyTransport::remote_names`]
//! gives their table, and a probe of a stand-in asks the proxy for the name.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream as StdStream};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token as MioToken};
use portolan_proxy::{Destination, Handshake, Outcome, Progress, ProxyError, ProxyUrl};
use socket2::{Domain, Protocol, Socket, Type};

use crate::result::Reason;
use crate::sys::{self, Classified};
use crate::transport::{Answer, Event, Started, Token, Transport};

/// The reason a proxy's outcome stands for.
pub fn proxy_reason(outcome: Outcome) -> Reason {
    match outcome {
        Outcome::Connected => Reason::ProxyConnected,
        Outcome::Refused => Reason::ProxyRefused,
        Outcome::HostUnreachable => Reason::ProxyHostUnreach,
        Outcome::NetUnreachable => Reason::ProxyNetUnreach,
        Outcome::Denied => Reason::ProxyDenied,
        Outcome::Failed => Reason::ProxyNoResponse,
    }
}

struct Probe {
    stream: TcpStream,
    handshake: Handshake,
    connected: bool,
}

/// Scans through one proxy, over mio.
pub struct ProxyTransport {
    poll: Poll,
    events: Events,
    url: ProxyUrl,
    proxy: SocketAddr,
    probes: Vec<Option<Probe>>,
    failure: Option<io::Error>,
    /// Stand-in addresses and the names they stand for.
    names: HashMap<IpAddr, String>,
}

impl ProxyTransport {
    /// A transport through the proxy `url`, found at `proxy` (resolved by the caller).
    pub fn new(url: ProxyUrl, proxy: SocketAddr) -> io::Result<Self> {
        Ok(ProxyTransport {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            url,
            proxy,
            probes: Vec::new(),
            failure: None,
            names: HashMap::new(),
        })
    }

    /// The names the proxy resolves, by their stand-in addresses: a probe of one
    /// sends the proxy the name (a SOCKS5 domain-name address, a CONNECT host).
    #[must_use]
    pub fn remote_names(mut self, names: HashMap<IpAddr, String>) -> Self {
        self.names = names;
        self
    }

    /// Remembers the proxy's own failure; the next [`Transport::wait`] returns it.
    fn fail(&mut self, what: impl std::fmt::Display) {
        if self.failure.is_none() {
            self.failure = Some(io::Error::other(format!("proxy {}: {what}", self.url)));
        }
    }

    fn open(&self) -> io::Result<Socket> {
        let socket = Socket::new(
            Domain::for_address(self.proxy),
            Type::STREAM.nonblocking().cloexec(),
            Some(Protocol::TCP),
        )?;
        socket.set_linger(Some(Duration::ZERO))?;
        socket.set_nodelay(true)?;
        Ok(socket)
    }

    /// Writes what the handshake has to say and reads what the proxy said, until
    /// the socket would block; `Some` once the proxy answered.
    fn drive(probe: &mut Probe) -> Result<Option<Outcome>, String> {
        let mut buf = [0u8; 4096];
        loop {
            while !probe.handshake.transmit().is_empty() {
                match probe.stream.write(probe.handshake.transmit()) {
                    Ok(n) => probe.handshake.sent(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("sending to it failed: {e}")),
                }
            }
            match probe.stream.read(&mut buf) {
                Ok(0) => return probe.handshake.closed().map(Some).map_err(describe),
                Ok(n) => match probe.handshake.receive(&buf[..n]).map_err(describe)? {
                    Progress::Done(outcome) => return Ok(Some(outcome)),
                    Progress::Pending => {}
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading from it failed: {e}")),
            }
        }
    }

    fn collect(&mut self, out: &mut Vec<Event>) {
        let ready: Vec<Token> = self.events.iter().map(|e| e.token().0).collect();
        for token in ready {
            let Some(probe) = self.probes.get_mut(token).and_then(Option::as_mut) else {
                continue;
            };
            if !probe.connected {
                match probe.stream.take_error() {
                    Ok(Some(e)) | Err(e) => {
                        self.probes[token] = None;
                        self.fail(format_args!("cannot connect to it: {e}"));
                        continue;
                    }
                    Ok(None) => {}
                }
                match probe.stream.peer_addr() {
                    Ok(_) => probe.connected = true,
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => continue,
                    Err(e) => {
                        self.probes[token] = None;
                        self.fail(format_args!("cannot connect to it: {e}"));
                        continue;
                    }
                }
            }
            match Self::drive(probe) {
                Ok(None) => {}
                Ok(Some(outcome)) => {
                    self.probes[token] = None;
                    out.push(Event::Answered(token, Answer::Proxy(proxy_reason(outcome))));
                }
                Err(what) => {
                    self.probes[token] = None;
                    self.fail(what);
                }
            }
        }
    }
}

#[expect(clippy::needless_pass_by_value, reason = "used as map_err(describe)")]
fn describe(e: ProxyError) -> String {
    e.to_string()
}

impl Transport for ProxyTransport {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
        let dest = match self.names.get(&addr.ip()) {
            Some(name) => Destination::Name {
                host: name.clone(),
                port: addr.port(),
            },
            None => Destination::Addr(addr),
        };
        let handshake = match Handshake::new(&self.url, &dest) {
            Ok(h) => h,
            Err(e) => {
                self.fail(e);
                return Started::InFlight;
            }
        };
        let socket = match self.open() {
            Ok(s) => s,
            Err(e) => return started_from_error(&e),
        };
        match socket.connect(&self.proxy.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {}
            Err(e) => {
                return match sys::classify(e.raw_os_error().unwrap_or(0)) {
                    Classified::Hiccup(h) => Started::Hiccup(h),
                    Classified::Answer(_) => {
                        self.fail(format_args!("cannot connect to it: {e}"));
                        Started::InFlight
                    }
                }
            }
        }
        let mut stream = TcpStream::from_std(StdStream::from(socket));
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            MioToken(token),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            return started_from_error(&e);
        }
        if self.probes.len() <= token {
            self.probes.resize_with(token + 1, || None);
        }
        self.probes[token] = Some(Probe {
            stream,
            handshake,
            connected: false,
        });
        Started::InFlight
    }

    fn cancel(&mut self, token: Token) {
        if let Some(slot) = self.probes.get_mut(token) {
            *slot = None;
        }
    }

    fn wait(&mut self, timeout: Duration, out: &mut Vec<Event>) -> io::Result<()> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(e),
        }
        self.collect(out);
        // Events not collected in a full batch stay ready: mio reports them again
        // only on new edges, so drain the poller while batches come back full.
        while self.events.iter().count() >= self.events.capacity() {
            self.poll.poll(&mut self.events, Some(Duration::ZERO))?;
            self.collect(out);
        }
        match self.failure.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn started_from_error(e: &io::Error) -> Started {
    match sys::classify(e.raw_os_error().unwrap_or(0)) {
        Classified::Answer(a) => Started::Answered(a),
        Classified::Hiccup(h) => Started::Hiccup(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A SOCKS5 server that answers each CONNECT with reply code `port - 1000`.
    fn fake_socks5() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let mut s = conn.unwrap();
                std::thread::spawn(move || {
                    let mut b = [0u8; 3];
                    s.read_exact(&mut b).unwrap();
                    s.write_all(&[5, 0]).unwrap();
                    let mut req = [0u8; 10];
                    s.read_exact(&mut req).unwrap();
                    let port = u16::from_be_bytes([req[8], req[9]]);
                    let code = (port - 1000) as u8;
                    s.write_all(&[5, code, 0, 1, 127, 0, 0, 1, 0, 0]).unwrap();
                });
            }
        });
        addr
    }

    fn run(t: &mut ProxyTransport, token: Token, addr: SocketAddr) -> io::Result<Answer> {
        assert_eq!(t.start(token, addr), Started::InFlight);
        let end = Instant::now() + Duration::from_secs(5);
        let mut events = Vec::new();
        while Instant::now() < end {
            t.wait(Duration::from_millis(50), &mut events)?;
            if let Some(Event::Answered(_, a)) = events
                .iter()
                .find(|e| matches!(e, Event::Answered(k, _) if *k == token))
            {
                return Ok(*a);
            }
        }
        panic!("no answer for token {token}");
    }

    #[test]
    fn reply_codes_become_proxy_reasons() {
        let proxy = fake_socks5();
        let url: ProxyUrl = format!("socks5://{proxy}").parse().unwrap();
        let mut t = ProxyTransport::new(url, proxy).unwrap();
        let want = [
            (1000, Reason::ProxyConnected),
            (1001, Reason::ProxyNoResponse),
            (1002, Reason::ProxyDenied),
            (1003, Reason::ProxyNetUnreach),
            (1004, Reason::ProxyHostUnreach),
            (1005, Reason::ProxyRefused),
            (1006, Reason::ProxyNoResponse),
        ];
        for (token, (port, reason)) in want.into_iter().enumerate() {
            let dest = SocketAddr::from(([198, 18, 0, 1], port));
            assert_eq!(
                run(&mut t, token, dest).unwrap(),
                Answer::Proxy(reason),
                "{port}"
            );
        }
    }

    #[test]
    fn a_proxy_that_refuses_us_is_an_error_not_a_state() {
        let dead = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let url: ProxyUrl = format!("socks5://{dead}").parse().unwrap();
        let mut t = ProxyTransport::new(url, dead).unwrap();
        let e = run(&mut t, 0, "127.0.0.1:22".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("cannot connect to it"), "{e}");
        assert!(
            e.to_string().starts_with(&format!("proxy socks5://{dead}")),
            "{e}"
        );
    }

    #[test]
    fn a_stand_in_is_sent_to_the_proxy_as_its_name() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut greeting = [0u8; 3];
            s.read_exact(&mut greeting).unwrap();
            s.write_all(&[5, 0]).unwrap();
            // VER CMD RSV ATYP, then for a domain name: its length, the name, the port.
            let mut head = [0u8; 5];
            s.read_exact(&mut head).unwrap();
            let mut rest = vec![0u8; usize::from(head[4]) + 2];
            s.read_exact(&mut rest).unwrap();
            tx.send((head, rest)).unwrap();
            s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).unwrap();
        });
        let url: ProxyUrl = format!("socks5h://{proxy}").parse().unwrap();
        let stand_in: IpAddr = "0.0.0.1".parse().unwrap();
        let names = HashMap::from([(stand_in, "lab.portolan.test".to_owned())]);
        let mut t = ProxyTransport::new(url, proxy).unwrap().remote_names(names);
        let answer = run(&mut t, 0, SocketAddr::new(stand_in, 6379)).unwrap();
        assert_eq!(answer, Answer::Proxy(Reason::ProxyConnected));
        let (head, rest) = rx.recv().unwrap();
        assert_eq!(head[..4], [5, 1, 0, 3], "CONNECT to a domain name");
        assert_eq!(&rest[..rest.len() - 2], b"lab.portolan.test");
        assert_eq!(rest[rest.len() - 2..], 6379u16.to_be_bytes());
    }
}
