/**
 * The bundle viewer's state: the bundle opened through *Open Bundle…*, its integrity (checked
 * after the manifest is shown), its calls, and the queries for one call.
 */
import {
  asApiError, type ApiError, type Backend, type Calls, type IntegrityView, type MadeLink, type OpenedBundle,
  type Query, type VendorExport,
} from "../backend";
import { LogState } from "./log.svelte";

export class ViewerState {
  bundle = $state<OpenedBundle | null>(null);
  /** `null` while the hashes are being checked. */
  integrity = $state<IntegrityView | null>(null);
  calls = $state<Calls | null>(null);
  /** The queries shown, for one call id. */
  queries = $state<{ callId: string; list: Query[] } | null>(null);
  error = $state<ApiError | null>(null);
  busy = $state(false);
  /** Where *Export for vendor* wrote its zip, after it did. */
  vendorExport = $state<VendorExport | null>(null);
  /** The readable log being read, over the bundle. */
  log = $state<LogState | null>(null);
  /** Whether a ticket can be fetched without asking for the agent token. */
  tokenKnown = $state(false);
  /** A ticket's bundle on its way, with how much has arrived. */
  receiving = $state<{ ticket: string; received: number; total: number } | null>(null);
  /** The link made for the open ticket, asking the user for more logs. */
  link = $state<MadeLink | null>(null);
  /** Why the last link could not be made. */
  linkError = $state<ApiError | null>(null);

  constructor(private readonly backend: Backend) {}

  /** Opens one of the bundle's readable files on the log screen. */
  async openLog(entry: string): Promise<void> {
    if (!this.bundle) return;
    const log = new LogState(this.backend, this.bundle.id);
    this.log = log;
    await log.open(entry);
  }

  async closeLog(): Promise<void> {
    const log = this.log;
    this.log = null;
    await log?.close();
  }

  /** Asks for a bundle with the open dialog; shows it at once and checks it after. */
  async choose(): Promise<void> {
    await this.present(() => this.backend.chooseBundle());
  }

  /** Takes the bundle the app opened for this window (command line, drop), if there is one. */
  async takeLast(): Promise<void> {
    await this.present(() => this.backend.lastBundle());
  }

  /** Learns whether the app holds an agent token (typed earlier, or the environment's). */
  async loadTokenKnown(): Promise<void> {
    try {
      this.tokenKnown = await this.backend.agentTokenKnown();
    } catch {
      this.tokenKnown = false;
    }
  }

  /**
   * Fetches a ticket's bundle from the ticket API and opens it; `token` when the agent typed
   * one. True once it is open. A refused token is forgotten by the app, so the form asks again.
   */
  async openTicket(ticket: string, token: string | null): Promise<boolean> {
    this.receiving = { ticket: ticket.trim(), received: 0, total: 0 };
    try {
      return await this.present(() =>
        this.backend
          .fetchTicket(ticket, token, (p) => {
            if (p.stage === "downloading" && this.receiving) {
              this.receiving = { ...this.receiving, received: p.bytes_received, total: p.bytes_total };
            }
          })
          // Arrived: the bundle's own checks take over from the download's progress.
          .finally(() => (this.receiving = null)),
      );
    } finally {
      this.receiving = null;
      await this.loadTokenKnown();
    }
  }

  /** Fetches a bundle added to the open ticket later and opens it in place of the one shown. */
  async openAdded(bundleId: string): Promise<boolean> {
    const ticket = this.bundle?.ticket?.ticket_id;
    if (!ticket) return false;
    this.receiving = { ticket, received: 0, total: 0 };
    try {
      return await this.present(() =>
        this.backend
          .fetchAdded(ticket, bundleId, (p) => {
            if (p.stage === "downloading" && this.receiving) {
              this.receiving = { ...this.receiving, received: p.bytes_received, total: p.bytes_total };
            }
          })
          .finally(() => (this.receiving = null)),
      );
    } finally {
      this.receiving = null;
    }
  }

  /** Opens the ticket's own bundle again, from a bundle added to it. */
  async openTicketBundle(): Promise<boolean> {
    const ticket = this.bundle?.ticket?.ticket_id;
    return ticket ? this.openTicket(ticket, null) : false;
  }

  /** Asks the ticket service for a link asking the user for more logs for the open ticket. */
  async makeLink(hours: number | null, uses: number | null): Promise<void> {
    const ticket = this.bundle?.ticket?.ticket_id;
    if (!ticket) return;
    this.linkError = null;
    try {
      this.link = await this.backend.makeLink(ticket, hours, uses);
    } catch (error) {
      this.linkError = asApiError(error);
    } finally {
      await this.loadTokenKnown();
    }
  }

