//! Every built-in payload is parsed back and checked against its protocol's layout;
//! every answer parser is fed real and hostile bytes.

use std::net::SocketAddr;

use proptest::prelude::*;

use super::ber::{self, tag, Reader};
use super::build::{Context, SYS_DESCR};
use super::dns::{rr, Message};
use super::*;

fn cx(id: u64) -> Context {
    Context {
        addr: "192.0.2.7:5060".parse::<SocketAddr>().unwrap(),
        id,
    }
}

fn table() -> UdpPayloads {
    UdpPayloads::builtin().unwrap()
}

fn built(name: &str, id: u64) -> Vec<u8> {
    table().get(name).unwrap().bytes(&cx(id))
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn dns_question(p: &[u8], name: &[u8], qtype: u16, qclass: u16) -> Message {
    let m = Message::parse(p).unwrap();
    assert!(!m.is_response());
    assert_eq!(m.questions.len(), 1);
    assert!(m.records.is_empty());
    let q = &m.questions[0];
    assert_eq!(
        (q.name.as_slice(), q.qtype, q.qclass),
        (name, qtype, qclass)
    );
    assert_eq!(
        p.len(),
        12 + name.len() + usize::from(!name.is_empty()) + 1 + 4,
        "no trailing bytes"
    );
    m
}

/// Walks an ISAKMP/IKE payload chain; returns the payload types and bodies in order.
fn ike_chain(mut first: u8, mut rest: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while first != 0 {
        let len = usize::from(be16(rest, 2));
        assert!(len >= 4 && len <= rest.len(), "payload length {len} fits");
        out.push((first, &rest[4..len]));
        first = rest[0];
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "nothing after the last payload");
    out
}

fn ike_header(p: &[u8], version: u8, exchange: u8) -> Vec<(u8, &[u8])> {
    assert_eq!(be32(p, 24) as usize, p.len(), "length field");
    assert_eq!(&p[8..16], &[0; 8], "responder SPI is zero");
    assert_ne!(&p[0..8], &[0; 8], "initiator SPI is set");
    assert_eq!((p[17], p[18]), (version, exchange));
    assert_eq!(be32(p, 20), 0, "message id 0");
    ike_chain(p[16], &p[28..])
}

#[expect(
    clippy::too_many_lines,
    reason = "one arm per payload reads better as one table"
)]
fn check(name: &str, p: &[u8]) {
    match name {
        "dns-root-ns" => {
            let m = dns_question(p, b"", rr::NS, rr::IN);
            assert_eq!(m.flags, 0x0100, "standard query, recursion desired");
        }
        "dns-version-bind" => {
            dns_question(p, b"version.bind", rr::TXT, rr::CH);
        }
        "mdns-services" => {
            dns_question(p, b"_services._dns-sd._udp.local", rr::PTR, rr::IN);
        }
        "netbios-ns-status" => {
            let m = Message::parse(p).unwrap();
            let q = &m.questions[0];
            assert_eq!((q.qtype, q.qclass, q.name.len()), (rr::NBSTAT, rr::IN, 32));
            let decoded: Vec<u8> = q
                .name
                .chunks(2)
                .map(|c| ((c[0] - b'A') << 4) | (c[1] - b'A'))
                .collect();
            assert_eq!(decoded[0], b'*');
            assert!(decoded[1..].iter().all(|b| *b == 0));
        }
        "ntp-client" => {
            assert_eq!(p.len(), 48);
            assert_eq!(
                (p[0] >> 6, (p[0] >> 3) & 7, p[0] & 7),
                (0, 4, 3),
                "LI 0, VN 4, mode 3"
            );
        }
        "snmp-v1-sysdescr" | "snmp-v2c-sysdescr" => {
            let mut outer = Reader::new(p);
            let mut msg = outer.enter(tag::SEQUENCE).unwrap();
            assert!(outer.is_empty());
            let version = msg.int(tag::INTEGER).unwrap();
            assert_eq!(version, i64::from(name == "snmp-v2c-sysdescr"));
            assert_eq!(msg.expect(tag::OCTET_STRING).unwrap(), b"public");
            let mut pdu = msg.enter(0xa0).unwrap();
            assert!(msg.is_empty());
            assert!(pdu.int(tag::INTEGER).unwrap() >= 0);
            assert_eq!(pdu.int(tag::INTEGER).unwrap(), 0);
            assert_eq!(pdu.int(tag::INTEGER).unwrap(), 0);
            let mut list = pdu.enter(tag::SEQUENCE).unwrap();
            let mut bind = list.enter(tag::SEQUENCE).unwrap();
            assert!(list.is_empty() && pdu.is_empty());
            assert_eq!(
                ber::decode_oid(bind.expect(tag::OID).unwrap()).unwrap(),
                SYS_DESCR
            );
            assert_eq!(bind.expect(tag::NULL).unwrap(), b"");
            assert!(bind.is_empty());
        }
        "ssdp-msearch" => {
            let text = std::str::from_utf8(p).unwrap();
            assert!(text.starts_with("M-SEARCH * HTTP/1.1\r\n"));
            assert!(text.ends_with("\r\n\r\n"));
            for h in [
                "HOST: 239.255.255.250:1900\r\n",
                "MAN: \"ssdp:discover\"\r\n",
                "MX: 1\r\n",
                "ST: ssdp:all\r\n",
            ] {
                assert!(text.contains(h), "{h}");
            }
        }
        "memcached-version" => {
            assert_eq!(&p[2..8], &[0, 0, 0, 1, 0, 0], "sequence 0 of 1, reserved 0");
            assert_eq!(&p[8..], b"version\r\n");
        }
        "ikev1-main-mode" => {
            let chain = ike_header(p, 0x10, 2);
            assert_eq!(chain.len(), 1);
            let (kind, sa) = chain[0];
            assert_eq!(kind, 1, "SA");
            assert_eq!(
                (be32(sa, 0), be32(sa, 4)),
                (1, 1),
                "IPsec DOI, identity only"
            );
            let proposals = ike_chain(2, &sa[8..]);
            let prop = proposals[0].1;
            assert_eq!(
                &prop[..4],
                &[1, 1, 0, 1],
                "proposal 1, ISAKMP, no SPI, 1 transform"
            );
            let transforms = ike_chain(3, &prop[4..]);
            let t = transforms[0].1;
            assert_eq!(&t[..2], &[1, 1], "transform 1, KEY_IKE");
            assert_eq!((t.len() - 4) % 4, 0, "basic (TV) attributes only");
            assert!(t[4..].chunks(4).all(|a| a[0] & 0x80 != 0));
        }
        "ikev2-sa-init" => {
            assert_eq!(p[19], 0x08, "initiator flag");
            let chain = ike_header(p, 0x20, 34);
            let kinds: Vec<u8> = chain.iter().map(|(k, _)| *k).collect();
            assert_eq!(kinds, [33, 34, 40], "SA, KE, Nonce");
            let props = ike_chain(2, chain[0].1);
            let prop = props[0].1;
            assert_eq!(&prop[..3], &[1, 1, 0]);
            let transforms = ike_chain(3, &prop[4..]);
            assert_eq!(transforms.len(), usize::from(prop[3]));
            let ke = chain[1].1;
            assert_eq!(
                (be16(ke, 0), ke.len() - 4),
                (31, 32),
                "Curve25519 key share"
            );
            assert!(
                (16..=256).contains(&chain[2].1.len()),
                "nonce size (RFC 7296 3.9)"
            );
        }
        "openvpn-hard-reset" => {
            assert_eq!(p.len(), 14);
            assert_eq!((p[0] >> 3, p[0] & 7), (7, 0), "HARD_RESET_CLIENT_V2, key 0");
            assert_eq!(p[9], 0, "no acks");
            assert_eq!(be32(p, 10), 0, "packet id 0");
        }
        "tftp-rrq" => {
            assert_eq!(be16(p, 0), 1, "RRQ");
            let fields: Vec<&[u8]> = p[2..].split(|b| *b == 0).collect();
            assert_eq!(fields.len(), 3, "filename NUL mode NUL");
            assert!(!fields[0].is_empty() && fields[2].is_empty());
            assert_eq!(fields[1], b"octet");
        }
        "sip-options" => {
            let text = std::str::from_utf8(p).unwrap();
            assert!(text.starts_with("OPTIONS sip:192.0.2.7:5060 SIP/2.0\r\n"));
            assert!(text.ends_with("\r\n\r\n"));
            for h in [
                "\r\nVia: SIP/2.0/UDP ",
                ";branch=z9hG4bK",
                "\r\nMax-Forwards: 70\r\n",
                "\r\nFrom: ",
                ";tag=",
                "\r\nTo: ",
                "\r\nCall-ID: ",
                "\r\nCSeq: 1 OPTIONS\r\n",
                "\r\nContent-Length: 0\r\n",
            ] {
                assert!(text.contains(h), "{h}");
            }
        }
        "rpc-portmap-null" | "rpc-portmap-dump" => {
            assert_eq!(p.len(), 40);
            let words: Vec<u32> = (0..10).map(|i| be32(p, i * 4)).collect();
            let procedure = u32::from(name == "rpc-portmap-dump") * 4;
            assert_eq!(&words[1..], &[0, 2, 100_000, 2, procedure, 0, 0, 0, 0]);
        }
        "cldap-rootdse" => {
            let mut msg = Reader::new(p).enter(tag::SEQUENCE).unwrap();
            assert!(msg.int(tag::INTEGER).unwrap() > 0);
            let mut search = msg.enter(0x63).unwrap();
            assert!(msg.is_empty());
            assert_eq!(search.expect(tag::OCTET_STRING).unwrap(), b"", "root DSE");
            assert_eq!(search.int(tag::ENUMERATED).unwrap(), 0, "baseObject");
            assert_eq!(search.int(tag::ENUMERATED).unwrap(), 0);
            assert_eq!(search.int(tag::INTEGER).unwrap(), 0);
            assert_eq!(search.int(tag::INTEGER).unwrap(), 0);
            assert_eq!(search.expect(tag::BOOLEAN).unwrap(), &[0]);
            assert_eq!(search.expect(0x87).unwrap(), b"objectClass");
            assert_eq!(search.expect(tag::SEQUENCE).unwrap(), b"");
            assert!(search.is_empty());
        }
        "quic-version-negotiation" => {
            assert!(p.len() >= 1200);
            assert_eq!(p[0] & 0xc0, 0xc0, "long header, fixed bit");
            assert_eq!(be32(p, 1) & 0x0f0f_0f0f, 0x0a0a_0a0a, "a reserved version");
            let dcid = usize::from(p[5]);
            assert!(dcid <= 20 && usize::from(p[6 + dcid]) <= 20);
        }
        "dtls-client-hello" => {
            assert_eq!((p[0], be16(p, 1)), (22, 0xfeff), "handshake record");
            assert_eq!(&p[3..11], &[0; 8], "epoch 0, sequence 0");
            assert_eq!(usize::from(be16(p, 11)), p.len() - 13);
            let hs = &p[13..];
            let len = be32(hs, 0) & 0x00ff_ffff;
            assert_eq!(hs[0], 1, "ClientHello");
            assert_eq!(&hs[6..9], &[0, 0, 0], "fragment offset 0");
            assert_eq!(be32(hs, 8) & 0x00ff_ffff, len, "one fragment");
            let body = &hs[12..];
            assert_eq!(body.len(), len as usize);
            assert_eq!(be16(body, 0), 0xfefd, "DTLS 1.2");
            assert_eq!((body[34], body[35]), (0, 0), "no session, no cookie");
            let suites = usize::from(be16(body, 36));
            assert!(suites > 0 && suites % 2 == 0);
            let at = 38 + suites;
            assert_eq!(&body[at..at + 2], &[1, 0], "null compression");
            assert_eq!(
                usize::from(be16(body, at + 2)),
                body.len() - at - 4,
                "extensions fill the rest"
            );
        }
        "coap-well-known-core" => {
            let tkl = usize::from(p[0] & 0x0f);
            assert_eq!((p[0] >> 6, (p[0] >> 4) & 3, p[1]), (1, 0, 1), "v1 CON GET");
            let (mut at, mut number, mut path) = (4 + tkl, 0u16, Vec::new());
            while at < p.len() {
                let (delta, len) = (u16::from(p[at] >> 4), usize::from(p[at] & 0x0f));
                assert!(delta < 13 && len < 13, "short option form");
                number += delta;
                assert_eq!(number, 11, "Uri-Path");
                path.push(&p[at + 1..at + 1 + len]);
                at += 1 + len;
            }
            assert_eq!(path, [&b".well-known"[..], b"core"]);
        }
        "mssql-browser" => assert_eq!(p, [3], "CLNT_UCAST_EX"),
        "rip-request" => {
            assert_eq!(p.len(), 24);
            assert_eq!(&p[..4], &[1, 2, 0, 0], "request, version 2");
            assert_eq!(be16(p, 4), 0, "AFI 0: the whole table");
            assert_eq!(be32(p, 20), 16, "metric infinity");
        }
        "kerberos-as-req" => {
            let mut app = Reader::new(p).enter(0x6a).unwrap();
            let mut req = app.enter(tag::SEQUENCE).unwrap();
            assert_eq!(
                req.enter(0xa1).unwrap().int(tag::INTEGER).unwrap(),
                5,
                "pvno"
            );
            assert_eq!(
                req.enter(0xa2).unwrap().int(tag::INTEGER).unwrap(),
                10,
                "AS-REQ"
            );
            let mut body = req.enter(0xa4).unwrap().enter(tag::SEQUENCE).unwrap();
            let flags = body.enter(0xa0).unwrap().expect(tag::BIT_STRING).unwrap();
            assert_eq!((flags.len(), flags[0]), (5, 0), "32 option bits");
            body.expect(0xa1).unwrap();
            assert_eq!(
                body.enter(0xa2)
                    .unwrap()
                    .expect(tag::GENERAL_STRING)
                    .unwrap(),
                b"PORTOLAN.INVALID"
            );
            body.expect(0xa3).unwrap();
            assert_eq!(
                body.enter(0xa5)
                    .unwrap()
                    .expect(tag::GENERALIZED_TIME)
                    .unwrap()
                    .len(),
                15
            );
            assert!(body.enter(0xa7).unwrap().int(tag::INTEGER).unwrap() >= 0);
            let mut etypes = body.enter(0xa8).unwrap().enter(tag::SEQUENCE).unwrap();
            assert_eq!(
                etypes.int(tag::INTEGER).unwrap(),
                18,
                "aes256-cts-hmac-sha1-96 first"
            );
            assert!(body.is_empty() && req.is_empty());
        }
        "nat-pmp-address" => assert_eq!(p, [0, 0], "version 0, opcode 0"),
        "ws-discovery-probe" => {
            let text = std::str::from_utf8(p).unwrap();
            assert!(text.starts_with("<?xml version=\"1.0\""));
            assert!(text.ends_with("</soap:Envelope>"));
            assert!(text.contains(
                "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
            ));
            let id = text
                .split("urn:uuid:")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap();
            assert_eq!(id.len(), 36);
            assert_eq!(id.matches('-').count(), 4);
            assert_eq!(text.matches('<').count(), text.matches('>').count());
        }
        "echo" => assert_eq!(p, b"portolan\r\n", "a line of text"),
        "empty" => assert!(p.is_empty()),
        other => panic!("payload {other} has no structure check: add one here"),
    }
}

