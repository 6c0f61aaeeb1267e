//! `cargo xtask test`: every suite, in the order that fails fastest.

use crate::util::{Stages, cmd, root, run as run_cmd};
use crate::{api_check, bare, deps, dist, windows};

pub fn run_all() -> anyhow::Result<()> {
    let root = root();
    let ui = root.join("ui");
    let mut stages = Stages::default();
    let result = (|| {
        stages.time(
            "xtask builds with no system library (pkg-config finds none)",
            || bare::xtask_builds_without_system_libraries(&root),
        )?;
        let (driver, st) = stages.time("install what is missing", || {
            deps::packages(&[deps::BUILD, deps::TEST, windows::PACKAGES])?;
            deps::node_modules()?;
            deps::azurite()?;
            deps::moto()?;
            Ok((deps::tauri_driver()?, deps::schemathesis()?))
        })?;
        stages.time("Rust: format (cargo fmt --check)", || {
            run_cmd(&mut cmd("cargo", &["fmt", "--all", "--", "--check"], &root))
        })?;
        stages.time("UI: types and Svelte checks (svelte-check)", || {
            run_cmd(&mut cmd("npm", &["run", "--silent", "check"], &ui))
        })?;
        stages.time("UI: unit tests (vitest)", || {
            run_cmd(&mut cmd("npm", &["test", "--silent"], &ui))
        })?;
        stages.time("UI: build (vite)", || {
            run_cmd(&mut cmd("npm", &["run", "--silent", "build"], &ui))
        })?;
        stages.time("Rust: build", || {
            run_cmd(&mut cmd(
                "cargo",
                &["build", "--workspace", "--all-targets"],
                &root,
            ))
        })?;
        stages.time("Rust: lints (clippy -D warnings)", || {
            run_cmd(&mut cmd(
                "cargo",
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
                &root,
            ))
        })?;
        stages.time("Rust: unit and integration tests", || {
            run_cmd(&mut cmd("cargo", &["test", "--workspace"], &root))
        })?;
        stages.time(
            "API: schemathesis against the reference server's OpenAPI document",
            || api_check::schemathesis(&root, &st),
        )?;
        // Windows: every crate checked and linted for Windows (the app's Windows code included),
        // and the test suites of the crates that ship for Windows run under Wine.
        windows::time_stages(&mut stages, &root)?;
        let e2e = |out: &str, theme: Option<&str>| {
            let app = root.join("target/debug/callsupport-app");
            let out = root.join(out);
            let driver = driver.to_string_lossy().into_owned();
            let (app, out) = (
                app.to_string_lossy().into_owned(),
                out.to_string_lossy().into_owned(),
            );
            let mut command = cmd(
                "cargo",
                &[
                    "run",
                    "--quiet",
                    "-p",
                    "callsupport-e2e",
                    "--",
                    "--app",
                    &app,
                    "--tauri-driver",
                    &driver,
                    "--out",
                    &out,
                ],
                &root,
            );
            match theme {
                Some(theme) => command.env("GTK_THEME", theme),
                None => command.env_remove("GTK_THEME"),
            };
            run_cmd(&mut command)
        };
        stages.time(
            "end-to-end: the real app under Xvfb through WebDriver",
            || e2e("target/e2e", None),
        )?;
        // The same screens in the dark theme the system asks for: axe-core checks each again
        // (contrast above all); screenshots in target/e2e-dark.
        stages.time("end-to-end again in the dark theme", || {
            e2e("target/e2e-dark", Some("Adwaita:dark"))
        })?;
        // What ships (cargo xtask dist), under its size budgets: the .deb and .rpm installed
        // into a throwaway root, the Windows installers into throwaway Wine prefixes, used, and
        // removed again.
        dist::build_and_check(true, true, &mut stages)
    })();
    stages.print();
    result
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    match args {
        [] => run_all(),
        [only] if only == "api" => api_only(),
        [arg, ..] => anyhow::bail!(
            "`cargo xtask test` takes no argument but `api` (the API conformance stage alone); got `{arg}`"
        ),
    }
}

/// `cargo xtask test api`: the API conformance stage alone, for work on the server's routes.
fn api_only() -> anyhow::Result<()> {
    let root = root();
    let st = deps::schemathesis()?;
    run_cmd(&mut cmd(
        "cargo",
        &[
            "build",
            "-p",
            "callsupport-ticket-server",
            "-p",
            "callsupport-cli",
        ],
        &root,
    ))?;
    api_check::schemathesis(&root, &st)
}
