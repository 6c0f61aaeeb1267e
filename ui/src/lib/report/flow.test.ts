import { describe, expect, it, vi } from "vitest";
import { viewerNotUsed } from "../testing/backend";
import { REFRESH_DELAY_MS, ReportFlow } from "./flow.svelte";
import type {
  ApiError, AppOverview, Backend, ConsentView, ExportReceipt, FilePreview, IndexEvent, Progress,
  SendReceipt,
} from "../backend";

const consent: ConsentView = {
  report_id: "r1",
  destination: "support.example.com",
  organisation: null,
  statement: ["Your report goes to your organisation's support service at support.example.com."],
  statement_sha256: "ab",
  to_file: false,
  groups: [],
  file_count: 0,
  total_bytes: 0,
  skipped: [],
};
const receipt: SendReceipt = {
  ticket_id: "CS-000001",
  ticket_url: "http://x/CS-000001",
  bundle_id: "b",
  bundle_sha256: "ab",
  bundle_bytes: 10,
};

type Fake = Backend & {
  drafts: unknown[];
  overviews: number;
  emit: (event: IndexEvent) => void;
  /** What the save dialog answers: a receipt, `null` (closed) or an error to throw. */
  saved: ExportReceipt | null | ApiError;
  /** The tickets asked to be opened; `refuseOpen` makes the next one fail. */
  opened: string[];
  refuseOpen: ApiError | null;
  /** Screenshots taken and deleted, by id. */
  shots: number;
  discarded: string[];
};

const exported: ExportReceipt = {
  path: "~/Downloads/report.zip", bundle_id: "b", bundle_sha256: "cd", bundle_bytes: 10,
};

