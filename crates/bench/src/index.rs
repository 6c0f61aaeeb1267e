//! The live index against `find`, in one run on this machine:
//!
//! - **initial index** of a 50,000-file tree, against `find` listing the same files (ratio);
//! - **latency** from a file's creation to its event, over 1,000 files (median, 99th percentile);
//! - **memory** of the index of those 50,000 files (peak RSS of a child process that only builds
//!   the index, minus that of one that does not);
//! - **idle CPU** of the watcher over a minute with nothing changing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use callsupport_desk::config::{SourceConfig, SourceKind};
use callsupport_desk::index::{Index, IndexEvent, Options};

const TREE_FILES: usize = 50_000;
const TREE_DIRS: usize = 500;
const LATENCY_FILES: usize = 1_000;
const RUNS: usize = 5;

fn source(root: &Path) -> SourceConfig {
    SourceConfig {
        id: "bench".into(),
        name: "Bench logs".into(),
        root: root.display().to_string(),
        include: vec!["**/*.log".into()],
        exclude: vec![],
        kind: SourceKind::Text,
        max_age_days: None,
        max_mb: None,
        follow_links: false,
    }
}

pub fn run(idle: Duration) {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-")
        .tempdir()
        .expect("temp dir");
    let tree = dir.path().join("tree");
    let started = Instant::now();
    make_tree(&tree);
    println!(
        "tree: {TREE_FILES} files in {TREE_DIRS} folders, made in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 1. Initial index against find, alternating so both see the same cache state.
    let (mut ours, mut names, mut stats) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        names.push(time_find(&tree, &[]));
        stats.push(time_find(&tree, &["-printf", "%s %T@ %p\n"]));
        ours.push(time_index(&tree));
    }
    let (ours, names, stats) = (median(&mut ours), median(&mut names), median(&mut stats));
    println!("\ninitial index of {TREE_FILES} files (median of {RUNS}, warm cache)");
    println!("  callsupport index               {:>8.1} ms", ms(ours));
    println!(
        "  find -name '*.log'              {:>8.1} ms  (names only, no stat)",
        ms(names)
    );
    println!(
        "  find -name '*.log' -printf '%s %T@ %p' {:>4.1} ms  (size and time, as the index keeps)",
        ms(stats)
    );
    println!(
        "  ratio to find (names only)      {:>8.2}x  (goal: at most 1.5x)",
        ours.as_secs_f64() / names.as_secs_f64()
    );
    println!(
        "  ratio to find (size and time)   {:>8.2}x",
        ours.as_secs_f64() / stats.as_secs_f64()
    );

    // 2. Memory of that index, in child processes.
    let with_index = child_peak_rss(&["--child-index", tree.to_str().expect("utf-8 temp path")]);
    let baseline = child_peak_rss(&["--child-baseline"]);
    println!("\nmemory (peak RSS of a child process)");
    println!("  without index      {:>8.1} MiB", baseline as f64 / 1024.0);
    println!(
        "  with index         {:>8.1} MiB",
        with_index as f64 / 1024.0
    );
    println!(
        "  index of {TREE_FILES} files {:>6.1} MiB ({:.0} bytes a file)",
        (with_index.saturating_sub(baseline)) as f64 / 1024.0,
        (with_index.saturating_sub(baseline) * 1024) as f64 / TREE_FILES as f64
    );

    // 3. Latency from creation to event.
    let mut latencies = latency(&dir.path().join("live"));
    latencies.sort();
    println!("\nnew file to index event, {LATENCY_FILES} files");
    println!(
        "  median             {:>8.1} ms",
        ms(latencies[latencies.len() / 2])
    );
    println!(
        "  99th percentile    {:>8.1} ms (goal: under 500 ms)",
        ms(latencies[latencies.len() * 99 / 100])
    );
    println!(
        "  max                {:>8.1} ms",
        ms(*latencies.last().expect("latencies"))
    );

    // 4. Idle CPU of a watcher over the big tree.
    let index = Index::start_with(vec![source(&tree)], Options::default(), |_| {});
    assert!(index.wait_ready(Duration::from_secs(120)), "index ready");
    let before = cpu_time();
    std::thread::sleep(idle);
    let used = cpu_time().saturating_sub(before);
    println!(
        "\nidle watcher over {TREE_FILES} files for {} s",
        idle.as_secs()
    );
    println!(
        "  CPU used           {:>8.1} ms ({:.3} % of one core)",
        ms(used),
        100.0 * used.as_secs_f64() / idle.as_secs_f64()
    );
    drop(index);
}

