//! The agent's background thread: sends what waits in the outbox (shortly after start, every
//! few minutes, and as soon as the service can be reached again; `callsupport-desk` decides, this only
//! ticks), runs a detection pass every couple of seconds ([`crate::detect`]) and notices when the
//! configuration files change, so a new shortcut, ticket API, login start or detection rule takes
//! effect without a restart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use callsupport_desk::api::Desk;
use callsupport_desk::config::{Config, ConfigFiles, load_layered};
use callsupport_desk::outbox::Tending;
use tao::event_loop::EventLoopProxy;

use crate::AgentEvent;
use crate::autostart::LoginStart;
use crate::detect::Detecting;

/// How often the configuration files' times are looked at.
const CONFIG_CHECK: Duration = Duration::from_secs(2);
/// The first outbox pass, after start.
const FIRST_PASS: Duration = Duration::from_secs(5);

pub fn start(
    files: ConfigFiles,
    config: Option<Config>,
    data_dir: PathBuf,
    login: LoginStart,
    proxy: EventLoopProxy<AgentEvent>,
) {
    let spawned = std::thread::Builder::new()
        .name("outbox".to_owned())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(run(files, config, data_dir, login, proxy)),
                Err(err) => log::error!("outbox: no runtime: {err}"),
            }
        });
    if let Err(err) = spawned {
        log::error!("outbox: no thread: {err}");
    }
}

async fn run(
    files: ConfigFiles,
    config: Option<Config>,
    data_dir: PathBuf,
    login: LoginStart,
    proxy: EventLoopProxy<AgentEvent>,
) {
    let mut stamps = Stamps::of(&files);
    let mut shortcut = config.as_ref().and_then(|c| c.shortcut.report());
    let mut detecting = Detecting::new(config.as_ref(), data_dir.clone(), proxy.clone());
    let mut desk = config.map(|config| Desk::for_delivery(config, data_dir.clone()));
    let mut tending = Tending::default();
    let mut next_pass = Instant::now() + FIRST_PASS;
    loop {
        tokio::time::sleep(CONFIG_CHECK).await;
        let now = Stamps::of(&files);
        if now != stamps {
            stamps = now;
            match load_layered(&files) {
                Ok(layered) => {
                    log::info!("configuration changed; reloaded");
                    let new_shortcut = layered.config.shortcut.report();
                    if new_shortcut != shortcut {
                        shortcut = new_shortcut.clone();
                        let _ = proxy.send_event(AgentEvent::ShortcutChanged(new_shortcut));
                    }
                    login.set(layered.config.startup.at_login);
                    detecting.configure(&layered.config);
                    desk = Some(Desk::for_delivery(layered.config, data_dir.clone()));
                }
                // The last good one stays in effect.
                Err(err) => log::warn!("configuration changed but cannot be used: {err}"),
            }
        }
        detecting.tick();
        if Instant::now() < next_pass {
            continue;
        }
        next_pass = Instant::now() + Tending::TICK;
        if let Some(desk) = &desk {
            desk.tend_outbox_logged(&mut tending).await;
        }
    }
}

/// When each configuration file was last changed (`None`: absent).
#[derive(PartialEq)]
struct Stamps(Vec<Option<SystemTime>>);

impl Stamps {
    fn of(files: &ConfigFiles) -> Stamps {
        let modified = |path: &Option<PathBuf>| {
            path.as_deref()
                .and_then(|p: &Path| std::fs::metadata(p).ok())
                .and_then(|m| m.modified().ok())
        };
        Stamps(vec![modified(&files.managed), modified(&files.user)])
    }
}
