//! `scan --shard I/N` and `portolan merge`: four shards of a scan of listeners on
//! 127.0.0.1 merge into the unsharded scan pair for pair, and merge refuses or
//! reports every bad input: a missing shard, a duplicate, a foreign spec, a file
//! cut mid-write, a result in the wrong shard, a shard written with `--open`.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::{bin, portolan_in as portolan, skip_or_fail};

/// Three listeners and their ports, and a port list around them with closed ports.
fn listeners() -> (Vec<TcpListener>, String) {
    let ls: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut ports: BTreeSet<u16> = BTreeSet::new();
    for l in &ls {
        let p = l.local_addr().unwrap().port();
        ports.extend([p, p.saturating_sub(1), p.saturating_sub(2)]);
    }
    let spec = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    (ls, spec)
}

/// The (addr, port, state, reason) of every result line of an NDJSON file.
fn pairs(path: &Path) -> BTreeSet<(String, u64, String, String)> {
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
                v["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Runs the four shards of `targets × ports` into `dir/sI.ndjson`.
fn shards(dir: &Path, ports: &str, extra: &[&str]) -> Vec<PathBuf> {
    (1..=4)
        .map(|i| {
            let out = dir.join(format!("s{i}.ndjson"));
            portolan(dir)
                .args([
                    "scan",
                    "127.0.0.1",
                    "127.0.0.2",
                    "-p",
                    ports,
                    "--no-history",
                ])
                .args(["--no-progress", "--shard", &format!("{i}/4"), "-oD"])
                .arg(&out)
                .args(extra)
                .assert()
                .success();
            out
        })
        .collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn four_merged_shards_equal_the_unsharded_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &["-oJ", "unused.json"]);
    let whole = dir.path().join("whole.ndjson");
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "127.0.0.2",
            "-p",
            &ports,
            "--no-history",
        ])
        .args(["--no-progress", "-oD"])
        .arg(&whole)
        .assert()
        .success();
    let merged = dir.path().join("merged.ndjson");
    let db = dir.path().join("h.db");
    let out = portolan(dir.path())
        .arg("merge")
        .args(&files)
        .arg("-oD")
        .arg(&merged)
        .args(["-oJ", "merged.json", "-oX", "merged.xml", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let expected = pairs(&whole);
    assert_eq!(expected.len(), 2 * ports.split(',').count());
    assert_eq!(expected.iter().filter(|p| p.2 == "open").count(), 3);
    assert_eq!(pairs(&merged), expected);
    // Each shard walked a disjoint part, and the parts sum to the whole.
    let sizes: Vec<usize> = files.iter().map(|f| pairs(f).len()).collect();
    assert_eq!(sizes.iter().sum::<usize>(), expected.len());
    // The merged JSON is one complete scan, not a shard.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(doc["summary"]["complete"], true);
    assert!(doc["run"].get("shard").is_none());
    // The merged scan is in the history, with its open ports.
    let shown = portolan(dir.path())
        .args(["show", "-o", "ndjson", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(shown.status.success(), "{}", stderr(&shown));
    let text = String::from_utf8_lossy(&shown.stdout);
    assert_eq!(text.matches("\"open\"").count(), 3, "{text}");
}

#[test]
fn every_format_records_the_shard() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let out = portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-history",
            "--no-progress",
        ])
        .args([
            "--shard", "2/3", "-oD", "s.ndjson", "-oJ", "s.json", "-oX", "s.xml",
        ])
        .args(["-oG", "s.gnmap"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let nd = read("s.ndjson");
    let lines: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let head = &lines[0]["shard"];
    assert_eq!(
        (head["index"].as_u64(), head["count"].as_u64()),
        (Some(2), Some(3))
    );
    let spec = head["spec"].as_str().unwrap().to_owned();
    assert_eq!(spec.len(), 16);
    let seed = head["seed"].as_u64().unwrap();
    let end = &lines.last().unwrap()["shard_end"];
    assert_eq!(end["complete"], true);
    assert_eq!(end["spec"].as_str(), Some(spec.as_str()));
    let json: Value = serde_json::from_str(&read("s.json")).unwrap();
    assert_eq!(json["run"]["shard"]["spec"].as_str(), Some(spec.as_str()));
    assert_eq!(json["run"]["shard"]["index"], 2);
    assert_eq!(crate::formats::schema_errors(&json), Vec::<String>::new());
    let line = format!("shard 2/3 seed {seed} spec {spec}");
    assert!(read("s.xml").contains(&format!("<!-- portolan {line} -->")));
    if crate::util::have_tool("xmllint") {
        let ok = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg(dir.path().join("s.xml"))
            .status()
            .unwrap();
        assert!(ok.success(), "the shard's XML is not well-formed");
    }
    assert!(read("s.gnmap").contains(&format!("# portolan {line}\n")));
    // Without --seed, another run of another shard agrees on the seed.
    let again = portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-history",
            "--no-progress",
        ])
        .args(["--shard", "3/3", "-oD", "-"])
        .output()
        .unwrap();
    let first: Value = serde_json::from_str(
        String::from_utf8_lossy(&again.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["shard"]["seed"].as_u64(), Some(seed));
    assert_eq!(first["shard"]["spec"].as_str(), Some(spec.as_str()));
}

#[test]
fn bad_shard_values_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0/4", "5/4", "1/0", "x", "2/", "1/4/1"] {
        let out = portolan(dir.path())
            .args([
                "scan",
                "127.0.0.1",
                "-p",
                "1",
                "--no-history",
                "--shard",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
        assert!(stderr(&out).contains("--shard"), "{}", stderr(&out));
    }
}

#[test]
fn a_missing_shard_is_listed_with_its_pairs_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &[]);
    let out = portolan(dir.path())
        .arg("merge")
        .args([&files[0], &files[2], &files[3]])
        .args(["-oJ", "m.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let owned = pairs(&files[1]);
    assert!(
        err.contains(&format!(
            "missing {} pairs of shard 2/4, no input",
            owned.len()
        )),
        "{err}"
    );
    // Every missing pair is named: each listed line is HOST × PORTS.
    for (addr, port, ..) in &owned {
        let line = err
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{addr} ×")))
            .unwrap_or_else(|| panic!("{addr} not listed: {err}"));
        let listed = line.split('×').nth(1).unwrap().trim();
        let list: Vec<u64> = listed
            .split(',')
            .flat_map(|r| match r.split_once('-') {
                Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect::<Vec<u64>>(),
                None => vec![r.parse().unwrap()],
            })
            .collect();
        assert!(list.contains(port), "{addr}:{port} not in {line}");
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m.json")).unwrap()).unwrap();
    assert_eq!(doc["summary"]["complete"], false);
}

#[test]
fn duplicates_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &[]);
    let out = portolan(dir.path())
        .arg("merge")
        .args([&files[0], &files[0]])
        .args(["-oJ", "m.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("both shard 1/4"), "{}", stderr(&out));
    // A pair answered twice inside one shard's file.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let dup = lines[1];
    lines.insert(2, dup);
    std::fs::write(&files[0], lines.join("\n") + "\n").unwrap();
    let out = portolan(dir.path())
        .arg("merge")
        .args(&files)
        .args(["-oJ", "m.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("answered twice"), "{}", stderr(&out));
    assert!(!dir.path().join("m.json").exists());
}

#[test]
fn a_result_in_the_wrong_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &[]);
    let theirs = std::fs::read_to_string(&files[1]).unwrap();
    let stolen = theirs.lines().nth(1).unwrap();
    let mine = std::fs::read_to_string(&files[0]).unwrap();
    let mut lines: Vec<&str> = mine.lines().collect();
    lines.insert(1, stolen);
    std::fs::write(&files[0], lines.join("\n") + "\n").unwrap();
    let out = portolan(dir.path())
        .arg("merge")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("belongs to shard 2/4, not 1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn shards_of_another_spec_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &[]);
    let other = dir.path().join("other.ndjson");
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "127.0.0.3",
            "-p",
            &ports,
            "--no-history",
        ])
        .args(["--no-progress", "--shard", "2/4", "-oD"])
        .arg(&other)
        .assert()
        .success();
    let out = portolan(dir.path())
        .arg("merge")
        .args([&files[0], &other, &files[2], &files[3]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not shards of one scan"),
        "{}",
        stderr(&out)
    );
    // An NDJSON file of an unsharded scan is no shard at all.
    let plain = dir.path().join("plain.ndjson");
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-history",
            "--no-progress",
            "-oD",
        ])
        .arg(&plain)
        .assert()
        .success();
    let out = portolan(dir.path())
        .arg("merge")
        .arg(&plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no shard header"), "{}", stderr(&out));
    // A JSON document of a shard cannot prove coverage, and merge says why.
    portolan(dir.path())
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            &ports,
            "--no-history",
            "--no-progress",
        ])
        .args(["--shard", "1/2", "-oJ", "s.json"])
        .assert()
        .success();
    let out = portolan(dir.path())
        .args(["merge", "s.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("folds closed ports"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_shard_written_with_open_cannot_prove_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &["--open"]);
    let out = portolan(dir.path())
        .arg("merge")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--open"), "{}", stderr(&out));
}

#[test]
fn a_shard_cut_mid_write_is_reported_and_its_lost_pairs_listed() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let files = shards(dir.path(), &ports, &[]);
    // Killed in the middle of its third result line: no end line, half a line.
    let text = std::fs::read_to_string(&files[2]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 5, "{text}");
    let kept = format!(
        "{}\n{}\n{}\n{}",
        lines[0],
        lines[1],
        lines[2],
        &lines[3][..10]
    );
    std::fs::write(&files[2], kept).unwrap();
    let lost: Value = serde_json::from_str(lines[3]).unwrap();
    let out = portolan(dir.path())
        .arg("merge")
        .args(&files)
        .args(["-oD", "m.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("s3.ndjson (shard 3/4) is cut short"), "{err}");
    let missing = lines.len() - 4; // header, two kept results, trailer
    assert!(
        err.contains(&format!("missing {missing} pairs of shard 3/4:")),
        "{err}"
    );
    assert!(err.contains(lost["addr"].as_str().unwrap()), "{err}");
    // The merged output holds every complete line: the other shards' and the two
    // results that survived the cut.
    let intact: usize = [0, 1, 3].iter().map(|&i| pairs(&files[i]).len()).sum();
    assert_eq!(pairs(&dir.path().join("m.ndjson")).len(), intact + 2);
}

/// The documents of a YAML file as JSON, parsed by `PyYAML`; `None` (with a printed
/// reason) when python3 or `PyYAML` is missing, which fails the test under CI.
fn yaml_docs(path: &Path) -> Option<Vec<Value>> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
        ])
        .arg(path)
        .output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).unwrap()),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            skip("PyYAML is not installed (apt-get install python3-yaml)")
        }
        Ok(o) => panic!(
            "{} is not valid YAML: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => skip(&format!("python3 cannot run: {e}")),
    }
}

