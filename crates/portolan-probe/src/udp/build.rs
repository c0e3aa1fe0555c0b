//! Payloads whose bytes must vary per probe (a transaction id, a cookie, a nonce) or
//! depend on the target, built from the protocols' own documents.
//!
//! Each builder is a plain function of a [`Context`]; the TOML file names it with
//! `builder = "..."`. Identifiers come from [`Context::id`], which the caller varies
//! per probe (no randomness inside, so tests are reproducible), and every builder
//! fills only fields its protocol lets the client choose.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::ber::{self, tag};
use super::dns::{self, rr};

/// What a builder may depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// Where the datagram goes (SIP and WS-Discovery name it in the message).
    pub addr: SocketAddr,
    /// A per-probe value for transaction ids, cookies and nonces.
    pub id: u64,
}

impl Context {
    fn id16(&self) -> u16 {
        (self.id ^ (self.id >> 16) ^ (self.id >> 32) ^ (self.id >> 48)) as u16
    }

    fn id32(&self) -> u32 {
        (self.id ^ (self.id >> 32)) as u32
    }

    /// `n` bytes derived from the id (splitmix64), for cookies and nonces.
    fn bytes(&self, n: usize) -> Vec<u8> {
        let mut state = self.id;
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            out.extend_from_slice(&(z ^ (z >> 31)).to_be_bytes());
        }
        out.truncate(n);
        out
    }
}

/// A payload builder.
pub type Builder = fn(&Context) -> Vec<u8>;

/// Every builder by the name the TOML file uses.
pub const BUILDERS: &[(&str, Builder)] = &[
    ("dns-root-ns", dns_root_ns),
    ("dns-version-bind", dns_version_bind),
    ("mdns-services", mdns_services),
    ("netbios-ns-status", netbios_status),
    ("ntp-client", ntp_client),
    ("snmp-v1-sysdescr", snmp_v1),
    ("snmp-v2c-sysdescr", snmp_v2c),
    ("memcached-version", memcached_version),
    ("ikev1-main-mode", ikev1),
    ("ikev2-sa-init", ikev2),
    ("openvpn-hard-reset", openvpn_reset),
    ("sip-options", sip_options),
    ("rpc-portmap-null", rpc_null),
    ("rpc-portmap-dump", rpc_dump),
    ("cldap-rootdse", cldap_rootdse),
    ("quic-version-negotiation", quic_vn),
    ("dtls-client-hello", dtls_client_hello),
    ("coap-well-known-core", coap_core),
    ("kerberos-as-req", kerberos_as_req),
    ("ws-discovery-probe", ws_discovery),
];

/// The builder with this name.
pub fn builder(name: &str) -> Option<Builder> {
    BUILDERS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// RFC 1035: a recursive query for the root's name servers.
fn dns_root_ns(cx: &Context) -> Vec<u8> {
    dns::query(cx.id16(), 0x0100, "", rr::NS, rr::IN)
}

/// The CHAOS-class TXT query `version.bind` that most servers answer with their version.
fn dns_version_bind(cx: &Context) -> Vec<u8> {
    dns::query(cx.id16(), 0x0000, "version.bind", rr::TXT, rr::CH)
}

/// RFC 6763 §9 service enumeration, sent unicast (RFC 6762 §6.7 legacy unicast).
fn mdns_services(cx: &Context) -> Vec<u8> {
    dns::query(
        cx.id16(),
        0,
        "_services._dns-sd._udp.local",
        rr::PTR,
        rr::IN,
    )
}

/// RFC 1002 §4.2.17: NODE STATUS REQUEST for the wildcard name `*`.
fn netbios_status(cx: &Context) -> Vec<u8> {
    let mut name = [b'A'; 32];
    // "*" padded with NULs, each nibble + 'A' (first-level encoding, RFC 1001 §14.1).
    name[0] = b'A' + (b'*' >> 4);
    name[1] = b'A' + (b'*' & 0x0f);
    let mut out = Vec::with_capacity(50);
    out.extend_from_slice(&cx.id16().to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 32]);
    out.extend_from_slice(&name);
    out.push(0);
    out.extend_from_slice(&rr::NBSTAT.to_be_bytes());
    out.extend_from_slice(&rr::IN.to_be_bytes());
    out
}

