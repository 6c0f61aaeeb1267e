//! Seeds for the bundle reader's fuzz target: small real bundles made by the bundle writer, so the
//! fuzzer starts from valid zips and manifests and mutates its way into the hostile ones.

use std::path::Path;

use callsupport_desk::collect::{Plan, collect};
use callsupport_desk::config::Config;
use callsupport_desk::consent::{Destination, Statement};
use callsupport_desk::report::Report;

/// Writes a few small bundles (stored and deflated entries, redaction on and off) into `dir`.
pub fn write(dir: &Path) {
    std::fs::create_dir_all(dir).expect("seed folder");
    let logs = tempfile::tempdir().expect("temp dir");
    let root = logs.path();
    std::fs::create_dir_all(root.join("app")).expect("log folder");
    std::fs::create_dir_all(root.join("acs")).expect("log folder");
    std::fs::create_dir_all(root.join("ops")).expect("log folder");
    std::fs::write(
        root.join("app/app.log"),
        "2026-11-24T10:00:00Z INFO jane@contoso.com joined 92d800c4-abde-40be-91e9-3814ee786b19 from 10.1.2.3\n"
            .repeat(8),
    )
    .expect("seed log");
    std::fs::write(
        root.join("ops/operations.jsonl"),
        r#"{"CallId":"92d800c4-abde-40be-91e9-3814ee786b19","OperationName":"Join","ResultType":"Failed","ResultSignature":"500","DurationMs":"1200"}
"#,
    )
    .expect("seed log");
    let opaque: Vec<u8> = (0u32..300)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(root.join("acs/acs_0.blog"), opaque).expect("seed log");
    let config = format!(
        "[ticket_api]\nurl = \"http://127.0.0.1:9/t\"\n\
         [[sources]]\nid = \"app\"\nname = \"App\"\nroot = '{0}/app'\nkind = \"text\"\n\
         [[sources]]\nid = \"ops\"\nname = \"Ops\"\nroot = '{0}/ops'\nkind = \"call-operations\"\n\
         [[sources]]\nid = \"acs\"\nname = \"SDK\"\nroot = '{0}/acs'\nkind = \"encrypted\"\n",
        root.display()
    );
    let config = Config::parse(Path::new("seed.toml"), &config).expect("seed config");
    let (plan, _) = Plan::from_config(&config).expect("seed plan");
    for redaction in [true, false] {
        let statement = Statement::new(&plan, &Destination::File, redaction);
        let consent = statement.agreed(&Destination::File, redaction);
        let out = dir.join(format!("bundle-redaction-{redaction}.zip"));
        let _ = std::fs::remove_file(&out);
        collect(&plan, Report::new("seed"), consent, &out, |_| true).expect("seed bundle");
    }
}
