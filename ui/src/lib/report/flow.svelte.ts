/**
 * The report flow as a small state machine: report → consent → sending → done, queued or failed;
 * from consent also → preview (one file as it will be sent) and → saving → saved (to a file).
 *
 * Screens read its fields and call its methods; it talks to the app only through `Backend`.
 * Whatever fails, the user's input is kept: a report that could not be sent because the network
 * or the service is down is *queued* (saved in the outbox, sent on its own later), not failed.
 */
import { asApiError } from "../backend";
import type {
  ApiError, AppOverview, Backend, Category, ConsentView, ExportReceipt, FilePreview, Progress,
  HiddenArea, ReportDraft, ScreenshotView, SendReceipt,
} from "../backend";

function emptyDraft(toFile = false): ReportDraft {
  return {
    summary: toFile ? "Logs exported from this computer" : "",
    description: "",
    category: "other",
    call_ids: [],
    occurred_at: null,
    contact: null,
    to_file: toFile,
    ticket_id: null,
    screenshot: null,
    survey: null,
  };
}

export type Screen =
  | "report" | "consent" | "preview" | "sending" | "saving" | "saved" | "done" | "queued" | "failed";

/** Failures time can fix: the report waits in the outbox and goes out on its own. */
const QUEUED_CODES: ReadonlySet<ApiError["code"]> = new Set(["unreachable", "server_busy"]);

export const CATEGORIES: { value: Category; label: string }[] = [
  { value: "cannot_join", label: "I couldn't join the call" },
  { value: "dropped", label: "The call dropped" },
  { value: "audio", label: "Sound problems" },
  { value: "video", label: "Video problems" },
  { value: "screen_share", label: "Screen sharing problems" },
  { value: "other", label: "Something else" },
];

/** How long index changes are gathered before the overview is read again. */
export const REFRESH_DELAY_MS = 200;

