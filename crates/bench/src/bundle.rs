//! Bundles: `callsupport collect` against Info-ZIP's `zip -r -6` on the same corpus of about
//! 1.4 GiB (the bundle passes 1 GiB), in the same run; output sizes, peak memory of each, and
//! `callsupport verify` speed.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use crate::measure::{measure, median, mib};

/// The corpus: ACS-like encrypted logs (a few over 100 MiB, many small), call-operations records
/// and plain text logs, about 1.4 GiB in all.
fn make_corpus(root: &Path) -> u64 {
    let mut total = 0;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = |len: usize| {
        let mut bytes = vec![0u8; len];
        for chunk in bytes.chunks_mut(8) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            chunk.copy_from_slice(&rng.to_le_bytes()[..chunk.len()]);
        }
        bytes
    };
    let acs = root.join("acs/LocalState/logs");
    std::fs::create_dir_all(&acs).expect("corpus dir");
    // Eight of these make the bundle itself pass 1 GiB (they do not compress), the size the
    // viewer's overview goal names.
    for i in 0..8 {
        total += write(&acs.join(format!("acs_sdk_{i}.blog")), &random(110 << 20));
    }
    for i in 0..200 {
        total += write(&acs.join(format!("media_stack_{i}.blog")), &random(1 << 20));
    }
    let ops = root.join("call-operations");
    std::fs::create_dir_all(&ops).expect("corpus dir");
    for i in 0..20 {
        total += write(
            &ops.join(format!("operations-{i:02}.jsonl")),
            &call_operations(5 << 20, i),
        );
    }
    let app = root.join("app");
    std::fs::create_dir_all(app.join("old")).expect("corpus dir");
    total += write(&app.join("calling-app.log"), &text_log(110 << 20, 0));
    for i in 0..1500 {
        total += write(
            &app.join(format!("old/calling-app.{i}.log")),
            &text_log(64 << 10, i),
        );
    }
    total
}

fn write(path: &Path, bytes: &[u8]) -> u64 {
    std::fs::write(path, bytes).expect("corpus file");
    bytes.len() as u64
}

fn call_operations(len: usize, seed: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 1024);
    let mut n = seed * 1_000_003;
    while out.len() < len {
        n += 1;
        let result = if n.is_multiple_of(17) {
            ("Failed", 500)
        } else {
            ("Succeeded", 200)
        };
        writeln!(
            out,
            r#"{{"CallClientTimeStamp":"2026-11-24T10:{:02}:{:02}.{:03}Z","OperationName":"{}","CallId":"92d800c4-abde-40be-91e9-{:012x}","ParticipantId":"2656fd6c-6d4a-451d-a1a5-{:012x}","OperationType":"client-api-request","OperationId":"0d987336-37e0-4acc-aba3-{:012x}","DurationMs":"{}","ResultType":"{}","ResultSignature":"{}","SdkVersion":"1.31.1.0","UserAgent":"azsdk-js-communication-calling/1.31.1 (javascript_calling_sdk)","ClientInstanceId":"d08a3d05-db90-415f-88a7-87ae74edc1dd","EndpointId":"{:012x}","OperationPayload":"{{}}"}}"#,
            (n / 60) % 60,
            n % 60,
            n % 1000,
            ["Join", "CreateView", "Mute", "Unmute", "StartVideo", "HangUp"][n % 6],
            n / 50,
            n / 7,
            n,
            (n * 37) % 10_000,
            result.0,
            result.1,
            n % 4096
        )
        .expect("write to memory");
    }
    out
}

pub fn text_log(len: usize, seed: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 256);
    let mut n = seed * 7919;
    let levels = ["INFO ", "DEBUG", "WARN ", "INFO ", "ERROR"];
    while out.len() < len {
        n += 1;
        let text = match n % 9 {
            0 => format!(
                "user{}@contoso.com joined call 5f3a{:04x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                n % 97,
                n % 65536
            ),
            1 => format!(
                "media: local 192.168.{}.{} remote 52.{}.{}.{}:3478 rtt {} ms",
                n % 255,
                (n / 7) % 255,
                n % 200,
                (n / 3) % 255,
                (n / 11) % 255,
                n % 300
            ),
            2 => format!(
                "GET https://api.contoso.example/v1/calls?token=eyJhbGciOiJIUzI1NiJ9.{:x}.sig answered 200 in {} ms",
                n,
                n % 900
            ),
            3 => format!(
                "audio device changed: Headset ({}) sample rate 48000",
                n % 5
            ),
            _ => format!(
                "frame stats: sent {} received {} lost {} jitter {} ms",
                n * 3,
                n * 3 - n % 7,
                n % 7,
                n % 40
            ),
        };
        writeln!(
            out,
            "2026-11-24T10:{:02}:{:02}.{:03}Z [{}] {text}",
            (n / 60) % 60,
            n % 60,
            n % 1000,
            levels[n % 5]
        )
        .expect("write to memory");
    }
    out
}

