/**
 * The History screen's state: every report this computer made and still knows of (waiting in the
 * outbox, or delivered with its ticket), and deleting a local copy.
 */
import { asApiError, type ApiError, type Backend, type HistoryEntry } from "../backend";

export class HistoryState {
  entries = $state<HistoryEntry[]>([]);
  loaded = $state(false);
  busy = $state(false);
  error = $state<ApiError | null>(null);

  constructor(private readonly backend: Backend) {}

  async load(): Promise<void> {
    try {
      this.entries = await this.backend.history();
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
