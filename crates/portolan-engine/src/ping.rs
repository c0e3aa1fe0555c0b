//! The socket pinger: ICMP echo (and timestamp) through one ICMP socket per
//! family, and TCP connect "pings", all on one epoll instance.
//!
//! Two kinds of ICMP socket, chosen by the caller ([`IcmpMode`]):
//!
//! - [`IcmpMode::Datagram`]: Linux's unprivileged `SOCK_DGRAM` ICMP sockets
//!   ("ping sockets"). Any user whose group is inside `net.ipv4.ping_group_range`
//!   may open one; the kernel sets the identifier and hands the socket only the
//!   replies to its own requests, so no privilege is needed and nothing else's
//!   ICMP is seen. Only echo is allowed. When the range does not allow it, opening
//!   fails and the pinger goes on without ICMP ([`SocketPinger::icmp_unavailable`]
//!   says why): the TCP pings still find hosts.
//! - [`IcmpMode::Raw`]: `SOCK_RAW` ICMP sockets (`CAP_NET_RAW`): echo and timestamp,
//!   our own identifier, and every ICMP message of the host to sift.
//!
//! Raw TCP pings go through `portolan-syn`'s transports, given by the caller
//! ([`SocketPinger::with_raw_tcp`] for SYNs, [`SocketPinger::with_raw_ack`] for
//! bare ACKs): the answers are matched statelessly by the keyed sequence number,
//! as in the SYN scan. An ACK is answered by an up host with a reset (`reset`),
//! open port or not, and passes stateless filters that drop SYNs.
//!
//! In raw mode, hosts on a directly connected Ethernet network are also asked
//! for their link address: an empty datagram makes the kernel send the ARP
//! request (or neighbour solicitation), and `AF_PACKET` sockets read the replies
//! (`arp-response`, `nd-response`); a host that drops every IP packet still
//! answers ARP.
//!
//! A reply is matched to its ping by (source address, query, sequence number):
//! sequence numbers come from one counter, so a late reply to a cancelled ping
//! (its entry forgotten) is dropped. A TCP ping is a non-blocking `connect()` as in
//! the connect scan ([`crate::ConnectTransport`]): accepted (`syn-ack`) and refused
//! (`conn-refused`) both mean up; `EHOSTUNREACH`/`ENETUNREACH` are the router's
//! word that the host is down (`host-unreach`, `net-unreach`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream as StdStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token as MioToken};
use nix::sys::socket::{recvfrom, SockaddrStorage};
use portolan_packet::echo::{self, Query};
use portolan_packet::Ipv4Packet;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::connect::{outcome, poll_batch, started_from_error, ConnectTransport};
use crate::discovery::{PingMethod, Pinger, Pong, Sent};
use crate::result::Reason;
use crate::transport::{Answer, Started, Token};

/// Which ICMP sockets a [`SocketPinger`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpMode {
    /// Unprivileged ping sockets (`SOCK_DGRAM`, `IPPROTO_ICMP`): echo only.
    Datagram,
    /// Raw ICMP sockets (`CAP_NET_RAW`): echo and timestamp.
    Raw,
}

const ICMP4: MioToken = MioToken(usize::MAX);
const ICMP6: MioToken = MioToken(usize::MAX - 1);
const ARP: MioToken = MioToken(usize::MAX - 2);
const ND: MioToken = MioToken(usize::MAX - 3);
const RAW_TCP: MioToken = MioToken(usize::MAX - 4);
const RAW_ACK: MioToken = MioToken(usize::MAX - 5);

/// A raw TCP transport (the SYN scan's, from `portolan-syn`) that SYN or ACK pings
/// can go through: its answers are read when its receive socket is readable.
pub trait RawTcp: crate::Transport + AsRawFd {}

impl<T: crate::Transport + AsRawFd> RawTcp for T {}

/// `ETH_P_ARP` and `ETH_P_IPV6`, the link protocols the neighbour sockets read.
const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;

