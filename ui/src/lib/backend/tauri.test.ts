import { beforeEach, describe, expect, it, vi } from "vitest";

// What `tauri.ts` asks of Tauri, recorded instead of sent.
const calls = vi.hoisted(() => ({ invoked: [] as string[], listened: [] as string[] }));

vi.mock("@tauri-apps/api/core", () => ({
  invoke: async (command: string) => {
    calls.invoked.push(command);
    return null;
  },
  Channel: class {
    onmessage: unknown = null;
  },
}));
vi.mock("@tauri-apps/api/event", () => ({
  listen: async (event: string) => {
    calls.listened.push(event);
    return () => {};
  },
}));
vi.mock("@tauri-apps/api/window", () => ({
  getCurrentWindow: () => ({ close: async () => {} }),
}));

import { COMMANDS, EVENTS } from "./generated/ipc";
import { tauriBackend } from "./tauri";

/** Sorted and without repeats, so a failure lists the difference plainly. */
const names = (list: readonly string[]) => [...new Set(list)].sort();

describe("tauriBackend", () => {
  beforeEach(() => {
    calls.invoked.length = 0;
    calls.listened.length = 0;
  });

  it("invokes every command of src-tauri/src/ipc.rs and listens to every event", async () => {
    for (const method of Object.values(tauriBackend)) {
      await (method as (...args: unknown[]) => unknown)();
    }
    // A command listed (and allowed) but never invoked means tauri.ts or Backend lacks it.
    expect(names(calls.invoked), "the commands tauri.ts invokes").toEqual(names(COMMANDS));
    expect(names(calls.listened), "the events tauri.ts listens to").toEqual(names(Object.values(EVENTS)));
  });
});

describe("the Tauri boundary", () => {
  it("keeps @tauri-apps imports inside src/lib/backend/", () => {
    const sources = import.meta.glob<string>(["/src/**/*.ts", "/src/**/*.svelte"], {
      query: "?raw",
      import: "default",
      eager: true,
    });
    expect(Object.keys(sources).length).toBeGreaterThan(10);
    const outside = Object.entries(sources)
      .filter(([path]) => !path.startsWith("/src/lib/backend/"))
      .filter(([, text]) => /from\s+["']@tauri-apps\/|import\s*\(\s*["']@tauri-apps\//.test(text))
      .map(([path]) => path);
    expect(outside, "files outside src/lib/backend/ that import @tauri-apps").toEqual([]);
  });
});
