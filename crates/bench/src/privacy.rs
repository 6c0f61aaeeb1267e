//! Privacy's cost: `callsupport collect` with redaction on and off against Info-ZIP's `zip -r -6`
//! on a corpus where most bytes are readable (40% call-operations JSON lines with random ids, 30%
//! text logs, a third of them gzip files, 30% encrypted), in the same run; then sealing a bundle
//! with age in-process against Debian's `age -r` on the same file.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::measure::{measure, median, mib};

/// The corpus's size: large enough that start-up is noise, small enough for a shared 2-core box.
const CORPUS_BYTES: usize = 640 << 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
        }
        bytes
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }
}

/// Call-operations records as the Calling SDK writes them, every id random.
fn call_operations(len: usize, rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 1024);
    let operations = [
        "Join",
        "CreateView",
        "Mute",
        "Unmute",
        "StartVideo",
        "HangUp",
    ];
    let mut n = 0u64;
    while out.len() < len {
        n += 1;
        let failed = n.is_multiple_of(17);
        writeln!(
            out,
            r#"{{"CallClientTimeStamp":"2026-11-24T10:{:02}:{:02}.{:03}Z","OperationName":"{}","CallId":"{}","ParticipantId":"{}","OperationType":"client-api-request","OperationId":"{}","DurationMs":"{}","ResultType":"{}","ResultSignature":"{}","SdkVersion":"1.31.1.0","UserAgent":"azsdk-js-communication-calling/1.31.1 (javascript_calling_sdk)","ClientInstanceId":"{}","EndpointId":"{:012x}","OperationPayload":"{{}}"}}"#,
            (n / 60) % 60,
            n % 60,
            n % 1000,
            operations[(n % 6) as usize],
            rng.uuid(),
            rng.uuid(),
            rng.uuid(),
            rng.next() % 10_000,
            if failed { "Failed" } else { "Succeeded" },
            if failed { 500 } else { 200 },
            rng.uuid(),
            rng.next() & 0xffff_ffff_ffff,
        )
        .expect("write to memory");
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip in memory");
    encoder.finish().expect("gzip in memory")
}

/// Writes the corpus; returns its bytes on disk and how many of them are gzip files.
fn make_corpus(root: &Path) -> (u64, u64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut total, mut gz) = (0u64, 0u64);
    let write = |dir: &str, name: String, bytes: &[u8]| {
        let dir = root.join(dir);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join(name), bytes).expect("corpus file");
        bytes.len() as u64
    };
    let ops_each = 8 << 20;
    for i in 0..(CORPUS_BYTES * 4 / 10) / ops_each {
        total += write(
            "call-operations",
            format!("operations-{i:02}.jsonl"),
            &call_operations(ops_each, &mut rng),
        );
    }
    // Text: two thirds plain logs, one third Chrome-style gzip files of the same kind of text
    // (counted by the text they hold, so the readable share stays 30%).
    let text_each = 4 << 20;
    let text_files = (CORPUS_BYTES * 3 / 10) / text_each;
    for i in 0..text_files {
        let text = crate::bundle::text_log(text_each, i * 31);
        if i % 3 == 2 {
            let packed = gzip(&text);
            gz += packed.len() as u64;
            total += write(
                "app/WebRTC Logs",
                format!("{}.gz", 1_733_565_731 + i),
                &packed,
            );
        } else {
            total += write("app", format!("calling-app.{i}.log"), &text);
        }
    }
    let blob_each = 16 << 20;
    for i in 0..(CORPUS_BYTES * 3 / 10) / blob_each {
        total += write("acs", format!("acs_sdk_{i}.blog"), &rng.bytes(blob_each));
    }
    (total, gz)
}

fn config_text(root: &Path, redact: bool) -> String {
    let root = root.display();
    format!(
        r#"[ticket_api]
url = "http://127.0.0.1:9/api/v1/tickets"

[[sources]]
id = "acs"
name = "Calling SDK logs"
root = "{root}/acs"
include = ["*.blog"]
kind = "encrypted"

[[sources]]
id = "call-operations"
name = "Call records"
root = "{root}/call-operations"
include = ["*.jsonl"]
kind = "call-operations"

[[sources]]
id = "app"
name = "App logs"
root = "{root}/app"
include = ["**/*.log", "**/*.gz"]
kind = "text"

[collection]
max_age_days = 30
max_bundle_mb = 4096

[privacy]
redact = {redact}
"#
    )
}