fn make_tree(root: &Path) {
    for d in 0..TREE_DIRS {
        let dir = root.join(format!("app-{:03}/logs", d));
        std::fs::create_dir_all(&dir).expect("tree dir");
        for f in 0..TREE_FILES / TREE_DIRS {
            let name = if f % 10 == 0 {
                format!("trace-{f}.etl")
            } else {
                format!("call-{f}.log")
            };
            std::fs::write(dir.join(name), b"2026-11-24T10:00:00Z [INFO] x\n").expect("tree file");
        }
    }
}

fn time_find(root: &Path, extra: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new("find")
        .arg(root)
        .args(["-type", "f", "-name", "*.log"])
        .args(extra)
        .output()
        .expect("run find");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "find failed");
    let listed = out.stdout.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(listed, TREE_FILES * 9 / 10, "find lists every .log file");
    elapsed
}

fn time_index(root: &Path) -> Duration {
    let start = Instant::now();
    let index = Index::start_with(vec![source(root)], Options::default(), |_| {});
    assert!(index.wait_ready(Duration::from_secs(120)), "index ready");
    let elapsed = start.elapsed();
    let files = index.snapshot()[0].files.len();
    assert_eq!(
        files,
        TREE_FILES * 9 / 10,
        "the index lists every .log file"
    );
    elapsed
}

fn latency(root: &Path) -> Vec<Duration> {
    std::fs::create_dir_all(root).expect("live dir");
    let (tx, rx) = mpsc::channel::<(PathBuf, Instant)>();
    let index = Index::start_with(vec![source(root)], Options::default(), move |event| {
        if let IndexEvent::FileAdded { file } = event {
            let _ = tx.send((PathBuf::from(file.path), Instant::now()));
        }
    });
    assert!(index.wait_ready(Duration::from_secs(10)), "index ready");
    // Event paths are shown with the home folder as `~`; the temp folder is not under it here.
    let mut created = HashMap::new();
    for i in 0..LATENCY_FILES {
        let path = root.join(format!("new-{i}.log"));
        created.insert(path.clone(), Instant::now());
        std::fs::write(&path, b"line\n").expect("new file");
        // A steady trickle, as logs are written, not one burst.
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut latencies = Vec::with_capacity(LATENCY_FILES);
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < LATENCY_FILES && Instant::now() < deadline {
        if let Ok((path, seen)) = rx.recv_timeout(Duration::from_millis(100))
            && let Some(made) = created.remove(&path)
        {
            latencies.push(seen.duration_since(made));
        }
    }
    assert_eq!(
        latencies.len(),
        LATENCY_FILES,
        "every new file reached the index"
    );
    latencies
}

pub fn child(root: Option<&Path>) {
    let _index = root.map(|root| {
        let index = Index::start_with(vec![source(root)], Options::default(), |_| {});
        assert!(index.wait_ready(Duration::from_secs(120)), "index ready");
        index
    });
    println!("{}", status_kib("VmHWM:"));
}

fn child_peak_rss(args: &[&str]) -> u64 {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe).args(args).output().expect("run child");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("child prints KiB")
}

/// A `/proc/self/status` value in KiB.
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("status field")
}

/// User plus system CPU time of this process (Linux counts it in ticks of 1/100 s).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("stat format") + 2..]
        .split_whitespace()
        .collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