/// A directly connected Ethernet network: an address of ours and its prefix.
#[derive(Debug, Clone, Copy)]
struct Link {
    addr: IpAddr,
    prefix: u32,
}

impl Link {
    fn contains(self, other: IpAddr) -> bool {
        match (self.addr, other) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix).unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask && a != b
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask && a != b
            }
            _ => false,
        }
    }
}

/// The networks of this machine's Ethernet interfaces (`/sys/class/net/IF/type`
/// is 1, `ARPHRD_ETHER`): loopback, TUN and other links have no ARP.
fn ethernet_links() -> Vec<Link> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let mut links = Vec::new();
    for ifa in addrs {
        let kind = std::fs::read_to_string(format!("/sys/class/net/{}/type", ifa.interface_name));
        if kind.map_or(true, |k| k.trim() != "1") {
            continue;
        }
        let (Some(addr), Some(mask)) = (ifa.address, ifa.netmask) else {
            continue;
        };
        let link = match (
            addr.as_sockaddr_in(),
            mask.as_sockaddr_in(),
            addr.as_sockaddr_in6(),
            mask.as_sockaddr_in6(),
        ) {
            (Some(a), Some(m), _, _) => Link {
                addr: IpAddr::V4(a.ip()),
                prefix: u32::from(m.ip()).count_ones(),
            },
            (_, _, Some(a), Some(m)) => Link {
                addr: IpAddr::V6(a.ip()),
                prefix: u128::from(m.ip()).count_ones(),
            },
            _ => continue,
        };
        links.push(link);
    }
    links
}

/// The payload of every echo request: recognisable in a capture.
const PAYLOAD: &[u8] = b"portolan";

/// A [`Pinger`] over real sockets; see the module documentation.
pub struct SocketPinger {
    poll: Poll,
    events: Events,
    mode: IcmpMode,
    icmp4: Option<Socket>,
    icmp6: Option<Socket>,
    unavailable: Option<io::Error>,
    ident: u16,
    seq: u16,
    /// `(source, query, seq)` of each ICMP ping in flight.
    by_reply: HashMap<(IpAddr, Query, u16), Token>,
    icmp_of: HashMap<Token, (IpAddr, Query, u16)>,
    tcp: Vec<Option<TcpStream>>,
    buf: Vec<u8>,
    /// Raw mode only: `AF_PACKET` sockets that see ARP replies and IPv6
    /// neighbour advertisements, the Ethernet networks they apply to, and the
    /// neighbour pings in flight.
    arp: Option<Socket>,
    nd: Option<Socket>,
    links: Vec<Link>,
    neighbors: HashMap<IpAddr, Token>,
    neighbor_of: HashMap<Token, IpAddr>,
    /// The raw SYN transport for [`PingMethod::Syn`], when given.
    raw_tcp: Option<Box<dyn RawTcp>>,
    /// The raw ACK transport for [`PingMethod::Ack`], when given.
    raw_ack: Option<Box<dyn RawTcp>>,
}