#[test]
fn every_builtin_payload_is_well_formed() {
    let t = table();
    assert!(t.all().len() >= 25);
    for p in t.all() {
        for id in [0, 1, 0xdead_beef, u64::MAX] {
            check(&p.name, &p.bytes(&cx(id)));
        }
    }
}

#[test]
fn ids_vary_per_probe() {
    for name in [
        "dns-version-bind",
        "snmp-v2c-sysdescr",
        "memcached-version",
        "ikev2-sa-init",
        "sip-options",
        "ntp-client",
    ] {
        assert_ne!(built(name, 1), built(name, 2), "{name}");
        assert_eq!(built(name, 3), built(name, 3), "{name} is reproducible");
    }
}

#[test]
fn payloads_are_chosen_by_port() {
    let t = table();
    let names = |port| {
        t.for_port(port)
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(53), ["dns-root-ns", "dns-version-bind"]);
    assert_eq!(names(161), ["snmp-v1-sysdescr", "snmp-v2c-sysdescr"]);
    assert_eq!(names(40000), ["empty"]);
    let addr: SocketAddr = "127.0.0.1:11211".parse().unwrap();
    assert_eq!(&t.scan_datagram(addr, 9)[8..], b"version\r\n");
    // Echo (RFC 862) gets a line: an empty datagram may draw nothing back.
    assert_eq!(
        t.scan_datagram("127.0.0.1:7".parse().unwrap(), 9),
        b"portolan\r\n"
    );
    assert!(t
        .scan_datagram("127.0.0.1:40000".parse().unwrap(), 9)
        .is_empty());
}

