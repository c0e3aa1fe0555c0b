//! The classic BPF program the receive socket runs in the kernel.
//!
//! An `AF_PACKET`/`SOCK_DGRAM` socket sees every packet of the machine from its
//! network header on; copying them all to user space would cost more than the scan.
//! The filter keeps only what can answer a SYN from our port:
//!
//! - not our own outgoing packets (`PACKET_OUTGOING`, read from the socket buffer's
//!   packet type, so loopback's second copy is dropped too);
//! - IPv4 TCP to our port (the header length read from the packet: options are fine);
//! - IPv4 ICMP destination unreachable (type 3);
//! - IPv6 TCP to our port directly after the fixed header;
//! - ICMPv6 destination unreachable (type 1).
//!
//! Everything it lets through is still parsed and checked in user space, so the filter
//! only has to be sound for speed, not for correctness. [`program`] is a pure function
//! and [`run`] a small interpreter, so the filter is tested on captured packets without
//! privileges.

/// One instruction, laid out as the kernel's `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The opcode.
    pub code: u16,
    /// Instructions to skip when the test is true.
    pub jt: u8,
    /// Instructions to skip when the test is false.
    pub jf: u8,
    /// The operand.
    pub k: u32,
}

mod op {
    pub const LD_W_ABS: u16 = 0x20;
    pub const LD_H_ABS: u16 = 0x28;
    pub const LD_B_ABS: u16 = 0x30;
    pub const LD_H_IND: u16 = 0x48;
    pub const LD_B_IND: u16 = 0x50;
    pub const LDX_B_MSH: u16 = 0xb1;
    pub const RSH_K: u16 = 0x74;
    pub const JEQ_K: u16 = 0x15;
    pub const RET_K: u16 = 0x06;
}

/// `SKF_AD_OFF + SKF_AD_PKTTYPE`: loads the packet type instead of packet bytes.
const PKTTYPE: u32 = 0xffff_f000 + 4;
/// `PACKET_OUTGOING`.
const OUTGOING: u32 = 4;
/// Bytes of an accepted packet copied to user space: enough for an ICMP error quoting
/// an IPv4 header with options, or an IPv6 one.
pub const SNAP_LEN: u32 = 256;

#[derive(Clone, Copy)]
enum To {
    Next,
    Accept,
    Drop,
    At(usize),
}

enum Asm {
    Op(u16, u32),
    Jeq(u32, To, To),
}

/// The filter for replies to SYNs sent from `port`.
pub fn program(port: u16) -> Vec<Insn> {
    use Asm::{Jeq, Op};
    use To::{Accept, At, Drop, Next};
    let port = u32::from(port);
    // Labels: V4_ICMP = 10, V6 = 14, V6_ICMP = 19 (checked in the tests below).
    let asm = [
        Op(op::LD_W_ABS, PKTTYPE), // 0
        Jeq(OUTGOING, Drop, Next), // 1
        Op(op::LD_B_ABS, 0),       // 2
        Op(op::RSH_K, 4),          // 3: A = IP version
        Jeq(4, Next, At(14)),      // 4
        Op(op::LD_B_ABS, 9),       // 5: IPv4 protocol
        Jeq(6, Next, At(10)),      // 6
        Op(op::LDX_B_MSH, 0),      // 7: X = IPv4 header length
        Op(op::LD_H_IND, 2),       // 8: TCP destination port
        Jeq(port, Accept, Drop),   // 9
        Jeq(1, Next, Drop),        // 10: ICMP
        Op(op::LDX_B_MSH, 0),      // 11
        Op(op::LD_B_IND, 0),       // 12: ICMP type
        Jeq(3, Accept, Drop),      // 13
        Jeq(6, Next, Drop),        // 14: IPv6
        Op(op::LD_B_ABS, 6),       // 15: next header
        Jeq(6, Next, At(19)),      // 16
        Op(op::LD_H_ABS, 42),      // 17: TCP destination port
        Jeq(port, Accept, Drop),   // 18
        Jeq(58, Next, Drop),       // 19: ICMPv6
        Op(op::LD_B_ABS, 40),      // 20: ICMPv6 type
        Jeq(1, Accept, Drop),      // 21
    ];
    let accept = asm.len();
    let drop = accept + 1;
    let rel = |pc: usize, to: To| -> u8 {
        let target = match to {
            Next => pc + 1,
            Accept => accept,
            Drop => drop,
            At(n) => n,
        };
        (target - pc - 1) as u8
    };
    let mut out: Vec<Insn> = asm
        .iter()
        .enumerate()
        .map(|(pc, a)| match *a {
            Op(code, k) => Insn {
                code,
                jt: 0,
                jf: 0,
                k,
            },
            Jeq(k, t, f) => Insn {
                code: op::JEQ_K,
                jt: rel(pc, t),
                jf: rel(pc, f),
                k,
            },
        })
        .collect();
    out.push(Insn {
        code: op::RET_K,
        jt: 0,
        jf: 0,
        k: SNAP_LEN,
    });
    out.push(Insn {
        code: op::RET_K,
        jt: 0,
        jf: 0,
        k: 0,
    });
    out
}