impl SocketPinger {
    /// A pinger with its ICMP sockets of `mode` (an ICMP socket that cannot be
    /// opened is left out, see [`Self::icmp_unavailable`]); `ident` is the echo
    /// identifier of raw sockets.
    pub fn new(mode: IcmpMode, ident: u16) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut unavailable = None;
        let mut open = |domain: Domain, proto: Protocol, token: MioToken| {
            let ty = match mode {
                IcmpMode::Datagram => Type::DGRAM,
                IcmpMode::Raw => Type::RAW,
            };
            let socket =
                Socket::new(domain, ty.nonblocking().cloexec(), Some(proto)).and_then(|s| {
                    let fd = s.as_raw_fd();
                    poll.registry()
                        .register(&mut SourceFd(&fd), token, Interest::READABLE)?;
                    Ok(s)
                });
            match socket {
                Ok(s) => Some(s),
                Err(e) => {
                    unavailable.get_or_insert(e);
                    None
                }
            }
        };
        let icmp4 = open(Domain::IPV4, Protocol::ICMPV4, ICMP4);
        let icmp6 = open(Domain::IPV6, Protocol::ICMPV6, ICMP6);
        // No IPv6 on the machine is not ICMP being refused.
        if icmp4.is_some() {
            unavailable = None;
        }
        let (arp, nd, links) = if mode == IcmpMode::Raw && icmp4.is_some() {
            let packet = |proto: u16, token: MioToken| {
                let s = Socket::new(
                    Domain::PACKET,
                    Type::DGRAM.nonblocking().cloexec(),
                    Some(Protocol::from(i32::from(proto.to_be()))),
                )
                .ok()?;
                let fd = s.as_raw_fd();
                poll.registry()
                    .register(&mut SourceFd(&fd), token, Interest::READABLE)
                    .ok()?;
                Some(s)
            };
            (
                packet(ETH_P_ARP, ARP),
                packet(ETH_P_IPV6, ND),
                ethernet_links(),
            )
        } else {
            (None, None, Vec::new())
        };
        Ok(SocketPinger {
            poll,
            events: Events::with_capacity(1024),
            mode,
            icmp4,
            icmp6,
            unavailable,
            ident,
            seq: 0,
            by_reply: HashMap::new(),
            icmp_of: HashMap::new(),
            tcp: Vec::new(),
            buf: vec![0; 2048],
            arp,
            nd,
            links,
            neighbors: HashMap::new(),
            neighbor_of: HashMap::new(),
            raw_tcp: None,
            raw_ack: None,
        })
    }

    /// Sends SYN pings ([`PingMethod::Syn`]) through `raw` (without it they do not
    /// apply); its receive socket joins this pinger's epoll.
    pub fn with_raw_tcp(mut self, raw: Box<dyn RawTcp>) -> io::Result<Self> {
        let fd = raw.as_raw_fd();
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), RAW_TCP, Interest::READABLE)?;
        self.raw_tcp = Some(raw);
        Ok(self)
    }

    /// Sends ACK pings ([`PingMethod::Ack`]) through `raw`, a transport that sends
    /// bare ACKs (`portolan_syn::SynTransport::ack_pings`) and answers `reset` for
    /// the host's reset; without it they do not apply.
    pub fn with_raw_ack(mut self, raw: Box<dyn RawTcp>) -> io::Result<Self> {
        let fd = raw.as_raw_fd();
        self.poll
            .registry()
            .register(&mut SourceFd(&fd), RAW_ACK, Interest::READABLE)?;
        self.raw_ack = Some(raw);
        Ok(self)
    }

    fn send_raw(&mut self, ack: bool, token: Token, addr: SocketAddr) -> Sent {
        let raw = if ack {
            self.raw_ack.as_mut()
        } else {
            self.raw_tcp.as_mut()
        };
        let Some(raw) = raw else {
            return Sent::NotApplicable;
        };
        sent_from(raw.start(token, addr))
    }

    /// Reads every answer a raw TCP transport has (it reads until its socket
    /// is empty, as the edge-triggered epoll needs).
    fn drain_raw_tcp(&mut self, ack: bool, out: &mut Vec<Pong>) {
        let raw = if ack {
            self.raw_ack.as_mut()
        } else {
            self.raw_tcp.as_mut()
        };
        let Some(raw) = raw else {
            return;
        };
        let mut events = Vec::new();
        if raw.wait(Duration::ZERO, &mut events).is_err() {
            return;
        }
        for event in events {
            out.push(match event {
                crate::Event::Answered(token, answer) => Pong::Answered(token, tcp_reason(answer)),
                crate::Event::Hiccup(token, hiccup) => Pong::Hiccup(token, hiccup),
            });
        }
    }

    /// Why ICMP pings are not sent, when the IPv4 ICMP socket could not be opened
    /// (for ping sockets: the user's group is outside `net.ipv4.ping_group_range`).
    pub fn icmp_unavailable(&self) -> Option<&io::Error> {
        self.unavailable.as_ref()
    }

    fn send_icmp(&mut self, token: Token, addr: IpAddr, query: Query) -> Sent {
        let v6 = addr.is_ipv6();
        let socket = if v6 { &self.icmp6 } else { &self.icmp4 };
        let Some(socket) = socket else {
            return Sent::NotApplicable;
        };
        if query == Query::Timestamp && (v6 || self.mode == IcmpMode::Datagram) {
            return Sent::NotApplicable;
        }
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut msg = [0u8; 64];
        let payload = match query {
            Query::Echo => PAYLOAD.to_vec(),
            Query::Timestamp => ms_since_midnight().to_be_bytes().to_vec(),
        };
        let Ok(n) = echo::emit_request(&mut msg, v6, query, self.ident, seq, &payload) else {
            return Sent::NotApplicable;
        };
        match socket.send_to(&msg[..n], &SockAddr::from(SocketAddr::new(addr, 0))) {
            Ok(_) => {
                // A stale entry for this sequence number (65536 pings ago) is replaced.
                if let Some(old) = self.by_reply.insert((addr, query, seq), token) {
                    self.icmp_of.remove(&old);
                }
                self.icmp_of.insert(token, (addr, query, seq));
                Sent::InFlight
            }
            Err(e) => match started_from_error(&e) {
                Started::Hiccup(h) => Sent::Hiccup(h),
                Started::Answered(a) => Sent::Answered(tcp_reason(a)),
                Started::InFlight => Sent::InFlight,
            },
        }
    }

    /// A neighbour ping: an empty datagram to the discard port makes the kernel
    /// resolve the address (ARP, or neighbour solicitation), whose answer the
    /// `AF_PACKET` sockets see. Only for hosts on a directly connected Ethernet
    /// network, and only when the kernel has to ask (a neighbour it confirmed a
    /// moment ago is not asked again; the other pings find that host).
    fn send_neighbor(&mut self, token: Token, addr: IpAddr) -> Sent {
        let socket = if addr.is_ipv4() { &self.arp } else { &self.nd };
        if socket.is_none() || !self.links.iter().any(|l| l.contains(addr)) {
            return Sent::NotApplicable;
        }
        let udp = std::net::UdpSocket::bind(if addr.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        });
        let sent = udp.and_then(|u| u.send_to(&[], SocketAddr::new(addr, 9)));
        if let Err(e) = sent {
            return sent_from(started_from_error(&e));
        }
        if let Some(old) = self.neighbors.insert(addr, token) {
            self.neighbor_of.remove(&old);
        }
        self.neighbor_of.insert(token, addr);
        Sent::InFlight
    }

    /// Reads every ARP reply or IPv6 packet waiting on a neighbour socket.
    fn drain_neighbors(&mut self, v6: bool, out: &mut Vec<Pong>) {
        loop {
            let socket = if v6 { &self.nd } else { &self.arp };
            let Some(socket) = socket else {
                return;
            };
            let Ok((n, _)) = recvfrom::<SockaddrStorage>(socket.as_raw_fd(), &mut self.buf) else {
                return;
            };
            let data = &self.buf[..n];
            let (from, reason) = if v6 {
                let Some(t) = portolan_packet::neighbor::neighbor_advert_target(data) else {
                    continue;
                };
                (IpAddr::V6(t), Reason::NdResponse)
            } else {
                let Some(s) = portolan_packet::neighbor::arp_reply_sender(data) else {
                    continue;
                };
                (IpAddr::V4(s), Reason::ArpResponse)
            };
            if let Some(token) = self.neighbors.remove(&from) {
                self.neighbor_of.remove(&token);
                out.push(Pong::Answered(token, reason));
            }
        }
    }

    fn send_connect(&mut self, token: Token, addr: SocketAddr) -> Sent {
        let socket = match ConnectTransport::open(addr) {
            Ok(s) => s,
            Err(e) => return sent_from(started_from_error(&e)),
        };
        match socket.connect(&addr.into()) {
            Ok(()) => Sent::Answered(Reason::SynAck),
            Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {
                let mut stream = TcpStream::from_std(StdStream::from(socket));
                if let Err(e) =
                    self.poll
                        .registry()
                        .register(&mut stream, MioToken(token), Interest::WRITABLE)
                {
                    return sent_from(started_from_error(&e));
                }
                if self.tcp.len() <= token {
                    self.tcp.resize_with(token + 1, || None);
                }
                self.tcp[token] = Some(stream);
                Sent::InFlight
            }
            Err(e) => sent_from(started_from_error(&e)),
        }
    }

    /// Reads every datagram waiting on one ICMP socket.
    fn drain_icmp(&mut self, v6: bool, out: &mut Vec<Pong>) {
        loop {
            let socket = if v6 { &self.icmp6 } else { &self.icmp4 };
            let Some(socket) = socket else {
                return;
            };
            let Ok((n, Some(from))) =
                recvfrom::<SockaddrStorage>(socket.as_raw_fd(), &mut self.buf)
            else {
                return;
            };
            let src = match (from.as_sockaddr_in(), from.as_sockaddr_in6()) {
                (Some(a), _) => IpAddr::V4(a.ip()),
                (_, Some(a)) => IpAddr::V6(a.ip()),
                _ => continue,
            };
            let data = &self.buf[..n];
            // Raw IPv4 sockets see the IP header; the others do not.
            let msg = if !v6 && self.mode == IcmpMode::Raw {
                match Ipv4Packet::new_checked(data) {
                    Ok(p) => p.payload().to_vec(),
                    Err(_) => continue,
                }
            } else {
                data.to_vec()
            };
            let Some(reply) = echo::parse_reply(&msg, v6) else {
                continue;
            };
            if self.mode == IcmpMode::Raw && reply.ident != self.ident {
                continue;
            }
            if let Some(token) = self.by_reply.remove(&(src, reply.query, reply.seq)) {
                self.icmp_of.remove(&token);
                let reason = match reply.query {
                    Query::Echo => Reason::EchoReply,
                    Query::Timestamp => Reason::TimestampReply,
                };
                out.push(Pong::Answered(token, reason));
            }
        }
    }

    fn collect(&mut self, out: &mut Vec<Pong>) {
        let ready: Vec<MioToken> = self.events.iter().map(mio::event::Event::token).collect();
        for token in ready {
            match token {
                ICMP4 => self.drain_icmp(false, out),
                ICMP6 => self.drain_icmp(true, out),
                ARP => self.drain_neighbors(false, out),
                ND => self.drain_neighbors(true, out),
                RAW_TCP => self.drain_raw_tcp(false, out),
                RAW_ACK => self.drain_raw_tcp(true, out),
                MioToken(token) => {
                    let Some(stream) = self.tcp.get(token).and_then(Option::as_ref) else {
                        continue;
                    };
                    let Some(result) = outcome(stream) else {
                        continue;
                    };
                    self.tcp[token] = None;
                    out.push(match result {
                        Ok(answer) => Pong::Answered(token, tcp_reason(answer)),
                        Err(hiccup) => Pong::Hiccup(token, hiccup),
                    });
                }
            }
        }
    }
}