fn load_err(text: &str) -> String {
    UdpPayloads::from_toml("mine.toml", text)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_files_name_the_file_the_payload_and_the_fault() {
    assert_eq!(
        load_err("[[payload]]\nname = \"x\"\nports = [1]\nbuilder = \"nope\"\n")
            .split(" (known")
            .next()
            .unwrap(),
        "mine.toml: UDP payload x: unknown builder \"nope\""
    );
    assert_eq!(
        load_err("[[payload]]\nname = \"x\"\nports = [1]\nhex = \"0\"\n"),
        "mine.toml: UDP payload x: `hex` has an odd number of digits"
    );
    assert!(
        load_err("[[payload]]\nname = \"x\"\nports = [1]\nhex = \"zz\"\n")
            .contains("non-hex pair \"zz\"")
    );
    assert!(
        load_err("[[payload]]\nname = \"x\"\nports = [1]\nhex = \"00\"\ntext = 'a'\n")
            .contains("exactly one of")
    );
    assert!(load_err("[[payload]]\nname = \"x\"\nports = [1]\n").contains("exactly one of"));
    assert!(load_err("[[payload]]\nname = \"x\"\nports = [0]\nhex = \"\"\n").contains("port 0"));
    assert!(load_err("[[payload]]\nname = \"x\"\nhex = \"\"\n").contains("needs `ports`"));
    assert!(load_err("[[payload]]\nname = \"x\"\nports = [1]\nhex = \"\"\n[[payload]]\nname = \"x\"\nports = [2]\nhex = \"\"\n").contains("defined twice"));
    assert!(load_err("[[payload]]\nname = \"a\"\ndefault = true\nhex = \"\"\n[[payload]]\nname = \"b\"\ndefault = true\nhex = \"\"\n").contains("second `default"));
    assert!(
        load_err("[[payload]]\nname = \"x\"\nports = [1]\ntext = '\\q'\n")
            .starts_with("mine.toml: UDP payload x: ")
    );
    assert!(
        load_err("[[payload]]\nname = \"x\"\nport = [1]\n").starts_with("mine.toml: "),
        "unknown field"
    );
    assert!(
        load_err("[[payload]]\nname = \"x\"\nports = [70000]\nhex = \"\"\n")
            .starts_with("mine.toml: ")
    );
}

// ---- answers ----

fn tcp_fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    // DNS over TCP is the UDP message behind a two-byte length (RFC 1035 4.2.2).
    assert_eq!(usize::from(be16(&bytes, 0)), bytes.len() - 2);
    bytes[2..].to_vec()
}