/// Runs `prog` on `packet` as the kernel would (an out-of-bounds load drops the
/// packet) and returns how many bytes it keeps. `pkttype` is the socket buffer's
/// packet type (0 for a packet to this host, 4 for an outgoing one).
pub fn run(prog: &[Insn], packet: &[u8], pkttype: u32) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut pc = 0;
    let byte = |at: u32| packet.get(at as usize).copied().map(u32::from);
    let half = |at: u32| Some((byte(at)? << 8) | byte(at + 1)?);
    while let Some(i) = prog.get(pc) {
        pc += 1;
        let loaded = match i.code {
            op::LD_W_ABS if i.k == PKTTYPE => Some(pkttype),
            op::LD_W_ABS => Some((half(i.k).unwrap_or(0) << 16) | half(i.k + 2).unwrap_or(0)),
            op::LD_H_ABS => half(i.k),
            op::LD_B_ABS => byte(i.k),
            op::LD_H_IND => half(x + i.k),
            op::LD_B_IND => byte(x + i.k),
            op::LDX_B_MSH => {
                let Some(b) = byte(i.k) else { return 0 };
                x = (b & 0x0f) * 4;
                continue;
            }
            op::RSH_K => Some(a >> i.k),
            op::JEQ_K => {
                pc += usize::from(if a == i.k { i.jt } else { i.jf });
                continue;
            }
            op::RET_K => return i.k,
            _ => return 0,
        };
        match loaded {
            Some(v) => a = v,
            None => return 0,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_stay_inside_the_program() {
        let p = program(40000);
        for (pc, i) in p.iter().enumerate() {
            if i.code == op::JEQ_K {
                assert!(pc + 1 + usize::from(i.jt.max(i.jf)) < p.len(), "at {pc}");
            }
        }
        assert_eq!(p.last().map(|i| (i.code, i.k)), Some((op::RET_K, 0)));
    }

    #[test]
    fn labels_point_where_the_comments_say() {
        let p = program(1);
        // 4 jumps to the IPv6 branch, 6 to the ICMP branch, 16 to the ICMPv6 branch.
        assert_eq!(4 + 1 + usize::from(p[4].jf), 14);
        assert_eq!(6 + 1 + usize::from(p[6].jf), 10);
        assert_eq!(16 + 1 + usize::from(p[16].jf), 19);
        assert_eq!((p[14].k, p[19].k), (6, 58));
    }

    #[test]
    fn empty_and_odd_packets_are_dropped() {
        let p = program(1);
        assert_eq!(run(&p, &[], 0), 0);
        assert_eq!(run(&p, &[0x45], 0), 0);
        assert_eq!(run(&p, &[0x20; 60], 0), 0);
    }
}
