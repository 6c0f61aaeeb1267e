import { describe, expect, it } from "vitest";
import { ReportFlow } from "./flow.svelte";
import type { Backend, ConsentView, Progress, SendReceipt } from "../backend";

const consent: ConsentView = {
  report_id: "r1",
  destination: "support.example.com",
  organisation: null,
  statement: ["Your report goes to your organisation's support service at support.example.com."],
  statement_sha256: "ab",
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

function fakeBackend(send: (onProgress: (p: Progress) => void) => Promise<SendReceipt>): Backend & { drafts: unknown[] } {
  const drafts: unknown[] = [];
  return {
    drafts,
    overview: async () => ({ destination: "support.example.com", organisation: null, sources: [] }),
    prepareReport: async (draft) => {
      drafts.push(draft);
      return consent;
    },
    sendReport: (_id, onProgress) => send(onProgress),
    cancelSend: async () => {},
  };
}

describe("ReportFlow", () => {
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

  it("keeps the input when sending fails, and a cancel returns to consent", async () => {
    let fail: "cancelled" | "unreachable" = "unreachable";
    const flow = new ReportFlow(
      fakeBackend(async () => {
        throw { code: fail, message: "no route" };
      }),
    );
    flow.draft.summary = "Video froze";
    await flow.review();
    await flow.send();
    expect(flow.screen).toBe("failed");
    expect(flow.error?.code).toBe("unreachable");
    expect(flow.draft.summary).toBe("Video froze");
    flow.back();
    expect(flow.screen).toBe("consent");
    fail = "cancelled";
    await flow.send();
    expect(flow.screen).toBe("consent");
    expect(flow.notice).toContain("Nothing was sent");
  });
});