fn named(payload: &str, answer: &[u8]) -> portolan_engine::Service {
    let decoded = decode(payload, answer).expect("decodes");
    answer::service(&answer::fingerprints().unwrap(), &decoded, answer)
}

#[test]
fn version_bind_answers_from_real_servers_are_named() {
    let bind = named(
        "dns-version-bind",
        &tcp_fixture("bind-9.18.28-dns-version.bin"),
    );
    assert_eq!(bind.name, "domain");
    assert_eq!(bind.product.as_deref(), Some("ISC BIND"));
    assert_eq!(bind.version.as_deref(), Some("9.18.28"));
    assert_eq!(bind.info.as_deref(), Some("-1~deb12u2-Debian"));
    let dnsmasq = named(
        "dns-version-bind",
        &tcp_fixture("dnsmasq-2.89-dns-version.bin"),
    );
    assert_eq!(
        (dnsmasq.product.as_deref(), dnsmasq.version.as_deref()),
        (Some("dnsmasq"), Some("2.89"))
    );
}

#[test]
fn a_dns_answer_without_version_is_still_domain() {
    let mut r = dns::query(5, 0x8180, "", rr::NS, rr::IN);
    r[7] = 1;
    r.extend_from_slice(&[0, 0, 2, 0, 1, 0, 0, 1, 0x2c, 0, 2, 1, b'a', 0]);
    let s = named("dns-root-ns", &r);
    assert_eq!(
        (s.name.as_str(), s.product, s.version),
        ("domain", None, None)
    );
    assert_eq!(
        decode("dns-root-ns", &built("dns-root-ns", 1)),
        None,
        "a query is not an answer"
    );
}

