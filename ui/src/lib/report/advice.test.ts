import { describe, expect, it } from "vitest";
import { adviceFor } from "./advice";
import type { ErrorCode } from "../backend";

const codes: ErrorCode[] = [
  "config_invalid", "source_unavailable", "report_invalid", "cancelled", "unreachable",
  "unauthorized", "rejected", "server_busy", "integrity", "io",
];

describe("adviceFor", () => {
  it("has words for every error code", () => {
    for (const code of codes) {
      const advice = adviceFor(code);
      expect(advice.title.length, code).toBeGreaterThan(0);
      expect(advice.body.length, code).toBeGreaterThan(0);
    }
  });
  it("tells the user not to retry what retrying cannot fix", () => {
    expect(adviceFor("unauthorized").retry).toBe(false);
    expect(adviceFor("unauthorized").body).toContain("IT help desk");
    expect(adviceFor("unreachable").retry).toBe(true);
  });
  it("says a report that waits for the network is kept, not lost", () => {
    expect(adviceFor("unreachable").title).toContain("Saved");
    expect(adviceFor("server_busy").body).toContain("sends it on its own");
  });
});