  /** Stops the ticket download under way. */
  async cancelTicket(): Promise<void> {
    await this.backend.cancelFetch();
  }

  /** Shows what `open` opened (true), or says why it could not (false); a cancel says nothing. */
  private async present(open: () => Promise<OpenedBundle | null>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    try {
      const opened = await open();
      if (!opened) return false;
      await this.closeLog();
      this.vendorExport = null;
      if (opened.ticket?.ticket_id !== this.bundle?.ticket?.ticket_id) {
        this.link = null;
        this.linkError = null;
      }
      this.bundle = opened;
      this.integrity = null;
      this.calls = null;
      this.queries = null;
      await Promise.all([this.check(opened.id), this.readCalls(opened.id)]);
      return true;
    } catch (error) {
      const failure = asApiError(error);
      this.error = failure.code === "cancelled" ? null : failure;
      return false;
    } finally {
      this.busy = false;
    }
  }

  private async check(id: string): Promise<void> {
    try {
      this.integrity = await this.backend.verifyBundle(id);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  private async readCalls(id: string): Promise<void> {
    try {
      this.calls = await this.backend.bundleCalls(id);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Saves only the encrypted SDK logs, for the SDK vendor's support. */
  async exportForVendor(): Promise<void> {
    if (!this.bundle) return;
    this.busy = true;
    this.error = null;
    try {
      this.vendorExport = (await this.backend.exportForVendor(this.bundle.id)) ?? this.vendorExport;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  /** Adds an Azure Monitor export; its records join the calls by call id. */
  async addExport(): Promise<void> {
    if (!this.bundle) return;
    this.busy = true;
    this.error = null;
    try {
      const merged = await this.backend.addExport(this.bundle.id);
      if (merged) this.calls = merged;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = false;
    }
  }

  /** Shows the Log Analytics queries for `callId`; again for the same call hides them. */
  async toggleQueries(callId: string): Promise<void> {
    if (this.queries?.callId === callId) {
      this.queries = null;
      return;
    }
    try {
      this.queries = { callId, list: await this.backend.kqlQueries(callId) };
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}

/** Where an operation's bar starts and how wide it is, in percent of the call's span. */
export function bar(
  start: string | null,
  end: string | null,
  at: string | null,
  durationMs: number,
): { left: number; width: number } | null {
  if (!start || !end || !at) return null;
  const from = Date.parse(start);
  const span = Math.max(Date.parse(end) - from, 1);
  // At least half a percent wide, so an instant operation still shows; never past the end.
  const left = Math.min(Math.max(((Date.parse(at) - from) / span) * 100, 0), 99.5);
  const width = Math.min(Math.max((durationMs / span) * 100, 0.5), 100 - left);
  return { left, width };
}

/** A call's operations in one lane per participant, in the call's order of participants; those
 * that name none share a last lane with an empty id. */
export function lanes<T extends { participant_id: string | null }>(
  participants: string[],
  operations: T[],
): { id: string; operations: T[] }[] {
  const byId = new Map<string, T[]>(participants.map((p) => [p, []]));
  for (const op of operations) {
    const id = op.participant_id ?? "";
    if (!byId.has(id)) byId.set(id, []);
    byId.get(id)!.push(op);
  }
  return [...byId].filter(([, ops]) => ops.length > 0).map(([id, ops]) => ({ id, operations: ops }));
}

export type FileSort = "source" | "path" | "size" | "kind";

/** The files table's rows: those whose path, source or kind holds `filter` (any case), sorted by
 * `by` (ties by path). */
export function visibleFiles<
  T extends { path: string; size: number; kind: string; encrypted: boolean; sourceName: string },
>(files: T[], filter: string, by: FileSort, descending: boolean): T[] {
  const needle = filter.trim().toLowerCase();
  const kind = (f: T) => (f.encrypted ? "encrypted" : f.kind);
  const rows = files.filter(
    (f) =>
      !needle ||
      f.path.toLowerCase().includes(needle) ||
      kind(f).includes(needle) ||
      f.sourceName.toLowerCase().includes(needle),
  );
  const first = (a: T, b: T) =>
    by === "size" ? a.size - b.size
    : by === "kind" ? kind(a).localeCompare(kind(b))
    : by === "source" ? a.sourceName.localeCompare(b.sourceName)
    : 0;
  const order = (a: T, b: T) => first(a, b) || a.path.localeCompare(b.path);
  return rows.sort((a, b) => (descending ? -order(a, b) : order(a, b)));
}
