import { describe, expect, it } from "vitest";
import { age, callTime, humanBytes, replacements, roughSendTime, timeLeft } from "./format";

describe("humanBytes", () => {
  it("matches the consent statement's wording", () => {
    expect(humanBytes(532)).toBe("532 bytes");
    expect(humanBytes(4_200_000)).toBe("4.2 MB");
    expect(humanBytes(1_500_000_000)).toBe("1.5 GB");
  });
});

describe("age", () => {
  const now = new Date("2026-11-24T12:00:00Z");
  it("reads like a person", () => {
    expect(age("2026-11-24T11:59:30Z", now)).toBe("just now");
    expect(age("2026-11-24T11:55:00Z", now)).toBe("5 minutes ago");
    expect(age("2026-11-24T11:00:00Z", now)).toBe("1 hour ago");
    expect(age("2026-11-23T10:00:00Z", now)).toBe("yesterday");
    expect(age("2026-11-20T12:00:00Z", now)).toBe("4 days ago");
  });
});

describe("timeLeft", () => {
  it("is unknown until a rate is measured", () => {
    expect(timeLeft(1000, 0)).toBeNull();
  });
  it("rounds to what a person needs", () => {
    expect(timeLeft(1_000, 1_000)).toBe("a few seconds left");
    expect(timeLeft(20_000, 1_000)).toBe("about 20 seconds left");
    expect(timeLeft(600_000, 1_000)).toBe("about 10 minutes left");
  });
});

describe("roughSendTime", () => {
  it("gives an order of magnitude", () => {
    expect(roughSendTime(2_000_000)).toBe("a few seconds");
    expect(roughSendTime(300_000_000)).toBe("about 5 minutes");
  });
});

describe("callTime", () => {
  const now = new Date(2026, 10, 25, 15, 0);
  const at = (h: number, m: number, day = 25) => new Date(2026, 10, day, h, m).toISOString();
  it("says the day, the start and how long", () => {
    expect(callTime(at(14, 0), at(14, 12), now)).toMatch(/^Today (14|02).00( PM)? · 12 min$/);
    expect(callTime(at(9, 30, 24), at(10, 35, 24), now)).toMatch(/^Yesterday .* · 1 h 5 min$/);
    expect(callTime(at(9, 0, 20), null, now)).toMatch(/ · under a minute$/);
    expect(callTime(null, null, now)).toBe("Time unknown");
  });
});

describe("replacements", () => {
  it("counts in words, kinds that read the same together", () => {
    expect(replacements({ email: 3, ipv4: 1, ipv6: 1, user: 1 })).toBe(
      "3 e-mail addresses, 2 network addresses, 1 user name",
    );
    expect(replacements({})).toBe("");
  });
});
