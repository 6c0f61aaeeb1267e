/**
 * The History screen's state: every report this computer made and still knows of (waiting in the
 * outbox, or delivered with its ticket), and deleting a local copy.
 */
import {
  asApiError, type ApiError, type Backend, type Detected, type HistoryEntry, type SurveyAnswer,
} from "../backend";

export class HistoryState {
  entries = $state<HistoryEntry[]>([]);
  /** What the tray agent noticed in the call logs, newest first. */
  detected = $state<Detected[]>([]);
  /** End-of-call survey answers kept on this computer, newest first. */
  surveys = $state<SurveyAnswer[]>([]);
  loaded = $state(false);
  busy = $state(false);
  error = $state<ApiError | null>(null);

  constructor(private readonly backend: Backend) {}

  async load(): Promise<void> {
    try {
      [this.entries, this.detected, this.surveys] = await Promise.all([
        this.backend.history(),
        this.backend.detected(),
        this.backend.surveys(),
      ]);
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.loaded = true;
    }
  }

  /** Opens a ticket's page in the browser; a failure says why (the link can still be copied). */
  async openTicket(ticketId: string): Promise<void> {
    try {
      await this.backend.openTicket(ticketId);
      this.error = null;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async deleteLocalCopy(id: string): Promise<void> {
    this.busy = true;
    try {
      await this.backend.deleteLocalCopy(id);
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
      await this.load();
    }
  }
}

/** What a report's state reads as on the History screen. */
export function stateLabel(entry: HistoryEntry): string {
  switch (entry.state) {
    case "sent":
      return `Sent · ticket ${entry.ticket_id}`;
    case "waiting":
      return "Waiting to be sent; it goes out on its own";
    case "not_accepted":
      return `Not accepted${entry.detail ? `: ${entry.detail}` : ""}`;
  }
}

/** What became of a detection, in words. */
export function decisionLabel(decision: Detected["decision"]): string {
  switch (decision.decision) {
    case "prompted":
      return "You were offered to report it";
    case "with_prompt":
      return "Offered together with another problem of the same call";
    case "off":
      return "Not offered: offers are turned off in Settings";
    case "muted":
      return "Not offered: you asked not to be asked again for this app";
    case "stale":
      return "Not offered: it was noticed more than an hour later";
    case "cooldown":
      return `Not offered: you were asked shortly before (next offer from ${new Date(decision.until).toLocaleTimeString()})`;
    case "daily_cap":
      return "Not offered: today's offers were all used";
  }
}

/** A survey answer in one line: "Overall 4 of 5 · Sound 2 of 5 (Echo)". */
export function surveyLine(answer: SurveyAnswer): string {
  const parts: [string, { score: number; scale: { upper_bound: number }; issues: string[] } | null | undefined][] = [
    ["Overall", answer.survey.overall],
    ["Sound", answer.survey.audio],
    ["Video", answer.survey.video],
    ["Screen sharing", answer.survey.screenshare],
  ];
  return parts
    .filter(([, r]) => r)
    .map(([name, r]) => `${name} ${r!.score} of ${r!.scale.upper_bound}${r!.issues.length ? ` (${r!.issues.join(", ")})` : ""}`)
    .join(" · ");
}

/** The rule that noticed it, in words. */
export function ruleLabel(item: Detected): string {
  switch (item.rule) {
    case "join_failed":
      return "every join failed";
    case "unexpected_end":
      return "ended without a hang-up";
    case "repeated_failures":
      return "several failed operations";
    case "failed_operation":
      return "a failed operation";
    case "pattern":
      return `log line: ${item.name}`;
  }
}
