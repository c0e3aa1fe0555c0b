//! The helpers every integration test shares: the binary under test with its history
//! kept out of `$HOME`, listeners and closed ports on 127.0.0.1, the readiness wait
//! of the signal tests, NDJSON parsing, and [`skip_or_fail`].
//!
//! Nothing here touches an address outside 127.0.0.0/8.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command as StdCommand, Stdio};
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

/// The binary under test, with a timeout and its history in [`data_home`].
pub fn portolan() -> Command {
    let mut cmd = Command::cargo_bin("portolan").expect("the portolan binary");
    cmd.timeout(Duration::from_mins(2));
    cmd.env("XDG_DATA_HOME", data_home());
    cmd
}

/// The binary run from `dir`, with its default history kept in `dir/xdg`.
pub fn portolan_in(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("portolan").expect("the portolan binary");
    cmd.timeout(Duration::from_mins(2))
        .current_dir(dir)
        .env("XDG_DATA_HOME", dir.join("xdg"));
    cmd
}

/// The binary as a plain `std::process::Command`, for tests that spawn it, signal it
/// or run it under a shell; its history is in [`data_home`] too.
pub fn portolan_std() -> StdCommand {
    let mut cmd = StdCommand::new(bin());
    cmd.env("XDG_DATA_HOME", data_home());
    cmd
}

/// The path of the binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("portolan")
}

/// A data directory for the binary under test (one per test process), so no test
/// writes into `$HOME`.
pub fn data_home() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portolan-test-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("test data directory");
    dir
}

/// A listener on 127.0.0.1 and its port. Nothing accepts: the kernel completes the
/// handshakes, which is all a connect scan needs.
pub fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind on 127.0.0.1");
    let port = l.local_addr().expect("listener address").port();
    (l, port)
}

/// An address of 127.0.0.0/8 of this test process alone (from its pid, in
/// 127.100.0.0 - 127.163.255.255, apart from the corpus's 127.0.x.x), for a test
/// that must know no other process listens there.
pub fn pid_loopback() -> std::net::Ipv4Addr {
    let pid = std::process::id();
    let [_, b, c, _] = pid.to_be_bytes();
    std::net::Ipv4Addr::new(127, 100 + (b & 0x3f), c, (pid % 254) as u8 + 1)
}

/// An address of 127.0.0.0/8 of one test alone: `tag` tells the tests of one
/// process apart (127.164+tag.x.y, x.y from the pid; tags 0-90), so a port the test leaves
/// closed cannot be bound meanwhile by a test running beside it, as a released
/// port of 127.0.0.1 can.
pub fn own_loopback(tag: u8) -> std::net::Ipv4Addr {
    let [_, _, c, d] = pid_loopback().octets();
    std::net::Ipv4Addr::new(127, 164 + tag, c, d)
}

/// A port of 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    listener().1
}

/// A listening port and a port that was just closed.
pub fn open_and_closed() -> (TcpListener, u16, u16) {
    let (l, open) = listener();
    (l, open, closed_port())
}

/// The JSON objects of NDJSON output, one per line; a bad line fails the test.
pub fn ndjson(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad NDJSON line {l:?}: {e}")))
        .collect()
}