/// RFC 5905: a version 4 client (mode 3) packet; the transmit timestamp carries the id
/// so an answer's origin timestamp can be matched to it.
fn ntp_client(cx: &Context) -> Vec<u8> {
    let mut out = vec![0u8; 48];
    out[0] = (4 << 3) | 3;
    out[40..48].copy_from_slice(&cx.id.to_be_bytes());
    out
}

/// sysDescr.0 (RFC 3418).
pub const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];

/// RFC 1157 / RFC 3416: `GetRequest` for `sysDescr.0` with community `public`.
fn snmp_get(version: i64, request_id: i64) -> Vec<u8> {
    let varbind = ber::constructed(tag::SEQUENCE, &[ber::oid(&SYS_DESCR), ber::null()]);
    let pdu = ber::constructed(
        0xa0,
        &[
            ber::integer(request_id),
            ber::integer(0),
            ber::integer(0),
            ber::constructed(tag::SEQUENCE, &[varbind]),
        ],
    );
    ber::constructed(
        tag::SEQUENCE,
        &[ber::integer(version), ber::octets(b"public"), pdu],
    )
}

fn snmp_v1(cx: &Context) -> Vec<u8> {
    snmp_get(0, i64::from(cx.id32() & 0x7fff_ffff))
}

fn snmp_v2c(cx: &Context) -> Vec<u8> {
    snmp_get(1, i64::from(cx.id32() & 0x7fff_ffff))
}