pub fn run(cli: &Path) {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-privacy-")
        .tempdir()
        .expect("temp dir");
    let corpus = dir.path().join("corpus");
    let started = Instant::now();
    let (bytes, gz) = make_corpus(&corpus);
    println!(
        "\nprivacy corpus: {:.0} MiB (40% call-operations JSON lines with random ids, 30% text logs of which {:.0} MiB gzip files, 30% encrypted), made in {:.1} s",
        mib(bytes),
        mib(gz),
        started.elapsed().as_secs_f64()
    );

    let mut zip_times = Vec::new();
    let (mut zip_size, mut zip_peak) = (0, 0);
    let mut ours: [(Vec<std::time::Duration>, u64, u64); 2] = Default::default();
    for run in 0..3 {
        let out = dir.path().join("zip.zip");
        let (t, peak) = measure(
            Path::new("zip"),
            &["-r", "-6", "-q", out.to_str().expect("utf-8"), "."],
            &corpus,
        );
        zip_times.push(t);
        zip_peak = zip_peak.max(peak);
        zip_size = std::fs::metadata(&out).expect("zip output").len();
        std::fs::remove_file(&out).expect("remove zip output");
        for (slot, redact) in [true, false].into_iter().enumerate() {
            let config = dir.path().join(format!("privacy-{redact}.toml"));
            std::fs::write(&config, config_text(&corpus, redact)).expect("bench config");
            let out = dir.path().join(format!("ours-{redact}-{run}.zip"));
            let (t, peak) = measure(
                cli,
                &[
                    "--config",
                    config.to_str().expect("utf-8"),
                    "collect",
                    "--yes",
                    "--out",
                    out.to_str().expect("utf-8"),
                    "--summary",
                    "bench",
                ],
                dir.path(),
            );
            let entry = &mut ours[slot];
            entry.0.push(t);
            entry.1 = std::fs::metadata(&out).expect("bundle").len();
            entry.2 = entry.2.max(peak);
            if run < 2 || !redact {
                std::fs::remove_file(&out).expect("remove bundle");
            }
        }
    }
    let zip_median = median(&mut zip_times);
    println!("collect vs zip -r -6 (median of 3, same corpus, same run)");
    println!(
        "  zip -r -6               {:>7.2} s  {:>7.1} MiB  peak RSS {:>6.1} MiB",
        zip_median.as_secs_f64(),
        mib(zip_size),
        zip_peak as f64 / 1024.0
    );
    for (slot, label) in ["collect, redaction on ", "collect, redaction off"]
        .iter()
        .enumerate()
    {
        let (times, size, peak) = &mut ours[slot];
        let t = median(times);
        println!(
            "  {label}  {:>7.2} s  {:>7.1} MiB  peak RSS {:>6.1} MiB   {:.2}x zip's speed, size {:+.2}% (goals: at least 4x, at most +2%, under 64 MiB)",
            t.as_secs_f64(),
            mib(*size),
            *peak as f64 / 1024.0,
            zip_median.as_secs_f64() / t.as_secs_f64(),
            100.0 * (*size as f64 - zip_size as f64) / zip_size as f64
        );
    }
    sealing(dir.path(), &dir.path().join("ours-true-2.zip"));
}

/// Sealing the redacted bundle: in-process with `callsupport-seal` against `age -r`.
fn sealing(dir: &Path, bundle: &Path) {
    let identities = callsupport_desk::seal::Identities::generate();
    let recipients =
        callsupport_desk::seal::Recipients::parse(&identities.public_keys()).expect("a key");
    let size = std::fs::metadata(bundle).expect("bundle").len();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let out = dir.join("ours.age");
        let started = Instant::now();
        let mut input = std::io::BufReader::new(std::fs::File::open(bundle).expect("bundle"));
        let mut output = std::io::BufWriter::new(std::fs::File::create(&out).expect("out"));
        callsupport_desk::seal::seal(&mut input, &mut output, &recipients).expect("seal");
        output.flush().expect("flush");
        drop(output);
        ours.push(started.elapsed());
        std::fs::remove_file(&out).expect("remove");
        let out = dir.join("theirs.age");
        let key = &identities.public_keys()[0];
        let (t, _) = measure(
            Path::new("age"),
            &[
                "-r",
                key,
                "-o",
                out.to_str().expect("utf-8"),
                bundle.to_str().expect("utf-8"),
            ],
            dir,
        );
        theirs.push(t);
        std::fs::remove_file(&out).expect("remove");
    }
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!(
        "sealing a {:.0} MiB bundle (median of 3): ours {:.0} MB/s, age -r {:.0} MB/s ({:.2}x)",
        mib(size),
        size as f64 / 1e6 / ours.as_secs_f64(),
        size as f64 / 1e6 / theirs.as_secs_f64(),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
}
