//! The IPC commands: each adapts one call into `callsupport-desk`, nothing more. Whatever touches the disk or the
//! network runs `async`, off the main thread, so the window never waits on it.

use callsupport_desk::api::logview::{Level, LogInfo, LogMatches, LogWindow};
use callsupport_desk::api::{
    ApiError, AppOverview, ConsentView, ExportReceipt, FilePreview, HistoryEntry, IntegrityView,
    OpenedBundle, QueuedReport, QueuedReports, ReportDraft, ScreenshotView, SendReceipt,
    SurveyAnswer, Viewer, suggested_folder,
};
use callsupport_desk::calls::Calls;
use callsupport_desk::calls::kql::{self, Query};
use callsupport_desk::config::settings::SettingsView;
use callsupport_desk::detect::journal::Detected;
use callsupport_desk::fetch::MadeLink;
use callsupport_desk::outbox::FlushSummary;
use callsupport_desk::progress::Progress;
use callsupport_desk::survey::Survey;
use tauri::State;
use tauri::ipc::Channel;

use crate::AppState;

#[tauri::command(async)]
pub fn overview(state: State<'_, AppState>) -> Result<AppOverview, ApiError> {
    Ok(state.desk()?.overview())
}

#[tauri::command(async)]
pub fn prepare_report(
    state: State<'_, AppState>,
    draft: ReportDraft,
) -> Result<ConsentView, ApiError> {
    Ok(state.desk()?.prepare_report(draft)?)
}

#[tauri::command]
pub fn choose_files(
    state: State<'_, AppState>,
    report_id: String,
    left_out: Vec<String>,
) -> Result<ConsentView, ApiError> {
    Ok(state.desk()?.choose_files(&report_id, &left_out)?)
}

#[tauri::command]
pub async fn send_report(
    state: State<'_, AppState>,
    report_id: String,
    on_progress: Channel<Progress>,
) -> Result<SendReceipt, ApiError> {
    // A closed window drops the channel; the send goes on regardless.
    let progress = move |p: Progress| {
        let _ = on_progress.send(p);
        true
    };
    Ok(state.desk()?.send_report(&report_id, progress).await?)
}

/// Reads and redacts a whole file: off the main thread.
#[tauri::command(async)]
pub fn preview_file(
    state: State<'_, AppState>,
    report_id: String,
    file_id: String,
) -> Result<FilePreview, ApiError> {
    Ok(state.desk()?.preview_file(&report_id, &file_id)?)
}

/// Asks where to save the report (native dialog) and writes it there; `null` when the user
/// closed the dialog.
#[tauri::command]
pub async fn save_report(
    window: tauri::Window,
    state: State<'_, AppState>,
    report_id: String,
    on_progress: Channel<Progress>,
) -> Result<Option<ExportReceipt>, ApiError> {
    let desk = state.desk()?;
    let (name, kind, extension) = desk.export_file(chrono::Local::now());
    let mut dialog = rfd::AsyncFileDialog::new()
        .set_title("Save the report")
        .set_file_name(name)
        .add_filter(kind, &[extension])
        .set_parent(&window);
    if let Some(folder) = suggested_folder() {
        dialog = dialog.set_directory(folder);
    }
    let Some(file) = dialog.save_file().await else {
        return Ok(None);
    };
    let progress = move |p: Progress| {
        let _ = on_progress.send(p);
        true
    };
    Ok(Some(
        desk.export_report(&report_id, file.path(), progress)
            .await?,
    ))
}

#[tauri::command]
pub fn cancel_send(state: State<'_, AppState>, report_id: String) -> Result<(), ApiError> {
    state.desk()?.cancel(&report_id);
    Ok(())
}

#[tauri::command(async)]
pub fn queued_reports(state: State<'_, AppState>) -> Result<QueuedReports, ApiError> {
    Ok(state.desk()?.queued_reports()?)
}

#[tauri::command]
pub async fn send_queued(state: State<'_, AppState>) -> Result<FlushSummary, ApiError> {
    Ok(state.desk()?.flush_outbox().await?)
}

