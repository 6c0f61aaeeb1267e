/**
 * The log screen's state: a window of a readable log's lines at a position, moved by the
 * scrollbar, the wheel and the keys; a level filter; a search with next and previous; a jump to
 * a time. The app holds the file and its index; the page only ever holds one window of lines.
 */
import { asApiError, type ApiError, type Backend, type Level, type LogInfo, type LogLine } from "../backend";

/** Lines asked for at a time: the screen's rows and some to spare. */
export const WINDOW = 120;

export const LEVELS: { level: Level; label: string }[] = [
  { level: "error", label: "Error" },
  { level: "warn", label: "Warning" },
  { level: "info", label: "Info" },
  { level: "debug", label: "Debug" },
  { level: "trace", label: "Trace" },
];

export class LogState {
  info = $state<LogInfo | null>(null);
  /** Lines the filter lets through. */
  total = $state(0);
  /** The position of the top line. */
  first = $state(0);
  lines = $state<LogLine[]>([]);
  shown = $state<Level[]>(LEVELS.map((l) => l.level));
  unlevelled = $state(true);
  wrap = $state(false);
  query = $state("");
  matches = $state<number[]>([]);
  matchTotal = $state(0);
  /** Which match is current (index into `matches`), `-1` before the first. */
  current = $state(-1);
  /** What the last search looked for (`null` before one). */
  searchedFor = $state<string | null>(null);
  error = $state<ApiError | null>(null);
  /** The latest position asked for; answers to older requests are dropped. */
  private asked = 0;

  constructor(
    private readonly backend: Backend,
    private readonly bundleId: string,
  ) {}

  async open(entry: string): Promise<void> {
    try {
      this.info = await this.backend.openLog(this.bundleId, entry);
      this.total = this.info.lines;
      await this.goTo(0);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Shows the lines from `position` (kept within the log). */
  async goTo(position: number): Promise<void> {
    if (!this.info) return;
    const first = Math.max(0, Math.min(Math.round(position), Math.max(this.total - 1, 0)));
    const ask = ++this.asked;
    try {
      const window = await this.backend.logWindow(this.info.log_id, first, WINDOW);
      if (ask !== this.asked) return;
      this.first = window.first;
      this.total = window.total;
      this.lines = window.lines;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  scrollBy(lines: number): Promise<void> {
    return this.goTo(this.first + lines);
  }

  async setLevels(shown: Level[], unlevelled: boolean): Promise<void> {
    if (!this.info) return;
    this.shown = shown;
    this.unlevelled = unlevelled;
    const everything = shown.length === LEVELS.length && unlevelled;
    try {
      this.total = await this.backend.logFilter(this.info.log_id, everything ? [] : shown, unlevelled);
      this.matches = [];
      this.matchTotal = 0;
      this.current = -1;
      this.searchedFor = null;
      await this.goTo(0);
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async search(): Promise<void> {
    if (!this.info) return;
    try {
      const found = await this.backend.logSearch(this.info.log_id, this.query);
      this.matches = found.positions;
      this.matchTotal = found.total;
      this.current = -1;
      this.searchedFor = this.query.trim() || null;
      if (found.positions.length > 0) await this.nextMatch();
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Moves to the next (or, with `back`, the previous) match, going round at the ends. */
  async nextMatch(back = false): Promise<void> {
    if (this.matches.length === 0) return;
    const n = this.matches.length;
    this.current = back ? (this.current - 1 + n) % n : (this.current + 1) % n;
    // A few lines of context above the match.
    await this.goTo(this.matches[this.current] - 3);
  }

  /** Jumps to the first line at or after `local` (a `datetime-local` value, the user's time). */
  async jumpTo(local: string): Promise<void> {
    if (!this.info || !local) return;
    const at = new Date(local);
    if (Number.isNaN(at.getTime())) return;
    try {
      await this.goTo(await this.backend.logPositionAt(this.info.log_id, at.toISOString()));
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async close(): Promise<void> {
    if (this.info) await this.backend.closeLog(this.info.log_id);
  }
}

/** `text` cut into parts, the ones that are `query` (any case) marked. */
export function highlight(text: string, query: string): { text: string; hit: boolean }[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [{ text, hit: false }];
  const parts: { text: string; hit: boolean }[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let found = lower.indexOf(needle); found !== -1; found = lower.indexOf(needle, at)) {
    if (found > at) parts.push({ text: text.slice(at, found), hit: false });
    parts.push({ text: text.slice(found, found + needle.length), hit: true });
    at = found + needle.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), hit: false });
  return parts;
}