function fakeBackend(send: (onProgress: (p: Progress) => void) => Promise<SendReceipt>): Fake {
  const drafts: unknown[] = [];
  const listeners: ((event: IndexEvent) => void)[] = [];
  const fake: Fake = {
    drafts,
    overviews: 0,
    opened: [],
    refuseOpen: null,
    shots: 0,
    discarded: [],
    openTicket: async (ticketId) => {
      if (fake.refuseOpen) throw fake.refuseOpen;
      fake.opened.push(ticketId);
    },
    emit: (event) => listeners.forEach((l) => l(event)),
    overview: async (): Promise<AppOverview> => {
      fake.overviews += 1;
      return {
        destination: "support.example.com",
        organisation: null,
        sources: [],
        recent_calls: [
          {
            call_id: "call-1",
            first_at: "2026-11-25T10:00:00Z",
            last_at: "2026-11-25T10:20:00Z",
            operations: 9,
            failures: 2,
          },
        ],
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
    },
    prepareReport: async (draft) => {
      drafts.push(draft);
      return consent;
    },
    chooseFiles: async (_id, leftOut) => ({
      ...consent,
      groups: consent.groups.map((g) => ({
        ...g,
        files: g.files.map((f) => ({ ...f, included: !leftOut.includes(f.id) })),
      })),
    }),
    sendReport: (_id, onProgress) => send(onProgress),
    cancelSend: async () => {},
    saved: exported,
    previewFile: async (_id, fileId): Promise<FilePreview> => ({
      file_id: fileId,
      path: `~/logs/${fileId}`,
      parts: [{ text: "joined by ", kind: null }, { text: "<email-1>", kind: "email" }],
      shown_bytes: 19,
      size: 19,
      counts: { total: 1, by_kind: { email: 1 } },
      redaction: true,
    }),
    saveReport: async (_id, onProgress) => {
      if (fake.saved && "code" in fake.saved) throw fake.saved;
      if (fake.saved) {
        onProgress({ stage: "collecting", files_done: 1, files_total: 1, bytes_done: 10, bytes_total: 10 });
      }
      return fake.saved;
    },
    onIndexChanged: async (listener) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    queuedReports: async () => ({ reports: [], warnings: [] }),
    sendQueued: async () => ({ delivered: [], failed: [], problems: [] }),
    removeQueued: async () => {},
    agreeQueuedDestination: async () => {
      throw new Error("unused");
    },
    onOutboxChanged: async () => () => {},
    history: async () => [],
    onNavigate: async () => () => {},
    dismissLink: async () => {},
    detected: async () => [],
    dismissDetection: async () => {},
    keepSurvey: async (survey) => ({ answered_at: "", survey }),
    surveys: async () => [],
    dismissSurvey: async () => {},
    closeWindow: async () => {},
    windowReady: async () => {},
    ...viewerNotUsed,
    takeScreenshot: async () => {
      fake.shots += 1;
      return { id: `s${fake.shots}`, width: 4, height: 3, bytes: 70, data_url: "data:image/png;base64,AA==" };
    },
    discardScreenshot: async (id) => {
      fake.discarded.push(id);
    },
    hideInScreenshot: async (id, areas) => ({
      id, width: 4, height: 3, bytes: 70 + areas.length, data_url: `data:image/png;base64,hidden${areas.length}`,
    }),
    settings: async () => {
      throw new Error("not used");
    },
    changeSetting: async () => {
      throw new Error("not used");
    },
    deleteLocalCopy: async () => {},
  };
  return fake;
}

describe("ReportFlow", () => {
  it("reads the overview again after a burst of index changes, once", async () => {
    vi.useFakeTimers();
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    await flow.load();
    await flow.watch();
    const removed: IndexEvent = { type: "file_removed", source_id: "acs", path: "~/a.blog" };
    for (let i = 0; i < 50; i++) backend.emit(removed);
    expect(backend.overviews).toBe(1);
    await vi.advanceTimersByTimeAsync(REFRESH_DELAY_MS);
    expect(backend.overviews).toBe(2);
    vi.useRealTimers();
  });

  it("a recent call fills the call id and the time; just now clears them", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    await flow.load();
    flow.chooseWhen("call-1");
    expect(flow.when).toBe("call-1");
    flow.draft.summary = "Echo";
    await flow.review();
    expect(backend.drafts[0]).toMatchObject({ call_ids: ["call-1"], occurred_at: "2026-11-25T10:00:00Z" });
    flow.chooseWhen("");
    expect(flow.draft).toMatchObject({ call_ids: [], occurred_at: null });
    flow.chooseWhen("call-1");
    flow.startOver();
    expect(flow.when).toBe("");
    expect(flow.draft.call_ids).toEqual([]);
  });

  it("cannot review without a summary", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    await flow.review();
    expect(flow.screen).toBe("report");
    expect(backend.drafts).toHaveLength(0);
  });

  it("goes report → consent → done and shows the ticket", async () => {
    const seen: Progress[] = [];
    const flow = new ReportFlow(
      fakeBackend(async (onProgress) => {
        const p: Progress = { stage: "uploading", bytes_sent: 5, bytes_total: 10, bytes_per_second: 5 };
        onProgress(p);
        seen.push(p);
        return receipt;
      }),
    );
    flow.draft.summary = "No sound";
    await flow.review();
    expect(flow.screen).toBe("consent");
    await flow.send();
    expect(flow.screen).toBe("done");
    expect(flow.receipt?.ticket_id).toBe("CS-000001");
    expect(flow.progress).toEqual(seen[0]);
  });

  it("a screenshot goes with the draft; taken again, the old one is deleted; removed, it is gone", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    await flow.takeScreenshot();
    expect(flow.draft.screenshot).toBe("s1");
    expect(flow.screenshot?.width).toBe(4);
    await flow.takeScreenshot();
    expect(flow.draft.screenshot).toBe("s2");
    expect(backend.discarded).toEqual(["s1"]);
    flow.draft.summary = "Frozen video";
    await flow.review();
    expect(backend.drafts.at(-1)).toMatchObject({ screenshot: "s2" });
    flow.back();
    await flow.removeScreenshot();
    expect(flow.draft.screenshot).toBeNull();
    expect(flow.screenshot).toBeNull();
    expect(backend.discarded).toEqual(["s1", "s2"]);
  });

  it("opens the new ticket in the browser, and says so when it cannot", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    flow.draft.summary = "No sound";
    await flow.review();
    await flow.send();
    await flow.openTicket();
    expect(backend.opened).toEqual(["CS-000001"]);
    expect(flow.error).toBeNull();
    backend.refuseOpen = { code: "io", message: "cannot open a browser" };
    await flow.openTicket();
    expect(flow.error?.message).toContain("cannot open a browser");
    expect(flow.screen).toBe("done");
  });

  it("keeps the input when sending is refused, and a cancel returns to consent", async () => {
    let fail: "cancelled" | "rejected" = "rejected";
    const flow = new ReportFlow(
      fakeBackend(async () => {
        throw { code: fail, message: "too large" };
      }),
    );
    flow.draft.summary = "Video froze";
    await flow.review();
    await flow.send();
    expect(flow.screen).toBe("failed");
    expect(flow.error?.code).toBe("rejected");
    expect(flow.draft.summary).toBe("Video froze");
    flow.back();
    expect(flow.screen).toBe("consent");
    fail = "cancelled";
    await flow.send();
    expect(flow.screen).toBe("consent");
    expect(flow.notice).toContain("Nothing was sent");
  });

  it("a report the network or a busy service keeps from going is queued, then starts over clean", async () => {
    for (const code of ["unreachable", "server_busy"] as const) {
      const flow = new ReportFlow(
        fakeBackend(async () => {
          throw { code, message: "no route" };
        }),
      );
      flow.draft.summary = "Video froze";
      await flow.review();
      await flow.send();
      expect(flow.screen, code).toBe("queued");
      flow.startOver();
      expect(flow.screen).toBe("report");
      expect(flow.draft.summary, "the saved report is in the outbox; the form is new").toBe("");
    }
  });
});