#[tauri::command(async)]
pub fn remove_queued(state: State<'_, AppState>, id: String) -> Result<(), ApiError> {
    Ok(state.desk()?.remove_queued(&id)?)
}

#[tauri::command(async)]
pub fn agree_queued_destination(
    state: State<'_, AppState>,
    id: String,
) -> Result<QueuedReport, ApiError> {
    Ok(state.desk()?.agree_queued_destination(&id)?)
}

#[tauri::command(async)]
pub fn history(state: State<'_, AppState>) -> Result<Vec<HistoryEntry>, ApiError> {
    Ok(state.desk()?.history()?)
}

#[tauri::command(async)]
pub fn delete_local_copy(state: State<'_, AppState>, id: String) -> Result<(), ApiError> {
    Ok(state.desk()?.delete_local_copy(&id)?)
}

#[tauri::command(async)]
pub fn settings(state: State<'_, AppState>) -> Result<SettingsView, ApiError> {
    Ok(state.desk()?.settings()?)
}

/// Changes one of the user's settings; a new shortcut takes effect at once.
#[tauri::command(async)]
pub fn change_setting(
    state: State<'_, AppState>,
    key: String,
    value: String,
) -> Result<SettingsView, ApiError> {
    // The tray agent sees the user's file change and takes up a new shortcut by itself.
    Ok(state.desk()?.change_setting(&key, &value)?)
}

/// Sets support's request for logs (or a refused link's message) aside.
#[tauri::command]
pub fn dismiss_link(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.desk()?.dismiss_link();
    Ok(())
}

/// The page has drawn its first screen with what it needs: the window may be shown.
#[tauri::command]
pub fn window_ready(app: tauri::AppHandle) {
    crate::window::ready(&app);
}

/// Opens the page of a ticket this computer's reports went to in the user's browser.
#[tauri::command(async)]
pub fn open_ticket(state: State<'_, AppState>, ticket_id: String) -> Result<(), ApiError> {
    let link = state.desk()?.ticket_link(&ticket_id)?;
    open::that_detached(&link)
        .map_err(|err| callsupport_desk::Error::NoBrowser(err.to_string()))?;
    Ok(())
}

/// Takes a screenshot for the report: the window steps aside for a moment so the picture shows
/// what is behind it, then comes back with the picture.
#[tauri::command]
pub async fn take_screenshot(
    window: tauri::WebviewWindow,
    state: State<'_, AppState>,
) -> Result<ScreenshotView, ApiError> {
    let desk = state.desk()?;
    desk.screenshot_allowed()?;
    let _ = window.hide();
    // Long enough for the screen to be redrawn without the window.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let picture = tokio::task::spawn_blocking(callsupport_screen::capture)
        .await
        .map_err(|err| format!("the capture stopped: {err}"))
        .and_then(|picture| picture.map_err(|err| err.to_string()));
    let _ = window.show();
    let _ = window.set_focus();
    let picture = picture.map_err(|reason| {
        callsupport_desk::Error::from(callsupport_desk::screenshot::ScreenshotError::Unavailable(
            reason,
        ))
    })?;
    Ok(desk.keep_screenshot(picture.width, picture.height, &picture.rgba)?)
}

/// Takes the screenshot out of the report; it is deleted.
#[tauri::command(async)]
pub fn hide_in_screenshot(
    state: State<'_, AppState>,
    id: String,
    areas: Vec<callsupport_desk::screenshot::HiddenArea>,
) -> Result<ScreenshotView, ApiError> {
    Ok(state.desk()?.hide_in_screenshot(&id, &areas)?)
}

#[tauri::command(async)]
pub fn discard_screenshot(state: State<'_, AppState>, id: String) -> Result<(), ApiError> {
    state.desk()?.discard_screenshot(&id);
    Ok(())
}

