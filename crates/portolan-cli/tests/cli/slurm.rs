//! The Slurm job array of `docs/slurm/portolan-shards.sbatch` on a real, one-node
//! Slurm cluster that this test starts (Debian's `slurm-wlm` and `munge`, as root):
//! four shard tasks scan listeners on 127.0.0.1, `merge` puts them together, and the
//! result equals one unsharded scan pair for pair.
//!
//! The cluster is private to the test: its own munge key and socket, its own ports,
//! state and spool under a temporary directory, and `SLURM_CONF` pointing there; the
//! daemons it started are stopped when it ends, whatever happened.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{bin, portolan_in, skip_or_fail};

/// Whether `tool` is on the `PATH` (`command -v`).
fn found(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` every 200 ms until it is true or `limit` passes.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A one-node cluster; dropping it stops its daemons.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    socket: PathBuf,
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        // munged wants its directories closed to others, and the socket's reachable.
        let mode = |p: &Path, m: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        };
        mode(dir, 0o711);
        mode(&dir.join("munge"), 0o711);
        let key = dir.join("munge.key");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::open("/dev/urandom").unwrap(), 1024),
            &mut bytes,
        )
        .unwrap();
        std::fs::write(&key, bytes).unwrap();
        mode(&key, 0o400);
        let socket = dir.join("munge/sock");
        let at = |p: &str| dir.join(p).display().to_string();
        let ok = Command::new("munged")
            .arg("--force")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--key-file={}", key.display()))
            .arg(format!("--log-file={}", at("log/munged.log")))
            .arg(format!("--pid-file={}", at("munge/pid")))
            .arg(format!("--seed-file={}", at("munge/seed")))
            .status()
            .unwrap();
        assert!(ok.success(), "munged did not start");
        let host = String::from_utf8(Command::new("hostname").arg("-s").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        let conf = dir.join("slurm.conf");
        let text = format!(
            "ClusterName=portolan-test\n\
             SlurmctldHost={host}(127.0.0.1)\n\
             SlurmctldPort={ctld}\nSlurmdPort={slurmd}\n\
             SlurmUser=root\nSlurmdUser=root\n\
             AuthType=auth/munge\nAuthInfo=socket={sock}\nCredType=cred/munge\n\
             StateSaveLocation={state}\nSlurmdSpoolDir={spool}\n\
             SlurmctldPidFile={ctldpid}\nSlurmdPidFile={slurmdpid}\n\
             SlurmctldLogFile={ctldlog}\nSlurmdLogFile={slurmdlog}\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n\
             SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n\
             SchedulerType=sched/backfill\nMpiDefault=none\nReturnToService=2\n\
             JobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\nJobCompType=jobcomp/none\n\
             SlurmdParameters=config_overrides\n\
             NodeName={host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n\
             PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            ctld = free_port(),
            slurmd = free_port(),
            sock = socket.display(),
            state = at("state"),
            spool = at("spool"),
            ctldpid = at("slurmctld.pid"),
            slurmdpid = at("slurmd.pid"),
            ctldlog = at("log/slurmctld.log"),
            slurmdlog = at("log/slurmd.log"),
        );
        std::fs::write(&conf, text).unwrap();
        let cluster = Cluster {
            dir: dir.to_owned(),
            conf,
            socket,
        };
        for (daemon, args) in [("slurmctld", &["-i"][..]), ("slurmd", &[][..])] {
            let ok = cluster
                .cmd(daemon)
                .args(args)
                .arg("-f")
                .arg(&cluster.conf)
                .status()
                .unwrap();
            assert!(ok.success(), "{daemon} did not start: {}", cluster.logs());
        }
        wait_for(Duration::from_mins(1), "the node to be idle", || {
            let out = cluster.cmd("sinfo").args(["-h", "-o", "%T"]).output();
            out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "idle")
        });
        cluster
    }

    /// A Slurm command of this cluster.
    fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    fn logs(&self) -> String {
        ["log/slurmctld.log", "log/slurmd.log", "log/munged.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.cmd("scontrol").arg("shutdown").status();
        // Whatever did not stop: the daemons this test started, by their pid files.
        std::thread::sleep(Duration::from_secs(1));
        for pid in ["slurmctld.pid", "slurmd.pid"] {
            if let Ok(p) = std::fs::read_to_string(self.dir.join(pid)) {
                let _ = Command::new("kill").arg(p.trim()).status();
            }
        }
        let _ = Command::new("munged")
            .arg(format!("--socket={}", self.socket.display()))
            .arg("--stop")
            .stderr(Stdio::null())
            .status();
    }
}

/// (addr, port, state) of every result line of an NDJSON file.
fn states(path: &Path) -> BTreeSet<(String, u64, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("port").is_some())
        .map(|v| {
            (
                v["addr"].as_str().unwrap().to_owned(),
                v["port"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_slurm_job_array_of_four_shards_merges_into_the_unsharded_scan() {
    if !nix::unistd::geteuid().is_root() {
        return skip_or_fail("a Slurm cluster needs root");
    }
    let missing: Vec<&str> = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo"]
        .into_iter()
        .filter(|t| !found(t))
        .collect();
    if !missing.is_empty() {
        return skip_or_fail(&format!(
            "not installed: {} (apt-get install slurm-wlm munge)",
            missing.join(", ")
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(dir.path());

    let listeners: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut ports: BTreeSet<u16> = (20_000..20_050).collect();
    ports.extend(listeners.iter().map(|l| l.local_addr().unwrap().port()));
    let ports = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let results = dir.path().join("results");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/slurm/portolan-shards.sbatch");
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = cluster
        .cmd("sbatch")
        .args(["--parsable", "--array=1-4", "--export=ALL"])
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", &path)
        .env("RESULTS", &results)
        .env("SHARDS", "4")
        .env("TARGETS", "127.0.0.1")
        .env("PORTS", &ports)
        .env("XDG_DATA_HOME", dir.path().join("xdg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sbatch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    wait_for(Duration::from_mins(3), "the job array to finish", || {
        let q = cluster.cmd("squeue").args(["-h", "-j", &job]).output();
        q.is_ok_and(|o| o.status.success() && o.stdout.is_empty())
    });
    let files: Vec<PathBuf> = (1..=4)
        .map(|i| results.join(format!("shard-{i}.ndjson")))
        .collect();
    for f in &files {
        assert!(
            f.exists(),
            "{} missing; logs:\n{}",
            f.display(),
            cluster.logs()
        );
    }
    let merged = dir.path().join("merged.ndjson");
    let out = portolan_in(dir.path())
        .arg("merge")
        .args(&files)
        .arg("-oD")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = dir.path().join("whole.ndjson");
    portolan_in(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-history",
            "--no-progress",
            "-oD",
        ])
        .arg(&whole)
        .assert()
        .success();
    let expected = states(&whole);
    assert_eq!(expected.len(), ports.split(',').count());
    assert_eq!(expected.iter().filter(|s| s.2 == "open").count(), 3);
    assert_eq!(states(&merged), expected);
    drop(listeners);
}