#[test]
fn ntp_answers_give_version_stratum_and_reference() {
    let mut r = vec![0u8; 48];
    r[0] = (4 << 3) | 4;
    r[1] = 2;
    r[12..16].copy_from_slice(&[198, 18, 0, 123]);
    let s = named("ntp-client", &r);
    assert_eq!(s.name, "ntp");
    assert_eq!(s.version.as_deref(), Some("v4"));
    assert_eq!(s.info.as_deref(), Some("stratum 2, refid 198.18.0.123"));
    r[1] = 1;
    r[12..16].copy_from_slice(b"GPS\0");
    assert_eq!(
        named("ntp-client", &r).info.as_deref(),
        Some("stratum 1, refid GPS")
    );
    r[0] = (4 << 3) | 3;
    assert_eq!(
        decode("ntp-client", &r),
        None,
        "a client request is not an answer"
    );
    assert_eq!(decode("ntp-client", &r[..47]), None);
}

fn snmp_response(version: i64, descr: &[u8]) -> Vec<u8> {
    let bind = ber::constructed(tag::SEQUENCE, &[ber::oid(&SYS_DESCR), ber::octets(descr)]);
    let pdu = ber::constructed(
        0xa2,
        &[
            ber::integer(77),
            ber::integer(0),
            ber::integer(0),
            ber::constructed(tag::SEQUENCE, &[bind]),
        ],
    );
    ber::constructed(
        tag::SEQUENCE,
        &[ber::integer(version), ber::octets(b"public"), pdu],
    )
}