/// *Open Bundle…*: the native open dialog, then the bundle's manifest (only the page's choice
/// of a file through the dialog; the page never names a path itself). `None` if the user
/// closed the dialog.
#[tauri::command]
pub async fn choose_bundle(
    window: tauri::Window,
    viewer: State<'_, Viewer>,
) -> Result<Option<OpenedBundle>, ApiError> {
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_title("Open a bundle")
        .add_filter(
            "Call Support bundle (.zip, sealed .age)",
            callsupport_desk::api::BUNDLE_EXTENSIONS,
        )
        .set_parent(&window)
        .pick_file()
        .await
    else {
        return Ok(None);
    };
    // Only the central directory and the manifest are read: quick whatever the size.
    Ok(Some(viewer.open(file.path())?))
}

/// History → Detected: every detection, newest first, with what became of it.
#[tauri::command(async)]
pub fn detected(state: State<'_, AppState>) -> Result<Vec<Detected>, ApiError> {
    Ok(state.desk()?.detected())
}

/// *Start empty*: the report no longer starts from the detection.
#[tauri::command]
pub fn dismiss_detection(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.desk()?.dismiss_detection();
    Ok(())
}

/// The survey's *Done*: the answers kept on this computer (History → Surveys); nothing is sent.
#[tauri::command(async)]
pub fn keep_survey(state: State<'_, AppState>, survey: Survey) -> Result<SurveyAnswer, ApiError> {
    Ok(state.desk()?.keep_survey(survey)?)
}

/// History → Surveys: the answers kept on this computer, newest first.
#[tauri::command(async)]
pub fn surveys(state: State<'_, AppState>) -> Result<Vec<SurveyAnswer>, ApiError> {
    Ok(state.desk()?.surveys())
}

/// *Not now* on the survey.
#[tauri::command]
pub fn dismiss_survey(state: State<'_, AppState>) -> Result<(), ApiError> {
    state.desk()?.dismiss_survey();
    Ok(())
}

/// Whether *Open ticket* can fetch without asking for the agent token.
#[tauri::command]
pub fn agent_token_known(viewer: State<'_, Viewer>) -> bool {
    viewer.has_agent_token()
}

/// *Open ticket*: the ticket's bundle fetched from the ticket API with the agent token (typed,
/// remembered for this run, or the environment's), then opened.
#[tauri::command]
pub async fn fetch_ticket(
    state: State<'_, AppState>,
    viewer: State<'_, Viewer>,
    ticket: String,
    token: Option<String>,
    on_progress: Channel<Progress>,
) -> Result<OpenedBundle, ApiError> {
    let desk = state.desk()?;
    let progress = |p: Progress| {
        let _ = on_progress.send(p);
    };
    let api = &desk.config().ticket_api;
    let received = desk.received_dir();
    Ok(viewer
        .fetch_ticket(api, &received, &ticket, token.as_deref(), progress)
        .await?)
}

/// *Open* beside a bundle added to the ticket later: fetched with the token the viewer holds,
/// then opened.
#[tauri::command]
pub async fn fetch_added(
    state: State<'_, AppState>,
    viewer: State<'_, Viewer>,
    ticket: String,
    bundle_id: String,
    on_progress: Channel<Progress>,
) -> Result<OpenedBundle, ApiError> {
    let desk = state.desk()?;
    let progress = |p: Progress| {
        let _ = on_progress.send(p);
    };
    let (api, received) = (&desk.config().ticket_api, desk.received_dir());
    Ok(viewer
        .fetch_added(api, &received, &ticket, &bundle_id, progress)
        .await?)
}

/// *Ask for more logs*: a link for the ticket, made by the ticket service.
#[tauri::command]
pub async fn make_link(
    state: State<'_, AppState>,
    viewer: State<'_, Viewer>,
    ticket: String,
    hours: Option<u32>,
    uses: Option<u32>,
) -> Result<MadeLink, ApiError> {
    let desk = state.desk()?;
    Ok(viewer
        .make_link(&desk.config().ticket_api, &ticket, hours, uses)
        .await?)
}

#[tauri::command]
pub fn cancel_fetch(viewer: State<'_, Viewer>) {
    viewer.cancel_fetch();
}

