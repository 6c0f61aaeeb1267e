//! Faults injected between the steps of storing a ticket or forwarding it, for the tests that
//! fail a store, panic or kill the server there.
//!
//! # Brief overview
//!
//! [`step`] is called before each step of a commit, with the step's name (`pend`, `put`,
//! `record`, `finish`), and before each attempt at a forward (`forward`). In debug builds,
//! `CALLSUPPORT_SERVER_FAULT=STEP:fail` makes that step fail once, as if its store had refused;
//! `STEP:panic` makes it panic once, as a bug would; `STEP:hold` stops it there for good, after
//! the line `held before STEP` on standard output, so a test can kill the process at that point.
//! Release builds have no faults: [`step`] is `Ok(())`.

/// The environment variable that names the fault.
pub const FAULT_ENV: &str = "CALLSUPPORT_SERVER_FAULT";

/// Before step `name` of a commit: an error or a wait forever when a fault is set for it.
#[cfg(debug_assertions)]
pub async fn step(name: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    static FAULT: OnceLock<Option<(String, String)>> = OnceLock::new();
    static FIRED: AtomicBool = AtomicBool::new(false);
    let fault = FAULT.get_or_init(|| {
        let value = std::env::var(FAULT_ENV).ok()?;
        let (step, action) = value.split_once(':')?;
        Some((step.to_owned(), action.to_owned()))
    });
    let Some((step, action)) = fault else {
        return Ok(());
    };
    if step != name || FIRED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    match action.as_str() {
        "fail" => anyhow::bail!("a fault was injected before `{name}`"),
        "panic" => panic!("a fault was injected before `{name}`"),
        "hold" => {
            {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "held before {name}");
                let _ = out.flush();
            }
            std::future::pending::<()>().await;
            unreachable!()
        }
        other => panic!("{FAULT_ENV}: `{other}` is none of fail, panic, hold"),
    }
}

/// Before step `name` of a commit: nothing, in a release build.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub async fn step(_name: &str) -> anyhow::Result<()> {
    Ok(())
}