/// A test that cannot run here (no root, a missing tool, no pseudo-terminal).
///
/// On a developer's machine it prints why and the test passes without checking
/// anything. When the environment variable `CI` is set (`.ci/run` runs as root and
/// installs every tool), a skip is a failure: CI must never pass a test it did not run.
pub fn skip_or_fail(reason: &str) {
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "this test cannot run here, and CI is set so that is a failure: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// Whether `tool` runs (`tool --version`); if not, [`skip_or_fail`] says so.
pub fn have_tool(tool: &str) -> bool {
    let ok = StdCommand::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ok {
        skip_or_fail(&format!("{tool} is not installed"));
    }
    ok
}

/// Spawns `cmd` with stdout piped and returns once it wrote its first line, so a test
/// that signals it knows the scan is under way (no fixed sleep). The rest of stdout
/// is collected by a thread; `wait_collected` gives it back after the exit.
pub fn spawn_ready(mut cmd: StdCommand) -> Running {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the binary");
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read the first line");
    assert!(
        !first.is_empty(),
        "the process ended before its first line: {:?}",
        child.wait()
    );
    let rest = thread::spawn(move || drain(out));
    Running { child, first, rest }
}

fn drain(mut out: BufReader<ChildStdout>) -> String {
    let mut text = String::new();
    let _ = out.read_to_string(&mut text);
    text
}

/// A process started by [`spawn_ready`].
pub struct Running {
    pub child: Child,
    /// The first line it wrote (with its newline).
    pub first: String,
    rest: thread::JoinHandle<String>,
}

impl Running {
    /// Sends `signal` (`"INT"`, `"TERM"`, `"KILL"`) to the process.
    pub fn signal(&self, signal: &str) {
        let sent = StdCommand::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal} failed");
    }

    /// Waits for the exit; gives the exit code and everything written to stdout.
    pub fn wait_collected(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("wait for the binary");
        let rest = self.rest.join().expect("stdout reader");
        (status.code(), self.first + &rest)
    }
}

/// A network namespace made by a test, with its loopback up, deleted on drop. Its
/// name carries a label and the test process's id, so runs never collide.
pub struct Namespace(String);

impl Namespace {
    /// Makes the namespace, or calls [`skip_or_fail`] (not root, no `ip netns`).
    pub fn create(label: &str) -> Option<Self> {
        if !nix::unistd::geteuid().is_root() {
            skip_or_fail("namespace tests need root");
            return None;
        }
        let name = format!("portolan-test-{label}-{}", std::process::id());
        if !run(&["ip", "netns", "add", &name]) {
            skip_or_fail("`ip netns add` failed (no iproute2 or no namespaces)");
            return None;
        }
        let ns = Namespace(name);
        if !ns.exec(&["ip", "link", "set", "lo", "up"]) {
            skip_or_fail("cannot bring up the namespace's loopback");
            return None;
        }
        Some(ns)
    }

    /// The namespace's name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// Runs a command inside the namespace; whether it succeeded.
    pub fn exec(&self, args: &[&str]) -> bool {
        let mut all = vec!["ip", "netns", "exec", &self.0];
        all.extend_from_slice(args);
        run(&all)
    }

    /// A listener on 127.0.0.1:`port` inside the namespace, accepting forever.
    pub fn listen(&self, port: u16) -> TcpListener {
        use std::os::fd::AsFd;
        let path = format!("/var/run/netns/{}", self.0);
        let handle = thread::spawn(move || {
            let file = std::fs::File::open(path).expect("namespace file");
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
            TcpListener::bind(("127.0.0.1", port)).expect("bind inside the namespace")
        });
        let listener = handle.join().expect("listener thread");
        let clone = listener.try_clone().expect("clone listener");
        thread::spawn(move || for _ in clone.incoming() {});
        listener
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = StdCommand::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

fn run(args: &[&str]) -> bool {
    StdCommand::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes a directory read-only for this process, root included (`chattr +i`; a
/// plain mode change does not stop root), and undoes it on drop.
pub struct ReadOnlyDir(std::path::PathBuf);

impl ReadOnlyDir {
    pub fn new(dir: &std::path::Path) -> Option<Self> {
        if nix::unistd::geteuid().is_root() {
            let ok = std::process::Command::new("chattr")
                .arg("+i")
                .arg(dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                skip_or_fail("chattr +i failed (no e2fsprogs, or a file system without it)");
                return None;
            }
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        }
        Some(ReadOnlyDir(dir.to_owned()))
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
        let _ = std::fs::set_permissions(&self.0, std::fs::Permissions::from_mode(0o755));
    }
}
