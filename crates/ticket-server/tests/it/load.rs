//! The server as its own process under load: 50 uploads of 20 MiB at once, 1 GiB in all. Its memory
//! must not follow the data: bundles stream to disk while they are hashed, they are never held.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use callsupport_bundle::SourceKind;
use callsupport_bundle::ticket::TicketRequest;

use crate::support::{SUBMIT_TOKEN, bundle_of_folder, random_bytes};

/// Peak resident memory of a process so far, in MiB (Linux: `VmHWM`).
#[cfg(not(windows))]
fn peak_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// Peak working set of a process so far, in MiB (Windows: `GetProcessMemoryInfo`).
#[cfg(windows)]
fn peak_mib(pid: u32) -> f64 {
    use windows_sys::Win32::Foundation::CloseHandle;
    use windows_sys::Win32::System::ProcessStatus::{
        GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
    };
    use windows_sys::Win32::System::Threading::{OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION};
    // SAFETY: the handle is checked, used once with a properly sized structure, and closed.
    unsafe {
        let process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
        assert!(!process.is_null(), "cannot open the server's process");
        let mut counters: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        counters.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        let ok = GetProcessMemoryInfo(process, &mut counters, counters.cb);
        CloseHandle(process);
        assert!(ok != 0, "cannot read the server's memory");
        counters.PeakWorkingSetSize as f64 / (1024.0 * 1024.0)
    }
}

#[test]
fn fifty_concurrent_20_mib_uploads_leave_the_server_memory_flat() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("acs_0.blog"), random_bytes(20 << 20, 3)).unwrap();
    let bundles: Vec<_> = (0..50)
        .map(|i| {
            let out = dir.path().join(format!("b{i}.zip"));
            let summary = format!("load {i}");
            bundle_of_folder(&out, "acs", SourceKind::Encrypted, &logs, &summary);
            let (request, bytes) = TicketRequest::for_file(&out).unwrap();
            (out, request, bytes)
        })
        .collect();

    let mut server = Command::new(env!("CARGO_BIN_EXE_callsupport-ticket-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("server"))
        .args(["--token", SUBMIT_TOKEN, "--rate-per-minute", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!(
        "{}/api/v1/tickets",
        line.trim().strip_prefix("listening on ").unwrap()
    );
    let idle = peak_mib(server.id());

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let statuses: Vec<u16> = runtime.block_on(async {
        let client = reqwest::Client::new();
        let uploads = bundles.into_iter().map(|(path, request, bytes)| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let file = tokio::fs::File::open(&path).await.unwrap();
                let form = reqwest::multipart::Form::new()
                    .part(
                        "report",
                        reqwest::multipart::Part::text(serde_json::to_string(&request).unwrap())
                            .mime_str("application/json")
                            .unwrap(),
                    )
                    .part(
                        "bundle",
                        reqwest::multipart::Part::stream_with_length(file, bytes)
                            .file_name("bundle.zip")
                            .mime_str("application/zip")
                            .unwrap(),
                    );
                client
                    .post(&url)
                    .bearer_auth(SUBMIT_TOKEN)
                    .header("Idempotency-Key", request.bundle_id.to_string())
                    .multipart(form)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        });
        let mut statuses = Vec::new();
        for upload in uploads.collect::<Vec<_>>() {
            statuses.push(upload.await.unwrap());
        }
        statuses
    });
    let peak = peak_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    assert!(statuses.iter().all(|&s| s == 201), "{statuses:?}");
    // 1 GiB went through; the server held a few buffers per connection, never a bundle.
    assert!(
        peak < 200.0,
        "the server peaked at {peak:.1} MiB (idle {idle:.1} MiB) for 50 concurrent 20 MiB uploads"
    );
    eprintln!("server memory: idle {idle:.1} MiB, peak {peak:.1} MiB over 1 GiB in 50 uploads");
}
