import { describe, expect, it } from "vitest";
import type { ApiError, Backend, Setting, SettingsView } from "../backend";
import { SettingsState, originLabel } from "./settings.svelte";

function row(key: string, over: Partial<Setting> = {}): Setting {
  return {
    key, label: key, value: "7", kind: "number", origin: "default", locked: false, editable: true, ...over,
  };
}

function backend(view: SettingsView, refuse?: ApiError): Backend {
  return {
    settings: async () => view,
    changeSetting: async (key: string, value: string) => {
      if (refuse) throw refuse;
      return { ...view, settings: view.settings.map((s) => (s.key === key ? { ...s, value, origin: "user" } : s)) };
    },
  } as unknown as Backend;
}

const view: SettingsView = {
  settings: [
    row("collection.max_age_days"),
    row("shortcut.report", { kind: "text", value: "CmdOrCtrl+Alt+Shift+R", locked: true, editable: false, origin: "organisation" }),
    row("ticket_api.url", { kind: "text", value: "https://x", editable: false, origin: "organisation" }),
  ],
  managed_file: "/etc/callsupport/config.toml",
  user_file: "~/.config/callsupport/config.toml",
  ignored: [],
};

describe("SettingsState", () => {
  it("splits the user's settings from the organisation's, and saves a change", async () => {
    const state = new SettingsState(backend(view));
    await state.load();
    expect(state.yours.map((s) => s.key)).toEqual(["collection.max_age_days"]);
    expect(state.theirs.map((s) => s.key)).toEqual(["shortcut.report", "ticket_api.url"]);
    state.edit("collection.max_age_days", "3");
    expect(state.isChanged(state.yours[0])).toBe(true);
    await state.save("collection.max_age_days");
    expect(state.yours[0]).toMatchObject({ value: "3", origin: "user" });
    expect(state.saved).toBe("collection.max_age_days");
    expect(state.edits).toEqual({});
  });

  it("a refused change keeps what was typed and says why", async () => {
    const refusal: ApiError = { code: "report_invalid", message: "`a week` is not a whole number" };
    const state = new SettingsState(backend(view, refusal));
    await state.load();
    state.edit("collection.max_age_days", "a week");
    await state.save("collection.max_age_days");
    expect(state.valueOf(state.yours[0])).toBe("a week");
    expect(state.errors["collection.max_age_days"]).toEqual(refusal);
  });

  it("names where each value comes from", () => {
    expect(originLabel(view.settings[1])).toBe("Managed by your organisation");
    expect(originLabel(view.settings[2])).toBe("Set by your organisation");
    expect(originLabel(row("k", { origin: "user" }))).toBe("Set by you");
  });
});
