// @vitest-environment jsdom
/**
 * The log screen over an in-memory log: windows at any position, kept inside the log; level
 * filter; search with next and previous going round; highlights; a late answer never shows.
 */
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import LogScreen from "./LogScreen.svelte";
import { LogState, WINDOW, highlight } from "./log.svelte";
import { fakeBackend } from "../testing/backend";
import type { Backend, Level, LogLine } from "../backend";

/** A log of `n` lines: every tenth an error, the others info; line 500 says "needle". */
function memoryLog(n: number): Partial<Backend> & { delay?: (first: number) => Promise<void> } {
  const all: LogLine[] = Array.from({ length: n }, (_, i) => ({
    number: i + 1,
    level: (i % 10 === 0 ? "error" : "info") as Level,
    text: i === 499 || i === 1999 ? `line ${i + 1} has the Needle` : `line ${i + 1}`,
  }));
  let view = all;
  const backend: Partial<Backend> & { delay?: (first: number) => Promise<void> } = {
    openLog: async () => ({ log_id: "l", path: "files/app/app.log", lines: n, bytes: n * 10, complete: true, size: n * 10, by_level: [0, 0, n - n / 10, 0, n / 10, 0] }),
    logWindow: async (_id, first, count) => {
      await backend.delay?.(first);
      return { total: view.length, first, lines: view.slice(first, first + count) };
    },
    logFilter: async (_id, levels) => {
      view = levels.length === 0 ? all : all.filter((l) => l.level && levels.includes(l.level));
      return view.length;
    },
    logSearch: async (_id, query) => {
      const positions = view.flatMap((l, i) => (l.text.toLowerCase().includes(query.toLowerCase()) ? [i] : []));
      return { total: positions.length, positions };
    },
  };
  return backend;
}

describe("LogState", () => {
  it("shows a window at any position, never past either end", async () => {
    const log = new LogState(fakeBackend(memoryLog(2_000_000)), "b");
    await log.open("files/app/app.log");
    expect(log.lines).toHaveLength(WINDOW);
    await log.goTo(1_999_990);
    expect(log.first).toBe(1_999_990);
    expect(log.lines[0].number).toBe(1_999_991);
    await log.goTo(5_000_000);
    expect(log.first).toBe(1_999_999);
    await log.scrollBy(-10_000_000);
    expect(log.first).toBe(0);
  });

  it("filters by level, finds, and goes round the matches both ways", async () => {
    const log = new LogState(fakeBackend(memoryLog(3_000)), "b");
    await log.open("files/app/app.log");
    log.query = "needle";
    await log.search();
    expect(log.matchTotal).toBe(2);
    expect(log.lines[3].number).toBe(500);
    await log.nextMatch();
    expect(log.lines[3].number).toBe(2000);
    await log.nextMatch();
    expect(log.lines[3].number).toBe(500);
    await log.nextMatch(true);
    expect(log.lines[3].number).toBe(2000);
    await log.setLevels(["error"], false);
    expect(log.total).toBe(300);
    expect(log.matches).toEqual([]);
    expect(log.lines.every((l) => l.level === "error")).toBe(true);
  });

  it("an answer to an older position never replaces a newer one", async () => {
    const backend = memoryLog(10_000);
    const log = new LogState(fakeBackend(backend), "b");
    await log.open("files/app/app.log");
    let release: () => void = () => {};
    backend.delay = (first) => (first === 100 ? new Promise((r) => (release = r)) : Promise.resolve());
    const slow = log.goTo(100);
    await log.goTo(5_000);
    release();
    await slow;
    expect(log.first).toBe(5_000);
  });
});

describe("LogScreen", () => {
  it("numbers the lines, marks what was found and says where it is", async () => {
    const log = new LogState(fakeBackend(memoryLog(3_000)), "b");
    await log.open("files/app/app.log");
    render(LogScreen, { log, onClose: () => {} });
    expect(screen.getByTestId("log-position").textContent).toContain("Lines 1–30 of 3000");
    await fireEvent.input(screen.getByTestId("log-query"), { target: { value: "NEEDLE" } });
    await fireEvent.click(screen.getByTestId("log-find"));
    await waitFor(() => expect(screen.getByTestId("log-matches").textContent).toBe("1 of 2"));
    expect(screen.getByText("Needle", { selector: "mark" })).toBeTruthy();
    await fireEvent.input(screen.getByTestId("log-query"), { target: { value: "absent" } });
    await fireEvent.click(screen.getByTestId("log-find"));
    await waitFor(() => expect(screen.getByTestId("log-matches").textContent).toBe("No match for “absent”"));
  });
});

describe("highlight", () => {
  it("cuts a line around every match, in any case", () => {
    expect(highlight("Join failed, join again", "JOIN")).toEqual([
      { text: "Join", hit: true },
      { text: " failed, ", hit: false },
      { text: "join", hit: true },
      { text: " again", hit: false },
    ]);
    expect(highlight("abc", " ")).toEqual([{ text: "abc", hit: false }]);
  });
});
