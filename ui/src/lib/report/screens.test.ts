// @vitest-environment jsdom
/**
 * The report flow's screens, rendered: what each shows in each state, and what the user's
 * actions ask of the app.
 */
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { tick } from "svelte";
import { ReportFlow } from "./flow.svelte";
import ReportScreen from "./ReportScreen.svelte";
import ConsentScreen from "./ConsentScreen.svelte";
import SendingScreen from "./SendingScreen.svelte";
import DoneScreen from "./DoneScreen.svelte";
import QueuedScreen from "./QueuedScreen.svelte";
import FailedScreen from "./FailedScreen.svelte";
import { OutboxState } from "../outbox/outbox.svelte";
import { consent, fakeBackend, file, group, overview, receipt } from "../testing/backend";
import type { Backend } from "../backend";

async function reportForm(overrides: Partial<Backend> = {}) {
  const backend = fakeBackend(overrides);
  const flow = new ReportFlow(backend);
  await flow.load();
  render(ReportScreen, { flow, outbox: new OutboxState(backend), onShow: () => {} });
  return { backend, flow };
}

describe("ReportScreen", () => {
  it("asks for a summary before Review, and says how many files are ready for whom", async () => {
    await reportForm();
    const review = screen.getByTestId("review");
    expect(review).toHaveProperty("disabled", true);
    await fireEvent.input(screen.getByTestId("summary"), { target: { value: "No sound" } });
    expect(review).toHaveProperty("disabled", false);
    expect(screen.getByTestId("files-ready").textContent).toContain("2 log files ready (2.0 KB), for Contoso IT");
  });

  it("where log collection is not allowed, says the report carries words only", async () => {
    await reportForm({ overview: async () => ({ ...overview, allow_log_collection: false }) });
    expect(screen.getByTestId("files-ready").textContent).toContain("does not collect log files");
  });

  it("offers a contact field and a screenshot only where the organisation allows them", async () => {
    await reportForm();
    expect(screen.queryByTestId("contact")).toBeNull();
    expect(screen.queryByTestId("take-screenshot")).toBeNull();
  });

  it("where saving to a file is not allowed, Export Logs says so and offers a report instead", async () => {
    const backend = fakeBackend({ overview: async () => ({ ...overview, allow_export: false }) });
    const flow = new ReportFlow(backend);
    flow.setMode(true);
    await flow.load();
    render(ReportScreen, { flow, outbox: new OutboxState(backend), onShow: () => {} });
    expect(screen.getByTestId("export-not-allowed").textContent).toContain("does not allow saving logs to a file");
    await fireEvent.click(screen.getByTestId("report-instead"));
    expect(flow.draft.to_file).toBe(false);
    await tick();
    expect(screen.queryByTestId("export-not-allowed")).toBeNull();
  });

  it("takes a screenshot, shows it, and can remove it", async () => {
    const { backend, flow } = await reportForm({
      overview: async () => ({ ...overview, allow_contact: true, allow_screenshot: true }),
    });
    expect(screen.getByTestId("contact")).toBeTruthy();
    await fireEvent.click(screen.getByTestId("take-screenshot"));
    const picture = await screen.findByTestId("screenshot");
    expect(picture.getAttribute("alt")).toContain("screenshot");
    expect(screen.getByText(/1280 × 800/)).toBeTruthy();
    expect(flow.draft.screenshot).toBe("s1");
    await fireEvent.click(screen.getByTestId("remove-screenshot"));
    await tick();
    expect(screen.queryByTestId("screenshot")).toBeNull();
    expect(backend.calls).toContain("discardScreenshot");
  });

  it("names the ticket support asked about, and an expired link in words", async () => {
    await reportForm({
      overview: async () => ({
        ...overview,
        support_request: { ticket_id: "CS-000007", expires_at: "2030-01-01T00:00:00Z" },
        link_problem: "This link from support expired; ask them for a new one.",
      }),
    });
    expect(screen.getByTestId("support-request").textContent).toContain("CS-000007");
    expect(screen.getByTestId("link-problem").textContent).toContain("ask them for a new one");
  });

  it("shows what went wrong as an alert", async () => {
    const { flow } = await reportForm();
    flow.error = { code: "config_invalid", message: "config.toml line 3: key `url` is missing" };
    await tick();
    expect(screen.getByRole("alert").textContent).toContain("line 3");
  });
});

async function atConsent(view = consent) {
  const backend = fakeBackend({ prepareReport: async () => view });
  const flow = new ReportFlow(backend);
  flow.draft.summary = "No sound";
  await flow.review();
  render(ConsentScreen, { flow });
  return { backend, flow };
}

