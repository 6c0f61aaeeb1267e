import { describe, expect, it } from "vitest";
import { startView } from "./view";

describe("startView", () => {
  it("reads ?view=, and falls back to the report form", () => {
    expect(startView("?view=history")).toBe("history");
    expect(startView("?view=export")).toBe("export");
    expect(startView("")).toBe("report");
    expect(startView("?view=../../etc")).toBe("report");
  });
});