/// memcached's UDP protocol: an 8-byte frame header (request id, sequence 0, one
/// datagram, reserved), then the text command.
fn memcached_version(cx: &Context) -> Vec<u8> {
    let mut out = Vec::with_capacity(17);
    out.extend_from_slice(&cx.id16().to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
    out.extend_from_slice(b"version\r\n");
    out
}

/// A generic payload header (RFC 2408 §3.2 / RFC 7296 §3.2) around `body`.
fn ike_payload(next: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![next, 0];
    out.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The ISAKMP/IKE header (RFC 2408 §3.1, RFC 7296 §3.1) followed by `payloads`.
fn ike_message(
    spi: &[u8],
    next: u8,
    version: u8,
    exchange: u8,
    flags: u8,
    payloads: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(28 + payloads.len());
    out.extend_from_slice(spi);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&[next, version, exchange, flags, 0, 0, 0, 0]);
    out.extend_from_slice(&((28 + payloads.len()) as u32).to_be_bytes());
    out.extend_from_slice(payloads);
    out
}

/// `IKEv1` Main Mode, first message (RFC 2409): one proposal, one transform offering
/// AES-128-CBC, SHA-1, pre-shared key, MODP-1024, eight hours.
fn ikev1(cx: &Context) -> Vec<u8> {
    let attrs: &[(u16, u16)] = &[
        (1, 7),
        (14, 128),
        (2, 2),
        (3, 1),
        (4, 2),
        (11, 1),
        (12, 28800),
    ];
    let mut transform = vec![1, 1, 0, 0]; // transform #1, KEY_IKE
    for (kind, value) in attrs {
        transform.extend_from_slice(&(0x8000 | kind).to_be_bytes());
        transform.extend_from_slice(&value.to_be_bytes());
    }
    // Proposal #1, PROTO_ISAKMP, no SPI, one transform.
    let mut proposal = vec![1, 1, 0, 1];
    proposal.extend(ike_payload(0, &transform));
    // DOI 1 (IPsec), situation SIT_IDENTITY_ONLY.
    let mut sa = vec![0, 0, 0, 1, 0, 0, 0, 1];
    sa.extend(ike_payload(0, &proposal));
    ike_message(&cx.bytes(8), 1, 0x10, 2, 0, &ike_payload(0, &sa))
}

/// `IKEv2` `IKE_SA_INIT` (RFC 7296 §1.2): SA (AES-CBC-256, HMAC-SHA2-256, Curve25519),
/// KE and Nonce.
fn ikev2(cx: &Context) -> Vec<u8> {
    // (type, id, attributes)
    let transforms: &[(u8, u16, &[u8])] = &[
        (1, 12, &[0x80, 0x0e, 0x01, 0x00]), // ENCR_AES_CBC, key length 256
        (2, 5, &[]),                        // PRF_HMAC_SHA2_256
        (3, 12, &[]),                       // AUTH_HMAC_SHA2_256_128
        (4, 31, &[]),                       // Curve25519
    ];
    let mut body = vec![1, 1, 0, transforms.len() as u8]; // proposal 1, IKE, no SPI
    for (i, (kind, id, attrs)) in transforms.iter().enumerate() {
        let mut t = vec![*kind, 0];
        t.extend_from_slice(&id.to_be_bytes());
        t.extend_from_slice(attrs);
        let last = i + 1 == transforms.len();
        body.extend(ike_payload(if last { 0 } else { 3 }, &t));
    }
    let sa = ike_payload(34, &ike_payload(0, &body)); // next: KE
    let mut ke = vec![0, 31, 0, 0];
    ke.extend(cx.bytes(32));
    let ke = ike_payload(40, &ke); // next: Nonce
    let nonce = ike_payload(0, &cx.bytes(40)[8..]);
    ike_message(&cx.bytes(8), 33, 0x20, 34, 0x08, &[sa, ke, nonce].concat())
}

/// `OpenVPN` `P_CONTROL_HARD_RESET_CLIENT_V2` (opcode 7, key id 0) without tls-auth:
/// session id, an empty ack array, message packet id 0.
fn openvpn_reset(cx: &Context) -> Vec<u8> {
    let mut out = vec![7 << 3];
    out.extend(cx.bytes(8));
    out.extend_from_slice(&[0, 0, 0, 0, 0]);
    out
}

/// RFC 3261 §11: OPTIONS with the headers a request must carry.
fn sip_options(cx: &Context) -> Vec<u8> {
    let host = match cx.addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let port = cx.addr.port();
    let tag = cx.id32();
    let branch = cx.id;
    format!(
        "OPTIONS sip:{host}:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 0.0.0.0:5060;branch=z9hG4bK{branch:016x};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:portolan@portolan.invalid>;tag={tag:08x}\r\n\
         To: <sip:{host}:{port}>\r\n\
         Call-ID: {branch:016x}@portolan.invalid\r\n\
         CSeq: 1 OPTIONS\r\n\
         Contact: <sip:portolan@0.0.0.0:5060>\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// RFC 5531 call to the portmapper (program 100000, version 2, RFC 1833) with `AUTH_NONE`.
fn rpc_call(xid: u32, procedure: u32) -> Vec<u8> {
    [xid, 0, 2, 100_000, 2, procedure, 0, 0, 0, 0]
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .collect()
}

fn rpc_null(cx: &Context) -> Vec<u8> {
    rpc_call(cx.id32(), 0)
}

fn rpc_dump(cx: &Context) -> Vec<u8> {
    rpc_call(cx.id32(), 4)
}

/// RFC 4511 `SearchRequest` for the root DSE over UDP (CLDAP, RFC 1798 framing:
/// no extra fields, one `LDAPMessage` per datagram).
fn cldap_rootdse(cx: &Context) -> Vec<u8> {
    let search = ber::constructed(
        0x63,
        &[
            ber::octets(b""),
            ber::integer_tagged(tag::ENUMERATED, 0), // baseObject
            ber::integer_tagged(tag::ENUMERATED, 0), // neverDerefAliases
            ber::integer(0),
            ber::integer(0),
            ber::tlv(tag::BOOLEAN, &[0]),
            ber::tlv(0x87, b"objectClass"), // present filter
            ber::constructed(tag::SEQUENCE, &[]),
        ],
    );
    ber::constructed(
        tag::SEQUENCE,
        &[ber::integer(i64::from(cx.id16() | 1)), search],
    )
}

/// RFC 9000 §6 / §15: a long-header packet with a reserved version (`0x?a?a?a?a`)
/// that a server must answer with Version Negotiation; padded to 1200 bytes (§14.1).
fn quic_vn(cx: &Context) -> Vec<u8> {
    let b = cx.bytes(17);
    let mut out = Vec::with_capacity(1200);
    out.push(0xc0 | (b[0] & 0x3f));
    let version = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) & 0xf0f0_f0f0 | 0x0a0a_0a0a;
    out.extend_from_slice(&version.to_be_bytes());
    out.push(8);
    out.extend_from_slice(&b[5..13]);
    out.push(4);
    out.extend_from_slice(&b[13..17]);
    out.resize(1200, 0);
    out
}

/// RFC 6347: a DTLS 1.2 `ClientHello` with no cookie, in one record of epoch 0.
fn dtls_client_hello(cx: &Context) -> Vec<u8> {
    let suites: &[u16] = &[0xc02b, 0xc02f, 0xc0ae, 0xc0a8, 0x009c, 0x002f];
    let mut body = vec![0xfe, 0xfd];
    body.extend(cx.bytes(32));
    body.extend_from_slice(&[0, 0]); // session id, cookie
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // null compression
                                     // supported_groups (x25519, secp256r1), ec_point_formats (uncompressed),
                                     // signature_algorithms (ecdsa_secp256r1_sha256, rsa_pkcs1_sha256).
    let ext: &[u8] = &[
        0, 10, 0, 6, 0, 4, 0, 29, 0, 23, //
        0, 11, 0, 2, 1, 0, //
        0, 13, 0, 6, 0, 4, 4, 3, 4, 1,
    ];
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(ext);
    let len = (body.len() as u32).to_be_bytes();
    let mut hs = vec![
        1, len[1], len[2], len[3], 0, 0, 0, 0, 0, len[1], len[2], len[3],
    ];
    hs.extend(body);
    let mut out = vec![22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    out.extend(hs);
    out
}

/// RFC 7252 / RFC 6690: a confirmable GET for `/.well-known/core`.
fn coap_core(cx: &Context) -> Vec<u8> {
    let token = cx.bytes(4);
    let mut out = vec![0x40 | 4, 0x01];
    out.extend_from_slice(&cx.id16().to_be_bytes());
    out.extend(token);
    out.push(0xbb); // Uri-Path (11), 11 bytes
    out.extend_from_slice(b".well-known");
    out.push(0x04); // Uri-Path again, 4 bytes
    out.extend_from_slice(b"core");
    out
}

/// RFC 4120 §5.4.1: an AS-REQ for `krbtgt/PORTOLAN.INVALID`; any KDC answers it,
/// usually with a KRB-ERROR (unknown realm or principal).
fn kerberos_as_req(cx: &Context) -> Vec<u8> {
    let ctx = |n: u8, v: Vec<u8>| ber::tlv(0xa0 | n, &v);
    let gstr = |s: &[u8]| ber::tlv(tag::GENERAL_STRING, s);
    let principal = |kind: i64, parts: &[&[u8]]| {
        ber::constructed(
            tag::SEQUENCE,
            &[
                ctx(0, ber::integer(kind)),
                ctx(
                    1,
                    ber::constructed(
                        tag::SEQUENCE,
                        &parts.iter().map(|p| gstr(p)).collect::<Vec<_>>(),
                    ),
                ),
            ],
        )
    };
    let realm: &[u8] = b"PORTOLAN.INVALID";
    let body = ber::constructed(
        tag::SEQUENCE,
        &[
            ctx(0, ber::tlv(tag::BIT_STRING, &[0, 0x40, 0x81, 0, 0x10])),
            ctx(1, principal(1, &[b"portolan"])),
            ctx(2, gstr(realm)),
            ctx(3, principal(2, &[b"krbtgt", realm])),
            ctx(5, ber::tlv(tag::GENERALIZED_TIME, b"20370913024805Z")),
            ctx(7, ber::integer(i64::from(cx.id32() & 0x7fff_ffff))),
            ctx(
                8,
                ber::constructed(
                    tag::SEQUENCE,
                    &[ber::integer(18), ber::integer(17), ber::integer(23)],
                ),
            ),
        ],
    );
    let req = ber::constructed(
        tag::SEQUENCE,
        &[
            ctx(1, ber::integer(5)),
            ctx(2, ber::integer(10)),
            ctx(4, body),
        ],
    );
    ber::tlv(0x6a, &req)
}

/// WS-Discovery 1.1 Probe (SOAP-over-UDP) with a message id derived from the context.
fn ws_discovery(cx: &Context) -> Vec<u8> {
    let b = cx.bytes(16);
    let hex: String = b.iter().fold(String::new(), |mut acc, x| {
        let _ = write!(acc, "{x:02x}");
        acc
    });
    let uuid = format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" \
xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" \
xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">\
<soap:Header>\
<wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>\
<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>\
<wsa:MessageID>urn:uuid:{uuid}</wsa:MessageID>\
</soap:Header>\
<soap:Body><wsd:Probe/></soap:Body>\
</soap:Envelope>"
    )
    .into_bytes()
}
