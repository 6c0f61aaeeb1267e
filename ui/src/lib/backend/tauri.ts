/**
 * `Backend` over Tauri IPC: one `invoke` per command, progress on a `Channel`.
 *
 * Command and event names come from `generated/ipc.ts`, generated from the app's one list
 * (src-tauri/src/ipc.rs): a name not in that list does not type-check, and `tauri.test.ts` fails
 * while a listed command is never invoked here.
 */
import { Channel, invoke as invokeAny, type InvokeArgs } from "@tauri-apps/api/core";
import { listen as listenAny, type EventCallback, type UnlistenFn } from "@tauri-apps/api/event";
import { getCurrentWindow } from "@tauri-apps/api/window";
import type { Backend } from "./backend";
import { EVENTS, type Command, type EventName } from "./generated/ipc";
import type {
  AppOverview,
  Detected,
  Survey,
  SurveyAnswer,
  ConsentView,
  ExportReceipt,
  FilePreview,
  ScreenshotView,
  HiddenArea,
  OpenedBundle,
  MadeLink,
  IntegrityView,
  Calls,
  Query,
  Level,
  LogInfo,
  LogMatches,
  LogWindow,
  VendorExport,
  FlushSummary,
  HistoryEntry,
  IndexEvent,
  Progress,
  QueuedReport,
  QueuedReports,
  ReportDraft,
  SendReceipt,
  SettingsView,
  View,
} from "./generated/types";

const { INDEX_CHANGED, OUTBOX_CHANGED, NAVIGATE, BUNDLE_OPENED } = EVENTS;

/** Calls one of the app's own commands. */
function invoke<T>(command: Command, args?: InvokeArgs): Promise<T> {
  return invokeAny<T>(command, args);
}

/** Listens to one of the events the app sends. */
function listen<T>(event: EventName, handler: EventCallback<T>): Promise<UnlistenFn> {
  return listenAny<T>(event, handler);
}

export const tauriBackend: Backend = {
  overview: () => invoke<AppOverview>("overview"),
  prepareReport: (draft: ReportDraft) => invoke<ConsentView>("prepare_report", { draft }),
  chooseFiles: (reportId: string, leftOut: string[]) => invoke<ConsentView>("choose_files", { reportId, leftOut }),
  sendReport(reportId: string, onProgress: (progress: Progress) => void) {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<SendReceipt>("send_report", { reportId, onProgress: channel });
  },
  previewFile: (reportId: string, fileId: string) => invoke<FilePreview>("preview_file", { reportId, fileId }),
  saveReport(reportId: string, onProgress: (progress: Progress) => void) {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<ExportReceipt | null>("save_report", { reportId, onProgress: channel });
  },
  cancelSend: (reportId: string) => invoke<void>("cancel_send", { reportId }),
  onIndexChanged: (listener: (event: IndexEvent) => void) => listen<IndexEvent>(INDEX_CHANGED, (e) => listener(e.payload)),
  queuedReports: () => invoke<QueuedReports>("queued_reports"),
  sendQueued: () => invoke<FlushSummary>("send_queued"),
  removeQueued: (id: string) => invoke<void>("remove_queued", { id }),
  agreeQueuedDestination: (id: string) => invoke<QueuedReport>("agree_queued_destination", { id }),
  history: () => invoke<HistoryEntry[]>("history"),
  deleteLocalCopy: (id: string) => invoke<void>("delete_local_copy", { id }),
  onOutboxChanged: (listener: () => void) => listen(OUTBOX_CHANGED, () => listener()),
  dismissLink: () => invoke<void>("dismiss_link"),
  detected: () => invoke<Detected[]>("detected"),
  dismissDetection: () => invoke<void>("dismiss_detection"),
  keepSurvey: (survey: Survey) => invoke<SurveyAnswer>("keep_survey", { survey }),
  surveys: () => invoke<SurveyAnswer[]>("surveys"),
  dismissSurvey: () => invoke<void>("dismiss_survey"),
  closeWindow: () => getCurrentWindow().close(),
  windowReady: () => invoke<void>("window_ready"),
  openTicket: (ticketId: string) => invoke<void>("open_ticket", { ticketId }),
  takeScreenshot: () => invoke<ScreenshotView>("take_screenshot"),
  chooseBundle: () => invoke<OpenedBundle | null>("choose_bundle"),
  lastBundle: () => invoke<OpenedBundle | null>("last_bundle"),
  agentTokenKnown: () => invoke<boolean>("agent_token_known"),
  fetchTicket(ticket: string, token: string | null, onProgress: (progress: Progress) => void) {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<OpenedBundle>("fetch_ticket", { ticket, token, onProgress: channel });
  },
  fetchAdded(ticket: string, bundleId: string, onProgress: (progress: Progress) => void) {
    const channel = new Channel<Progress>();
    channel.onmessage = onProgress;
    return invoke<OpenedBundle>("fetch_added", { ticket, bundleId, onProgress: channel });
  },
  makeLink: (ticket: string, hours: number | null, uses: number | null) =>
    invoke<MadeLink>("make_link", { ticket, hours, uses }),
  cancelFetch: () => invoke<void>("cancel_fetch"),
  onBundleOpened: (listener: () => void) => listen(BUNDLE_OPENED, () => listener()),
  verifyBundle: (id: string) => invoke<IntegrityView>("verify_bundle", { id }),
  bundleCalls: (id: string) => invoke<Calls>("bundle_calls", { id }),
  kqlQueries: (callId: string) => invoke<Query[]>("kql_queries", { callId }),
  addExport: (id: string) => invoke<Calls | null>("add_export", { id }),
  openLog: (id: string, entry: string) => invoke<LogInfo>("open_log", { id, entry }),
  logWindow: (logId: string, first: number, count: number) => invoke<LogWindow>("log_window", { logId, first, count }),
  logFilter: (logId: string, levels: Level[], unlevelled: boolean) => invoke<number>("log_filter", { logId, levels, unlevelled }),
  logSearch: (logId: string, query: string) => invoke<LogMatches>("log_search", { logId, query }),
  logPositionAt: (logId: string, time: string) => invoke<number>("log_position_at", { logId, time }),
  closeLog: (logId: string) => invoke<void>("close_log", { logId }),
  exportForVendor: (id: string) => invoke<VendorExport | null>("export_for_vendor", { id }),
  hideInScreenshot: (id: string, areas: HiddenArea[]) =>
    invoke<ScreenshotView>("hide_in_screenshot", { id, areas }),
  discardScreenshot: (id: string) => invoke<void>("discard_screenshot", { id }),
  settings: () => invoke<SettingsView>("settings"),
  changeSetting: (key: string, value: string) => invoke<SettingsView>("change_setting", { key, value }),
  onNavigate: (listener: (view: View) => void) => listen<View>(NAVIGATE, (e) => listener(e.payload)),
};
