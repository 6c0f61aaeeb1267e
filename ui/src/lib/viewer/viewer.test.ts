// @vitest-environment jsdom
/**
 * The viewer, rendered: a bundle opened through the dialog shows its report, is checked, and
 * lists each call with its failures in red and its queries; a refused bundle is said in words.
 */
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { tick } from "svelte";
import ViewerScreen from "./ViewerScreen.svelte";
import { ViewerState, bar, lanes, visibleFiles } from "./viewer.svelte";
import { fakeBackend } from "../testing/backend";
import type { Calls, OpenedBundle } from "../backend";

const opened: OpenedBundle = {
  id: "b1",
  path: "~/Downloads/report.zip",
  bytes: 900_000,
  sealed: false,
  manifest: {
    format: "callsupport/bundle@1",
    bundle_id: "b1",
    created_at: "2025-05-01T12:00:00Z",
    generator: { name: "callsupport", version: "0.1.0" },
    host: { os: "windows", os_version: "Windows 11", arch: "x86_64", locale: "en-GB", timezone: "Europe/London" },
    report: { summary: "Video froze", description: "", category: "video", occurred_at: "2025-05-01T11:00:00Z", call_ids: ["call-bad"] },
    consent: { accepted_at: "2025-05-01T12:00:00Z", statement_sha256: "ab", redaction: true, destination: "support.contoso.com" },
    sources: [{ id: "ops", name: "Call records", kind: "call-operations" }],
    files: [
      {
        path: "files/ops/ops.jsonl", source: "ops", original_path: "~/ops.jsonl", size: 2048, sha256: "cd",
        modified_at: "2025-05-01T11:30:00Z", kind: "call-operations", encrypted: false, truncated: false,
        redactions: 3, redactions_by_kind: { email: 2, ipv4: 1 }, redaction: "applied", method: "deflated",
      },
    ],
    skipped: [{ original_path: "~/logs/old.log", reason: "too old" }],
  },
};

const op = (name: string, at: string, failed: boolean) => ({
  at, name, kind: "client-api-request", participant_id: "p1", duration_ms: 1000,
  result_type: failed ? "Failed" : "Succeeded", result_signature: failed ? 408 : 200, failed,
  ...(failed ? { failure: { operation_id: "op-1", payload: '{"reason":"timeout"}' } } : {}),
  file: 0, line: 1,
});

const calls: Calls = {
  calls: [
    {
      call_id: "call-ok", start: "2025-05-01T10:00:00Z", end: "2025-05-01T10:05:00Z", participants: ["p1"],
      sdk_versions: ["1.31"], operations: [op("Join", "2025-05-01T10:00:00Z", false)], failures: 0,
    },
    {
      call_id: "call-bad", start: "2025-05-01T11:00:00Z", end: "2025-05-01T11:01:00Z", participants: ["p1"],
      sdk_versions: ["1.31"], operations: [op("Join", "2025-05-01T11:00:00Z", true), op("Join", "2025-05-01T11:00:30Z", false)], failures: 1,
    },
  ],
  files: ["files/ops/ops.jsonl"], records: 3, other_lines: 0, duplicates: 0, malformed: 0, problems: [],
};