fn tcp_reason(answer: Answer) -> Reason {
    answer.reason()
}

fn sent_from(started: Started) -> Sent {
    match started {
        Started::Answered(a) => Sent::Answered(tcp_reason(a)),
        Started::Hiccup(h) => Sent::Hiccup(h),
        Started::InFlight => Sent::InFlight,
    }
}

/// Milliseconds since midnight UTC, the originate time of a timestamp request.
fn ms_since_midnight() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u32::try_from(now.as_millis() % 86_400_000).unwrap_or(0)
}

impl Pinger for SocketPinger {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn send(&mut self, token: Token, addr: IpAddr, method: PingMethod) -> Sent {
        match method {
            PingMethod::Echo => self.send_icmp(token, addr, Query::Echo),
            PingMethod::Timestamp => self.send_icmp(token, addr, Query::Timestamp),
            PingMethod::Connect(port) => self.send_connect(token, SocketAddr::new(addr, port)),
            PingMethod::Neighbor => self.send_neighbor(token, addr),
            PingMethod::Syn(port) => self.send_raw(false, token, SocketAddr::new(addr, port)),
            PingMethod::Ack(port) => self.send_raw(true, token, SocketAddr::new(addr, port)),
        }
    }

    fn cancel(&mut self, token: Token) {
        if let Some(key) = self.icmp_of.remove(&token) {
            self.by_reply.remove(&key);
        }
        if let Some(addr) = self.neighbor_of.remove(&token) {
            self.neighbors.remove(&addr);
        }
        for raw in [self.raw_tcp.as_mut(), self.raw_ack.as_mut()]
            .into_iter()
            .flatten()
        {
            raw.cancel(token);
        }
        if let Some(slot) = self.tcp.get_mut(token) {
            *slot = None;
        }
    }

