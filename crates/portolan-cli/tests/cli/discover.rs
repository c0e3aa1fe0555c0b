//! `scan -sn` and `scan --discover` in namespaces the test makes: a scanner and
//! three hosts behind veth pairs, one that answers only ICMP (its TCP dropped),
//! one that drops everything, one that answers only TCP (with resets: nothing
//! listens, and its ICMP is dropped); an address of a link where nobody is; and a
//! network with no route.
//!
//! Root, `ip` and `iptables` are needed; without them the tests skip (a failure
//! when `CI` is set).

use std::collections::BTreeMap;
use std::time::Duration;

use assert_cmd::Command;

use crate::util::{ndjson, skip_or_fail, Namespace};

const ICMP_ONLY: &str = "10.77.1.2";
const SILENT: &str = "10.77.2.2";
const RESET_ONLY: &str = "10.77.3.2";
/// No route from the scanner.
const NO_ROUTE: &str = "10.99.0.1";
/// The ICMP-only host's IPv6 address (its link has no ip6tables rule).
const ICMP_ONLY_V6: &str = "fd77:1::2";
/// On the silent host's network, but no host has it: no ARP answer either.
const ABSENT: &str = "10.77.2.9";

/// The scanner's namespace and the three hosts'; dropped together.
struct Lab {
    scanner: Namespace,
    _hosts: Vec<Namespace>,
}

impl Lab {
    /// `tag` keeps the namespaces of tests running at once apart.
    fn create(tag: &str) -> Option<Lab> {
        let scanner = Namespace::create(&format!("disc{tag}-s"))?;
        let mut hosts = Vec::new();
        for (i, label, rule) in [
            (1, "a", vec!["-p", "tcp", "-j", "DROP"]),
            (2, "d", vec!["-j", "DROP"]),
            (3, "r", vec!["-p", "icmp", "-j", "DROP"]),
        ] {
            let host = Namespace::create(&format!("disc{tag}-{label}"))?;
            let (near, far) = (format!("v{i}s"), format!("v{i}h"));
            let steps: Vec<Vec<String>> = vec![
                vec![
                    "ip",
                    "-n",
                    scanner.name(),
                    "link",
                    "add",
                    &near,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    &far,
                    "netns",
                    host.name(),
                ]
                .into_iter()
                .map(String::from)
                .collect(),
                words(&format!(
                    "ip -n {} addr add 10.77.{i}.1/24 dev {near}",
                    scanner.name()
                )),
                words(&format!("ip -n {} link set {near} up", scanner.name())),
                words(&format!(
                    "ip -n {} addr add 10.77.{i}.2/24 dev {far}",
                    host.name()
                )),
                words(&format!("ip -n {} link set {far} up", host.name())),
                words(&format!(
                    "ip -n {} -6 addr add fd77:{i}::1/64 dev {near} nodad",
                    scanner.name()
                )),
                words(&format!(
                    "ip -n {} -6 addr add fd77:{i}::2/64 dev {far} nodad",
                    host.name()
                )),
            ];
            for step in steps {
                let args: Vec<&str> = step.iter().map(String::as_str).collect();
                if !run(&args) {
                    skip_or_fail(&format!("could not run {step:?}"));
                    return None;
                }
            }
            let mut filter = vec!["iptables", "-A", "INPUT"];
            filter.extend(rule);
            if !host.exec(&filter) {
                skip_or_fail("iptables failed in the namespace");
                return None;
            }
            hosts.push(host);
        }
        Some(Lab {
            scanner,
            _hosts: hosts,
        })
    }