#[tauri::command(async)]
pub fn verify_bundle(viewer: State<'_, Viewer>, id: String) -> Result<IntegrityView, ApiError> {
    Ok(viewer.verify(&id)?)
}

#[tauri::command(async)]
pub fn bundle_calls(viewer: State<'_, Viewer>, id: String) -> Result<Calls, ApiError> {
    Ok(viewer.calls(&id)?)
}

#[tauri::command]
pub fn kql_queries(call_id: String) -> Result<Vec<Query>, ApiError> {
    Ok(kql::queries(&call_id).map_err(callsupport_desk::Error::from)?)
}

/// The bundle the app opened for the window (command line, drop), once; `None` if there is none.
#[tauri::command]
pub fn last_bundle(viewer: State<'_, Viewer>) -> Result<Option<OpenedBundle>, ApiError> {
    viewer.take_handed()
}

/// *Add Azure Monitor export…*: the open dialog, then the calls with the export's records merged
/// in; `None` if the user closed the dialog.
#[tauri::command]
pub async fn add_export(
    window: tauri::Window,
    viewer: State<'_, Viewer>,
    id: String,
) -> Result<Option<Calls>, ApiError> {
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_title("Add an Azure Monitor export")
        .add_filter(
            "JSON lines (.jsonl, .json)",
            &["jsonl", "json", "ndjson", "log"],
        )
        .set_parent(&window)
        .pick_file()
        .await
    else {
        return Ok(None);
    };
    Ok(Some(viewer.add_export(&id, file.path())?))
}

/// Opens a readable file of an open bundle for the log screen.
#[tauri::command(async)]
pub fn open_log(viewer: State<'_, Viewer>, id: String, entry: String) -> Result<LogInfo, ApiError> {
    Ok(viewer.open_log(&id, &entry)?)
}

#[tauri::command(async)]
pub fn log_window(
    viewer: State<'_, Viewer>,
    log_id: String,
    first: u32,
    count: u32,
) -> Result<LogWindow, ApiError> {
    Ok(viewer.log_window(&log_id, first, count)?)
}

#[tauri::command(async)]
pub fn log_filter(
    viewer: State<'_, Viewer>,
    log_id: String,
    levels: Vec<Level>,
    unlevelled: bool,
) -> Result<u32, ApiError> {
    Ok(viewer.log_filter(&log_id, &levels, unlevelled)?)
}

#[tauri::command(async)]
pub fn log_search(
    viewer: State<'_, Viewer>,
    log_id: String,
    query: String,
) -> Result<LogMatches, ApiError> {
    Ok(viewer.log_search(&log_id, &query)?)
}

/// The position of the first line at or after `time` (RFC 3339).
#[tauri::command(async)]
pub fn log_position_at(
    viewer: State<'_, Viewer>,
    log_id: String,
    time: String,
) -> Result<u32, ApiError> {
    let time = chrono::DateTime::parse_from_rfc3339(&time)
        .map_err(|_| callsupport_desk::Error::NotATime(time.clone()))?
        .to_utc();
    Ok(viewer.log_position_at(&log_id, time)?)
}

#[tauri::command]
pub fn close_log(viewer: State<'_, Viewer>, log_id: String) {
    viewer.close_log(&log_id);
}

/// *Export for vendor…*: the save dialog, then only the bundle's encrypted SDK logs with a small
/// manifest; `None` if the user closed the dialog.
#[tauri::command]
pub async fn export_for_vendor(
    window: tauri::Window,
    viewer: State<'_, Viewer>,
    id: String,
) -> Result<Option<callsupport_desk::bundle::vendor::VendorExport>, ApiError> {
    let Some(file) = rfd::AsyncFileDialog::new()
        .set_title("Save for the SDK vendor")
        .set_file_name(format!("for-vendor-{id}.zip"))
        .add_filter("Zip (.zip)", &["zip"])
        .set_parent(&window)
        .save_file()
        .await
    else {
        return Ok(None);
    };
    Ok(Some(viewer.export_for_vendor(&id, file.path())?))
}