    fn wait(&mut self, timeout: Duration, out: &mut Vec<Pong>) -> io::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn answer(p: &mut SocketPinger, token: Token, addr: IpAddr, m: PingMethod) -> Option<Reason> {
        match p.send(token, addr, m) {
            Sent::Answered(r) => return Some(r),
            Sent::InFlight => {}
            other => panic!("{other:?}"),
        }
        let mut pongs = Vec::new();
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            p.wait(Duration::from_millis(50), &mut pongs).unwrap();
            for pong in pongs.drain(..) {
                match pong {
                    Pong::Answered(t, r) if t == token => return Some(r),
                    Pong::Hiccup(t, h) if t == token => panic!("hiccup {h:?}"),
                    _ => {}
                }
            }
        }
        None
    }

    #[test]
    fn tcp_pings_on_loopback_say_up_for_open_and_closed_ports() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let open = listener.local_addr().unwrap().port();
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut p = SocketPinger::new(IcmpMode::Datagram, 0).unwrap();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            answer(&mut p, 0, lo, PingMethod::Connect(open)),
            Some(Reason::SynAck)
        );
        assert_eq!(
            answer(&mut p, 1, lo, PingMethod::Connect(closed)),
            Some(Reason::ConnRefused)
        );
    }

    #[test]
    fn echo_on_loopback_when_ping_sockets_are_allowed() {
        let mut p = SocketPinger::new(IcmpMode::Datagram, 0).unwrap();
        if let Some(e) = p.icmp_unavailable() {
            // The test's own user is outside net.ipv4.ping_group_range; the
            // namespace tests of the CLI set the range and cover this path.
            assert!(
                matches!(e.raw_os_error(), Some(nix::libc::EACCES | nix::libc::EPERM)),
                "{e}"
            );
            assert_eq!(
                p.send(0, "127.0.0.1".parse().unwrap(), PingMethod::Echo),
                Sent::NotApplicable
            );
            return;
        }
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            answer(&mut p, 3, lo, PingMethod::Echo),
            Some(Reason::EchoReply)
        );
        // Timestamp needs a raw socket.
        assert_eq!(p.send(4, lo, PingMethod::Timestamp), Sent::NotApplicable);
    }

    #[test]
    fn raw_echo_and_timestamp_on_loopback() {
        let mut p = SocketPinger::new(IcmpMode::Raw, 0x5150).unwrap();
        if let Some(e) = p.icmp_unavailable() {
            // Not root: raw sockets need CAP_NET_RAW (the CLI's namespace tests run as root).
            assert_eq!(e.raw_os_error(), Some(nix::libc::EPERM), "{e}");
            return;
        }
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            answer(&mut p, 5, lo, PingMethod::Echo),
            Some(Reason::EchoReply)
        );
        assert_eq!(
            answer(&mut p, 6, lo, PingMethod::Timestamp),
            Some(Reason::TimestampReply)
        );
        let lo6: IpAddr = "::1".parse().unwrap();
        if p.icmp6.is_some() {
            assert_eq!(
                answer(&mut p, 7, lo6, PingMethod::Echo),
                Some(Reason::EchoReply)
            );
        }
    }
}