fn skip<T>(why: &str) -> Option<T> {
    skip_or_fail(why);
    None
}

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// `PATH` with the binary under test first, as the manifests call `portolan`.
fn path_with_portolan() -> String {
    let bin = bin();
    let dir = bin.parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

/// Runs `script` with `sh -c` and `env`, as a pod or a Slurm task would.
fn sh(dir: &Path, script: &str, env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(script).current_dir(dir);
    cmd.env("PATH", path_with_portolan());
    cmd.env("XDG_DATA_HOME", dir.join("xdg"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// (addr, port, state) of every pair a history database holds for its latest scan.
fn shown_states(dir: &Path, db: &Path) -> BTreeSet<(String, u64, String)> {
    let out = portolan(dir)
        .args(["show", "-o", "ndjson", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["addr"].as_str().unwrap().to_owned(),
                v["port"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn unsharded(dir: &Path, ports: &str) -> BTreeSet<(String, u64, String)> {
    let whole = dir.join("whole.ndjson");
    portolan(dir)
        .args([
            "scan",
            "127.0.0.1",
            "-p",
            ports,
            "--no-history",
            "--no-progress",
            "-oD",
        ])
        .arg(&whole)
        .assert()
        .success();
    pairs(&whole)
        .into_iter()
        .map(|(a, p, s, _)| (a, p, s))
        .collect()
}

#[test]
fn the_kubernetes_manifests_parse_and_their_scripts_shard_and_merge() {
    let Some(shards) = yaml_docs(&docs().join("k8s/portolan-shards.yaml")) else {
        return;
    };
    let Some(merge) = yaml_docs(&docs().join("k8s/portolan-merge.yaml")) else {
        return;
    };
    let job = shards.iter().find(|d| d["kind"] == "Job").expect("a Job");
    assert!(shards.iter().any(|d| d["kind"] == "PersistentVolumeClaim"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let container = &spec["template"]["spec"]["containers"][0];
    let env: Vec<(&str, String)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let n: u64 = env
        .iter()
        .find(|e| e.0 == "SHARDS")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert_eq!(spec["completions"].as_u64(), Some(n));
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    assert_eq!(container["volumeMounts"][0]["mountPath"], "/results");
    let script = container["args"][0].as_str().unwrap();
    assert!(script.contains("JOB_COMPLETION_INDEX"));
    let merge_script = merge[0]["spec"]["template"]["spec"]["containers"][0]["args"][0]
        .as_str()
        .unwrap();

    // Every index of the Job, run here with the results in a temporary directory.
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let local = |s: &str| s.replace("/results", &results.display().to_string());
    let (_ls, ports) = listeners();
    let env = [
        ("SHARDS", n.to_string()),
        ("TARGETS", "127.0.0.1".to_owned()),
        ("PORTS", ports.clone()),
    ];
    for index in 0..n {
        let mut e = env.to_vec();
        e.push(("JOB_COMPLETION_INDEX", index.to_string()));
        let out = sh(dir.path(), &local(script), &e);
        assert!(out.status.success(), "index {index}: {}", stderr(&out));
    }
    // A retried pod whose shard had finished does nothing.
    let third = results.join("shard-3.ndjson");
    let before = std::fs::read(&third).unwrap();
    let mut e = env.to_vec();
    e.push(("JOB_COMPLETION_INDEX", "2".to_owned()));
    assert!(sh(dir.path(), &local(script), &e).status.success());
    assert_eq!(std::fs::read(&third).unwrap(), before);

    let out = sh(dir.path(), &local(merge_script), &[]);
    assert!(out.status.success(), "merge: {}", stderr(&out));
    let merged = shown_states(dir.path(), &results.join("history.db"));
    assert_eq!(merged, unsharded(dir.path(), &ports));
    assert!(results.join("merged.xml").exists());
}

#[test]
fn the_slurm_array_script_shards_and_a_failed_task_reruns_alone() {
    let script_path = docs().join("slurm/portolan-shards.sbatch");
    let script = std::fs::read_to_string(&script_path).unwrap();
    assert!(script.contains("SLURM_ARRAY_TASK_ID"));
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let (_ls, ports) = listeners();
    let env = |task: u64| {
        vec![
            ("RESULTS", results.display().to_string()),
            ("SHARDS", "4".to_owned()),
            ("TARGETS", "127.0.0.1".to_owned()),
            ("PORTS", ports.clone()),
            ("SLURM_ARRAY_TASK_ID", task.to_string()),
            // What Slurm says when one task is re-run alone: the script must not use it.
            ("SLURM_ARRAY_TASK_COUNT", "1".to_owned()),
        ]
    };
    for task in [1, 2, 4] {
        let out = sh(dir.path(), &script, &env(task));
        assert!(out.status.success(), "task {task}: {}", stderr(&out));
    }
    let files = |n: &[u64]| -> Vec<PathBuf> {
        n.iter()
            .map(|i| results.join(format!("shard-{i}.ndjson")))
            .collect()
    };
    // Task 3 failed: the merge names it, then it is re-run alone.
    let out = portolan(dir.path())
        .arg("merge")
        .args(files(&[1, 2, 4]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("of shard 3/4, no input"),
        "{}",
        stderr(&out)
    );
    let out = sh(dir.path(), &script, &env(3));
    assert!(out.status.success(), "task 3: {}", stderr(&out));
    let db = dir.path().join("merged.db");
    let out = portolan(dir.path())
        .arg("merge")
        .args(files(&[1, 2, 3, 4]))
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shown_states(dir.path(), &db), unsharded(dir.path(), &ports));
}

/// Lines in a file so far (0 if it does not exist yet).
fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// Merges `inputs` (exit 0 required) and returns the merged (addr, port, state).
fn merged_exactly(dir: &Path, inputs: &[PathBuf]) -> BTreeSet<(String, u64, String)> {
    let merged = dir.join("m.ndjson");
    let out = portolan(dir)
        .arg("merge")
        .args(inputs)
        .arg("-oD")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    pairs(&merged)
        .into_iter()
        .map(|(a, p, s, _)| (a, p, s))
        .collect()
}

/// Listeners on every 97th port of 15000-15999 of an address of this test alone (no
/// other test binds one of its ports meanwhile).
fn own_listeners(tag: u8) -> (String, Vec<TcpListener>) {
    let own = crate::util::own_loopback(tag);
    let open = (15_000..16_000)
        .step_by(97)
        .map(|p| TcpListener::bind((own, p)).expect("bind on the test's own address"))
        .collect();
    (own.to_string(), open)
}

#[test]
fn a_killed_shard_resumes_as_that_shard_and_the_merge_becomes_exact() {
    let (own, _open) = own_listeners(2);
    let dir = tempfile::tempdir().unwrap();
    let base = ["scan", own.as_str(), "-p", "10000-29999", "--no-progress"];
    let file = |i: u64| dir.path().join(format!("s{i}.ndjson"));
    for i in [1, 3, 4] {
        portolan(dir.path())
            .args(base)
            .args(["--no-history", "--shard", &format!("{i}/4"), "-oD"])
            .arg(file(i))
            .assert()
            .success();
    }
    // Shard 2, slowed down, is interrupted once it has answered a few hundred pairs.
    let db = dir.path().join("shard-2.db");
    let mut child = std::process::Command::new(bin())
        .args(base)
        .args(["--max-rate", "2000", "--shard", "2/4", "-oD"])
        .arg(file(2))
        .arg("--db")
        .arg(&db)
        .env("XDG_DATA_HOME", dir.path().join("xdg"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while line_count(&file(2)) < 300 {
        assert!(
            started.elapsed() < Duration::from_mins(1),
            "shard 2 never got going"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let answered = pairs(&file(2)).len();
    assert!(answered < 5000, "interrupted part way: {answered}");
    let all = [file(1), file(2), file(3), file(4)];
    let out = portolan(dir.path())
        .arg("merge")
        .args(&all)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("missing {} pairs of shard 2/4:", 5000 - answered)),
        "{err}"
    );
    assert!(
        err.contains("s2.ndjson (shard 2/4) was interrupted"),
        "{err}"
    );

    portolan(dir.path())
        .args(["scan", "--resume", "--no-progress", "--db"])
        .arg(&db)
        .assert()
        .success();
    // The history recorded the shard's spec hash, the one of its NDJSON header.
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(file(2))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let stored: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT spec FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(Some(stored.as_str()), header["shard"]["spec"].as_str());
    let whole = dir.path().join("whole.ndjson");
    portolan(dir.path())
        .args(base)
        .args(["--no-history", "-oD"])
        .arg(&whole)
        .assert()
        .success();
    let expected: BTreeSet<(String, u64, String)> = pairs(&whole)
        .into_iter()
        .map(|(a, p, s, _)| (a, p, s))
        .collect();
    assert_eq!(expected.len(), 20_000);
    assert_eq!(merged_exactly(dir.path(), &all), expected);
    // The shard's history database stands in for its NDJSON.
    let with_db = [file(1), db, file(3), file(4)];
    assert_eq!(merged_exactly(dir.path(), &with_db), expected);
    // Writing over an input is refused.
    let out = portolan(dir.path())
        .arg("merge")
        .args(&all)
        .arg("-oD")
        .arg(file(3))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is an input"), "{}", stderr(&out));
}

#[test]
fn a_changed_target_file_is_caught_and_the_histories_remember_the_targets() {
    let dir = tempfile::tempdir().unwrap();
    let (_ls, ports) = listeners();
    let list = dir.path().join("targets.txt");
    std::fs::write(&list, "127.0.0.1\n127.0.0.2\n").unwrap();
    for i in [1, 2] {
        portolan(dir.path())
            .args(["scan", "-iL"])
            .arg(&list)
            .args(["-p", &ports, "--no-progress", "--shard", &format!("{i}/2")])
            .args(["-oD", &format!("s{i}.ndjson"), "--db", &format!("s{i}.db")])
            .assert()
            .success();
    }
    std::fs::write(&list, "127.0.0.1\n127.0.0.3\n").unwrap();
    // The NDJSON headers have the arguments, and the file now says other hosts.
    let out = portolan(dir.path())
        .args(["merge", "s1.ndjson", "s2.ndjson"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a target file changed"),
        "{}",
        stderr(&out)
    );
    // The histories stored the targets as given: the merge needs no file.
    let merged = merged_exactly(
        dir.path(),
        &[dir.path().join("s1.db"), dir.path().join("s2.db")],
    );
    let addrs: BTreeSet<&str> = merged.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(addrs, BTreeSet::from(["127.0.0.1", "127.0.0.2"]));
    assert_eq!(merged.len(), 2 * ports.split(',').count());
}

#[test]
fn the_kubernetes_manifests_validate_against_the_kubernetes_schema() {
    let found = std::process::Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        return skip_or_fail(
            "kubernetes-validate is not installed (pip install kubernetes-validate)",
        );
    }
    let validate = |files: &[PathBuf]| {
        std::process::Command::new("kubernetes-validate")
            .args(["--strict", "--quiet"])
            .args(files)
            .output()
            .unwrap()
    };
    let manifests = [
        docs().join("k8s/portolan-shards.yaml"),
        docs().join("k8s/portolan-merge.yaml"),
    ];
    let out = validate(&manifests);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    // The validator does reject a manifest with a misspelt field.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(&manifests[0]).unwrap();
    std::fs::write(&bad, text.replace("completionMode:", "completionMod:")).unwrap();
    assert!(!validate(&[bad]).status.success());
}
