//! The Telnet protocol (RFC 854) as a sans-IO state machine.
//!
//! [`TelnetDecoder`] is fed the bytes a server sent and splits them into the data to
//! show and the negotiation replies to send back. It never shows an IAC sequence:
//! commands, option negotiation and subnegotiation are consumed, `IAC IAC` becomes one
//! `0xff` data byte and `CR NUL` becomes `CR`.
//!
//! Option negotiation follows the Q method of RFC 1143 for a client that never asks for
//! anything: every option starts disabled on both sides, a request for an option we
//! support is agreed to once, a request for anything else is refused once, and a
//! request that would not change the state (a second `WILL`, a `WONT` for something
//! already off) gets no answer at all. That last rule is what prevents negotiation
//! loops. The only option we support is SUPPRESS-GO-AHEAD (RFC 858), in both
//! directions; ECHO is refused so that the terminal's own echo stays in charge.
//!
//! [`TelnetEncoder`] prepares what we send: `0xff` is doubled and a bare CR is sent as
//! `CR NUL`, as RFC 854 requires. [`NegotiationSniffer`] notices a server that opens
//! with negotiation when the user did not ask for Telnet.

/// Interpret As Command.
pub const IAC: u8 = 255;
/// Refuse to perform, or ask the peer to stop performing, an option.
pub const DONT: u8 = 254;
/// Ask the peer to perform an option.
pub const DO: u8 = 253;
/// Refuse to perform, or stop performing, an option.
pub const WONT: u8 = 252;
/// Offer to perform, or confirm performing, an option.
pub const WILL: u8 = 251;
/// Start of subnegotiation.
pub const SB: u8 = 250;
/// End of subnegotiation.
pub const SE: u8 = 240;
/// The SUPPRESS-GO-AHEAD option (RFC 858).
pub const OPT_SUPPRESS_GO_AHEAD: u8 = 3;

/// Where the decoder is within the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// The previous data byte was CR; a following NUL is dropped.
    Cr,
    Iac,
    /// `IAC WILL|WONT|DO|DONT` seen, the option byte comes next.
    Negotiate(u8),
    Subnegotiation,
    SubnegotiationIac,
}

/// Which options are enabled, per side (RFC 1143 "us" and "him").
#[derive(Debug, Clone)]
struct Options {
    us: [bool; 256],
    him: [bool; 256],
}

/// Decodes what a Telnet server sends; see the module documentation.
#[derive(Debug, Clone)]
pub struct TelnetDecoder {
    state: State,
    options: Options,
}

impl Default for TelnetDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl TelnetDecoder {
    /// A decoder at the start of a connection, with every option disabled.
    pub fn new() -> Self {
        Self {
            state: State::Data,
            options: Options {
                us: [false; 256],
                him: [false; 256],
            },
        }
    }

    /// Consumes `input`, appending the data bytes to `data` and the negotiation
    /// replies (to be sent to the server) to `reply`.
    pub fn receive(&mut self, input: &[u8], data: &mut Vec<u8>, reply: &mut Vec<u8>) {
        for &b in input {
            self.state = self.step(b, data, reply);
        }
    }

    /// Whether we agreed to perform `option`.
    pub fn local_enabled(&self, option: u8) -> bool {
        self.options.us[usize::from(option)]
    }

    /// Whether the server agreed to perform `option`.
    pub fn remote_enabled(&self, option: u8) -> bool {
        self.options.him[usize::from(option)]
    }

    fn step(&mut self, b: u8, data: &mut Vec<u8>, reply: &mut Vec<u8>) -> State {
        match self.state {
            State::Cr if b == 0 => State::Data,
            State::Data | State::Cr => match b {
                IAC => State::Iac,
                b'\r' => {
                    data.push(b);
                    State::Cr
                }
                _ => {
                    data.push(b);
                    State::Data
                }
            },
            State::Iac => match b {
                IAC => {
                    data.push(IAC);
                    State::Data
                }
                WILL | WONT | DO | DONT => State::Negotiate(b),
                SB => State::Subnegotiation,
                // NOP, data mark, break, go ahead and the other commands: nothing to show.
                _ => State::Data,
            },
            State::Negotiate(command) => {
                self.negotiate(command, b, reply);
                State::Data
            }
            State::Subnegotiation => {
                if b == IAC {
                    State::SubnegotiationIac
                } else {
                    State::Subnegotiation
                }
            }
            State::SubnegotiationIac => {
                if b == SE {
                    State::Data
                } else {
                    State::Subnegotiation
                }
            }
        }
    }