describe("ReportFlow consent choices", () => {
  it("unticking a file asks the app for the new consent screen, and ticking puts it back", async () => {
    const withFiles: ConsentView = {
      ...consent,
      groups: [
        {
          source_id: "acs",
          name: "Calling SDK logs",
          kind: "encrypted",
          files: ["a", "b"].map((n) => ({
            id: `acs/${n}.blog`,
            name: `${n}.blog`,
            path: `~/${n}.blog`,
            size: 1,
            modified_at: "2026-11-25T10:00:00Z",
            encrypted: true,
            content: "encrypted",
            included: true,
          })),
        },
      ],
    };
    const calls: string[][] = [];
    const backend = fakeBackend(async () => receipt);
    backend.prepareReport = async () => withFiles;
    const choose = backend.chooseFiles;
    backend.chooseFiles = async (id, leftOut) => {
      calls.push(leftOut);
      return choose.call(backend, id, leftOut).then((view) => ({
        ...view,
        groups: withFiles.groups.map((g) => ({
          ...g,
          files: g.files.map((f) => ({ ...f, included: !leftOut.includes(f.id) })),
        })),
      }));
    };
    const flow = new ReportFlow(backend);
    flow.draft.summary = "x";
    await flow.review();
    await flow.toggleFile("acs/b.blog");
    expect(calls).toEqual([["acs/b.blog"]]);
    expect(flow.consent?.groups[0].files.map((f) => f.included)).toEqual([true, false]);
    await flow.toggleFile("acs/a.blog");
    expect(calls[1]).toEqual(["acs/a.blog", "acs/b.blog"]);
    await flow.toggleFile("acs/b.blog");
    expect(calls[2]).toEqual(["acs/a.blog"]);
  });
});

describe("ReportFlow preview and save to file", () => {
  it("previews a file and comes back to the list", async () => {
    const flow = new ReportFlow(fakeBackend(async () => receipt));
    flow.draft.summary = "x";
    await flow.review();
    await flow.openPreview("app/app.log");
    expect(flow.screen).toBe("preview");
    expect(flow.preview?.parts[1].kind).toBe("email");
    flow.closePreview();
    expect(flow.screen).toBe("consent");
    expect(flow.preview).toBeNull();
  });

  it("saves to a file; a closed dialog changes nothing; a cancel or a failure returns to consent", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    flow.draft.summary = "x";
    await flow.review();

    backend.saved = null;
    await flow.save();
    expect(flow.screen).toBe("consent");
    expect(flow.error).toBeNull();

    backend.saved = { code: "cancelled", message: "cancelled" };
    await flow.save();
    expect([flow.screen, flow.notice]).toEqual(["consent", "Saving was cancelled. Nothing was saved."]);

    backend.saved = { code: "report_invalid", message: "the folder /x does not exist; choose another place" };
    await flow.save();
    expect(flow.screen).toBe("consent");
    expect(flow.error?.message).toContain("does not exist");

    backend.saved = exported;
    await flow.save();
    expect(flow.screen).toBe("saved");
    expect(flow.exported?.path).toBe("~/Downloads/report.zip");
    expect(flow.error).toBeNull();
    flow.returnToConsent();
    expect(flow.screen).toBe("consent");
    flow.startOver();
    expect(flow.exported).toBeNull();
  });
});