describe("ViewerScreen", () => {
  it("shows the report, then the check, then each call; a failed call is marked with its failures", async () => {
    const backend = fakeBackend({
      chooseBundle: async () => opened,
      verifyBundle: async () => ({ intact: true, files_checked: 1, bytes_checked: 2048, problems: [] }),
      bundleCalls: async () => calls,
      kqlQueries: async (id) => [{ table: "ACSCallClientOperations", title: "Every SDK operation", text: `ACSCallClientOperations\n| where CallId == "${id}"` }],
    });
    const viewer = new ViewerState(backend);
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    expect(screen.getByTestId("bundle-summary").textContent).toBe("Video froze");
    expect(screen.getByTestId("bundle-replaced").textContent).toBe("2 e-mail addresses, 1 network address");
    expect(screen.getByTestId("bundle-skipped").textContent).toContain("~/logs/old.log: too old");
    await waitFor(() => expect(screen.getByTestId("integrity").textContent).toContain("Intact: all 1 files match"));
    const [fine, bad] = screen.getAllByTestId("call");
    expect(fine.className).not.toContain("failed");
    expect(bad.className).toContain("failed");
    const failure = within(bad).getByTestId("call-failure");
    expect(failure.textContent).toContain("Join · Failed 408");
    expect(failure.textContent).toContain('{"reason":"timeout"}');
    await fireEvent.click(within(bad).getByTestId("show-kql"));
    await tick();
    expect(within(bad).getByTestId("kql").textContent).toContain('CallId == "call-bad"');
  });

  it("a damaged bundle names its bad files; a refused one says why in words", async () => {
    const viewer = new ViewerState(
      fakeBackend({
        chooseBundle: async () => opened,
        verifyBundle: async () => ({ intact: false, files_checked: 1, bytes_checked: 2048, problems: [{ path: "files/ops/ops.jsonl", problem: "content does not match" }] }),
        bundleCalls: async () => calls,
      }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    await waitFor(() => expect(screen.getByTestId("integrity").textContent).toContain("Damaged: 1 of 1 files"));
    expect(screen.getByText("files/ops/ops.jsonl", { selector: "li code" })).toBeTruthy();

    viewer.error = { code: "integrity", message: "hostile.zip: refused entry `../evil.txt`" };
    await tick();
    const alert = screen.getByTestId("viewer-error");
    expect(alert.textContent).toContain("Not opened");
    expect(alert.textContent).toContain("../evil.txt");
  });

  it("a bundle the app opened for the window (command line, drop) is taken once", async () => {
    let handed: OpenedBundle | null = opened;
    const viewer = new ViewerState(
      fakeBackend({
        lastBundle: async () => {
          const bundle = handed;
          handed = null;
          return bundle;
        },
        verifyBundle: async () => ({ intact: true, files_checked: 1, bytes_checked: 2048, problems: [] }),
        bundleCalls: async () => calls,
      }),
    );
    await viewer.takeLast();
    expect(viewer.bundle?.id).toBe("b1");
    expect(viewer.calls?.calls).toHaveLength(2);
    await viewer.takeLast();
    expect(viewer.bundle?.id, "nothing new keeps what is shown").toBe("b1");
  });

  it("a closed dialog changes nothing", async () => {
    const viewer = new ViewerState(fakeBackend({ chooseBundle: async () => null }));
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    expect(viewer.bundle).toBeNull();
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe("Open a bundle");
  });
});

describe("open by ticket id", () => {
  const intact = async () => ({ intact: true, files_checked: 1, bytes_checked: 2048, problems: [] });

  it("asks for the agent token when the app holds none, shows what arrives, then the bundle", async () => {
    const asked: [string, string | null][] = [];
    let known = false;
    let release: () => void = () => {};
    const viewer = new ViewerState(
      fakeBackend({
        agentTokenKnown: async () => known,
        fetchTicket: async (ticket, token, onProgress) => {
          asked.push([ticket, token]);
          onProgress({ stage: "downloading", bytes_received: 1_048_576, bytes_total: 4_194_304 });
          await new Promise<void>((resolve) => (release = resolve));
          known = true;
          return opened;
        },
        verifyBundle: intact,
        bundleCalls: async () => calls,
      }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await waitFor(() => expect(screen.getByTestId("agent-token")).toBeTruthy());
    expect(screen.getByLabelText("Agent token").getAttribute("type")).toBe("password");
    await fireEvent.input(screen.getByLabelText("Ticket id"), { target: { value: "CS-000042" } });
    await fireEvent.input(screen.getByLabelText("Agent token"), { target: { value: "agent-s3cret" } });
    await fireEvent.submit(screen.getByTestId("ticket-form"));
    await waitFor(() => expect(screen.getByTestId("ticket-progress").textContent).toContain("Receiving CS-000042: 1.0 MB of 4.2 MB"));
    release();
    await waitFor(() => expect(screen.getByTestId("bundle-summary").textContent).toBe("Video froze"));
    expect(asked).toEqual([["CS-000042", "agent-s3cret"]]);
    await waitFor(() => expect(viewer.tokenKnown, "the accepted token is held by the app now").toBe(true));

    // Another ticket over the open bundle: no token asked again.
    await fireEvent.click(screen.getByTestId("show-ticket-form"));
    expect(screen.queryByTestId("agent-token")).toBeNull();
    await fireEvent.input(screen.getByLabelText("Ticket id"), { target: { value: "CS-000043" } });
    await fireEvent.submit(screen.getByTestId("ticket-form"));
    release();
    await waitFor(() => expect(screen.queryByTestId("ticket-form"), "the form closes once it opened").toBeNull());
    expect(asked[1]).toEqual(["CS-000043", null]);
  });

  it("a refused token is said in words and asked for again; a cancel says nothing", async () => {
    let failure = { code: "unauthorized", message: "the support service at support.contoso.com refused the agent token (401); check it" };
    const viewer = new ViewerState(
      fakeBackend({
        agentTokenKnown: async () => false,
        fetchTicket: async () => {
          throw failure;
        },
      }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await waitFor(() => expect(screen.getByTestId("agent-token")).toBeTruthy());
    await fireEvent.input(screen.getByLabelText("Ticket id"), { target: { value: "CS-000042" } });
    await fireEvent.input(screen.getByLabelText("Agent token"), { target: { value: "wrong" } });
    await fireEvent.submit(screen.getByTestId("ticket-form"));
    await waitFor(() => expect(screen.getByTestId("viewer-error").textContent).toContain("refused the agent token"));
    expect(screen.getByTestId("agent-token")).toBeTruthy();
    expect(viewer.bundle).toBeNull();

    failure = { code: "cancelled", message: "the download of CS-000042 was cancelled; nothing was kept" };
    await fireEvent.submit(screen.getByTestId("ticket-form"));
    await waitFor(() => expect(screen.queryByTestId("viewer-error")).toBeNull());
    expect(screen.getByTestId("ticket-open")).toBeTruthy();
  });
});

describe("files and exports", () => {
  const files = [
    { path: "files/app/app.log", size: 500, kind: "text", encrypted: false, sourceName: "Calling app" },
    { path: "files/acs/acs_1.blog", size: 9000, kind: "encrypted", encrypted: true, sourceName: "Calling SDK logs" },
    { path: "files/ops/ops.jsonl", size: 2000, kind: "call-operations", encrypted: false, sourceName: "Call records" },
  ];

  it("filters by path, kind or source and sorts by any column, both ways", () => {
    expect(visibleFiles(files, "", "path", false).map((f) => f.path)).toEqual([
      "files/acs/acs_1.blog", "files/app/app.log", "files/ops/ops.jsonl",
    ]);
    expect(visibleFiles(files, "", "size", true).map((f) => f.size)).toEqual([9000, 2000, 500]);
    expect(visibleFiles(files, "ENCRYPTED", "path", false)).toHaveLength(1);
    expect(visibleFiles(files, "ops", "kind", false).map((f) => f.path)).toEqual(["files/ops/ops.jsonl"]);
    expect(visibleFiles(files, "", "source", false).map((f) => f.sourceName)).toEqual([
      "Call records", "Calling app", "Calling SDK logs",
    ]);
    expect(visibleFiles(files, "sdk logs", "path", false).map((f) => f.path)).toEqual(["files/acs/acs_1.blog"]);
  });

  it("the table filters as the agent types, and says when nothing matches", async () => {
    const viewer = new ViewerState(fakeBackend({ chooseBundle: async () => opened, bundleCalls: async () => calls }));
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    expect(screen.getAllByTestId("bundle-file")).toHaveLength(1);
    expect(screen.getByTestId("bundle-file").textContent, "the source by its name").toContain("Call records");
    await fireEvent.input(screen.getByTestId("files-filter"), { target: { value: "nothing-like-it" } });
    expect(screen.queryAllByTestId("bundle-file")).toHaveLength(0);
    expect(screen.getByText(/No file matches/)).toBeTruthy();
  });

  it("an added export's records join the calls", async () => {
    const merged = { ...calls, files: [...calls.files, "~/export.jsonl"], duplicates: 1 };
    const viewer = new ViewerState(
      fakeBackend({ chooseBundle: async () => opened, bundleCalls: async () => calls, addExport: async () => merged }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    await fireEvent.click(screen.getByTestId("add-export"));
    await tick();
    expect(screen.getByTestId("calls-sources").textContent).toContain("From 2 files; 1 records were in more than one");
  });
});

describe("a ticket's added logs and links from support", () => {
  const intact = async () => ({ intact: true, files_checked: 1, bytes_checked: 2048, problems: [] });
  const added = {
    bundle_id: "01a2-added", created_at: "2025-05-02T09:00:00Z", summary: "The logs you asked for",
    bundle_bytes: 2_000_000, bundle_sha256: "ef",
  };
  const fetched = (addedBundle: string | null): OpenedBundle => ({
    ...opened,
    ticket: { ticket_id: "CS-000042", added_bundle: addedBundle, added: [added] },
  });

  it("lists the added logs, opens one in place, and goes back to the report's own", async () => {
    const asked: string[] = [];
    const viewer = new ViewerState(
      fakeBackend({
        agentTokenKnown: async () => true,
        fetchTicket: async (ticket) => {
          asked.push(`ticket ${ticket}`);
          return fetched(null);
        },
        fetchAdded: async (ticket, bundleId) => {
          asked.push(`added ${ticket} ${bundleId}`);
          return { ...fetched(bundleId), manifest: { ...opened.manifest, report: { ...opened.manifest.report, summary: "The logs you asked for" } } };
        },
        verifyBundle: intact,
        bundleCalls: async () => calls,
      }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.input(screen.getByLabelText("Ticket id"), { target: { value: "CS-000042" } });
    await fireEvent.submit(screen.getByTestId("ticket-form"));
    await waitFor(() => expect(screen.getByTestId("ticket-panel").textContent).toContain("Ticket CS-000042"));
    const row = screen.getByTestId("added-bundle");
    expect(row.textContent).toContain("The logs you asked for");
    expect(row.textContent).toContain("2.0 MB");
    await fireEvent.click(within(row).getByTestId("open-added"));
    await waitFor(() => expect(screen.getByTestId("bundle-summary").textContent).toBe("The logs you asked for"));
    expect(within(screen.getByTestId("added-bundle")).queryByTestId("open-added"), "the one shown").toBeNull();
    await fireEvent.click(screen.getByTestId("open-ticket-bundle"));
    await waitFor(() => expect(screen.getByTestId("bundle-summary").textContent).toBe("Video froze"));
    expect(asked).toEqual(["ticket CS-000042", "added CS-000042 01a2-added", "ticket CS-000042"]);
  });

  it("makes a link for the ticket with the time and uses chosen, and says a refusal in words", async () => {
    const made: [string, number | null, number | null][] = [];
    let refuse = false;
    const viewer = new ViewerState(
      fakeBackend({
        chooseBundle: async () => fetched(null),
        makeLink: async (ticket, hours, uses) => {
          if (refuse) throw { code: "unauthorized", message: "the support service at support.contoso.com refused the agent token (401); check it" };
          made.push([ticket, hours, uses]);
          return {
            link_id: "l1", ticket_id: ticket, url: "callsupport://report?ticket=CS-000042&expires=1&link=l1&sig=x",
            expires_at: "2025-05-09T09:00:00Z", max_uses: uses ?? 3, uses: 0,
          };
        },
        verifyBundle: intact,
        bundleCalls: async () => calls,
      }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await waitFor(() => expect(screen.getByTestId("make-link")).toBeTruthy());
    await fireEvent.change(screen.getByTestId("link-hours"), { target: { value: "168" } });
    await fireEvent.input(screen.getByTestId("link-uses"), { target: { value: "1" } });
    await fireEvent.click(screen.getByTestId("make-link"));
    await waitFor(() => expect((screen.getByTestId("made-link") as HTMLInputElement).value).toContain("callsupport://report?ticket=CS-000042"));
    expect(made).toEqual([["CS-000042", 168, 1]]);
    expect(screen.getByTestId("made-link-terms").textContent).toContain("for one report");

    refuse = true;
    await fireEvent.click(screen.getByTestId("make-link"));
    await waitFor(() => expect(screen.getByTestId("link-error").textContent).toContain("refused the agent token"));
  });

  it("a bundle opened from a file has no ticket panel", async () => {
    const viewer = new ViewerState(fakeBackend({ chooseBundle: async () => opened, verifyBundle: intact, bundleCalls: async () => calls }));
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await waitFor(() => expect(screen.getByTestId("bundle-summary")).toBeTruthy());
    expect(screen.queryByTestId("ticket-panel")).toBeNull();
  });
});

describe("a ticket's place in the ticket system", () => {
  const withStatus = (ticket_system: OpenedBundle["ticket_system"]) =>
    new ViewerState(fakeBackend({ chooseBundle: async () => ({ ...opened, ticket_system }) }));

  it("a forwarded ticket names its work item", async () => {
    render(ViewerScreen, {
      viewer: withStatus({
        done: true, work_item_id: 42, work_item_url: "https://dev.azure.com/contoso/p/_workitems/edit/42",
        attempts: 1, last_error: null, next_attempt_at: null,
      }),
      onClose: () => {},
    });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    const note = screen.getByTestId("ticket-system").textContent ?? "";
    expect(note).toContain("work item 42");
    expect(note).toContain("https://dev.azure.com/contoso/p/_workitems/edit/42");
  });

  it("one still waiting says how often it was tried and what the ticket system said", async () => {
    render(ViewerScreen, {
      viewer: withStatus({
        done: false, work_item_id: null, work_item_url: null, attempts: 3,
        last_error: "Azure DevOps answered 429 RequestBlockedException: slow down",
        next_attempt_at: "2025-05-01T12:00:00Z",
      }),
      onClose: () => {},
    });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    const note = screen.getByTestId("ticket-system").textContent ?? "";
    expect(note).toContain("Not in the ticket system yet");
    expect(note).toContain("3 tries so far");
    expect(note).toContain("429 RequestBlockedException: slow down");
  });

  it("a bundle opened from a file says nothing of it", async () => {
    render(ViewerScreen, { viewer: withStatus(undefined), onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await tick();
    expect(screen.queryByTestId("ticket-system")).toBeNull();
  });
});

describe("lanes", () => {
  it("puts each participant's operations in its own lane, in the call's order; unnamed ones last", () => {
    const ops = [
      { participant_id: "p2", n: 1 },
      { participant_id: null, n: 2 },
      { participant_id: "p1", n: 3 },
      { participant_id: "p2", n: 4 },
    ];
    expect(lanes(["p1", "p2", "p3"], ops)).toEqual([
      { id: "p1", operations: [ops[2]] },
      { id: "p2", operations: [ops[0], ops[3]] },
      { id: "", operations: [ops[1]] },
    ]);
  });

  it("a call of two participants shows two labelled lanes; a call of one, one unlabelled", async () => {
    const two = {
      ...calls.calls[1],
      participants: ["aaaaaaaa-1111", "bbbbbbbb-2222"],
      operations: [
        { ...calls.calls[1].operations[0], participant_id: "aaaaaaaa-1111" },
        { ...calls.calls[1].operations[1], participant_id: "bbbbbbbb-2222" },
      ],
    };
    const viewer = new ViewerState(
      fakeBackend({ chooseBundle: async () => opened, bundleCalls: async () => ({ ...calls, calls: [calls.calls[0], two] }) }),
    );
    render(ViewerScreen, { viewer, onClose: () => {} });
    await fireEvent.click(screen.getByTestId("open-bundle"));
    await waitFor(() => expect(screen.getAllByTestId("call")).toHaveLength(2));
    const [one, both] = screen.getAllByTestId("call");
    expect(within(one).getAllByRole("img")).toHaveLength(1);
    expect(one.querySelector(".lane-label")).toBeNull();
    const timelines = within(both).getAllByRole("img");
    expect(timelines.map((t) => t.getAttribute("aria-label"))).toEqual([
      "Operations over the call of participant aaaaaaaa-1111; failed ones in red",
      "Operations over the call of participant bbbbbbbb-2222; failed ones in red",
    ]);
    expect([...both.querySelectorAll(".lane-label")].map((l) => l.textContent)).toEqual(["aaaaaaaa", "bbbbbbbb"]);
    expect(timelines[0].querySelector(".op.fail")?.getAttribute("title")).toContain('{"reason":"timeout"}');
  });
});

describe("bar", () => {
  it("places an operation within its call, never outside", () => {
    expect(bar("2025-05-01T10:00:00Z", "2025-05-01T10:01:40Z", "2025-05-01T10:00:50Z", 10_000)).toEqual({ left: 50, width: 10 });
    const late = bar("2025-05-01T10:00:00Z", "2025-05-01T10:01:40Z", "2025-05-01T10:05:00Z", 10_000)!;
    expect(late.left + late.width).toBeLessThanOrEqual(100);
    expect(bar(null, null, "2025-05-01T10:00:00Z", 1)).toBeNull();
  });
});
