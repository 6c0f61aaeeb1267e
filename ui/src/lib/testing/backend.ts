/**
 * An in-memory `Backend` for component tests: every call answers with plain demo data and is
 * recorded in `calls`; a test overrides what it needs with `fakeBackend({ ... })`.
 */
import type {
  AppOverview, Backend, ConsentView, FileEntry, FileGroup, SendReceipt, SettingsView,
} from "../backend";

export const overview: AppOverview = {
  destination: "support.contoso.com",
  organisation: "Contoso IT",
  sources: [
    { id: "acs", name: "Calling SDK logs", kind: "encrypted", file_count: 2, total_bytes: 2048, problem: null, status: { state: "watching" } },
  ],
  recent_calls: [],
  allow_contact: false,
  allow_screenshot: false,
  allow_export: true,
  allow_log_collection: true,
  support_request: null,
  link_problem: null,
  detection: null,
  survey_call: null,
  survey_scale: { lower_bound: 1, upper_bound: 5, low_score_threshold: 2 },
};

export function file(id: string, encrypted: boolean, included = true): FileEntry {
  return {
    id,
    name: id.split("/").slice(1).join("/"),
    path: `~/logs/${id}`,
    size: 1024,
    modified_at: new Date().toISOString(),
    encrypted,
    content: encrypted ? "encrypted" : id.startsWith("screenshot/") ? "picture" : "text",
    included,
  };
}

export function group(source_id: string, kind: FileGroup["kind"], files: FileEntry[]): FileGroup {
  return { source_id, name: source_id === "screenshot" ? "Screenshot" : `${source_id} logs`, kind, files };
}

export const consent: ConsentView = {
  report_id: "r1",
  destination: "support.contoso.com",
  organisation: "Contoso IT",
  statement: ["Your report goes to Contoso IT at support.contoso.com."],
  statement_sha256: "ab",
  to_file: false,
  groups: [
    group("acs", "encrypted", [file("acs/acs_1.blog", true)]),
    group("app", "text", [file("app/app.log", false)]),
  ],
  file_count: 2,
  total_bytes: 2048,
  skipped: [],
};

export const receipt: SendReceipt = {
  ticket_id: "CS-000042",
  ticket_url: "https://support.contoso.com/tickets/CS-000042",
  bundle_id: "b",
  bundle_sha256: "ab",
  bundle_bytes: 2048,
};

export const settingsView: SettingsView = {
  settings: [
    { key: "shortcut.report", label: "Keyboard shortcut for Report an Issue", value: "Ctrl+Alt+Shift+R", kind: "text", origin: "organisation", locked: true, editable: false },
    { key: "startup.at_login", label: "Start Call Support when you sign in", value: "true", kind: "switch", origin: "default", locked: false, editable: true },
    { key: "collection.max_age_days", label: "Include logs from the last (days)", value: "7", kind: "number", origin: "user", locked: false, editable: true },
  ],
  managed_file: "/etc/callsupport/config.toml",
  user_file: "~/.config/callsupport/config.toml",
  ignored: [],
};

/** The viewer's calls for fakes whose tests do not open bundles. */
export const viewerNotUsed: Pick<
  Backend,
  "chooseBundle" | "lastBundle" | "agentTokenKnown" | "fetchTicket" | "fetchAdded" | "makeLink" | "cancelFetch" | "onBundleOpened" | "verifyBundle" | "bundleCalls" | "kqlQueries" | "addExport"
  | "openLog" | "logWindow" | "logFilter" | "logSearch" | "logPositionAt" | "closeLog" | "exportForVendor"
> = {
  chooseBundle: async () => null,
  lastBundle: async () => null,
  agentTokenKnown: async () => false,
  fetchTicket: async () => {
    throw { code: "unreachable", message: "no ticket service in this test" };
  },
  fetchAdded: async () => {
    throw { code: "unreachable", message: "no ticket service in this test" };
  },
  makeLink: async () => {
    throw { code: "unreachable", message: "no ticket service in this test" };
  },
  cancelFetch: async () => {},
  onBundleOpened: async () => () => {},
  verifyBundle: async () => {
    throw { code: "io", message: "no bundle in this test" };
  },
  bundleCalls: async () => {
    throw { code: "io", message: "no bundle in this test" };
  },
  kqlQueries: async () => [],
  addExport: async () => null,
  openLog: async () => {
    throw { code: "io", message: "no log in this test" };
  },
  logWindow: async () => ({ total: 0, first: 0, lines: [] }),
  logFilter: async () => 0,
  logSearch: async () => ({ total: 0, positions: [] }),
  logPositionAt: async () => 0,
  closeLog: async () => {},
  exportForVendor: async () => null,
};

export type FakeBackend = Backend & { calls: string[] };

export function fakeBackend(overrides: Partial<Backend> = {}): FakeBackend {
  const calls: string[] = [];
  const record = <T>(name: string, value: T) => async () => {
    calls.push(name);
    return value;
  };
  const base: Backend = {
    overview: record("overview", overview),
    prepareReport: record("prepareReport", consent),
    chooseFiles: async (_id, leftOut) => {
      calls.push(`chooseFiles:${leftOut.join(",")}`);
      return {
        ...consent,
        groups: consent.groups.map((g) => ({ ...g, files: g.files.map((f) => ({ ...f, included: !leftOut.includes(f.id) })) })),
      };
    },
    sendReport: record("sendReport", receipt),
    previewFile: async () => {
      throw { code: "io", message: "not in this test" };
    },
    saveReport: record("saveReport", null),
    cancelSend: record("cancelSend", undefined),
    onIndexChanged: record("onIndexChanged", () => {}),
    queuedReports: record("queuedReports", { reports: [], warnings: [] }),
    sendQueued: record("sendQueued", { delivered: [], failed: [], problems: [] }),
    removeQueued: record("removeQueued", undefined),
    agreeQueuedDestination: async (id) => {
      throw { code: "io", message: `not in this test: ${id}` };
    },
    history: record("history", []),
    deleteLocalCopy: async (id) => {
      calls.push(`deleteLocalCopy:${id}`);
    },
    openTicket: async (id) => {
      calls.push(`openTicket:${id}`);
    },
    takeScreenshot: record("takeScreenshot", { id: "s1", width: 1280, height: 800, bytes: 20480, data_url: "data:image/png;base64,AA==" }),
    discardScreenshot: record("discardScreenshot", undefined),
    hideInScreenshot: async (id, areas) => ({
      id, width: 1280, height: 800, bytes: 20480 + areas.length, data_url: `data:image/png;base64,${areas.length}`,
    }),
    windowReady: record("windowReady", undefined),
    dismissLink: record("dismissLink", undefined),
    detected: record("detected", []),
    dismissDetection: record("dismissDetection", undefined),
    keepSurvey: async (survey) => {
      calls.push("keepSurvey");
      return { answered_at: new Date().toISOString(), survey };
    },
    surveys: record("surveys", []),
    dismissSurvey: record("dismissSurvey", undefined),
    closeWindow: record("closeWindow", undefined),
    settings: record("settings", settingsView),
    changeSetting: record("changeSetting", settingsView),
    onNavigate: record("onNavigate", () => {}),
    onOutboxChanged: record("onOutboxChanged", () => {}),
    ...viewerNotUsed,
  };
  return Object.assign(base, overrides, { calls });
}
