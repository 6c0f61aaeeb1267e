/**
 * The outbox as the window shows it: reports saved on this computer and not yet acknowledged by
 * the support service, with why the last try failed, and *Send now* / *Remove*.
 */
import { asApiError, type ApiError, type Backend, type QueuedReport } from "../backend";

export class OutboxState {
  reports = $state<QueuedReport[]>([]);
  warnings = $state<string[]>([]);
  /** A send or removal is under way. */
  busy = $state(false);
  error = $state<ApiError | null>(null);
  /** What the last *Send now* did, in words. */
  outcome = $state<string | null>(null);

  constructor(private readonly backend: Backend) {}

  async load(): Promise<void> {
    try {
      const queued = await this.backend.queuedReports();
      this.reports = queued.reports;
      this.warnings = queued.warnings;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Reloads whenever the app sends in the background. */
  async watch(): Promise<() => void> {
    return this.backend.onOutboxChanged(() => void this.load());
  }

  async sendNow(): Promise<void> {
    this.busy = true;
    this.error = null;
    this.outcome = null;
    try {
      const summary = await this.backend.sendQueued();
      const sent = summary.delivered.length;
      const failed = summary.failed.length;
      const tickets = summary.delivered.map((d) => d.ticket_id).join(", ");
      const done = sent === 1 ? `Sent: ticket ${tickets}.` : `${sent} reports sent: tickets ${tickets}.`;
      this.outcome =
        failed === 0
          ? done
          : `${sent > 0 ? done + " " : ""}${failed === 1 ? "1 still waits" : `${failed} still wait`}: ${summary.failed[0].message}`;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
      await this.load();
    }
  }

  /** The user agrees that a report held for a changed destination go to the new one; it is
   * then sent with the others. */
  async agreeAndSend(id: string): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await this.backend.agreeQueuedDestination(id);
    } catch (error) {
      this.error = asApiError(error);
      this.busy = false;
      await this.load();
      return;
    }
    this.busy = false;
    await this.sendNow();
  }

  async remove(id: string): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await this.backend.removeQueued(id);
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
      await this.load();
    }
  }
}

/** One line about a waiting report's state, by error code (the message goes in a tooltip). */
export function stateOf(report: QueuedReport): string {
  const error = report.last_error;
  if (report.held_for !== null) return `Held: you agreed to send it to ${report.destination}; reports now go to ${report.held_for}`;
  if (!error) return "Waiting to be sent";
  if (!error.retryable) return `Not accepted: ${error.message}`;
  return error.code === "server_busy"
    ? "The support service is busy; it goes out on its own in a few minutes"
    : "Goes out on its own when the support service can be reached";
}

/** Whether a waiting report needs the user (it will not go out on its own). */
export function needsAttention(report: QueuedReport): boolean {
  return report.held_for !== null || (report.last_error !== null && !report.last_error.retryable);
}