describe("ReportFlow modes", () => {
  it("Export Logs starts a form that saves to a file; Report an Issue one that sends", async () => {
    const backend = fakeBackend(async () => receipt);
    const flow = new ReportFlow(backend);
    flow.setMode(true);
    expect(flow.draft.to_file).toBe(true);
    expect(flow.draft.summary, "a file needs no story").not.toBe("");
    await flow.review();
    expect(backend.drafts[0]).toMatchObject({ to_file: true });
    flow.startOver();
    expect(flow.draft.to_file, "a new form keeps the mode").toBe(true);
    flow.setMode(false);
    expect([flow.draft.to_file, flow.draft.summary]).toEqual([false, ""]);
  });
});

describe("ReportFlow and support's request for logs", () => {
  it("a link's ticket goes with the report until the user says it is not for it", async () => {
    const backend = fakeBackend(async () => receipt);
    let request: { ticket_id: string; expires_at: string } | null = {
      ticket_id: "CS-000042",
      expires_at: "2030-01-01T00:00:00Z",
    };
    const overview = backend.overview;
    backend.overview = async () => ({ ...(await overview()), support_request: request });
    let dismissed = 0;
    backend.dismissLink = async () => {
      dismissed += 1;
      request = null;
    };
    const flow = new ReportFlow(backend);
    await flow.load();
    expect(flow.draft.ticket_id).toBe("CS-000042");
    flow.draft.summary = "logs as asked";
    await flow.review();
    expect(backend.drafts[0]).toMatchObject({ ticket_id: "CS-000042" });
    flow.back();
    await flow.dismissLink();
    expect([dismissed, flow.draft.ticket_id]).toEqual([1, null]);
    flow.setMode(true);
    await flow.load();
    expect(flow.draft.ticket_id, "a file export attaches to no ticket").toBeNull();
  });
});

describe("ReportFlow started from a detection", () => {
  const noticed = {
    id: "d-1",
    summary: "Your last call ended unexpectedly",
    description: "Call Support noticed this on its own at 2026-11-25 10:21 UTC.\n- Your last call ended unexpectedly",
    category: "dropped" as const,
    call_ids: ["call-1"],
    occurred_at: "2026-11-25T10:20:00Z",
  };

  it("fills the form once, keeps what the user changed, and starts empty when asked", async () => {
    const backend = fakeBackend(async () => receipt);
    let detection: typeof noticed | null = noticed;
    const overview = backend.overview;
    backend.overview = async () => ({ ...(await overview()), detection });
    let dismissed = 0;
    backend.dismissDetection = async () => {
      dismissed += 1;
      detection = null;
    };
    const flow = new ReportFlow(backend);
    await flow.load();
    expect(flow.draft).toMatchObject({
      summary: noticed.summary, category: "dropped", call_ids: ["call-1"], occurred_at: noticed.occurred_at,
    });
    expect(flow.draft.description).toContain("noticed this on its own");
    expect(flow.when, "the recent call it was about is chosen").toBe("call-1");
    flow.draft.summary = "The call dropped twice";
    await flow.load();
    expect(flow.draft.summary, "a refresh does not fill it again").toBe("The call dropped twice");
    await flow.dismissDetection();
    expect(dismissed).toBe(1);
    expect(flow.draft).toMatchObject({ summary: "", description: "", category: "other", call_ids: [] });
    expect(flow.when).toBe("");
  });
});