#[test]
fn snmp_get_responses_give_sysdescr() {
    let s = named(
        "snmp-v1-sysdescr",
        &snmp_response(0, b"Linux lab 6.1.0-lab #1 SMP Debian x86_64"),
    );
    assert_eq!(s.name, "snmp");
    assert_eq!(s.version.as_deref(), Some("SNMPv1"));
    assert_eq!(
        s.info.as_deref(),
        Some("Linux lab 6.1.0-lab #1 SMP Debian x86_64")
    );
    let cisco = named(
        "snmp-v2c-sysdescr",
        &snmp_response(1, b"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, RELEASE SOFTWARE (fc3)"),
    );
    assert_eq!(
        (cisco.product.as_deref(), cisco.version.as_deref()),
        (Some("Cisco IOS"), Some("15.0(2)SE11"))
    );
    assert_eq!(
        decode("snmp-v1-sysdescr", &built("snmp-v1-sysdescr", 4)),
        None,
        "a GetRequest is not an answer"
    );
}

#[test]
fn ssdp_and_memcached_answers_are_named() {
    let s = named(
        "ssdp-msearch",
        b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.3\r\nST: upnp:rootdevice\r\n\r\n",
    );
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("upnp", Some("MiniUPnPd"), Some("2.3.3"))
    );
    assert_eq!(s.info.as_deref(), Some("Debian/12"));
    let other = named(
        "ssdp-msearch",
        b"HTTP/1.1 200 OK\r\nServer: Linux/4.9 UPnP/1.0 Portal/1.2\r\n\r\n",
    );
    assert_eq!(
        (other.product.as_deref(), other.version.as_deref()),
        (Some("Portal"), Some("1.2"))
    );
    let m = named(
        "memcached-version",
        b"\x12\x34\x00\x00\x00\x01\x00\x00VERSION 1.6.18\r\n",
    );
    assert_eq!(
        (m.name.as_str(), m.product.as_deref(), m.version.as_deref()),
        ("memcached", Some("memcached"), Some("1.6.18"))
    );
    assert_eq!(
        decode(
            "memcached-version",
            b"\x12\x34\x00\x00\x00\x01\x00\x00ERROR\r\n"
        ),
        None
    );
}

#[test]
fn hostile_fields_are_made_printable() {
    let s = named(
        "memcached-version",
        b"\0\0\0\0\0\x01\0\0VERSION \x1b[31m1.6\x07\r\n",
    );
    // The one escaping rule of portolan-text: controls are escaped, never dropped.
    assert_eq!(s.version.as_deref(), Some("\\x1b[31m1.6\\x07"));
}

proptest! {
    #[test]
    fn answer_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let db = answer::fingerprints().unwrap();
        for p in table().all() {
            if let Some(d) = decode(&p.name, &bytes) {
                let _ = answer::service(&db, &d, &bytes);
            }
        }
    }

    #[test]
    fn truncated_snmp_answers_are_rejected_not_misread(cut in 0usize..60) {
        let full = snmp_response(1, b"Linux lab");
        let cut = cut.min(full.len() - 1);
        prop_assert_eq!(decode("snmp-v2c-sysdescr", &full[..cut]), None);
    }
}