    /// RFC 1143 for the states NO and YES (we never ask, so WANTNO and WANTYES
    /// cannot occur).
    fn negotiate(&mut self, command: u8, option: u8, reply: &mut Vec<u8>) {
        let supported = option == OPT_SUPPRESS_GO_AHEAD;
        let index = usize::from(option);
        let (enabled, accept, refuse, wants_on) = match command {
            WILL => (&mut self.options.him[index], DO, DONT, true),
            WONT => (&mut self.options.him[index], DO, DONT, false),
            DO => (&mut self.options.us[index], WILL, WONT, true),
            _ => (&mut self.options.us[index], WILL, WONT, false),
        };
        match (*enabled, wants_on) {
            (false, true) if supported => {
                *enabled = true;
                reply.extend_from_slice(&[IAC, accept, option]);
            }
            (false, true) => reply.extend_from_slice(&[IAC, refuse, option]),
            (true, false) => {
                *enabled = false;
                reply.extend_from_slice(&[IAC, refuse, option]);
            }
            // Already in the requested state: answering would start a loop.
            (true, true) | (false, false) => {}
        }
    }
}

/// Encodes what we send to a Telnet server: `0xff` becomes `IAC IAC` and a CR that is
/// not followed by LF becomes `CR NUL`.
#[derive(Debug, Default, Clone)]
pub struct TelnetEncoder {
    /// The last byte of the previous input was CR; its partner is not known yet.
    pending_cr: bool,
}

impl TelnetEncoder {
    /// A new encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the encoding of `input` to `out`. A CR at the very end is held back
    /// until the next call or [`finish`](Self::finish).
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if std::mem::take(&mut self.pending_cr) {
                out.push(b'\r');
                if b != b'\n' {
                    out.push(0);
                }
            }
            match b {
                IAC => out.extend_from_slice(&[IAC, IAC]),
                b'\r' => self.pending_cr = true,
                _ => out.push(b),
            }
        }
    }

    /// Flushes a held-back CR at the end of the input.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.extend_from_slice(&[b'\r', 0]);
        }
    }
}

/// Notices a server that opens the connection with Telnet negotiation.
#[derive(Debug, Default, Clone)]
pub struct NegotiationSniffer {
    first: Vec<u8>,
    decided: bool,
}