export class ReportFlow {
  screen = $state<Screen>("report");
  draft = $state<ReportDraft>(emptyDraft());
  /** The recent call the report is about, by call id; `""` for "just now". */
  when = $state("");
  overview = $state<AppOverview | null>(null);
  /** The screenshot taken for this report, shown on the form. */
  screenshot = $state<ScreenshotView | null>(null);
  /** The areas of the screenshot blacked out, in its pixels. */
  hiddenAreas = $state<HiddenArea[]>([]);
  consent = $state<ConsentView | null>(null);
  progress = $state<Progress | null>(null);
  receipt = $state<SendReceipt | null>(null);
  /** Where the report was saved, after *Save to file instead*. */
  exported = $state<ExportReceipt | null>(null);
  /** The file shown on the preview screen. */
  preview = $state<FilePreview | null>(null);
  error = $state<ApiError | null>(null);
  /** A short note shown on the consent screen, e.g. after a cancel. */
  notice = $state<string | null>(null);
  busy = $state(false);
  /** The detection the form was filled from (a prompt answered with *Report it*), by id: a
   * refresh never fills it again over what the user typed. */
  filledFrom = $state<string | null>(null);

  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly backend: Backend) {}

  async load(): Promise<void> {
    try {
      this.overview = await this.backend.overview();
      // Support's open request for logs: the report goes to that ticket (sending only).
      if (!this.draft.to_file && this.screen === "report") {
        this.draft.ticket_id = this.overview.support_request?.ticket_id ?? null;
        this.fillFromDetection();
      }
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** What the tray agent noticed, as the report's first draft; once per detection. */
  private fillFromDetection(): void {
    const noticed = this.overview?.detection;
    if (!noticed || noticed.id === this.filledFrom) return;
    this.filledFrom = noticed.id;
    this.draft.summary = noticed.summary;
    this.draft.description = noticed.description;
    this.draft.category = noticed.category;
    this.draft.call_ids = [...noticed.call_ids];
    this.draft.occurred_at = noticed.occurred_at;
    const call = this.overview?.recent_calls.find((c) => noticed.call_ids.includes(c.call_id));
    this.when = call?.call_id ?? "";
  }

  /** *Start empty*: the report no longer starts from what was noticed. */
  async dismissDetection(): Promise<void> {
    this.draft = { ...emptyDraft(), ticket_id: this.draft.ticket_id, screenshot: this.draft.screenshot };
    this.when = "";
    try {
      await this.backend.dismissDetection();
      await this.load();
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Keeps the file counts current: the app pushes index changes, bursts are folded into one refresh. */
  async watch(): Promise<() => void> {
    return this.backend.onIndexChanged(() => {
      if (this.refreshTimer !== null) return;
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = null;
        void this.load();
      }, REFRESH_DELAY_MS);
    });
  }

  /** Points the report at one of the recent calls (its id and start time), or `""` at just now. */
  chooseWhen(callId: string): void {
    const call = this.overview?.recent_calls.find((c) => c.call_id === callId);
    this.when = call ? callId : "";
    this.draft.call_ids = call ? [call.call_id] : [];
    this.draft.occurred_at = call?.first_at ?? null;
  }

  /** Takes a screenshot (the window steps aside for a moment) and adds it to the report. */
  async takeScreenshot(): Promise<void> {
    const previous = this.screenshot;
    await this.whileBusy(async () => {
      this.screenshot = await this.backend.takeScreenshot();
      this.hiddenAreas = [];
      this.draft.screenshot = this.screenshot.id;
      if (previous) await this.backend.discardScreenshot(previous.id);
    });
  }

  /** Blacks out these areas of the screenshot (all of them anew; none shows it whole again); the
   * form then shows the picture exactly as it will be sent. */
  async hideAreas(areas: HiddenArea[]): Promise<void> {
    const shot = this.screenshot;
    if (!shot) return;
    await this.whileBusy(async () => {
      this.screenshot = await this.backend.hideInScreenshot(shot.id, areas);
      this.hiddenAreas = areas;
    });
  }

  /** Takes the screenshot out of the report; it is deleted. */
  async removeScreenshot(): Promise<void> {
    const shot = this.screenshot;
    this.screenshot = null;
    this.hiddenAreas = [];
    this.draft.screenshot = null;
    if (shot) await this.whileBusy(() => this.backend.discardScreenshot(shot.id));
  }

  /** "Not for this ticket": the report becomes a new issue; a refused link's note goes away. */
  async dismissLink(): Promise<void> {
    this.draft.ticket_id = null;
    try {
      await this.backend.dismissLink();
      await this.load();
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Whether the required field is filled. */
  get canReview(): boolean {
    return this.draft.summary.trim().length > 0 && !this.busy;
  }

  async review(): Promise<void> {
    if (!this.canReview) return;
    this.notice = null;
    await this.whileBusy(async () => {
      this.consent = await this.backend.prepareReport($state.snapshot(this.draft));
      this.screen = "consent";
    });
  }

  /** Runs one call to the app with the form busy; a failure is kept in `error`. */
  private async whileBusy(call: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await call();
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  /** Ticks or unticks one file on the consent screen; the statement and totals follow. */
  async toggleFile(fileId: string): Promise<void> {
    const consent = this.consent;
    if (!consent || this.busy) return;
    const leftOut = consent.groups
      .flatMap((g) => g.files)
      .filter((f) => (f.id === fileId ? f.included : !f.included))
      .map((f) => f.id);
    await this.whileBusy(async () => {
      this.consent = await this.backend.chooseFiles(consent.report_id, leftOut);
    });
  }

  /** Shows one readable file as it will be sent. */
  async openPreview(fileId: string): Promise<void> {
    const consent = this.consent;
    if (!consent || this.busy) return;
    await this.whileBusy(async () => {
      this.preview = await this.backend.previewFile(consent.report_id, fileId);
      this.screen = "preview";
    });
  }

  closePreview(): void {
    this.preview = null;
    this.screen = "consent";
  }

  /** From *Report saved*: the same report, to send it as well. */
  returnToConsent(): void {
    if (this.consent) this.screen = "consent";
  }

  /** *Save to file instead*: the native dialog asks where; closing it changes nothing. */
  async save(): Promise<void> {
    const consent = this.consent;
    if (!consent || this.busy) return;
    this.busy = true;
    this.error = null;
    this.notice = null;
    this.progress = null;
    try {
      const exported = await this.backend.saveReport(consent.report_id, (p) => {
        this.progress = p;
        this.screen = "saving";
      });
      if (exported) {
        this.exported = exported;
        this.screen = "saved";
      } else {
        this.screen = "consent";
      }
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.code === "cancelled") this.notice = "Saving was cancelled. Nothing was saved.";
      else this.error = apiError;
      this.screen = "consent";
    } finally {
      this.busy = false;
    }
  }

  async send(): Promise<void> {
    const consent = this.consent;
    if (!consent || this.busy) return;
    this.busy = true;
    this.error = null;
    this.notice = null;
    this.progress = null;
    this.screen = "sending";
    try {
      this.receipt = await this.backend.sendReport(consent.report_id, (p) => (this.progress = p));
      this.screen = "done";
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.code === "cancelled") {
        this.notice = "Sending was cancelled. Nothing was sent.";
        this.screen = "consent";
      } else {
        this.error = apiError;
        this.screen = QUEUED_CODES.has(apiError.code) ? "queued" : "failed";
      }
    } finally {
      this.busy = false;
    }
  }

  /** Opens the ticket just made (or added to) in the browser; a failure is kept in `error`. */
  async openTicket(): Promise<void> {
    if (!this.receipt) return;
    this.error = null;
    try {
      await this.backend.openTicket(this.receipt.ticket_id);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async cancel(): Promise<void> {
    if (this.consent) await this.backend.cancelSend(this.consent.report_id);
  }

  back(): void {
    this.error = null;
    this.notice = null;
    this.screen = this.screen === "failed" ? "consent" : "report";
  }

  /** *Export Logs* (saved to a file) or *Report an Issue* (sent): a clean form in that mode. */
  setMode(toFile: boolean): void {
    if (this.draft.to_file === toFile && this.screen === "report") return;
    this.startOver(toFile);
  }

  /** *Attach logs and report* on the survey: the report form, filled from the answers, which
   * travel with it. */
  startFromSurvey(draft: Partial<ReportDraft>): void {
    this.startOver(false);
    this.draft = { ...emptyDraft(), ...draft };
  }

  /** After a sent or queued report: a clean form for the next one. */
  startOver(toFile: boolean = this.draft.to_file): void {
    this.draft = emptyDraft(toFile);
    this.screenshot = null;
    this.when = "";
    this.consent = null;
    this.receipt = null;
    this.exported = null;
    this.preview = null;
    this.progress = null;
    this.error = null;
    this.screen = "report";
  }
}
