//! The sockets of the SYN scan, behind portolan's [`Transport`] seam.
//!
//! - Sending: one raw IP socket per family (`IPPROTO_RAW`, so we write the IP header
//!   ourselves) and `sendto` the destination: the kernel routes the packet and adds
//!   the link header, so it works on Ethernet, loopback, veth and TUN devices alike.
//!   The source address is the one the kernel would pick (a connected UDP socket's
//!   local address, cached per destination).
//! - Receiving: one `AF_PACKET`/`SOCK_DGRAM` socket for all interfaces, which delivers
//!   packets from the network header on (the link layer does not matter), with the
//!   [`crate::bpf`] filter attached.
//! - The source port: one ephemeral port, reserved for the scan by binding a TCP socket
//!   to it (dual-stack where IPv6 exists), so no connection of this machine uses it
//!   meanwhile. The kernel answers a SYN-ACK to it with a reset, as expected for a
//!   half-open scan.
//!
//! - What is sent: a SYN ([`SynTransport::new`]), or, for host discovery's ACK
//!   ping, a bare ACK ([`SynTransport::ack_pings`]) whose sequence and
//!   acknowledgement numbers are both the keyed number: an up host answers it
//!   with a reset carrying that number as its sequence number, which the
//!   [`Matcher`] checks as it checks a SYN's answer (an ICMP error quotes our
//!   sequence number, the same number).
//!
//! There is no `unsafe` here: `socket2` and `nix` cover every call.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::libc;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use portolan_engine::{classify, Classified};
use portolan_engine::{Event, Started, Token, Transport};
use portolan_packet::SynProbe;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::cookie::Cookie;
use crate::matcher::{Matcher, Stats};

/// `ETH_P_ALL`: every protocol, in network byte order as `socket(2)` wants it.
const ETH_P_ALL: u16 = 0x0003;
/// The receive buffer asked for: a burst of replies at full rate must not overflow it.
const RECV_BUFFER: usize = 16 << 20;
/// Source addresses remembered at most; past it the cache starts again.
const ROUTE_CACHE: usize = 1 << 16;

/// Why the transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SynError {
    /// Raw and packet sockets need `CAP_NET_RAW`.
    #[error("raw sockets need the CAP_NET_RAW capability")]
    NotPermitted,
    /// A socket could not be opened or set up.
    #[error("cannot open {what}: {source}")]
    Socket {
        /// Which socket, and for what.
        what: &'static str,
        /// The system's error.
        #[source]
        source: io::Error,
    },
    /// The operating system gave no random bytes for the sequence-number key.
    #[error("no random source for the scan key: {0}")]
    Random(getrandom::Error),
}

fn socket_error(what: &'static str) -> impl Fn(io::Error) -> SynError {
    move |source| match source.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => SynError::NotPermitted,
        _ => SynError::Socket { what, source },
    }
}

/// Raw SYN probes; see the module overview.
#[derive(Debug)]
pub struct SynTransport {
    send4: Socket,
    /// `None` when this machine has no IPv6.
    send6: Option<Socket>,
    recv: Socket,
    /// Holds the source port for the scan.
    _reservation: Socket,
    port: u16,
    matcher: Matcher,
    /// The destination of each token in flight, to forget it on cancel.
    tokens: Vec<Option<SocketAddr>>,
    routes: HashMap<IpAddr, IpAddr>,
    epoch: Instant,
    packet: [u8; portolan_packet::syn::MAX_LEN],
    received: Vec<u8>,
    /// Bare ACKs instead of SYNs.
    ack: bool,
}

impl SynTransport {
    /// Opens the sockets with a random key. Fails with [`SynError::NotPermitted`]
    /// without `CAP_NET_RAW`.
    pub fn new() -> Result<Self, SynError> {
        Self::with_cookie(Cookie::random().map_err(SynError::Random)?)
    }

    /// Sockets that send bare ACKs instead of SYNs (host discovery's ACK ping): every
    /// answer of an up host is a reset ([`portolan_engine::Answer::Reset`]).
    pub fn ack_pings() -> Result<Self, SynError> {
        let mut t = Self::new()?;
        t.ack = true;
        Ok(t)
    }

    /// Opens the sockets with the given key.
    pub fn with_cookie(cookie: Cookie) -> Result<Self, SynError> {
        let protocol = Protocol::from(i32::from(ETH_P_ALL.to_be()));
        let recv = Socket::new(Domain::PACKET, Type::DGRAM, Some(protocol))
            .map_err(socket_error("a packet socket"))?;
        let raw = Protocol::from(libc::IPPROTO_RAW);
        let send4 = Socket::new(Domain::IPV4, Type::RAW, Some(raw))
            .map_err(socket_error("a raw IPv4 socket"))?;
        let send6 = match Socket::new(Domain::IPV6, Type::RAW, Some(raw)) {
            Ok(s) => Some(s),
            Err(e) if e.raw_os_error() == Some(libc::EAFNOSUPPORT) => None,
            Err(e) => return Err(socket_error("a raw IPv6 socket")(e)),
        };
        let (reservation, port) = reserve_port().map_err(socket_error("a source port"))?;
        let insns: Vec<libc::sock_filter> = crate::bpf::program(port)
            .into_iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        recv.attach_filter(&insns)
            .map_err(socket_error("the receive filter"))?;
        for s in [Some(&recv), Some(&send4), send6.as_ref()]
            .into_iter()
            .flatten()
        {
            s.set_nonblocking(true)
                .map_err(socket_error("a non-blocking socket"))?;
        }
        // Best effort: the forced size needs CAP_NET_ADMIN, the plain one is capped.
        if nix::sys::socket::setsockopt(&recv, nix::sys::socket::sockopt::RcvBufForce, &RECV_BUFFER)
            .is_err()
        {
            let _ = recv.set_recv_buffer_size(RECV_BUFFER);
        }
        let _ = send4.set_send_buffer_size(RECV_BUFFER / 4);
        let mut t = SynTransport {
            send4,
            send6,
            recv,
            _reservation: reservation,
            port,
            matcher: Matcher::new(cookie, port),
            tokens: Vec::new(),
            routes: HashMap::new(),
            epoch: Instant::now(),
            packet: [0; portolan_packet::syn::MAX_LEN],
            received: vec![0; crate::bpf::SNAP_LEN as usize],
            ack: false,
        };
        // Packets that arrived before the filter was attached.
        t.drain(&mut Vec::new())
            .map_err(socket_error("the packet socket"))?;
        t.matcher = Matcher::new(cookie, port);
        Ok(t)
    }

