// @vitest-environment jsdom
/**
 * The screens beside the report flow, rendered: History, Settings and the waiting reports on the
 * report form, in each of their states.
 */
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { tick } from "svelte";
import HistoryScreen from "../history/HistoryScreen.svelte";
import { HistoryState } from "../history/history.svelte";
import SettingsScreen from "../settings/SettingsScreen.svelte";
import { SettingsState } from "../settings/settings.svelte";
import OutboxPanel from "../outbox/OutboxPanel.svelte";
import { OutboxState } from "../outbox/outbox.svelte";
import { fakeBackend, settingsView } from "../testing/backend";
import type { HistoryEntry, QueuedReport } from "../backend";

const sent: HistoryEntry = {
  id: "b1", summary: "No sound", made_at: new Date().toISOString(), state: "sent",
  ticket_id: "CS-000001", ticket_url: "https://support.contoso.com/tickets/CS-000001", detail: null,
};
const waiting: HistoryEntry = {
  id: "b2", summary: "Video froze", made_at: new Date().toISOString(), state: "waiting",
  ticket_id: null, ticket_url: null, detail: "cannot reach support.contoso.com",
};

describe("HistoryScreen", () => {
  it("says so when there is nothing yet", async () => {
    const history = new HistoryState(fakeBackend());
    await history.load();
    render(HistoryScreen, { history, onClose: () => {} });
    expect(screen.getByText("No reports yet.")).toBeTruthy();
  });

  it("lists each report with its state; a sent one can be copied and opened; a copy can be deleted", async () => {
    const backend = fakeBackend({ history: async () => [sent, waiting] });
    const history = new HistoryState(backend);
    await history.load();
    render(HistoryScreen, { history, onClose: () => {} });
    const [first, second] = screen.getAllByTestId("history-item");
    expect(within(first).getByTestId("history-state").textContent).toBe("Sent · ticket CS-000001");
    expect(within(second).getByTestId("history-state").textContent).toContain("Waiting to be sent");
    expect(within(second).queryByTestId("history-open")).toBeNull();
    await fireEvent.click(within(first).getByTestId("history-open"));
    expect(backend.calls).toContain("openTicket:CS-000001");
    await fireEvent.click(within(second).getByRole("button", { name: "Delete local copy of “Video froze”" }));
    expect(backend.calls).toContain("deleteLocalCopy:b2");
  });

  it("the Detected tab lists what was noticed, with its call, evidence and whether the user was asked", async () => {
    const history = new HistoryState(
      fakeBackend({
        detected: async () => [
          {
            id: "d2", at: new Date().toISOString(), occurred_at: null, rule: "unexpected_end", source_id: "ops",
            call_id: "call-9", summary: "Your last call ended unexpectedly", details: [], decision: { decision: "daily_cap" },
          },
          {
            id: "d1", at: new Date().toISOString(), occurred_at: null, rule: "join_failed", source_id: "ops",
            call_id: "call-8", summary: "You could not join your last call", details: ["Join · Failed 408"],
            decision: { decision: "prompted" },
          },
        ],
      }),
    );
    await history.load();
    render(HistoryScreen, { history, onClose: () => {} });
    const tab = screen.getByRole("tab", { name: "Detected (2)" });
    expect(tab.getAttribute("aria-selected")).toBe("false");
    await fireEvent.click(tab);
    expect(tab.getAttribute("aria-selected")).toBe("true");
    const [latest, earlier] = screen.getAllByTestId("detected-item");
    expect(latest.textContent).toContain("ended without a hang-up · call call-9");
    expect(within(latest).getByTestId("detected-decision").textContent).toContain("today's offers were all used");
    expect(earlier.textContent).toContain("Join · Failed 408");
    expect(within(earlier).getByTestId("detected-decision").textContent).toBe("You were offered to report it");
  });

  it("a failure is an alert in words", async () => {
    const history = new HistoryState(
      fakeBackend({
        openTicket: async () => {
          throw { code: "report_invalid", message: "no report from this computer went to ticket CS-000001" };
        },
        history: async () => [sent],
      }),
    );
    await history.load();
    render(HistoryScreen, { history, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("history-open"));
    expect((await screen.findByRole("alert")).textContent).toContain("no report from this computer");
  });
});

describe("SettingsScreen", () => {
  it("the organisation's locked keys are shown as managed, with no field", async () => {
    const settings = new SettingsState(fakeBackend());
    await settings.load();
    render(SettingsScreen, { settings, onClose: () => {} });
    const locked = screen.getAllByTestId("setting").find((row) => row.dataset.key === "shortcut.report")!;
    expect(within(locked).getByTestId("setting-origin").textContent).toContain("Managed by your organisation");
    expect(within(locked).queryByRole("textbox")).toBeNull();
    expect(screen.getByText("/etc/callsupport/config.toml")).toBeTruthy();
  });

  it("the user's own: a switch is a checkbox, a number a number field, Save once changed", async () => {
    const backend = fakeBackend();
    const settings = new SettingsState(backend);
    await settings.load();
    render(SettingsScreen, { settings, onClose: () => {} });
    const login = screen.getByLabelText("Start Call Support when you sign in") as HTMLInputElement;
    expect(login.type).toBe("checkbox");
    expect(login.checked).toBe(true);
    const days = screen.getByLabelText("Include logs from the last (days)") as HTMLInputElement;
    expect(days.type).toBe("number");
    const row = screen.getAllByTestId("setting").find((r) => r.dataset.key === "startup.at_login")!;
    const save = within(row).getByTestId("setting-save") as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    await fireEvent.click(login);
    expect(save.disabled).toBe(false);
    await fireEvent.click(save);
    await tick();
    expect(backend.calls).toContain("changeSetting");
  });

  it("what of the user's file was ignored is said, with where", async () => {
    const settings = new SettingsState(
      fakeBackend({
        settings: async () => ({ ...settingsView, ignored: ["config.toml line 4: `shortcut.report` is managed"] }),
      }),
    );
    await settings.load();
    render(SettingsScreen, { settings, onClose: () => {} });
    expect(screen.getByTestId("settings-ignored").textContent).toContain("line 4");
  });
});

describe("OutboxPanel", () => {
  const report: QueuedReport = {
    id: "q1", summary: "Echo", queued_at: new Date().toISOString(), bytes: 2_000, attempts: 1,
    last_error: { code: "unreachable", message: "cannot reach support.contoso.com", retryable: true },
    destination: "support.contoso.com", held_for: null,
  };

  it("is not there while nothing waits", async () => {
    const outbox = new OutboxState(fakeBackend());
    await outbox.load();
    render(OutboxPanel, { outbox });
    expect(screen.queryByTestId("outbox")).toBeNull();
  });

  it("says how many wait, and offers Send now and Remove", async () => {
    const backend = fakeBackend({ queuedReports: async () => ({ reports: [report, { ...report, id: "q2" }], warnings: [] }) });
    const outbox = new OutboxState(backend);
    await outbox.load();
    render(OutboxPanel, { outbox });
    expect(screen.getByRole("heading").textContent).toContain("2 earlier reports wait to be sent");
    await fireEvent.click(screen.getByTestId("outbox-send"));
    expect(backend.calls).toContain("sendQueued");
    expect(screen.getAllByTestId("outbox-remove")[0].getAttribute("aria-label")).toBe("Remove “Echo” without sending it");
  });
});
