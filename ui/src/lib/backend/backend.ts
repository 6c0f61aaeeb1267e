/**
 * The one door from the UI to the app: every call the screens make goes through `Backend`.
 *
 * `tauri.ts` implements it over Tauri IPC; tests implement it in memory. Nothing outside this
 * folder imports `@tauri-apps/*`.
 */
import type {
  ApiError,
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

export type * from "./generated/types";

export interface Backend {
  /** Where reports go and what each log source holds right now. */
  overview(): Promise<AppOverview>;
  /** Checks the report and snapshots the files the consent screen lists. */
  prepareReport(draft: ReportDraft): Promise<ConsentView>;
  /** Leaves these files (by `FileEntry.id`) out of a prepared report; returns the consent screen as it now reads. */
  chooseFiles(reportId: string, leftOut: string[]): Promise<ConsentView>;
  /** Packs and sends a prepared report, exactly as the consent screen showed it. */
  sendReport(reportId: string, onProgress: (progress: Progress) => void): Promise<SendReceipt>;
  /** One readable file of a prepared report as it will be sent, replacements marked. */
  previewFile(reportId: string, fileId: string): Promise<FilePreview>;
  /** Asks where to save the report (native dialog) and writes it there; `null` if the user closed the dialog. */
  saveReport(reportId: string, onProgress: (progress: Progress) => void): Promise<ExportReceipt | null>;
  /** Stops a send or save in progress; nothing half-written is left. */
  cancelSend(reportId: string): Promise<void>;
  /** Calls `listener` on every change of the support files; returns a function that stops it. */
  onIndexChanged(listener: (event: IndexEvent) => void): Promise<() => void>;
  /** The reports waiting in the outbox (not yet acknowledged by the server). */
  queuedReports(): Promise<QueuedReports>;
  /** Sends every waiting report now. */
  sendQueued(): Promise<FlushSummary>;
  /** Removes a waiting report without sending it. */
  removeQueued(id: string): Promise<void>;
  /** Agrees that a report held for a changed destination go to the one configured now. */
  agreeQueuedDestination(id: string): Promise<QueuedReport>;
  /** Every report this computer made and still knows of: waiting ones first, then sent ones. */
  history(): Promise<HistoryEntry[]>;
  /** Deletes the local copy of a report (a waiting one is not sent). */
  deleteLocalCopy(id: string): Promise<void>;
  /** Takes a screenshot for the report (the window steps aside for a moment); refused with `managed` where not allowed. */
  takeScreenshot(): Promise<ScreenshotView>;
  /** Blacks out `areas` (in the picture's pixels) of a screenshot, all anew from the picture as
   * taken; returns the picture exactly as it will be sent. */
  hideInScreenshot(id: string, areas: HiddenArea[]): Promise<ScreenshotView>;
  /** Deletes a screenshot taken for a report. */
  discardScreenshot(id: string): Promise<void>;
  /** *Open Bundle…*: the native open dialog, then the bundle's manifest; `null` if the dialog was closed. */
  chooseBundle(): Promise<OpenedBundle | null>;
  /** The bundle the app opened for this window (command line, drop), once; `null` if none. */
  lastBundle(): Promise<OpenedBundle | null>;
  /** Whether *Open ticket* can fetch without asking for the agent token. */
  agentTokenKnown(): Promise<boolean>;
  /** *Open ticket*: the ticket's bundle from the ticket API (`token` when typed), then opened. */
  fetchTicket(ticket: string, token: string | null, onProgress: (progress: Progress) => void): Promise<OpenedBundle>;
  /** A bundle added to the ticket later, fetched with the token the app holds, then opened. */
  fetchAdded(ticket: string, bundleId: string, onProgress: (progress: Progress) => void): Promise<OpenedBundle>;
  /** *Ask for more logs*: a link for the ticket, made by the ticket service. */
  makeLink(ticket: string, hours: number | null, uses: number | null): Promise<MadeLink>;
  /** Stops a ticket download under way; nothing of it is kept. */
  cancelFetch(): Promise<void>;
  /** Calls `listener` when the app opened a bundle for this window; take it with `lastBundle`. */
  onBundleOpened(listener: () => void): Promise<() => void>;
  /** Hashes every file of an open bundle and compares it with the manifest. */
  verifyBundle(id: string): Promise<IntegrityView>;
  /** The calls in an open bundle's call-operations logs. */
  bundleCalls(id: string): Promise<Calls>;
  /** Adds an Azure Monitor export (open dialog) to an open bundle; the merged calls, or `null` if the dialog was closed. */
  addExport(id: string): Promise<Calls | null>;
  /** *Export for vendor…* (save dialog): only the encrypted SDK logs; `null` if the dialog was closed. */
  exportForVendor(id: string): Promise<VendorExport | null>;
  /** Opens a readable file of an open bundle for the log screen. */
  openLog(id: string, entry: string): Promise<LogInfo>;
  /** Up to `count` lines of the (filtered) log from position `first`. */
  logWindow(logId: string, first: number, count: number): Promise<LogWindow>;
  /** Shows only lines of `levels` (and those naming none, with `unlevelled`); returns how many pass. */
  logFilter(logId: string, levels: Level[], unlevelled: boolean): Promise<number>;
  /** Where the filtered log holds `query` (any case). */
  logSearch(logId: string, query: string): Promise<LogMatches>;
  /** The position of the first line at or after `time` (ISO 8601). */
  logPositionAt(logId: string, time: string): Promise<number>;
  /** Forgets a log the screen closed. */
  closeLog(logId: string): Promise<void>;
  /** The Log Analytics queries that find a call in Azure Monitor. */
  kqlQueries(callId: string): Promise<Query[]>;
  /** Opens the page of a ticket this computer's reports went to in the user's browser. */
  openTicket(ticketId: string): Promise<void>;
  /** Tells the app the first screen is drawn, so it shows the (until then hidden) window. */
  windowReady(): Promise<void>;
  /** Sets support's request for logs (or a refused link's message) aside. */
  dismissLink(): Promise<void>;
  /** History → Detected: what the tray agent noticed in the call logs, newest first. */
  detected(): Promise<Detected[]>;
  /** The report no longer starts from the detection the user answered a prompt for. */
  dismissDetection(): Promise<void>;
  /** The survey's *Done*: the answers kept on this computer; refused in words when incomplete. */
  keepSurvey(survey: Survey): Promise<SurveyAnswer>;
  /** History → Surveys: the answers kept on this computer, newest first. */
  surveys(): Promise<SurveyAnswer[]>;
  /** The survey's *Not now*. */
  dismissSurvey(): Promise<void>;
  /** Closes the window (the app ends once its work is done). */
  closeWindow(): Promise<void>;
  /** The Settings screen: effective values, where each came from, which are locked. */
  settings(): Promise<SettingsView>;
  /** Changes one of the user's settings; refused for keys the organisation manages. */
  changeSetting(key: string, value: string): Promise<SettingsView>;
  /** Calls `listener` when the app asks the open window to show another screen (tray, shortcut). */
  onNavigate(listener: (view: View) => void): Promise<() => void>;
  /** Calls `listener` when the outbox changed on its own (sent in the background). */
  onOutboxChanged(listener: () => void): Promise<() => void>;
}

/** Turns whatever a backend call threw into the IPC error shape. */
export function asApiError(error: unknown): ApiError {
  if (typeof error === "object" && error !== null && "code" in error && "message" in error) {
    return error as ApiError;
  }
  return { code: "io", message: error instanceof Error ? error.message : String(error) };
}