    /// The source port of every probe.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What was sent and received so far.
    pub fn stats(&self) -> Stats {
        self.matcher.stats()
    }

    /// The address the kernel would send from to `dst`.
    fn source_for(&mut self, dst: IpAddr) -> io::Result<IpAddr> {
        if let Some(src) = self.routes.get(&dst) {
            return Ok(*src);
        }
        let any: IpAddr = match dst {
            IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        let udp = UdpSocket::bind((any, 0))?;
        udp.connect((dst, 9))?;
        let src = udp.local_addr()?.ip();
        if self.routes.len() >= ROUTE_CACHE {
            self.routes.clear();
        }
        self.routes.insert(dst, src);
        Ok(src)
    }

    fn send(&mut self, dst: SocketAddr) -> io::Result<()> {
        let src = self.source_for(dst.ip())?;
        let local = SocketAddr::new(src, self.port);
        let cookie = *self.matcher.cookie();
        let flow = cookie.flow(local, dst);
        let millis = self.epoch.elapsed().as_millis() as u32;
        let isn = cookie.isn(local, dst);
        let probe = SynProbe {
            src: local,
            dst,
            seq: isn,
            ts_val: millis.wrapping_add(flow),
            ident: flow,
            ack: self.ack.then_some(isn),
        };
        let len = probe
            .emit(&mut self.packet)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let socket = match dst {
            SocketAddr::V4(_) => &self.send4,
            SocketAddr::V6(_) => self
                .send6
                .as_ref()
                .ok_or_else(|| io::Error::from_raw_os_error(libc::EAFNOSUPPORT))?,
        };
        // The port of a raw socket's destination must be zero.
        socket.send_to(
            &self.packet[..len],
            &SockAddr::from(SocketAddr::new(dst.ip(), 0)),
        )?;
        Ok(())
    }

    /// Reads every packet waiting, and appends the answers it finds.
    fn drain(&mut self, events: &mut Vec<Event>) -> io::Result<()> {
        loop {
            let n = match (&self.recv).read(&mut self.received) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Some((token, answer)) = self.matcher.packet(&self.received[..n]) {
                if let Some(slot) = self.tokens.get_mut(token) {
                    *slot = None;
                }
                events.push(Event::Answered(token, answer));
            }
        }
    }
}

/// The receive socket, for an event loop that waits on it with others (host
/// discovery's SYN pings): when it is readable, `wait(Duration::ZERO, ..)` reads
/// every answer queued.
impl std::os::fd::AsRawFd for SynTransport {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.recv.as_raw_fd()
    }
}

/// Binds a TCP socket to an ephemeral port (both families where IPv6 exists).
fn reserve_port() -> io::Result<(Socket, u16)> {
    let v6 = Socket::new(Domain::IPV6, Type::STREAM, None).and_then(|s| {
        s.set_only_v6(false)?;
        s.bind(&SockAddr::from(SocketAddr::from((
            Ipv6Addr::UNSPECIFIED,
            0,
        ))))?;
        Ok(s)
    });
    let socket = if let Ok(s) = v6 {
        s
    } else {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        s.bind(&SockAddr::from(SocketAddr::from((
            Ipv4Addr::UNSPECIFIED,
            0,
        ))))?;
        s
    };
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the reserved port has no address"))?;
    Ok((socket, port))
}

impl Transport for SynTransport {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn start(&mut self, token: Token, addr: SocketAddr) -> Started {
        match self.send(addr) {
            Ok(()) => {
                if self.tokens.len() <= token {
                    self.tokens.resize(token + 1, None);
                }
                self.tokens[token] = Some(addr);
                self.matcher.sent(token, addr);
                Started::InFlight
            }
            Err(e) => match classify(e.raw_os_error().unwrap_or(libc::EINVAL)) {
                Classified::Answer(answer) => Started::Answered(answer),
                Classified::Hiccup(hiccup) => Started::Hiccup(hiccup),
            },
        }
    }

    /// The [`Matcher`] keys probes by destination, and every try of a pair carries
    /// the same keyed number: an answer to any try answers the pair's current one.
    fn late_answers(&self) -> bool {
        true
    }

    fn cancel(&mut self, token: Token) {
        if let Some(addr) = self.tokens.get_mut(token).and_then(Option::take) {
            self.matcher.forget(token, addr);
        }
    }

    fn wait(&mut self, timeout: Duration, events: &mut Vec<Event>) -> io::Result<()> {
        let before = events.len();
        self.drain(events)?;
        if events.len() > before || timeout.is_zero() {
            return Ok(());
        }
        // Round up, so a short wait does not spin.
        let millis = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut fds = [PollFd::new(self.recv.as_fd(), PollFlags::POLLIN)];
        match poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
        self.drain(events)
    }
}