impl NegotiationSniffer {
    /// A sniffer that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Looks at the next received bytes. Returns `true` exactly once, when the stream
    /// turns out to start with `IAC` followed by a negotiation command.
    pub fn observe(&mut self, input: &[u8]) -> bool {
        if self.decided {
            return false;
        }
        let need = 2 - self.first.len();
        self.first
            .extend_from_slice(&input[..need.min(input.len())]);
        match self.first.as_slice() {
            [IAC, second] => {
                self.decided = true;
                matches!(*second, WILL | WONT | DO | DONT | SB)
            }
            [IAC] => false,
            _ => {
                self.decided = !self.first.is_empty();
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(decoder: &mut TelnetDecoder, input: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let (mut data, mut reply) = (Vec::new(), Vec::new());
        decoder.receive(input, &mut data, &mut reply);
        (data, reply)
    }

    #[test]
    fn refuses_unsupported_options_once() {
        let mut d = TelnetDecoder::new();
        // DO TERMINAL-TYPE, WILL ECHO, DO NAWS: all refused.
        let (data, reply) = decode(&mut d, &[IAC, DO, 24, IAC, WILL, 1, IAC, DO, 31]);
        assert!(data.is_empty());
        assert_eq!(reply, [IAC, WONT, 24, IAC, DONT, 1, IAC, WONT, 31]);
    }

    #[test]
    fn agrees_to_suppress_go_ahead_once_without_loop() {
        let mut d = TelnetDecoder::new();
        let (_, reply) = decode(&mut d, &[IAC, WILL, 3, IAC, DO, 3]);
        assert_eq!(reply, [IAC, DO, 3, IAC, WILL, 3]);
        assert!(d.remote_enabled(3) && d.local_enabled(3));
        // Repeating the same request is an acknowledgement: no answer.
        let (_, reply) = decode(&mut d, &[IAC, WILL, 3, IAC, DO, 3]);
        assert!(reply.is_empty());
        // Turning it off is confirmed once, and a repeat is ignored.
        let (_, reply) = decode(&mut d, &[IAC, WONT, 3, IAC, WONT, 3]);
        assert_eq!(reply, [IAC, DONT, 3]);
        assert!(!d.remote_enabled(3));
    }

    #[test]
    fn negatives_for_disabled_options_get_no_answer() {
        let mut d = TelnetDecoder::new();
        let (_, reply) = decode(&mut d, &[IAC, WONT, 1, IAC, DONT, 24]);
        assert!(reply.is_empty());
    }

    #[test]
    fn ping_pong_of_refusals_terminates() {
        // A server that answers every refusal with the same request again gets one
        // refusal per request, never an unprompted message.
        let mut d = TelnetDecoder::new();
        for _ in 0..3 {
            let (_, reply) = decode(&mut d, &[IAC, DO, 24]);
            assert_eq!(reply, [IAC, WONT, 24]);
        }
    }

    #[test]
    fn hides_commands_and_subnegotiation() {
        let mut d = TelnetDecoder::new();
        let input = [
            b'a', IAC, 241, b'b', IAC, SB, 24, 1, IAC, IAC, 7, IAC, SE, b'c', IAC, IAC, b'd',
        ];
        let (data, reply) = decode(&mut d, &input);
        assert_eq!(data, [b'a', b'b', b'c', IAC, b'd']);
        assert!(reply.is_empty());
    }

    #[test]
    fn sequences_split_across_reads() {
        let mut d = TelnetDecoder::new();
        let (mut data, mut reply) = (Vec::new(), Vec::new());
        for &b in &[b'x', IAC, DO, 24, b'\r', 0, b'y'] {
            d.receive(&[b], &mut data, &mut reply);
        }
        assert_eq!(data, b"x\ry");
        assert_eq!(reply, [IAC, WONT, 24]);
    }

    #[test]
    fn login_prompt_fixture() {
        // What a typical telnetd opens with, then its prompt.
        let mut input = vec![IAC, DO, 24, IAC, DO, 32, IAC, DO, 35, IAC, DO, 39];
        input.extend_from_slice(&[IAC, WILL, 1, IAC, WILL, 3]);
        input.extend_from_slice(b"\r\nlab login: ");
        let mut d = TelnetDecoder::new();
        let (data, reply) = decode(&mut d, &input);
        assert_eq!(data, b"\r\nlab login: ");
        assert_eq!(
            reply,
            [
                IAC, WONT, 24, IAC, WONT, 32, IAC, WONT, 35, IAC, WONT, 39, IAC, DONT, 1, IAC, DO,
                3
            ]
        );
    }

    #[test]
    fn encoder_escapes_iac_and_bare_cr() {
        let mut e = TelnetEncoder::new();
        let mut out = Vec::new();
        e.encode(&[b'a', IAC, b'\r', b'\n', b'\r', b'b', b'\r'], &mut out);
        assert_eq!(out, [b'a', IAC, IAC, b'\r', b'\n', b'\r', 0, b'b']);
        e.encode(b"\n", &mut out);
        e.encode(b"\r", &mut out);
        e.finish(&mut out);
        assert!(out.ends_with(&[b'b', b'\r', b'\n', b'\r', 0]));
    }

    #[test]
    fn sniffer_reports_negotiation_once() {
        let mut s = NegotiationSniffer::new();
        assert!(!s.observe(&[IAC]));
        assert!(s.observe(&[DO, 24]));
        assert!(!s.observe(&[IAC, DO, 1]));
        let mut s = NegotiationSniffer::new();
        assert!(!s.observe(b"SSH-2.0"));
        assert!(!s.observe(&[IAC, WILL, 1]));
    }
}
