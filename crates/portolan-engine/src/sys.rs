//! System details that need care: the open-file limit and ICMP error details.
//!
//! Everything here goes through `nix`, so the crate needs no `unsafe` of its own.

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::sys::resource::{getrlimit, setrlimit, Resource};

use crate::result::Reason;
use crate::transport::{Answer, Hiccup};

/// Raises the soft open-file limit to the hard limit and returns the new soft limit.
pub fn raise_file_limit() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 1024,
    }
}

/// The current soft open-file limit.
pub fn file_limit() -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft)
}

/// What an error from `socket()`, `connect()` or `SO_ERROR` means for a probe.
pub enum Classified {
    /// The port answered: open, closed or unreachable.
    Answer(Answer),
    /// A local failure: nothing was learnt about the port.
    Hiccup(Hiccup),
}

/// Maps an errno to an answer or a local hiccup.
pub fn classify(errno: i32) -> Classified {
    use Classified::{Answer as A, Hiccup as H};
    match Errno::from_raw(errno) {
        Errno::ECONNREFUSED => A(Answer::Refused),
        // A reset after the handshake completed: the port is open.
        Errno::ECONNRESET => A(Answer::Connected),
        Errno::EHOSTUNREACH | Errno::EHOSTDOWN => A(Answer::Unreachable(Reason::HostUnreach)),
        Errno::ENETUNREACH | Errno::ENETDOWN => A(Answer::Unreachable(Reason::NetUnreach)),
        Errno::EACCES | Errno::EPERM => A(Answer::Unreachable(Reason::AdminProhibited)),
        Errno::EMFILE | Errno::ENFILE => H(Hiccup::FileLimit),
        Errno::ENOBUFS | Errno::ENOMEM | Errno::EAGAIN => H(Hiccup::NoBuffers),
        Errno::EADDRNOTAVAIL | Errno::EADDRINUSE => H(Hiccup::NoLocalPort),
        _ => A(Answer::Unreachable(Reason::LocalError)),
    }
}

/// Asks the kernel to queue ICMP errors on this socket, so that an
/// administratively-prohibited reply can be told from a plain host-unreachable.
pub fn enable_icmp_detail<F: AsFd>(fd: &F, v6: bool) {
    use nix::sys::socket::{setsockopt, sockopt};
    // Best effort: without it, the errno alone is reported.
    let _ = if v6 {
        setsockopt(fd, sockopt::Ipv6RecvErr, &true)
    } else {
        setsockopt(fd, sockopt::Ipv4RecvErr, &true)
    };
}

/// Reads the ICMP error queued on a socket, if any, and refines `reason` with it:
/// ICMP codes 9, 10 and 13 (IPv4) and code 1 (IPv6) are administrative prohibitions.
pub fn icmp_reason<F: AsFd>(fd: &F, reason: Reason) -> Reason {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags, SockaddrStorage};
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;

    let mut buf = [0u8; 64];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut cmsg = nix::cmsg_space!(nix::libc::sock_extended_err, nix::libc::sockaddr_in6);
    let raw = fd.as_fd().as_raw_fd();
    let Ok(msg) =
        recvmsg::<SockaddrStorage>(raw, &mut iov, Some(&mut cmsg), MsgFlags::MSG_ERRQUEUE)
    else {
        return reason;
    };
    let Ok(cmsgs) = msg.cmsgs() else {
        return reason;
    };
    for c in cmsgs {
        match c {
            ControlMessageOwned::Ipv4RecvErr(e, _)
                if e.ee_origin == nix::libc::SO_EE_ORIGIN_ICMP && e.ee_type == 3 =>
            {
                return match e.ee_code {
                    9 | 10 | 13 => Reason::AdminProhibited,
                    0 | 6 | 11 => Reason::NetUnreach,
                    _ => Reason::HostUnreach,
                };
            }
            ControlMessageOwned::Ipv6RecvErr(e, _)
                if e.ee_origin == nix::libc::SO_EE_ORIGIN_ICMP6 && e.ee_type == 1 =>
            {
                return match e.ee_code {
                    1 | 5 | 6 => Reason::AdminProhibited,
                    0 => Reason::NetUnreach,
                    _ => Reason::HostUnreach,
                };
            }
            _ => {}
        }
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::libc;

    fn answer(errno: i32) -> Option<Answer> {
        match classify(errno) {
            Classified::Answer(a) => Some(a),
            Classified::Hiccup(_) => None,
        }
    }

    fn hiccup(errno: i32) -> Option<Hiccup> {
        match classify(errno) {
            Classified::Hiccup(h) => Some(h),
            Classified::Answer(_) => None,
        }
    }

    #[test]
    fn errnos_map_to_nmap_states() {
        assert_eq!(answer(libc::ECONNREFUSED), Some(Answer::Refused));
        assert_eq!(
            answer(libc::ECONNRESET),
            Some(Answer::Connected),
            "a reset after the handshake is open"
        );
        assert_eq!(
            answer(libc::EHOSTUNREACH),
            Some(Answer::Unreachable(Reason::HostUnreach))
        );
        assert_eq!(
            answer(libc::ENETUNREACH),
            Some(Answer::Unreachable(Reason::NetUnreach))
        );
        assert_eq!(
            answer(libc::EACCES),
            Some(Answer::Unreachable(Reason::AdminProhibited))
        );
        assert_eq!(
            answer(libc::EPERM),
            Some(Answer::Unreachable(Reason::AdminProhibited))
        );
        assert_eq!(
            answer(libc::EINVAL),
            Some(Answer::Unreachable(Reason::LocalError))
        );
    }

    #[test]
    fn local_shortages_are_hiccups_not_answers() {
        assert_eq!(hiccup(libc::EMFILE), Some(Hiccup::FileLimit));
        assert_eq!(hiccup(libc::ENFILE), Some(Hiccup::FileLimit));
        assert_eq!(hiccup(libc::ENOBUFS), Some(Hiccup::NoBuffers));
        assert_eq!(hiccup(libc::EADDRNOTAVAIL), Some(Hiccup::NoLocalPort));
    }

    #[test]
    fn file_limit_is_raised_to_the_hard_limit() {
        let raised = raise_file_limit();
        assert_eq!(raised, file_limit());
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!(raised, hard);
    }
}
