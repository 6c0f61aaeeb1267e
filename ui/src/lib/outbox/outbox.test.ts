import { describe, expect, it } from "vitest";
import { viewerNotUsed } from "../testing/backend";
import type { Backend, FlushSummary, QueuedReport, QueuedReports } from "../backend";
import { OutboxState, needsAttention, stateOf } from "./outbox.svelte";

const waiting: QueuedReport = {
  id: "0190-a",
  summary: "Video froze",
  queued_at: "2026-11-25T10:00:00Z",
  bytes: 1200,
  attempts: 1,
  last_error: { code: "unreachable", message: "cannot reach the support service", retryable: true },
  destination: "support.contoso.com",
  held_for: null,
};

function fake(queue: QueuedReport[], flush: () => FlushSummary): Backend & { removed: string[]; agreed: string[] } {
  const removed: string[] = [];
  const agreed: string[] = [];
  return {
    removed,
    agreed,
    overview: async () => ({
      destination: "d", organisation: null, sources: [], recent_calls: [], allow_contact: false, allow_screenshot: false,
  allow_export: true,
  allow_log_collection: true, support_request: null, link_problem: null, detection: null, survey_call: null, survey_scale: { lower_bound: 1, upper_bound: 5, low_score_threshold: 2 },
    }),
    prepareReport: async () => {
      throw new Error("unused");
    },
    chooseFiles: async () => {
      throw new Error("unused");
    },
    sendReport: async () => {
      throw new Error("unused");
    },
    cancelSend: async () => {},
    previewFile: async () => {
      throw new Error("not used");
    },
    saveReport: async () => null,
    onIndexChanged: async () => () => {},
    queuedReports: async (): Promise<QueuedReports> => ({ reports: [...queue], warnings: [] }),
    sendQueued: async () => {
      const summary = flush();
      queue.splice(0, summary.delivered.length);
      return summary;
    },
    agreeQueuedDestination: async (id) => {
      agreed.push(id);
      return { ...queue.find((r) => r.id === id)!, destination: "new.contoso.com", held_for: null };
    },
    removeQueued: async (id) => {
      removed.push(id);
      queue.splice(
        queue.findIndex((r) => r.id === id),
        1,
      );
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
    takeScreenshot: async () => ({ id: "s1", width: 4, height: 3, bytes: 70, data_url: "data:image/png;base64,AA==" }),
    discardScreenshot: async () => {},
    hideInScreenshot: async () => {
      throw new Error("not used");
    },
    openTicket: async () => {},
    settings: async () => {
      throw new Error("not used");
    },
    changeSetting: async () => {
      throw new Error("not used");
    },
    deleteLocalCopy: async () => {},
  };
}

describe("OutboxState", () => {
  it("lists what waits and says why", async () => {
    const outbox = new OutboxState(fake([waiting], () => ({ delivered: [], failed: [], problems: [] })));
    await outbox.load();
    expect(outbox.reports).toHaveLength(1);
    expect(stateOf(outbox.reports[0])).toContain("when the support service can be reached");
    expect(stateOf({ ...waiting, last_error: { code: "server_busy", message: "503", retryable: true } })).toContain(
      "busy",
    );
    expect(stateOf({ ...waiting, last_error: null })).toBe("Waiting to be sent");
    expect(
      stateOf({ ...waiting, last_error: { code: "rejected", message: "too large", retryable: false } }),
    ).toBe("Not accepted: too large");
  });

  it("sends now, then shows what is left", async () => {
    const delivered = {
      bundle_id: "0190-a",
      ticket_id: "CS-000007",
      ticket_url: "u",
      summary: "Video froze",
      queued_at: "q",
      sent_at: "s",
      bundle_sha256: "h",
      bundle_bytes: 1,
    };
    const outbox = new OutboxState(fake([waiting], () => ({ delivered: [delivered], failed: [], problems: [] })));
    await outbox.load();
    await outbox.sendNow();
    expect(outbox.reports).toHaveLength(0);
    expect(outbox.outcome).toBe("Sent: ticket CS-000007.");
    expect(outbox.busy).toBe(false);
  });

  it("holds a report whose destination changed until the user agrees, then sends it", async () => {
    const held: QueuedReport = { ...waiting, last_error: null, held_for: "new.contoso.com" };
    const backend = fake([held], () => ({ delivered: [], failed: [], problems: [] }));
    const outbox = new OutboxState(backend);
    await outbox.load();
    expect(stateOf(outbox.reports[0])).toBe(
      "Held: you agreed to send it to support.contoso.com; reports now go to new.contoso.com",
    );
    expect(needsAttention(outbox.reports[0])).toBe(true);
    await outbox.agreeAndSend(held.id);
    expect(backend.agreed).toEqual([held.id]);
    expect(outbox.outcome).not.toBeNull();
  });

  it("removes a report the user does not want to send", async () => {
    const backend = fake([waiting], () => ({ delivered: [], failed: [], problems: [] }));
    const outbox = new OutboxState(backend);
    await outbox.load();
    await outbox.remove("0190-a");
    expect(backend.removed).toEqual(["0190-a"]);
    expect(outbox.reports).toHaveLength(0);
  });
});
