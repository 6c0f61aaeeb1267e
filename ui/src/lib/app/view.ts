/**
 * Which screen the window shows first: `?view=` in its address, set by the app when the tray,
 * the shortcut or a second launch opens it. Later requests arrive as `navigate` events.
 */
import type { View } from "../backend";

const VIEWS: readonly View[] = ["report", "export", "history", "settings", "viewer", "survey"];

export function startView(search: string = location.search): View {
  const asked = new URLSearchParams(search).get("view");
  return VIEWS.find((v) => v === asked) ?? "report";
}
