/** How sizes, ages and durations read on the report screens. */

/** `532 bytes`, `4.2 MB`: decimal units, as the consent statement (core `human_bytes`) writes them. */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = units[0];
  for (const u of units) {
    value /= 1000;
    unit = u;
    if (value < 1000) break;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** `just now`, `5 minutes ago`, `yesterday`, `3 days ago`. */
export function age(iso: string, now: Date = new Date()): string {
  const seconds = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return minutes === 1 ? "1 minute ago" : `${minutes} minutes ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

/** `about 20 seconds left`, or `null` while the rate is not known yet. */
export function timeLeft(bytesLeft: number, bytesPerSecond: number): string | null {
  if (bytesPerSecond <= 0) return null;
  const seconds = Math.ceil(bytesLeft / bytesPerSecond);
  if (seconds < 5) return "a few seconds left";
  if (seconds < 90) return `about ${seconds} seconds left`;
  return `about ${Math.round(seconds / 60)} minutes left`;
}

/** A rough send time for the consent screen, assuming a modest 1 MB/s uplink. */
export function roughSendTime(bytes: number): string {
  const seconds = bytes / 1_000_000;
  if (seconds < 10) return "a few seconds";
  if (seconds < 90) return "under two minutes";
  return `about ${Math.round(seconds / 60)} minutes`;
}

/** `Today 14:05 · 12 min`, `Yesterday 09:30 · 1 h 5 min`, `Mon 3 Nov 16:00`: when a call was. */
export function callTime(firstAt: string | null, lastAt: string | null, now: Date = new Date()): string {
  if (!firstAt) return "Time unknown";
  const start = new Date(firstAt);
  const clock = start.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const days = Math.round((startOfDay(now) - startOfDay(start)) / 86_400_000);
  const day = days === 0 ? "Today" : days === 1 ? "Yesterday"
    : start.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" });
  const minutes = lastAt ? Math.round((new Date(lastAt).getTime() - start.getTime()) / 60_000) : 0;
  const length = minutes < 1 ? "under a minute"
    : minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${day} ${clock} · ${length}`;
}

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** What each kind of replaced detail is, in the user's words (singular, plural). */
const KIND_WORDS: Record<string, [string, string]> = {
  email: ["e-mail address", "e-mail addresses"],
  phone: ["phone number", "phone numbers"],
  ipv4: ["network address", "network addresses"],
  ipv6: ["network address", "network addresses"],
  token: ["sign-in token", "sign-in tokens"],
  jwt: ["sign-in token", "sign-in tokens"],
  secret: ["password or key", "passwords and keys"],
  user: ["user name", "user names"],
  host: ["computer name", "computer names"],
};

/** `3 e-mail addresses, 1 network address`: counts by kind (the core's keys), kinds merged by wording. */
export function replacements(byKind: Partial<Record<string, number>>): string {
  const totals = new Map<string, [number, [string, string]]>();
  for (const [kind, count] of Object.entries(byKind)) {
    if (!count) continue;
    const words = KIND_WORDS[kind] ?? [kind, kind];
    const [before] = totals.get(words[1]) ?? [0];
    totals.set(words[1], [before + count, words]);
  }
  return [...totals.values()]
    .map(([count, [one, many]]) => `${count} ${count === 1 ? one : many}`)
    .join(", ");
}

/** The label a highlighted token carries for screen readers and on hover. */
export function kindLabel(kind: string): string {
  return `${(KIND_WORDS[kind] ?? [kind])[0]} replaced`;
}
