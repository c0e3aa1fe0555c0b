//! `portolan demo`: a practice target inside the process, scanned at once.
//!
//! Three listeners on 127.0.0.1 (one that greets like an SSH server, one that
//! answers like a web server, one that stays silent) and three ports that were
//! just closed, so a newcomer sees open and closed side by side with no set-up and
//! without touching any other machine.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use portolan_engine::{ConnectTransport, Scanner};
use portolan_output::{NdjsonReport, Report, RunInfo, TableReport};
use portolan_target::{HostBlock, TargetSet};
use portolan_target::{PortList, ScanOrder};

use crate::args::DemoArgs;
use crate::exit::Outcome;
use crate::reports::{colour, writer, Reports};

/// What each practice listener says when a client connects.
const GREETINGS: [(&str, &[u8]); 3] = [
    ("ssh-like greeter", b"SSH-2.0-portolan_demo\r\n"),
    (
        "web server",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nhi\n",
    ),
    ("silent service", b""),
];

fn serve(listener: TcpListener, greeting: &'static [u8]) {
    thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = conn.write_all(greeting);
            let mut buf = [0u8; 512];
            let _ = conn.read(&mut buf);
        }
    });
}

/// Ports that were listening a moment ago and are closed now.
fn closed_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .context("cannot bind on 127.0.0.1")?;
    Ok(held
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .map(|a| a.port())
        .collect())
}

/// Writes to stdout with `writeln!`, never `println!`: a reader that went away
/// (`portolan demo | head -1`) is an error that `main` treats as success, not a panic.
pub fn run(args: &DemoArgs) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout();
    let mut open = Vec::new();
    writeln!(
        out,
        "portolan demo: a practice target on 127.0.0.1, inside this process"
    )?;
    for (what, greeting) in GREETINGS {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        writeln!(out, "  port {port:<5} open   ({what})")?;
        open.push(port);
        serve(listener, greeting);
    }
    let greeter_port = open[0];
    let closed = closed_ports(3)?;
    for port in &closed {
        writeln!(out, "  port {port:<5} closed (nothing listens)")?;
    }
    writeln!(
        out,
        "\n$ portolan scan 127.0.0.1 -p {}\n",
        PortList::from_ports([open.clone(), closed.clone()].concat())
            .map(|p| p.to_spec())
            .unwrap_or_default()
    )?;
    let ports = PortList::from_ports([open, closed].concat()).context("no demo ports")?;
    let targets = TargetSet::from_blocks(vec![HostBlock::Range {
        start: "127.0.0.1".parse()?,
        count: 1,
    }])?;
    let mut order = ScanOrder::random(Arc::new(targets), Arc::new(ports.clone()), 1);
    let mut reports: Vec<Box<dyn Report>> = vec![Box::new(TableReport::new(
        std::io::stdout(),
        colour(),
        false,
    ))];
    if let Some(path) = &args.ndjson {
        reports.push(Box::new(NdjsonReport::new(writer(path)?, false)));
    }
    let mut sink = Reports {
        outputs: reports,
        bar: None,
        timeline: false,
        failed: None,
        confirmed: crate::wildcard::Confirmed::default(),
    };
    sink.start(&RunInfo {
        command_line: "portolan demo".into(),
        started: SystemTime::now(),
        ports: ports.to_spec(),
        hosts: 1,
        shard: None,
    })?;
    let summary =
        Scanner::builder()
            .build()
            .run(&mut order, &mut ConnectTransport::new()?, &mut sink)?;
    sink.finish(&summary)?;
    // Then the next step of the socket lesson: connect to the greeter and read.
    let greeter = greeter_port;
    let mut conn =
        TcpStream::connect(("127.0.0.1", greeter)).context("cannot connect to the demo greeter")?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 1024];
    let n = conn
        .read(&mut buf)
        .context("cannot read from the demo greeter")?;
    writeln!(out, "\nWhat port {greeter} says on connect (recv(1024)):")?;
    writeln!(
        out,
        "  {}",
        portolan_output::clean(String::from_utf8_lossy(&buf[..n]).trim_end())
    )?;
    Ok(Outcome::Done)
}