    /// Runs `portolan scan ARGS -oD -` in the scanner's namespace: its NDJSON
    /// host lines (address → (state, reason)), port lines, and stderr.
    fn scan(&self, args: &[&str]) -> (BTreeMap<String, (String, String)>, Vec<String>, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", self.scanner.name()])
            .arg(assert_cmd::cargo::cargo_bin("portolan"))
            .args(["scan", "-oD", "-", "--no-progress", "--no-history", "-T4"])
            .args(args)
            .timeout(Duration::from_mins(1))
            .output()
            .expect("portolan runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
        let mut hosts = BTreeMap::new();
        let mut ports = Vec::new();
        for v in ndjson(&out.stdout) {
            let addr = v["addr"].as_str().unwrap_or_default().to_owned();
            match v.get("host_state") {
                Some(state) => {
                    let state = state.as_str().unwrap_or_default().to_owned();
                    let reason = v["reason"].as_str().unwrap_or_default().to_owned();
                    assert!(hosts.insert(addr, (state, reason)).is_none(), "twice");
                }
                None => ports.push(format!("{addr}:{}:{}", v["port"], v["state"])),
            }
        }
        (hosts, ports, stderr)
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn run(args: &[&str]) -> bool {
    std::process::Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

fn state(hosts: &BTreeMap<String, (String, String)>, addr: &str) -> (String, String) {
    hosts
        .get(addr)
        .cloned()
        .unwrap_or_else(|| panic!("{addr} not reported: {hosts:?}"))
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

const TARGETS: [&str; 4] = [ICMP_ONLY, SILENT, RESET_ONLY, NO_ROUTE];

#[test]
fn privileged_sn_finds_every_host_on_the_link_even_a_silent_one_by_arp() {
    let Some(lab) = Lab::create("1") else { return };
    let mut args = vec!["-sn", ABSENT, ICMP_ONLY_V6];
    args.extend(TARGETS);
    let (hosts, ports, _) = lab.scan(&args);
    let v6 = state(&hosts, ICMP_ONLY_V6);
    assert_eq!(v6.0, "up");
    assert!(
        ["nd-response", "echo-reply", "reset"].contains(&v6.1.as_str()),
        "{v6:?}"
    );
    let icmp = state(&hosts, ICMP_ONLY);
    assert_eq!(icmp.0, "up");
    assert!(
        ["echo-reply", "timestamp-reply", "arp-response"].contains(&icmp.1.as_str()),
        "{icmp:?}"
    );
    let reset = state(&hosts, RESET_ONLY);
    assert_eq!(reset.0, "up");
    assert!(
        ["conn-refused", "reset", "arp-response"].contains(&reset.1.as_str()),
        "{reset:?}"
    );
    // It drops every IP packet, but answers ARP: up.
    assert_eq!(state(&hosts, SILENT), pair("up", "arp-response"));
    assert_eq!(state(&hosts, ABSENT), pair("down", "no-response"));
    assert_eq!(state(&hosts, NO_ROUTE), pair("down", "net-unreach"));
    assert!(ports.is_empty(), "-sn scans no port: {ports:?}");
}

#[test]
fn unprivileged_sn_pings_through_ping_sockets_when_the_range_allows() {
    let Some(lab) = Lab::create("2") else { return };
    if !lab
        .scanner
        .exec(&["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"])
    {
        return skip_or_fail("cannot set net.ipv4.ping_group_range in the namespace");
    }
    let mut args = vec!["-sn", "--unprivileged"];
    args.extend(TARGETS);
    let (hosts, _, stderr) = lab.scan(&args);
    assert!(!stderr.contains("no ICMP echo"), "{stderr}");
    assert_eq!(state(&hosts, ICMP_ONLY), pair("up", "echo-reply"));
    assert_eq!(state(&hosts, RESET_ONLY), pair("up", "conn-refused"));
    assert_eq!(state(&hosts, SILENT), pair("down", "no-response"));
    assert_eq!(state(&hosts, NO_ROUTE), pair("down", "net-unreach"));
}

#[test]
fn unprivileged_sn_without_ping_sockets_falls_back_to_tcp_and_says_so() {
    let Some(lab) = Lab::create("3") else { return };
    // A new namespace's range is `1 0`: no group may open a ping socket.
    let mut args = vec!["-sn", "--unprivileged"];
    args.extend(TARGETS);
    let (hosts, _, stderr) = lab.scan(&args);
    assert!(stderr.contains("no ICMP echo"), "{stderr}");
    assert!(stderr.contains("ping_group_range"), "{stderr}");
    assert_eq!(state(&hosts, ICMP_ONLY), pair("down", "no-response"));
    assert_eq!(state(&hosts, RESET_ONLY), pair("up", "conn-refused"));
}

#[test]
fn discover_scans_only_the_hosts_found_up() {
    let Some(lab) = Lab::create("4") else { return };
    let mut args = vec!["--discover", "-p", "9", ABSENT];
    args.extend(TARGETS);
    let (hosts, mut ports, _) = lab.scan(&args);
    assert_eq!(state(&hosts, SILENT), pair("up", "arp-response"));
    assert_eq!(state(&hosts, ABSENT).0, "down");
    assert_eq!(state(&hosts, NO_ROUTE).0, "down");
    ports.sort();
    assert_eq!(
        ports,
        [
            format!("{ICMP_ONLY}:9:\"filtered\""),
            format!("{SILENT}:9:\"filtered\""),
            format!("{RESET_ONLY}:9:\"closed\""),
        ],
        "the down hosts were not port-scanned"
    );
}

/// A host behind a stateless filter of the kind nmap's ACK ping is for: new
/// connections (SYNs) to 443 and every ICMP message dropped. Its link addresses
/// are permanent neighbour entries on both sides, so no ARP or neighbour
/// solicitation is sent and only the ACK to 80 can find it: the host resets an
/// ACK of no connection, on IPv4 and IPv6.
#[test]
fn privileged_ack_ping_finds_a_host_that_drops_syn_to_443_and_icmp() {
    let Some(scanner) = Namespace::create("ack-s") else {
        return;
    };
    let Some(host) = Namespace::create("ack-h") else {
        return;
    };
    let (s, h) = (scanner.name(), host.name());
    let mut steps = vec![
        format!("ip -n {s} link add va type veth peer name vb netns {h}"),
        format!("ip -n {s} link set va address 02:00:00:00:ac:01"),
        format!("ip -n {h} link set vb address 02:00:00:00:ac:02"),
        format!("ip -n {s} addr add 10.78.0.1/24 dev va"),
        format!("ip -n {h} addr add 10.78.0.2/24 dev vb"),
        format!("ip -n {s} -6 addr add fd78::1/64 dev va nodad"),
        format!("ip -n {h} -6 addr add fd78::2/64 dev vb nodad"),
        format!("ip -n {s} link set va up"),
        format!("ip -n {h} link set vb up"),
        format!("ip -n {s} neigh replace 10.78.0.2 lladdr 02:00:00:00:ac:02 dev va nud permanent"),
        format!("ip -n {h} neigh replace 10.78.0.1 lladdr 02:00:00:00:ac:01 dev vb nud permanent"),
        format!("ip -n {s} -6 neigh replace fd78::2 lladdr 02:00:00:00:ac:02 dev va nud permanent"),
        format!("ip -n {h} -6 neigh replace fd78::1 lladdr 02:00:00:00:ac:01 dev vb nud permanent"),
    ];
    for table in ["iptables", "ip6tables"] {
        let icmp = if table == "iptables" {
            "icmp"
        } else {
            "ipv6-icmp"
        };
        steps.push(format!(
            "ip netns exec {h} {table} -A INPUT -p {icmp} -j DROP"
        ));
        steps.push(format!(
            "ip netns exec {h} {table} -A INPUT -p tcp --syn --dport 443 -j DROP"
        ));
    }
    for step in &steps {
        if !run(&step.split_whitespace().collect::<Vec<_>>()) {
            return skip_or_fail(&format!("could not run {step}"));
        }
    }
    let lab = Lab {
        scanner,
        _hosts: vec![host],
    };
    let (hosts, _, stderr) = lab.scan(&["-sn", "10.78.0.2", "fd78::2", "10.78.0.9"]);
    assert!(!stderr.contains("no SYN pings"), "{stderr}");
    assert_eq!(state(&hosts, "10.78.0.2"), pair("up", "reset"));
    assert_eq!(state(&hosts, "fd78::2"), pair("up", "reset"));
    // Nobody has this address (its ARP goes unanswered): the ACK found no one.
    assert_eq!(state(&hosts, "10.78.0.9"), pair("down", "no-response"));
}
