//! The detection prompt as a desktop notification (the freedesktop notification service over
//! D-Bus; a toast on Windows): what was noticed in plain words, *Report it* (on Linux also a
//! click on the notification), *Not now* and *Don't ask again for this app*. Each notification
//! waits for its answer on a thread of its own, so the agent goes on meanwhile.
//!
//! On Windows the toast carries the app's identity ([`APP_ID`]), whose name and icon the
//! installers register under `Software\Classes\AppUserModelId`, so it says *Call Support*.

use std::sync::mpsc::Sender;

use callsupport_desk::detect::Rule;
use callsupport_desk::detect::journal::Detected;
use notify_rust::{Notification, Timeout};
use tao::event_loop::EventLoopProxy;

use crate::AgentEvent;
use crate::detect::Answer;

/// The app's identity for Windows toasts (the installers register it).
#[cfg(windows)]
pub const APP_ID: &str = "com.callsupport.desktop";

/// The actions' keys; `default` is a click on the notification itself.
const REPORT: &str = "report";
const LATER: &str = "later";
const MUTE: &str = "mute";

pub fn prompt(
    first: &Detected,
    with: &[&Detected],
    answers: Sender<Answer>,
    proxy: EventLoopProxy<AgentEvent>,
) {
    let detection = first.detection.clone();
    let more: Vec<String> = with.iter().map(|d| d.detection.summary.clone()).collect();
    let mut body = String::new();
    if let Some(at) = detection.occurred_at {
        let at = at.with_timezone(&chrono::Local).format("%H:%M");
        body.push_str(&match detection.rule {
            Rule::Pattern { .. } => format!("Noticed at {at}. "),
            _ => format!("The call that ended at {at}. "),
        });
    }
    if !more.is_empty() {
        body.push_str(&format!("Also: {}. ", more.join("; ")));
    }
    body.push_str("Report it so support can see what happened, while the logs still hold it.");
    let spawned = std::thread::Builder::new()
        .name("prompt".to_owned())
        .spawn(move || {
            let mut notification = Notification::new();
            notification
                .appname("Call Support")
                .summary(&detection.summary)
                .body(&body)
                .icon("dialog-warning");
            // A toast turns every action into a button, and reports a click on itself as no
            // action at all: there the buttons alone answer.
            #[cfg(not(windows))]
            notification.action("default", "Report it");
            #[cfg(windows)]
            notification.app_id(APP_ID);
            let shown = notification
                .action(REPORT, "Report it")
                .action(LATER, "Not now")
                .action(MUTE, "Don't ask again for this app")
                .timeout(Timeout::Never)
                .show();
            let handle = match shown {
                Ok(handle) => handle,
                Err(err) => {
                    log::warn!("detection: no notification service to ask the user: {err}");
                    return;
                }
            };
            log::info!("detection: asked the user about {}", detection.id);
            handle.wait_for_action(|action| match action {
                "default" | REPORT => {
                    log::info!("detection: the user chose to report {}", detection.id);
                    let _ = proxy.send_event(AgentEvent::ReportDetected(detection.id.clone()));
                }
                MUTE => {
                    let _ = answers.send(Answer::Mute(detection.source_id.clone()));
                }
                _ => log::info!("detection: not now ({action})"),
            });
        });
    if let Err(err) = spawned {
        log::error!("detection: no thread for the prompt: {err}");
    }
}