describe("ConsentScreen", () => {
  it("lists every file by source; encrypted ones are tagged and have no preview", async () => {
    await atConsent();
    const files = screen.getAllByTestId("file");
    expect(files).toHaveLength(2);
    expect(within(files[0]).getByText("Encrypted")).toBeTruthy();
    expect(within(files[0]).queryByTestId("file-preview")).toBeNull();
    expect(within(files[1]).getByTestId("file-preview").getAttribute("aria-label")).toBe("Preview app.log");
    expect(screen.getByTestId("statement").textContent).toContain("Contoso IT");
  });

  it("offers Save to file instead only where the organisation allows it", async () => {
    const { flow } = await atConsent();
    expect(screen.getByTestId("save").textContent).toBe("Save to file instead");
    flow.overview = { ...overview, allow_export: false };
    await tick();
    expect(screen.queryByTestId("save")).toBeNull();
    expect(screen.getByTestId("send")).toBeTruthy();
  });

  it("a screenshot is a picture: tagged, no text preview", async () => {
    await atConsent({
      ...consent,
      groups: [group("screenshot", "screenshot", [file("screenshot/screenshot.png", false)]), ...consent.groups],
    });
    const shot = screen.getAllByTestId("file")[0];
    expect(within(shot).getByText("Picture")).toBeTruthy();
    expect(within(shot).queryByTestId("file-preview")).toBeNull();
  });

  it("unticking a file asks the app for the new consent screen", async () => {
    const { backend } = await atConsent();
    await fireEvent.click(screen.getAllByTestId("file-include")[1]);
    await tick();
    expect(backend.calls).toContain("chooseFiles:app/app.log");
    expect(screen.getAllByTestId("file")[1].className).toContain("excluded");
  });
});

function flowAt(state: Partial<ReportFlow>): ReportFlow {
  const flow = new ReportFlow(fakeBackend());
  Object.assign(flow, state);
  return flow;
}

describe("SendingScreen", () => {
  it("shows the stage, the bytes and the time left while uploading", () => {
    render(SendingScreen, {
      flow: flowAt({
        screen: "sending",
        progress: { stage: "uploading", bytes_sent: 500_000, bytes_total: 2_000_000, bytes_per_second: 250_000 },
      }),
    });
    expect(screen.getByRole("heading").textContent).toBe("Sending your report");
    expect(screen.getByTestId("sending-detail").textContent).toBe("500.0 KB of 2.0 MB · about 6 seconds left");
    expect(screen.getByText("Sending").className).toContain("active");
    expect(screen.getByText("Gathering and packing files").className).toContain("done");
  });

  it("says why it waits and when it tries again", () => {
    render(SendingScreen, {
      flow: flowAt({
        screen: "sending",
        progress: { stage: "retrying", attempt: 2, attempts: 4, wait_seconds: 8, reason: "The service is busy" },
      }),
    });
    expect(screen.getByTestId("sending-detail").textContent).toBe(
      "The service is busy. Trying again in 8 s (attempt 2 of 4).",
    );
  });

  it("saving to a file has one stage", () => {
    render(SendingScreen, { flow: flowAt({ screen: "saving", progress: null }) });
    expect(screen.getByRole("heading").textContent).toBe("Saving your report");
    expect(screen.getAllByRole("listitem")).toHaveLength(1);
  });
});

describe("DoneScreen", () => {
  it("a new ticket: its id, its link, Copy and Open ticket", async () => {
    const backend = fakeBackend();
    const flow = new ReportFlow(backend);
    Object.assign(flow, { screen: "done", receipt });
    render(DoneScreen, { flow });
    expect(screen.getByRole("heading").textContent).toBe("Report sent");
    expect(screen.getByTestId("ticket-id").textContent).toBe("CS-000042");
    expect(screen.getByTestId("ticket-url").textContent).toBe(receipt.ticket_url);
    await fireEvent.click(screen.getByTestId("open-ticket"));
    expect(backend.calls).toContain("openTicket:CS-000042");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("logs added to support's ticket say so; a browser that cannot open says why", async () => {
    const flow = new ReportFlow(
      fakeBackend({
        openTicket: async () => {
          throw { code: "io", message: "cannot open a browser; copy the ticket's link instead" };
        },
      }),
    );
    Object.assign(flow, { screen: "done", receipt });
    flow.draft.ticket_id = "CS-000042";
    render(DoneScreen, { flow });
    expect(screen.getByRole("heading").textContent).toBe("Logs added to your ticket");
    await fireEvent.click(screen.getByTestId("open-ticket"));
    expect((await screen.findByRole("alert")).textContent).toContain("copy the ticket's link");
  });
});

describe("QueuedScreen and FailedScreen", () => {
  it("queued offline or busy: the advice fits, the details are there", () => {
    const offline = render(QueuedScreen, {
      flow: flowAt({ screen: "queued", error: { code: "unreachable", message: "cannot reach support.contoso.com" } }),
    });
    expect(screen.getByTestId("queued-advice").textContent).toContain("you may be offline");
    expect(screen.getByTestId("queued-detail").textContent).toBe("cannot reach support.contoso.com");
    offline.unmount();
    render(QueuedScreen, { flow: flowAt({ screen: "queued", error: { code: "server_busy", message: "503" } }) });
    expect(screen.getByTestId("queued-advice").textContent).toContain("busy right now");
  });

  it("a refused report says what to do; Try again only where trying again can help", () => {
    const refused = render(FailedScreen, {
      flow: flowAt({ screen: "failed", error: { code: "unauthorized", message: "401" } }),
    });
    // A token the service refuses will not work on a second try.
    expect(screen.getByTestId("failure-advice").textContent).not.toBe("");
    expect(screen.queryByTestId("retry")).toBeNull();
    refused.unmount();
    render(FailedScreen, { flow: flowAt({ screen: "failed", error: { code: "integrity", message: "hash differs" } }) });
    expect(screen.getByTestId("failure-detail").textContent).toBe("hash differs");
    expect(screen.getByTestId("retry")).toBeTruthy();
  });
});
