//! The server's backends, in the same run: reports per second with bundles kept in the data folder
//! against Azure Blob Storage (Azurite on loopback); one instance against two on one PostgreSQL
//! database and one container; and the server's memory per concurrent upload into the blob store.
//! Each configuration gets fresh storage every round (a repeated bundle would be answered without
//! being stored); medians of three.

use std::path::Path;
use std::time::Duration;

use callsupport_ticket_server::testing::{Azurite, Postgres};

use crate::measure::median;
use crate::upload::{ServerProcess, bundles, post_all, random_file};

/// Reports a round, each of this many MiB, from this many clients at once.
const REPORTS: usize = 64;
const MIB_EACH: usize = 4;
const CLIENTS: usize = 16;
const ROUNDS: usize = 3;

pub fn run() {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-backends-")
        .tempdir()
        .expect("temp dir");
    let root = dir.path();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let azurite = runtime.block_on(Azurite::start());
    let postgres = Postgres::start();
    let logs = root.join("logs");
    random_file(&logs.join("acs_0.blog"), MIB_EACH << 20, 11);
    let paths = bundles(&logs, &root.join("bundles"), REPORTS);
    let megabytes: f64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).expect("bundle").len() as f64 / 1e6)
        .sum();

    // Each configuration: how many instances, whether bundles go to the blob store and the
    // records to PostgreSQL.
    let mut results = Vec::new();
    for (name, instances, cloud) in [
        ("data folder, SQLite, 1 instance", 1, false),
        ("Azurite, SQLite, 1 instance", 1, true),
        ("Azurite, PostgreSQL, 1 instance", 1, true),
        ("Azurite, PostgreSQL, 2 instances", 2, true),
    ] {
        let postgres_records = name.contains("PostgreSQL");
        let mut times = Vec::new();
        for round in 0..ROUNDS {
            let tag = format!("{}-{round}", results.len());
            let mut flags: Vec<String> = Vec::new();
            if cloud {
                let container = format!("bench-{tag}");
                runtime.block_on(azurite.create_container(&container));
                flags.extend(["--blob-store".into(), format!("az://{container}")]);
            }
            if postgres_records {
                flags.extend([
                    "--database".into(),
                    postgres.database(&format!("bench_{}", tag.replace('-', "_"))),
                ]);
            }
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let servers: Vec<ServerProcess> = (0..instances)
                .map(|i| {
                    ServerProcess::start_with(
                        &root.join(format!("server-{tag}-{i}")),
                        &flags,
                        &azurite.environment(),
                    )
                })
                .collect();
            let urls: Vec<String> = servers.iter().map(ServerProcess::url).collect();
            times.push(post_all(&urls, &paths, CLIENTS));
        }
        results.push((name, median(&mut times)));
    }
    println!(
        "\nthe server's backends: {REPORTS} reports of {MIB_EACH} MiB from {CLIENTS} clients at once (median of {ROUNDS}, same run, loopback, 2 cores shared by everything)"
    );
    let folder = results[0].1;
    let one = results[2].1;
    for (name, time) in &results {
        println!(
            "  {name:<34} {:>6.2} s  {:>6.1} reports/s  {:>6.0} MB/s  {:>5.2}× the data folder's time",
            time.as_secs_f64(),
            REPORTS as f64 / time.as_secs_f64(),
            megabytes / time.as_secs_f64(),
            time.as_secs_f64() / folder.as_secs_f64()
        );
    }
    println!(
        "  two instances against one (both on PostgreSQL and Azurite): {:.2}× the throughput",
        one.as_secs_f64() / results[3].1.as_secs_f64()
    );

    memory_per_upload(root, &runtime, &azurite);
}

/// The server's memory under 50 concurrent 20 MiB uploads into the blob store: how much each
/// one costs above the idle server.
fn memory_per_upload(root: &Path, runtime: &tokio::runtime::Runtime, azurite: &Azurite) {
    let logs = root.join("logs-20");
    random_file(&logs.join("acs_0.blog"), 20 << 20, 21);
    let paths = bundles(&logs, &root.join("bundles-20"), 50);
    for (name, cloud) in [("data folder", false), ("Azurite", true)] {
        let mut flags = Vec::new();
        if cloud {
            runtime.block_on(azurite.create_container("bench-memory"));
            flags.extend(["--blob-store", "az://bench-memory"]);
        }
        let server = ServerProcess::start_with(
            &root.join(format!("server-memory-{name}")),
            &flags,
            &azurite.environment(),
        );
        std::thread::sleep(Duration::from_millis(300));
        let (idle, _) = server.memory();
        let elapsed = post_all(&[server.url()], &paths, 50);
        let (_, peak) = server.memory();
        println!(
            "  memory, 50 concurrent uploads of 20 MiB into the {name:<11}: idle {:>5.1} MiB, peak {:>6.1} MiB, {:>4.2} MiB an upload ({:.1} s)",
            idle as f64 / 1024.0,
            peak as f64 / 1024.0,
            (peak.saturating_sub(idle)) as f64 / 1024.0 / 50.0,
            elapsed.as_secs_f64()
        );
    }
}