pub fn run(cli: &Path) {
    let dir = tempfile::Builder::new()
        .prefix("callsupport-bench-bundle-")
        .tempdir()
        .expect("temp dir");
    let corpus = dir.path().join("corpus");
    let started = Instant::now();
    let bytes = make_corpus(&corpus);
    println!(
        "\ncorpus: {:.0} MiB (encrypted .blog, call-operations JSON lines, text logs), made in {:.1} s",
        mib(bytes),
        started.elapsed().as_secs_f64()
    );
    let config = dir.path().join("bench.toml");
    std::fs::write(&config, config_text(&corpus)).expect("bench config");

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut our_size, mut their_size, mut our_peak, mut their_peak) = (0, 0, 0, 0);
    for run in 0..3 {
        let zip_out = dir.path().join(format!("zip-{run}.zip"));
        let (t, peak) = measure(
            Path::new("zip"),
            &["-r", "-6", "-q", zip_out.to_str().expect("utf-8"), "."],
            &corpus,
        );
        theirs.push(t);
        their_peak = their_peak.max(peak);
        their_size = std::fs::metadata(&zip_out).expect("zip output").len();
        std::fs::remove_file(&zip_out).expect("remove zip output");

        let our_out = dir.path().join(format!("ours-{run}.zip"));
        let args = [
            "--config",
            config.to_str().expect("utf-8"),
            "collect",
            "--yes",
            "--out",
            our_out.to_str().expect("utf-8"),
            "--summary",
            "bench",
        ];
        let (t, peak) = measure(cli, &args, dir.path());
        ours.push(t);
        our_peak = our_peak.max(peak);
        our_size = std::fs::metadata(&our_out).expect("bundle").len();
        if run < 2 {
            std::fs::remove_file(&our_out).expect("remove bundle");
        }
    }
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!(
        "collect (redaction on, the default) vs zip -r -6 (median of 3, same corpus, same run)"
    );
    println!(
        "  callsupport collect {:>8.2} s  {:>8.1} MiB  peak RSS {:>6.1} MiB",
        ours.as_secs_f64(),
        mib(our_size),
        our_peak as f64 / 1024.0
    );
    println!(
        "  zip -r -6           {:>8.2} s  {:>8.1} MiB  peak RSS {:>6.1} MiB",
        theirs.as_secs_f64(),
        mib(their_size),
        their_peak as f64 / 1024.0
    );
    println!(
        "  speed {:.2}x zip (goal: at least 4x); size {:+.2}% against zip (goal: at most +2%)",
        theirs.as_secs_f64() / ours.as_secs_f64(),
        100.0 * (our_size as f64 - their_size as f64) / their_size as f64
    );

    if let Some(wine_cli) = std::env::var_os(WINE_CLI_ENV) {
        under_wine(Path::new(&wine_cli), &corpus, dir.path(), ours);
    }

    let bundle = dir.path().join("ours-2.zip");
    let (t, peak) = measure(
        cli,
        &["verify", bundle.to_str().expect("utf-8")],
        dir.path(),
    );
    println!(
        "verify: {:.0} MB/s over {:.0} MiB of files, peak RSS {:.1} MiB",
        bytes as f64 / 1e6 / t.as_secs_f64(),
        mib(bytes),
        peak as f64 / 1024.0
    );
    crate::viewer::overview(&bundle);
}

/// The Windows CLI (`callsupport.exe`, release build) to run under Wine on the same corpus; set by
/// `cargo xtask bench`, with the Wine prefix in `WINEPREFIX`.
const WINE_CLI_ENV: &str = "CALLSUPPORT_BENCH_WINE_CLI";

/// `collect` by the Windows build under Wine against the Linux build's median `linux`: what Wine
/// costs here, not what Windows would.
fn under_wine(wine_cli: &Path, corpus: &Path, dir: &Path, linux: std::time::Duration) {
    // Wine sees this machine's files on drive Z:, and TOML takes `/` in Windows paths.
    let drive_z = |path: &Path| format!("Z:{}", path.display());
    let config = dir.join("bench-wine.toml");
    std::fs::write(&config, config_text_at(&drive_z(corpus))).expect("bench config");
    let mut times = Vec::new();
    let (mut size, mut peak_max) = (0, 0);
    for run in 0..3 {
        let out = dir.join(format!("wine-{run}.zip"));
        let args = [
            wine_cli.to_str().expect("utf-8"),
            "--config",
            &drive_z(&config),
            "collect",
            "--yes",
            "--out",
            &drive_z(&out),
            "--summary",
            "bench",
        ];
        let (t, peak) = measure(Path::new("wine"), &args, dir);
        times.push(t);
        peak_max = peak_max.max(peak);
        size = std::fs::metadata(&out).expect("bundle under Wine").len();
        std::fs::remove_file(&out).expect("remove bundle");
    }
    let wine = median(&mut times);
    println!(
        "collect, the Windows build under Wine 8 vs the Linux build (median of 3, same corpus)"
    );
    println!(
        "  under Wine          {:>8.2} s  {:>8.1} MiB  peak RSS {:>6.1} MiB (Wine's loader included)",
        wine.as_secs_f64(),
        mib(size),
        peak_max as f64 / 1024.0
    );
    println!(
        "  {:.2}x the Linux build's time (what Wine and the Windows build cost here, not what \
         Windows would)",
        wine.as_secs_f64() / linux.as_secs_f64()
    );
}

fn config_text(corpus: &Path) -> String {
    config_text_at(&corpus.display().to_string())
}

fn config_text_at(root: &str) -> String {
    format!(
        r#"[ticket_api]
url = "http://127.0.0.1:9/api/v1/tickets"

[[sources]]
id = "acs"
name = "Calling SDK logs"
root = "{root}/acs"
include = ["**/*.blog"]
kind = "encrypted"

[[sources]]
id = "call-operations"
name = "Call records"
root = "{root}/call-operations"
include = ["*.jsonl"]
kind = "call-operations"

[[sources]]
id = "app"
name = "App log"
root = "{root}/app"
include = ["**/*.log"]
kind = "text"

[collection]
max_age_days = 30
max_bundle_mb = 4096
"#
    )
}
