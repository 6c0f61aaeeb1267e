import { describe, expect, it } from "vitest";
import type { HistoryEntry } from "../backend";
import { decisionLabel, stateLabel, surveyLine } from "./history.svelte";

const base: HistoryEntry = {
  id: "0190-a",
  summary: "Video froze",
  made_at: "2026-11-25T10:00:00Z",
  state: "sent",
  ticket_id: "CS-000003",
  ticket_url: "http://x/CS-000003",
  detail: null,
};

describe("stateLabel", () => {
  it("says where each report is, in words", () => {
    expect(stateLabel(base)).toBe("Sent · ticket CS-000003");
    expect(stateLabel({ ...base, state: "waiting", ticket_id: null })).toContain("goes out on its own");
    expect(stateLabel({ ...base, state: "not_accepted", detail: "too large" })).toBe("Not accepted: too large");
  });
});

describe("decisionLabel", () => {
  it("says whether the user was asked, and if not, why", () => {
    expect(decisionLabel({ decision: "prompted" })).toBe("You were offered to report it");
    expect(decisionLabel({ decision: "muted" })).toContain("not to be asked again for this app");
    expect(decisionLabel({ decision: "daily_cap" })).toContain("today's offers");
    expect(decisionLabel({ decision: "cooldown", until: "2026-11-25T10:30:00Z" })).toContain("next offer from");
  });
});

describe("surveyLine", () => {
  it("puts the rated parts in one line with their issues", () => {
    const scale = { lower_bound: 1, upper_bound: 5, low_score_threshold: 2 };
    expect(
      surveyLine({
        answered_at: "2026-11-25T10:00:00Z",
        survey: {
          overall: { score: 4, scale, issues: [] },
          audio: { score: 2, scale, issues: ["Echo"] },
          comment: "",
        },
      }),
    ).toBe("Overall 4 of 5 · Sound 2 of 5 (Echo)");
  });
});
